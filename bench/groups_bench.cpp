// PrefixGroupsTracker: get (hit, miss) with 1 and 2 threads beside a std::shared_mutex + std::unordered_map registry
// in the same run; group claims per policy beside a single tracker's continue_write(); horizontal, vertical and
// random per-item cost beside one tracker's sequential() and random() over the same number of keys.
#include <keyspace/prefix_groups_tracker.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>       // for std::uint64_t
#include <functional>    // for std::equal_to
#include <memory>        // for std::shared_ptr
#include <mutex>         // for std::shared_lock
#include <shared_mutex>  // for std::shared_mutex (the baseline)
#include <string>        // for std::string
#include <string_view>   // for std::string_view
#include <unordered_map> // for std::unordered_map (the baseline)
#include <vector>        // for std::vector

namespace {

using u64 = std::uint64_t;
constexpr int registered = 16;

/// stem + i + ':' (built by appends: GCC 12 warns falsely about `"literal" + std::to_string(i)` at -O3).
std::string name(const char* stem, int i) {
    std::string s = stem;
    s += std::to_string(i);
    s += ':';
    return s;
}
std::vector<std::string> names(const char* stem) {
    std::vector<std::string> out;
    for (int i = 0; i < registered; ++i) out.push_back(name(stem, i));
    return out;
}
const std::vector<std::string>& hit_names() {
    static const auto n = names("prefix");
    return n;
}
const std::vector<std::string>& miss_names() {
    static const auto n = names("absent");
    return n;
}

keyspace::PrefixGroupsTracker& registry() {
    static keyspace::PrefixGroupsTracker g;
    static const bool filled = [] {
        for (const auto& n : hit_names()) g.add(keyspace::TrackerConfig::simple(n));
        return true;
    }();
    (void)filled;
    return g;
}

/// The baseline: what a registry usually is, a reader-writer lock over a hash map with heterogeneous lookup.
class LockedRegistry {
public:
    LockedRegistry() {
        for (const auto& n : hit_names()) map_.emplace(n, std::make_shared<keyspace::PrefixTracker>(n));
    }
    std::shared_ptr<keyspace::PrefixTracker> get(std::string_view prefix) const {
        std::shared_lock lock(mutex_);
        auto it = map_.find(prefix);
        return it == map_.end() ? nullptr : it->second;
    }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<keyspace::PrefixTracker>, Hash, std::equal_to<>> map_;
};

LockedRegistry& locked_registry() {
    static LockedRegistry r;
    return r;
}

/// One get per iteration over the 16 names in turn; the returned shared_ptr is dropped (its copy is the cost).
template <class R>
void get_bench(benchmark::State& st, R& r, const std::vector<std::string>& keys) {
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::size_t i = static_cast<std::size_t>(st.thread_index()) * 5;
    for (auto _ : st) {
        auto t = r.get(views[i % views.size()]);
        benchmark::DoNotOptimize(t);
        ++i;
    }
}

void BM_groups_get_hit(benchmark::State& st) { get_bench(st, registry(), hit_names()); }
void BM_groups_get_miss(benchmark::State& st) { get_bench(st, registry(), miss_names()); }
void BM_base_shared_mutex_map_get_hit(benchmark::State& st) { get_bench(st, locked_registry(), hit_names()); }
void BM_base_shared_mutex_map_get_miss(benchmark::State& st) { get_bench(st, locked_registry(), miss_names()); }
BENCHMARK(BM_groups_get_hit)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_base_shared_mutex_map_get_hit)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_groups_get_miss)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_base_shared_mutex_map_get_miss)->Threads(1)->Threads(2)->UseRealTime();

/// Claims per second: one GroupWriteIter::next() per iteration over 4 unbounded prefixes (every claim succeeds).
void BM_groups_write(benchmark::State& st) {
    const auto policy = static_cast<keyspace::ClaimPolicy>(st.range(0));
    keyspace::PrefixGroupsTracker g;
    for (int i = 0; i < 4; ++i) g.add(keyspace::TrackerConfig::simple(name("w", i)));
    auto w = g.iter().seed(1).write(policy);
    for (auto _ : st) {
        auto item = w.next();
        benchmark::DoNotOptimize(item);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetLabel(policy == keyspace::ClaimPolicy::RoundRobin       ? "RoundRobin"
                : policy == keyspace::ClaimPolicy::Random         ? "Random"
                : policy == keyspace::ClaimPolicy::WeightedRandom ? "WeightedRandom"
                : policy == keyspace::ClaimPolicy::LeastLoaded    ? "LeastLoaded"
                                                                  : "MostLoaded");
}
BENCHMARK(BM_groups_write)->DenseRange(0, 4);

/// The baseline: one tracker's continue_write() stream.
void BM_base_tracker_continue_write(benchmark::State& st) {
    keyspace::PrefixTracker t("w:");
    auto w = t.iter().continue_write();
    for (auto _ : st) {
        auto k = w.next();
        benchmark::DoNotOptimize(k);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_base_tracker_continue_write);

/// 8 bounded prefixes of 2^20 IDs, every other ID set: 2^22 keys in all.
keyspace::PrefixGroupsTracker& iteration_group() {
    static keyspace::PrefixGroupsTracker g;
    static const bool filled = [] {
        for (int i = 0; i < 8; ++i) {
            auto t = g.add(keyspace::TrackerConfig::simple(name("it", i)).with_max_id(1u << 20));
            for (u64 id = static_cast<u64>(i) & 1; id < (1u << 20); id += 2) t->add(id);
        }
        return true;
    }();
    (void)filled;
    return g;
}

/// ns per item of a full pass (st.range(0): 0 horizontal, 1 vertical, 2 random).
void BM_groups_iterate(benchmark::State& st) {
    auto& g = iteration_group();
    u64 items = 0, sink = 0;
    for (auto _ : st) {
        auto b = g.iter().set_only().seed(7);
        auto it = st.range(0) == 0 ? b.horizontal().build() : st.range(0) == 1 ? b.vertical().build() : b.random().build();
        while (auto i = it.next()) {
            sink += i->id;
            ++items;
        }
        benchmark::DoNotOptimize(sink);
    }
    st.counters["ns_per_item"] = benchmark::Counter(static_cast<double>(items),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    st.SetLabel(st.range(0) == 0 ? "horizontal" : st.range(0) == 1 ? "vertical" : "random");
}
BENCHMARK(BM_groups_iterate)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

/// The baselines: one tracker's sequential() (st.range(0) = 0) or random() (1) over the same 2^22 keys (2^23 IDs,
/// every other one set).
void BM_base_tracker_iterate(benchmark::State& st) {
    static keyspace::PrefixTracker t("seq:", 1u << 23);
    static const bool filled = [] {
        for (u64 id = 0; id < (1u << 23); id += 2) t.add(id);
        return true;
    }();
    (void)filled;
    u64 items = 0, sink = 0;
    for (auto _ : st) {
        auto b = t.iter().set_only().seed(7);
        if (st.range(0) == 0) {
            for (auto [id, sub] : b.sequential()) sink += id, ++items;
        } else {
            for (auto [id, sub] : b.random()) sink += id, ++items;
        }
        benchmark::DoNotOptimize(sink);
    }
    st.counters["ns_per_item"] = benchmark::Counter(static_cast<double>(items),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    st.SetLabel(st.range(0) == 0 ? "sequential" : "random");
}
BENCHMARK(BM_base_tracker_iterate)->DenseRange(0, 1)->Unit(benchmark::kMillisecond);

} // namespace
