// Shared keyspaces: continue_write() claims from 2 processes vs 2 threads over the same shared region, and 2 threads
// over a private (process-local) tracker as the baseline. Each iteration fills a fresh 2^25-ID keyspace; the counter
// ns_per_claim is wall time per claim (both workers together), fork and open included for processes.
#include <keyspace/iterators.hpp>
#include <keyspace/shared_region.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

using u64 = std::uint64_t;
constexpr u64 ids = 1ull << 25;

std::string region_path() { return "/tmp/keyspace-bench-" + std::to_string(::getpid()) + ".region"; }
const keyspace::TrackerConfig config = keyspace::TrackerConfig::simple("bench:").with_max_id(ids);

u64 drain(keyspace::PrefixTracker& t) {
    u64 n = 0;
    for (auto k : t.iter().continue_write()) n += k.id != ~0ull ? 1 : 0;
    return n;
}

void report(benchmark::State& st) {
    st.counters["ns_per_claim"] = benchmark::Counter(static_cast<double>(ids) * static_cast<double>(st.iterations()),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// mode 0: 2 threads, private tracker; 1: 2 threads, each with its own handle on the shared region; 2: 2 processes.
void claim(benchmark::State& st, int mode) {
    const std::string path = region_path();
    for (auto _ : st) {
        keyspace::SharedKeyspace::remove(path);
        std::shared_ptr<keyspace::PrefixTracker> t =
            mode == 0 ? std::make_shared<keyspace::PrefixTracker>(config) : keyspace::SharedKeyspace::create(path, config);
        const auto start = std::chrono::steady_clock::now();
        if (mode == 2) {
            pid_t kids[2];
            for (auto& pid : kids) {
                pid = ::fork();
                if (pid == 0) ::_exit(drain(*keyspace::SharedKeyspace::open(path, config)) > 0 ? 0 : 1);
            }
            for (pid_t pid : kids) ::waitpid(pid, nullptr, 0);
        } else {
            std::shared_ptr<keyspace::PrefixTracker> second = mode == 0 ? t : keyspace::SharedKeyspace::open(path, config);
            std::thread other([&] { benchmark::DoNotOptimize(drain(*second)); });
            benchmark::DoNotOptimize(drain(*t));
            other.join();
        }
        st.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (t->count() != ids) st.SkipWithError("the keyspace was not filled exactly");
    }
    keyspace::SharedKeyspace::remove(path);
    report(st);
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("shared/claim/base_2threads_private", claim, 0)->UseManualTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("shared/claim/2threads_shared_region", claim, 1)->UseManualTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("shared/claim/2processes_shared_region", claim, 2)->UseManualTime()->Unit(benchmark::kMillisecond);
    return true;
}();

} // namespace
