// PrefixTracker iterators: ns per yielded key for each terminal at 1 %, 50 % and 99 % density over 10^8 IDs, beside
// a plain tzcnt walk over a std::vector<uint64_t> holding the same bits; claim throughput with one and two threads
// (continue_write, and write() on per-thread slices); exists_pair / add_pair (existing and new) and sequential() over
// a sub-range, flat and table.
#include <keyspace/keyspace.hpp>

#include <benchmark/benchmark.h>

#include <bit>     // for std::countr_zero
#include <cstdint> // for std::uint64_t
#include <map>     // for std::map
#include <memory>  // for std::unique_ptr
#include <mutex>   // for std::mutex
#include <string>  // for std::string
#include <thread>  // for std::thread
#include <vector>  // for std::vector

namespace {

using u64 = std::uint64_t;
constexpr u64 range_ids = 100'000'000;

struct Population {
    std::unique_ptr<keyspace::PrefixTracker> tracker;
    std::vector<u64> words; // the same bits, for the baseline
    u64 ones = 0;
};

/// A tracker over [0, 10^8) at `percent` density (iid bits), built once per density.
Population& population(int percent) {
    static std::mutex mu;
    static std::map<int, std::unique_ptr<Population>> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = cache[percent];
    if (!slot) {
        slot = std::make_unique<Population>();
        slot->tracker = std::make_unique<keyspace::PrefixTracker>("bench:", range_ids);
        slot->words.assign((range_ids + 63) / 64, 0);
        keyspace::Rng rng(static_cast<u64>(percent));
        const u64 threshold = static_cast<u64>(percent) * (~0ull / 100);
        for (u64 i = 0; i < range_ids; ++i)
            if (rng() < threshold) {
                slot->tracker->add(i);
                slot->words[i / 64] |= 1ull << (i % 64);
                ++slot->ones;
            }
    }
    return *slot;
}

void per_key(benchmark::State& st, u64 keys) {
    st.SetItemsProcessed(static_cast<int64_t>(keys) * static_cast<int64_t>(st.iterations()));
    st.counters["ns_per_key"] =
        benchmark::Counter(static_cast<double>(keys) * static_cast<double>(st.iterations()),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void sequential_set(benchmark::State& st, int percent) {
    auto& p = population(percent);
    u64 n = 0;
    for (auto _ : st) {
        n = 0;
        for (auto k : p.tracker->iter().set_only().sequential()) n += k.id;
        benchmark::DoNotOptimize(n);
    }
    per_key(st, p.ones);
}

/// The same walk pulled with next() instead of range-for.
void sequential_set_next(benchmark::State& st, int percent) {
    auto& p = population(percent);
    u64 n = 0;
    for (auto _ : st) {
        n = 0;
        auto it = p.tracker->iter().set_only().sequential();
        while (auto k = it.next()) n += k->id;
        benchmark::DoNotOptimize(n);
    }
    per_key(st, p.ones);
}

/// The same bits through AtomicBitmap::for_each_set (the push walk the pull iterator is measured against).
void for_each_set(benchmark::State& st, int percent) {
    auto& p = population(percent);
    for (auto _ : st) {
        u64 n = 0;
        p.tracker->bits().for_each_set(0, range_ids, [&](u64 id) { n += id; });
        benchmark::DoNotOptimize(n);
    }
    per_key(st, p.ones);
}

void baseline_tzcnt(benchmark::State& st, int percent) {
    auto& p = population(percent);
    for (auto _ : st) {
        u64 sum = 0;
        for (u64 i = 0; i < p.words.size(); ++i)
            for (u64 w = p.words[i]; w != 0; w &= w - 1) sum += i * 64 + static_cast<u64>(std::countr_zero(w));
        benchmark::DoNotOptimize(sum);
    }
    per_key(st, p.ones);
}

void random_set(benchmark::State& st, int percent) {
    auto& p = population(percent);
    u64 seed = 0;
    for (auto _ : st) {
        u64 n = 0;
        auto it = p.tracker->iter().set_only().seed(++seed).random();
        while (auto k = it.next()) n += k->id;
        benchmark::DoNotOptimize(n);
    }
    per_key(st, p.ones);
}

void random_unset_limited(benchmark::State& st, int percent) {
    // unset_only().random() over the whole range, 10^6 keys per iteration (a write-heavy workload's picks).
    auto& p = population(percent);
    u64 seed = 0;
    constexpr u64 keys = 1'000'000;
    for (auto _ : st) {
        u64 n = 0;
        auto it = p.tracker->iter().unset_only().limit(keys).seed(++seed).random();
        while (auto k = it.next()) n += k->id;
        benchmark::DoNotOptimize(n);
    }
    per_key(st, keys);
}

/// One key per iteration from the endless random() stream `configure` makes of the tracker's builder.
template <class Configure>
void endless_stream(benchmark::State& st, int percent, Configure configure) {
    auto& p = population(percent);
    auto it = configure(p.tracker->iter()).seed(7).random();
    u64 n = 0;
    for (auto _ : st) n += it.next()->id;
    benchmark::DoNotOptimize(n);
    per_key(st, 1);
}

void mixed_stream(benchmark::State& st, int percent) {
    endless_stream(st, percent, [](auto b) { return b.mixed_ratio(0.9); });
}
void mixed_stream_half(benchmark::State& st, int percent) {
    endless_stream(st, percent, [](auto b) { return b.mixed_ratio(0.5); });
}

/// mixed_ratio(0.9) at 10 % density while the caller churns: every `every`-th draw it removes the drawn key if set
/// (and adds a random ID) or adds it if unset (and removes a random ID), so the density stays near 10 %. A tracker
/// of its own (the shared populations stay as built); ns per draw, the writes included.
void mixed_churn(benchmark::State& st, int every) {
    static keyspace::PrefixTracker& t = [] () -> keyspace::PrefixTracker& {
        static keyspace::PrefixTracker churned("churn:", range_ids);
        keyspace::Rng rng(10);
        const u64 threshold = 10 * (~0ull / 100);
        for (u64 i = 0; i < range_ids; ++i)
            if (rng() < threshold) churned.add(i);
        return churned;
    }();
    auto it = t.iter().mixed_ratio(0.9).seed(7).random();
    keyspace::Rng rng(11);
    u64 n = 0, i = 0;
    for (auto _ : st) {
        const u64 id = it.next()->id;
        n += id;
        if (++i % static_cast<u64>(every) == 0) {
            if (t.exists(id)) {
                t.remove(id);
                t.add(rng.below(range_ids));
            } else {
                t.add(id);
                t.remove(rng.below(range_ids));
            }
        }
    }
    benchmark::DoNotOptimize(n);
    per_key(st, 1);
}

/// Already-set claim on a tracker: claim() of a present ID (every ID of [0, 2^20) is present; checked: every claim
/// returned false), beside exists() of the same IDs, random order.
void tracker_present(benchmark::State& st, bool claim) {
    constexpr u64 ids = 1u << 20;
    static keyspace::PrefixTracker& t = [] () -> keyspace::PrefixTracker& {
        static keyspace::PrefixTracker full("full:", ids);
        full.add_range(0, ids);
        return full;
    }();
    u64 x = 1, hits = 0;
    for (auto _ : st) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const u64 id = (x >> 40) & (ids - 1);
        hits += claim ? (t.claim(id) ? 0 : 1) : (t.exists(id) ? 1 : 0);
    }
    if (hits != static_cast<u64>(st.iterations())) st.SkipWithError("an ID was absent");
    per_key(st, 1);
}

/// random() with a distribution over the 10^8-ID range at `percent` density, set keys only: one draw per
/// iteration (redrawn on a miss), beside the bare sampler draw + membership test it is made of.
void distribution_stream(benchmark::State& st, int percent, keyspace::AccessDistribution d) {
    endless_stream(st, percent, [&](auto b) { return b.set_only().distribution(d); });
}
void base_sampler_test(benchmark::State& st, int percent, keyspace::AccessDistribution d) {
    auto& p = population(percent);
    auto sampler = d.make_sampler(range_ids, 7);
    keyspace::Rng g(7);
    u64 n = 0;
    for (auto _ : st) {
        const u64 id = sampler(g);
        n += p.tracker->exists(id) ? id : 0; // one draw and one test, no redraw
    }
    benchmark::DoNotOptimize(n);
    per_key(st, 1);
}

/// Claims drawn from Zipf(0.99) on a fresh 2^24-ID tracker, 2^20 per iteration (the first 6% of the range: the
/// redraws of taken keys grow as it fills).
void claim_zipf(benchmark::State& st) {
    constexpr u64 ids = 1u << 24, per_iteration = 1u << 20;
    for (auto _ : st) {
        st.PauseTiming();
        auto t = std::make_unique<keyspace::PrefixTracker>("claim:", ids);
        auto w = t->iter().distribution(keyspace::AccessDistribution::zipfian(0.99)).seed(3).write();
        st.ResumeTiming();
        u64 ok = 0;
        for (u64 k = 0; k < per_iteration; ++k) ok += w.next() ? 1 : 0;
        benchmark::DoNotOptimize(ok);
    }
    per_key(st, per_iteration);
}

/// Claims on a fresh tracker, from `threads` threads (each iteration: every thread claims 2^18 keys); every claim
/// succeeds. shared_progress: continue_write() streams; otherwise write() on per-thread slices.
void claim(benchmark::State& st, bool shared_progress, int threads) {
    keyspace::PrefixTracker t("claim:", 1ull << 34);
    constexpr u64 per_thread = 1u << 18;
    std::vector<std::unique_ptr<keyspace::WriteIter>> its;
    for (int i = 0; i < threads; ++i)
        its.push_back(std::make_unique<keyspace::WriteIter>(
            shared_progress ? t.iter().continue_write()
                            : t.iter().slice(static_cast<u64>(i), static_cast<u64>(threads)).write()));
    std::vector<u64> got(static_cast<std::size_t>(threads));
    for (auto _ : st) {
        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i)
            pool.emplace_back([&, i] {
                u64 ok = 0;
                for (u64 k = 0; k < per_thread; ++k) ok += its[static_cast<std::size_t>(i)]->next() ? 1 : 0;
                got[static_cast<std::size_t>(i)] += ok;
            });
        for (auto& th : pool) th.join();
    }
    for (u64 g : got)
        if (g != static_cast<u64>(st.iterations()) * per_thread) st.SkipWithError("a claim failed");
    per_key(st, per_thread * static_cast<u64>(threads));
}

/// remove() then add() of one present key per step, from `threads` threads on disjoint keys (each iteration: every
/// thread does 2^18 pairs): the cost of the remove path's bookkeeping, beside the add it is paired with.
void remove_add(benchmark::State& st, int threads) {
    constexpr u64 ids = 1u << 22, per_thread = 1u << 18;
    keyspace::PrefixTracker t("churn:", ids);
    t.add_range(0, ids);
    std::vector<u64> removed(static_cast<std::size_t>(threads));
    for (auto _ : st) {
        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i)
            pool.emplace_back([&, i] {
                u64 x = static_cast<u64>(i) + 1, ok = 0;
                const u64 base = static_cast<u64>(i) * (ids / static_cast<u64>(threads)), span = ids / static_cast<u64>(threads);
                for (u64 k = 0; k < per_thread; ++k) {
                    x = x * 6364136223846793005ull + 1442695040888963407ull;
                    const u64 id = base + (x >> 20) % span;
                    ok += t.remove(id) ? 1 : 0;
                    t.add(id);
                }
                removed[static_cast<std::size_t>(i)] += ok;
            });
        for (auto& th : pool) th.join();
    }
    for (u64 r : removed)
        if (r != static_cast<u64>(st.iterations()) * per_thread) st.SkipWithError("a remove failed");
    per_key(st, per_thread * static_cast<u64>(threads));
}

void pairs(benchmark::State& st, bool flat, bool existing, bool add) {
    auto config = keyspace::TrackerConfig::hierarchical("hash:");
    if (flat) config = config.with_max_sub_id(64).with_max_id(1 << 22);
    keyspace::PrefixTracker t(config);
    constexpr u64 ids = 1 << 20;
    for (u64 id = 0; id < ids; ++id) t.add_pair(id, id % 64);
    u64 x = 1, hits = 0;
    for (auto _ : st) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const u64 id = (x >> 20) % ids;
        const u64 sub = existing ? id % 64 : (id + 1 + (x >> 58)) % 64;
        if (add) {
            hits += t.add_pair(id, sub) ? 1 : 0;
            if (!existing) t.remove_pair(id, sub); // keep the next add a real insert
        } else {
            hits += t.exists_pair(id, sub) ? 1 : 0;
        }
    }
    benchmark::DoNotOptimize(hits);
    per_key(st, 1);
}

/// set_only().sub_range(0, 16).sequential() over a hierarchical tracker (2^18 IDs, sub-IDs below 64 at 25 %): every
/// row opens a stretch, so this measures the rows policies' stretch open (flat: FlatRows; table: TableRows).
void sequential_rows(benchmark::State& st, bool flat) {
    auto config = keyspace::TrackerConfig::hierarchical("hash:");
    if (flat) config = config.with_max_sub_id(64).with_max_id(1 << 18);
    keyspace::PrefixTracker t(config);
    constexpr u64 ids = 1 << 18;
    keyspace::Rng rng(7);
    u64 expected = 0;
    for (u64 id = 0; id < ids; ++id)
        for (u64 sub = 0; sub < 64; ++sub)
            if ((rng() & 3) == 0 && t.add_pair(id, sub) && sub < 16) ++expected;
    u64 keys = 0;
    for (auto _ : st) {
        keys = 0;
        for (auto k : t.iter().set_only().sub_range(0, 16).sequential()) keys += 1 + (k.sub_id >> 4); // sub_id < 16: adds 1
        benchmark::DoNotOptimize(keys);
    }
    if (keys != expected) st.SkipWithError("sequential() over the sub-range missed keys");
    per_key(st, keys);
}

[[maybe_unused]] const bool registered = [] {
    for (int percent : {1, 50, 99}) {
        const std::string d = std::to_string(percent) + "pct";
        benchmark::RegisterBenchmark(("iter/sequential_set/" + d).c_str(), sequential_set, percent)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("iter/sequential_set_next/" + d).c_str(), sequential_set_next, percent)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("iter/base_for_each_set/" + d).c_str(), for_each_set, percent)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("iter/base_tzcnt_walk/" + d).c_str(), baseline_tzcnt, percent)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("iter/random_set/" + d).c_str(), random_set, percent)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("iter/random_unset_1M/" + d).c_str(), random_unset_limited, percent)->Unit(benchmark::kMillisecond);
        if (percent != 50) benchmark::RegisterBenchmark(("iter/mixed_ratio_0.9/" + d).c_str(), mixed_stream, percent);
    }
    for (int percent : {5, 50}) {
        const std::string d = std::to_string(percent) + "pct";
        using keyspace::AccessDistribution;
        benchmark::RegisterBenchmark(("iter/zipf_0.99_stream/" + d).c_str(), distribution_stream, percent,
                                     AccessDistribution::zipfian(0.99));
        benchmark::RegisterBenchmark(("iter/base_zipf_0.99_draw_and_test/" + d).c_str(), base_sampler_test, percent,
                                     AccessDistribution::zipfian(0.99));
        benchmark::RegisterBenchmark(("iter/latest_0.1_0.9_stream/" + d).c_str(), distribution_stream, percent,
                                     AccessDistribution::latest(0.1, 0.9));
        benchmark::RegisterBenchmark(("iter/hotspot_0.2_0.8_stream/" + d).c_str(), distribution_stream, percent,
                                     AccessDistribution::hotspot(0.2, 0.8));
    }
    for (int percent : {10, 50, 90}) {
        const std::string d = std::to_string(percent) + "pct";
        benchmark::RegisterBenchmark(("iter/mixed_ratio_0.9/" + d).c_str(), mixed_stream, percent);
        benchmark::RegisterBenchmark(("iter/mixed_ratio_0.5/" + d).c_str(), mixed_stream_half, percent);
    }
    for (int every : {1000, 10})
        benchmark::RegisterBenchmark(("iter/mixed_ratio_0.9_churn/10pct/every_" + std::to_string(every)).c_str(),
                                     mixed_churn, every);
    benchmark::RegisterBenchmark("iter/claim_zipf_0.99/1thread", claim_zipf)->Unit(benchmark::kMillisecond);
    for (int percent : {5}) {
        const std::string d = std::to_string(percent) + "pct";
        benchmark::RegisterBenchmark(("iter/random_set/" + d).c_str(), random_set, percent)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("iter/base_tzcnt_walk/" + d).c_str(), baseline_tzcnt, percent)->Unit(benchmark::kMillisecond);
    }
    for (int threads : {1, 2}) {
        const std::string t = "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(("iter/claim/continue_write" + t).c_str(), claim, true, threads)->UseRealTime();
        benchmark::RegisterBenchmark(("iter/claim/slice_write" + t).c_str(), claim, false, threads)->UseRealTime();
        benchmark::RegisterBenchmark(("tracker/remove_add" + t).c_str(), remove_add, threads)->UseRealTime();
    }
    benchmark::RegisterBenchmark("tracker/claim_present/random/1M", tracker_present, true);
    benchmark::RegisterBenchmark("tracker/base_exists/random/1M", tracker_present, false);
    for (bool flat : {true, false}) {
        const std::string m = flat ? "flat" : "table";
        benchmark::RegisterBenchmark(("pairs/exists_pair/" + m).c_str(), pairs, flat, true, false);
        benchmark::RegisterBenchmark(("pairs/add_pair_existing/" + m).c_str(), pairs, flat, true, true);
        benchmark::RegisterBenchmark(("pairs/add_pair_new/" + m).c_str(), pairs, flat, false, true);
        benchmark::RegisterBenchmark(("pairs/sequential_rows/" + m).c_str(), sequential_rows, flat)->Unit(benchmark::kMillisecond);
    }
    return true;
}();

} // namespace
