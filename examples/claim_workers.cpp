// claim_workers: N threads claim unique IDs from one tracker, two ways, and the result is checked:
//   1. continue_write(): every thread joins the same claim stream (progress shared 4096 IDs per atomic);
//   2. partition(i, n): each thread walks its own disjoint slice of the ID range and claims what it finds there.
// Each thread records what it got; every ID must be handed out exactly once, and the tracker's count must agree.
// Usage: claim_workers [--ids N] [--threads N]
#include <keyspace/keyspace.hpp>

#include <algorithm> // for std::sort, std::adjacent_find
#include <chrono>    // for std::chrono::steady_clock
#include <cstdint>   // for std::uint64_t
#include <cstdio>    // for std::printf, std::fprintf
#include <cstdlib>   // for std::strtoull, std::exit
#include <cstring>   // for std::strcmp
#include <string>    // for std::string
#include <thread>    // for std::thread
#include <vector>    // for std::vector

namespace {

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr, "claim_workers: %s\nusage: claim_workers [--ids N (1..10^9)] [--threads N (1..256)]\n",
                 why.c_str());
    std::exit(2);
}

std::uint64_t parse(const char* flag, const char* text, std::uint64_t lo, std::uint64_t hi) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == '-' || v < lo || v > hi)
        usage(std::string(flag) + " takes a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v;
}

/// Runs claim(t, out) on every thread, then checks the union of what they got is [0, ids) with no repeat.
template <class Claim>
bool run(const char* name, keyspace::PrefixTracker& tracker, std::uint64_t ids, std::uint64_t threads, Claim claim) {
    std::vector<std::vector<std::uint64_t>> got(threads);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (std::uint64_t t = 0; t < threads; ++t) pool.emplace_back([&, t] { claim(t, got[t]); });
    for (auto& th : pool) th.join();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::vector<std::uint64_t> all;
    std::printf("%-16s", name);
    for (auto& g : got) {
        std::printf(" %llu", static_cast<unsigned long long>(g.size()));
        all.insert(all.end(), g.begin(), g.end());
    }
    std::sort(all.begin(), all.end());
    const bool unique = std::adjacent_find(all.begin(), all.end()) == all.end();
    const bool complete = all.size() == ids && (ids == 0 || (all.front() == 0 && all.back() == ids - 1));
    const bool counted = tracker.count() == ids;
    std::printf(" IDs per thread; %.1f M claims/s; %s\n", static_cast<double>(all.size()) / secs / 1e6,
                unique && complete && counted ? "every ID exactly once" : "WRONG");
    if (!unique) std::printf("  an ID was claimed twice\n");
    if (!complete) std::printf("  %zu IDs claimed, expected %llu\n", all.size(), static_cast<unsigned long long>(ids));
    if (!counted) std::printf("  tracker count %llu\n", static_cast<unsigned long long>(tracker.count()));
    return unique && complete && counted;
}

} // namespace

int main(int argc, char** argv) {
    std::uint64_t ids = 1'000'000;
    std::uint64_t threads = 4;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--ids") == 0 && i + 1 < argc)
            ids = parse("--ids", argv[++i], 1, 1'000'000'000);
        else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = parse("--threads", argv[++i], 1, 256);
        else
            usage(std::string("unknown or incomplete argument '") + argv[i] + "'");
    }
    std::printf("claim_workers: %llu threads claiming IDs [0, %llu)\n", static_cast<unsigned long long>(threads),
                static_cast<unsigned long long>(ids));

    // 1. One shared stream: a thread's claims come in runs of 4096 consecutive IDs.
    keyspace::PrefixTracker shared("job:", ids);
    const bool a = run("continue_write()", shared, ids, threads, [&](std::uint64_t, std::vector<std::uint64_t>& out) {
        auto writer = shared.iter().continue_write();
        while (auto key = writer.next()) out.push_back(key->id);
    });

    // 2. Disjoint slices: partition(t, n) walks slice t of the range; claim() wins each ID for this thread. (The
    //    claim cannot fail here, since slices are disjoint; a claim stream over the slice would be
    //    iter().slice(t, n).unset_only().write().)
    keyspace::PrefixTracker sliced("job:", ids);
    const bool b = run("partition(i, n)", sliced, ids, threads, [&](std::uint64_t t, std::vector<std::uint64_t>& out) {
        for (auto key : sliced.iter().partition(t, threads))
            if (sliced.claim(key.id)) out.push_back(key.id);
    });
    return a && b ? 0 : 1;
}
