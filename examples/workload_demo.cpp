// workload_demo: what a load generator built on keyspace does, on screen in a few seconds. Several key prefixes
// are loaded by threads claiming unique IDs, then hit by a 90/10 read/insert mix whose reads follow a Zipf (or
// uniform, hotspot, latest) distribution, then half deleted; every phase prints its throughput and is checked
// against the trackers' counts, and an ASCII histogram shows how skewed the reads really were.
// The "server" here is the trackers themselves; examples/redis_load.cpp runs the same workload against Redis.
// Usage: workload_demo [--keys N] [--threads N] [--ops N] [--dist zipf|uniform|hotspot|latest] [--skew S]
//                      [--scramble] [--seed N] ... (--help lists them all)
#include "workload.hpp"

#include <cstdio> // for std::printf

namespace {

/// Sends nowhere: the trackers are the whole store.
struct NullSession {
    void set(std::uint64_t, std::uint64_t) {}
    void get(std::uint64_t, std::uint64_t, bool) {}
    void del(std::uint64_t, std::uint64_t) {}
    void flush() {}
    [[nodiscard]] std::uint64_t errors() const { return 0; }
};

} // namespace

int main(int argc, char** argv) {
    const workload::Options o = workload::parse(argc, argv, "workload_demo", workload::common_usage);
    std::printf("workload_demo: %llu prefixes x %llu keys, %llu threads, %llu ops (%llu%% reads, %s%s", 
                static_cast<unsigned long long>(o.prefixes), static_cast<unsigned long long>(o.keys),
                static_cast<unsigned long long>(o.threads), static_cast<unsigned long long>(o.ops),
                static_cast<unsigned long long>(o.read_pct), o.scramble ? "scrambled " : "", workload::dist_name(o.dist));
    if (o.dist == workload::Dist::zipf || o.dist == workload::Dist::latest) std::printf(" skew %g", o.skew);
    std::printf("), seed %llu\n", static_cast<unsigned long long>(o.seed));
    bool ok = false;
    workload::run(o, [](std::size_t) { return NullSession{}; }, ok);
    std::printf(ok ? "every phase verified against the trackers\n" : "VERIFICATION FAILED\n");
    return ok ? 0 : 1;
}
