// N load-generator processes over one keyspace: each opens the same shared region and claims IDs with
// continue_write() until the keyspace is full; the parent checks that every ID was handed out exactly once.
//
//   multi_process_claim [--ids N] [--procs P] [--path FILE]
//
// Each process would, in a real tool, turn its IDs into commands (SET user:000000000042 ...). Here each reports how
// many it claimed and a checksum of them; the sum of the counts must equal N and the XOR of the checksums must
// equal that of 0..N-1, and the region's count (recomputed from the bits) must be N.
#include <keyspace/shared_region.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Report {
    std::uint64_t claimed = 0, xor_sum = 0;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "multi_process_claim: %s\nusage: multi_process_claim [--ids N] [--procs P] [--path FILE]\n", why);
    std::exit(2);
}

std::uint64_t number(const char* s, const char* option) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (end == s || *end != '\0' || v == 0) usage((std::string("bad value for ") + option + ": " + s).c_str());
    return v;
}

} // namespace

int main(int argc, char** argv) {
    std::uint64_t ids = 2'000'000, procs = 4;
    std::string path = "/tmp/keyspace-multi-process-" + std::to_string(::getpid()) + ".region";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") usage("claims IDs from several processes over one shared keyspace");
        if (i + 1 >= argc) usage(("missing value for " + a).c_str());
        if (a == "--ids") ids = number(argv[++i], "--ids");
        else if (a == "--procs") procs = number(argv[++i], "--procs");
        else if (a == "--path") path = argv[++i];
        else usage(("unknown option " + a).c_str());
    }
    if (procs > 256) usage("--procs is at most 256");

    const auto config = keyspace::TrackerConfig::simple("user:").with_max_id(ids);
    keyspace::SharedKeyspace::remove(path);
    auto tracker = keyspace::SharedKeyspace::create(path, config); // the parent creates; children open
    std::printf("region %s: %llu IDs, %llu bytes, %llu processes\n", path.c_str(), static_cast<unsigned long long>(ids),
                static_cast<unsigned long long>(keyspace::SharedKeyspace::region_bytes(ids)),
                static_cast<unsigned long long>(procs));

    const auto start = std::chrono::steady_clock::now();
    std::vector<std::pair<pid_t, int>> workers;
    for (std::uint64_t p = 0; p < procs; ++p) {
        int fds[2];
        if (::pipe(fds) != 0) return 1;
        const pid_t pid = ::fork();
        if (pid < 0) return 1;
        if (pid == 0) { // a load-generator process
            ::close(fds[0]);
            auto mine = keyspace::SharedKeyspace::open(path, config);
            Report r;
            for (auto key : mine->iter().continue_write()) { // shared progress: 512 IDs per atomic step
                ++r.claimed;
                r.xor_sum ^= key.id;
            }
            const bool ok = ::write(fds[1], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
            ::_exit(ok ? 0 : 1);
        }
        ::close(fds[1]);
        workers.emplace_back(pid, fds[0]);
    }

    std::uint64_t total = 0, xor_all = 0;
    bool ok = true;
    for (std::size_t p = 0; p < workers.size(); ++p) {
        Report r;
        ok = ::read(workers[p].second, &r, sizeof r) == static_cast<ssize_t>(sizeof r) && ok;
        ::close(workers[p].second);
        int status = 0;
        ::waitpid(workers[p].first, &status, 0);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("  process %zu claimed %llu IDs\n", p, static_cast<unsigned long long>(r.claimed));
        total += r.claimed;
        xor_all ^= r.xor_sum;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::uint64_t expected_xor = 0;
    for (std::uint64_t id = 0; id < ids; ++id) expected_xor ^= id;
    ok = ok && total == ids && xor_all == expected_xor && tracker->count() == ids;
    std::printf("%llu claims in %.3f s (%.1f M claims/s, process start-up included); region count %llu\n",
                static_cast<unsigned long long>(total), seconds, static_cast<double>(total) / seconds / 1e6,
                static_cast<unsigned long long>(tracker->count()));
    std::printf(ok ? "every ID exactly once across processes\n" : "MISMATCH: IDs lost or handed out twice\n");
    keyspace::SharedKeyspace::remove(path);
    return ok ? 0 : 1;
}
