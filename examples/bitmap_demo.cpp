// bitmap_demo: what AtomicBitmap gives a load generator, in one screen.
//   1. several threads claim unique IDs from one shared bitmap (every claim wins exactly once);
//   2. counting and scanning what exists (count, count_range, for_each_set, find_next_*);
//   3. an unbounded keyspace: an ID near 10^12 costs one 8 KiB chunk, not 125 GB.
// Usage: bitmap_demo [--ids N] [--threads T]
#include <keyspace/keyspace.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "bitmap_demo: %s\nusage: bitmap_demo [--ids N] [--threads T]\n", why);
    std::exit(2);
}

std::uint64_t parse_count(const char* flag, const char* text, std::uint64_t lo, std::uint64_t hi) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || v < lo || v > hi)
        usage((std::string(flag) + " takes a whole number from " + std::to_string(lo) + " to " + std::to_string(hi))
                  .c_str());
    return v;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char** argv) {
    std::uint64_t ids = 10'000'000;
    std::uint64_t threads = std::max(2u, std::thread::hardware_concurrency());
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--ids") == 0 && i + 1 < argc)
            ids = parse_count("--ids", argv[++i], 1, 1ull << 34);
        else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = parse_count("--threads", argv[++i], 1, 256);
        else
            usage((std::string("unknown argument '") + argv[i] + "'").c_str());
    }

    std::printf("keyspace %s, read kernels: %s\n\n", KEYSPACE_VERSION_STRING, keyspace::simd_kernel_name());

    // 1. Every thread walks the whole range and claims what it can: contention on every word, yet each ID is won
    //    exactly once. The bitmap starts at 4096 bits and grows while the threads claim.
    keyspace::AtomicBitmap claimed;
    std::vector<std::uint64_t> wins(threads);
    const auto t0 = std::chrono::steady_clock::now();
    {
        std::vector<std::thread> pool;
        for (std::uint64_t t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                std::uint64_t won = 0;
                for (std::uint64_t k = 0; k < ids; ++k)
                    won += claimed.test_and_set((k + t * (ids / threads)) % ids) ? 1 : 0;
                wins[t] = won;
            });
        for (auto& th : pool) th.join();
    }
    const double claim_s = seconds_since(t0);
    std::uint64_t total = 0;
    std::printf("1. %llu threads raced to claim %llu IDs (%.1f M attempts/s):\n", (unsigned long long)threads,
                (unsigned long long)ids, double(threads * ids) / claim_s / 1e6);
    for (std::uint64_t t = 0; t < threads; ++t) {
        std::printf("   thread %llu won %llu\n", (unsigned long long)t, (unsigned long long)wins[t]);
        total += wins[t];
    }
    std::printf("   total won %llu, count() %llu: %s\n\n", (unsigned long long)total,
                (unsigned long long)claimed.count(), total == ids && claimed.count() == ids ? "every ID exactly once" : "MISMATCH");
    if (total != ids || claimed.count() != ids) return 1;

    // 2. Deletes and scans.
    const std::uint64_t removed = claimed.clear_range(ids / 4, ids / 2);
    std::uint64_t sevens = 0;
    claimed.for_each_set(0, ids, [&](std::uint64_t id) { sevens += (id % 7 == 0) ? 1 : 0; });
    std::printf("2. clear_range([%llu, %llu)) removed %llu; count() %llu; count_range(0, %llu) %llu\n",
                (unsigned long long)(ids / 4), (unsigned long long)(ids / 2), (unsigned long long)removed,
                (unsigned long long)claimed.count(), (unsigned long long)ids,
                (unsigned long long)claimed.count_range(0, ids));
    std::printf("   for_each_set found %llu multiples of 7; first unset ID %llu; first set ID after it %llu\n\n",
                (unsigned long long)sevens, (unsigned long long)claimed.find_next_unset(0, ids).value_or(0),
                (unsigned long long)claimed.find_next_set(ids / 4).value_or(0));

    // 3. Sparse, unbounded IDs.
    keyspace::AtomicBitmap sparse;
    for (std::uint64_t id : {7ull, 1'000'000ull, 1'000'000'000ull, 1'000'000'000'000ull}) sparse.set(id);
    std::printf("3. four IDs up to 10^12: capacity %llu bits, memory %zu KiB (a dense bitmap would need %llu GB)\n",
                (unsigned long long)sparse.capacity(), sparse.memory_bytes() / 1024,
                (unsigned long long)(sparse.capacity() / 8 / 1'000'000'000));
    std::printf("   find_next_set(1'000'000'001) = %llu\n",
                (unsigned long long)sparse.find_next_set(1'000'000'001).value_or(0));
    return 0;
}
