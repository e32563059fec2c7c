// Operations in flight (InFlight), each beside the untracked path it wraps, in the same run:
//   inflight/insert/{continue_write, begin_commit}   a claim from a continue_write() stream vs begin_insert + commit
//   inflight/read/{draw, begin_commit}               a set_only Zipf(0.99) draw vs draw + begin_read + commit
//   inflight/mixed/threads:{1,2}                     reads, deletes and re-inserts, each thread on its own hot set,
//   inflight/mixed_untracked/threads:{1,2}           and the same steps untracked (draws, remove, add): the
//                                                    machine's own 2-thread scaling for this access pattern
#include "common.hpp"

#include <keyspace/in_flight.hpp>
#include <keyspace/iterators.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <time.h> // for clock_gettime(CLOCK_THREAD_CPUTIME_ID) (POSIX)

namespace {

using kb::u64;

/// CPU time of the calling thread, in nanoseconds.
double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

void per_op(benchmark::State& st, u64 ops) {
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * ops));
    st.counters["ns_per_op"] = benchmark::Counter(static_cast<double>(st.iterations() * ops),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Claims from one continue_write() stream over a 2^34-ID tracker, 2^18 per iteration: plain (`tracked` false)
/// or each through InFlight::begin_insert and committed at once.
void insert(benchmark::State& st, bool tracked) {
    keyspace::PrefixTracker t("ins:", 1ull << 34);
    keyspace::InFlight ops(t);
    auto w = t.iter().continue_write();
    constexpr u64 per_iteration = 1u << 18;
    u64 ok = 0;
    for (auto _ : st) {
        if (tracked) {
            for (u64 k = 0; k < per_iteration; ++k)
                if (auto tk = ops.begin_insert(w)) {
                    tk->commit();
                    ++ok;
                }
        } else {
            for (u64 k = 0; k < per_iteration; ++k) ok += w.next() ? 1 : 0;
        }
    }
    if (ok != static_cast<u64>(st.iterations()) * per_iteration) st.SkipWithError("a claim failed");
    per_op(st, per_iteration);
}

/// Reads drawn by a set_only Zipf(0.99) stream over 2^20 IDs, half present: the draw alone, or the draw, a
/// begin_read and its commit.
void read(benchmark::State& st, bool tracked) {
    constexpr u64 ids = 1u << 20;
    keyspace::PrefixTracker t("read:", ids);
    for (u64 id = 0; id < ids; id += 2) t.add(id);
    keyspace::InFlight ops(t);
    auto reads = t.iter().set_only().distribution(keyspace::AccessDistribution::zipfian(0.99)).seed(7).random();
    u64 hits = 0;
    for (auto _ : st) {
        if (tracked) {
            auto tk = ops.begin_read(reads);
            hits += tk->expect_hit() ? 1 : 0;
            tk->commit();
        } else {
            hits += reads.next()->id & 1;
        }
    }
    benchmark::DoNotOptimize(hits);
    per_op(st, 1);
}

/// `threads` threads, each on its own slice of 2^22 IDs (disjoint hot sets), 2^16 steps per iteration: a step is
/// eight reads drawn from a Zipf(0.99) stream over the slice, then the delete of a drawn key and its re-insert,
/// each begun and committed. items_per_second is the total of all threads (10 operations per step), in real time;
/// thread_cpu_ns_per_op is the CPU time the threads spent per operation: on a machine whose cores are busy with
/// other work, real time cannot show the scaling, but an unchanged CPU cost per operation from 1 to 2 threads means
/// the threads do not slow each other down (2 threads = 2x the throughput of 1 on two free cores).
void mixed(benchmark::State& st, int threads, bool tracked) {
    constexpr u64 ids = 1u << 22, steps = 1u << 16;
    keyspace::PrefixTracker t("mix:", ids);
    t.add_range(0, ids);
    keyspace::InFlight ops(t);
    struct alignas(64) Stream { // one cache line apart: the threads share nothing but the tracker and InFlight
        std::optional<keyspace::RandomIter> it;
        char pad[64];
    };
    std::vector<std::unique_ptr<Stream>> streams;
    for (int i = 0; i < threads; ++i) {
        streams.push_back(std::make_unique<Stream>());
        streams.back()->it = t.iter()
                                 .slice(static_cast<u64>(i), static_cast<u64>(threads))
                                 .set_only()
                                 .distribution(keyspace::AccessDistribution::zipfian(0.99))
                                 .seed(static_cast<u64>(i) + 1)
                                 .random();
    }
    std::vector<u64> failed(static_cast<std::size_t>(threads));
    std::vector<double> cpu(static_cast<std::size_t>(threads));
    for (auto _ : st) {
        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i)
            pool.emplace_back([&, i] {
                auto& reads = *streams[static_cast<std::size_t>(i)]->it;
                const double cpu_start = thread_cpu_ns();
                u64 bad = 0;
                for (u64 s = 0; s < steps; ++s) {
                    if (!tracked) {
                        for (int r = 0; r < 8; ++r) bad += reads.next() ? 0 : 1;
                        const auto k = reads.next();
                        if (!k || !t.remove(*k) || !t.add(*k)) ++bad;
                        continue;
                    }
                    for (int r = 0; r < 8; ++r) {
                        auto tk = ops.begin_read(reads);
                        if (!tk) ++bad;
                    }
                    auto del = ops.begin_delete(reads);
                    if (!del) {
                        ++bad;
                        continue;
                    }
                    const keyspace::Key k = del->key();
                    del->commit();
                    if (auto ins = ops.begin_insert(k)) ins->commit();
                    else ++bad;
                }
                failed[static_cast<std::size_t>(i)] += bad;
                cpu[static_cast<std::size_t>(i)] += thread_cpu_ns() - cpu_start;
            });
        for (auto& th : pool) th.join();
    }
    u64 bad = 0;
    for (u64 f : failed) bad += f;
    st.counters["not_begun"] = static_cast<double>(bad);
    double cpu_total = 0;
    for (double c : cpu) cpu_total += c;
    st.counters["thread_cpu_ns_per_op"] =
        cpu_total / static_cast<double>(st.iterations() * steps * 10 * static_cast<u64>(threads));
    per_op(st, steps * 10 * static_cast<u64>(threads));
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("inflight/insert/continue_write", insert, false);
    benchmark::RegisterBenchmark("inflight/insert/begin_commit", insert, true);
    benchmark::RegisterBenchmark("inflight/read/draw", read, false);
    benchmark::RegisterBenchmark("inflight/read/begin_commit", read, true);
    for (bool tracked : {true, false})
        for (int threads : {1, 2})
            benchmark::RegisterBenchmark(
                ((tracked ? "inflight/mixed/threads:" : "inflight/mixed_untracked/threads:") + std::to_string(threads))
                    .c_str(),
                mixed, threads, tracked)
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
    return true;
}();

} // namespace
