// count() on a bitmap of 10^9 bits (all set; checked: count() == 10^9), ns per call. It sums one cell per counter
// slot that any thread ever attached to, so it is measured twice: first with the slots this process has used so far
// (the main thread and the benchmark's worker threads), then, registered last, after 64 threads have each written
// once (the slots' high-water mark never falls). Beside: one relaxed load of a shared std::atomic<uint64_t> counter
// (what a single shared counter costs to read) and the scan count_range(0, 10^9) that count() avoids.
#include "common.hpp"

#include <thread> // for std::thread

namespace kb {
namespace {

constexpr u64 billion = 1'000'000'000;

keyspace::AtomicBitmap& billion_bits() {
    static const std::unique_ptr<keyspace::AtomicBitmap> bm = [] {
        auto b = std::make_unique<keyspace::AtomicBitmap>(billion);
        b->set_range(0, billion);
        return b;
    }();
    return *bm;
}

void count_ours(benchmark::State& st) {
    keyspace::AtomicBitmap& bm = billion_bits();
    u64 c = 0;
    for (auto _ : st) {
        c = bm.count();
        benchmark::DoNotOptimize(c);
    }
    if (c != billion) st.SkipWithError("count() != 10^9");
    report_ops(st, 1);
}

void count_shared_atomic(benchmark::State& st) {
    static std::atomic<u64> counter{billion};
    u64 c = 0;
    for (auto _ : st) {
        c = counter.load(std::memory_order_relaxed);
        benchmark::DoNotOptimize(c);
    }
    if (c != billion) st.SkipWithError("wrong value");
    report_ops(st, 1);
}

void count_by_scan(benchmark::State& st) {
    keyspace::AtomicBitmap& bm = billion_bits();
    u64 c = 0;
    for (auto _ : st) {
        c = bm.count_range(0, billion);
        benchmark::DoNotOptimize(c);
    }
    if (c != billion) st.SkipWithError("count_range != 10^9");
    report_ops(st, 1);
}

/// 64 threads, all alive at once, each writes one bit of a scratch bitmap: the counter registry's slot high-water
/// mark rises to >= 64 and stays there for the rest of the process.
void attach_many_threads(int n) {
    keyspace::AtomicBitmap scratch(4096);
    std::atomic<int> written{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t)
        threads.emplace_back([&, t] {
            scratch.set(static_cast<u64>(t));
            written.fetch_add(1);
            while (written.load() < n) std::this_thread::yield(); // keep every slot taken until all have attached
        });
    for (auto& th : threads) th.join();
}

void count_after_many_threads(benchmark::State& st) {
    static const bool attached = (attach_many_threads(64), true);
    (void)attached;
    count_ours(st);
}

const int registered = [] {
    add("count/1e9/AtomicBitmap_count", count_ours);
    add("count/1e9/base_shared_atomic_load", count_shared_atomic);
    add("count/1e9/base_count_range_scan", count_by_scan)->Unit(benchmark::kMillisecond);
    add("count/1e9/AtomicBitmap_count_after_64_threads", count_after_many_threads);
    return 0;
}();

} // namespace
} // namespace kb
