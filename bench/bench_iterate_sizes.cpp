// Sequential iteration over set bits at 1M and 1G bits (~50 % random words, the test fixture of common.hpp), in a
// bitmap given its size up front beside one grown from the default capacity by writes, same run:
//   iterate/<size>/for_each_set/<layout>     AtomicBitmap::for_each_set over the whole range, ns per set bit;
//   iterate/<size>/tracker_seq/<layout>      PrefixTracker::iter().set_only().sequential(), ns per yielded key
//                                            (PrefixTracker(prefix, size) beside PrefixTracker(prefix) grown by
//                                            add_range of the same words).
// Each visit sums the ids and is checked against the plain bitset's sum.
#include "common.hpp"

#include <keyspace/prefix_tracker.hpp>
#include <keyspace/iterators.hpp>

namespace kb {
namespace {

u64 id_sum(const PlainBitset& b) {
    u64 s = 0;
    for (u64 i = 0; i < b.w.size(); ++i)
        for (u64 w = b.w[i]; w != 0; w &= w - 1) s += i * 64 + static_cast<u64>(std::countr_zero(w));
    return s;
}

/// set_range for set_word_runs, on a tracker.
struct TrackerLoader {
    keyspace::PrefixTracker& t;
    void set_range(u64 b, u64 e) { t.add_range(b, e); }
};

struct Trackers {
    std::unique_ptr<keyspace::PrefixTracker> sized, grown;
    u64 sum = 0;
};

Trackers& trackers(u64 n) {
    static std::mutex mu;
    static std::map<u64, std::unique_ptr<Trackers>> cache;
    return cached(cache, mu, n, [&] {
        const Populated& p = populated(n);
        Trackers t;
        t.sized = std::make_unique<keyspace::PrefixTracker>("it:", n);
        t.grown = std::make_unique<keyspace::PrefixTracker>("it:");
        for (auto* tr : {t.sized.get(), t.grown.get()}) {
            TrackerLoader l{*tr};
            load_words(l, p.plain.w);
            if (tr->count() != p.ones) throw std::logic_error("trackers: count mismatch");
        }
        t.sum = id_sum(p.plain);
        return t;
    });
}

void report_keys(benchmark::State& st, u64 ones, u64 sum, u64 want) {
    if (sum != want) st.SkipWithError("visited a wrong set");
    const double ids = static_cast<double>(st.iterations()) * static_cast<double>(ones);
    st.SetItemsProcessed(static_cast<int64_t>(ids));
    st.counters["ns_per_op"] = benchmark::Counter(ids, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void for_each_set_ours(benchmark::State& st, u64 n, Kind k) {
    Populated& p = populated(n);
    const u64 want = trackers(n).sum;
    u64 sum = 0;
    visit(p.ours[static_cast<int>(k)], [&](auto& bm) {
        for (auto _ : st) {
            sum = 0;
            bm.for_each_set(0, n, [&](u64 id) { sum += id; });
            benchmark::DoNotOptimize(sum);
        }
    });
    report_keys(st, p.ones, sum, want);
}

void tracker_seq(benchmark::State& st, u64 n, bool grown) {
    Trackers& t = trackers(n);
    keyspace::PrefixTracker& tr = grown ? *t.grown : *t.sized;
    u64 sum = 0;
    for (auto _ : st) {
        sum = 0;
        for (auto key : tr.iter().set_only().sequential()) sum += key.id;
        benchmark::DoNotOptimize(sum);
    }
    report_keys(st, populated(n).ones, sum, t.sum);
}

const int registered = [] {
    for (u64 n : {M1, G1}) {
        const std::string prefix = "iterate/" + size_name(n) + "/";
        for (Kind k : {Kind::contiguous, Kind::grown})
            add(prefix + "for_each_set/" + kind_name(k), [=](benchmark::State& st) { for_each_set_ours(st, n, k); });
        for (bool grown : {false, true})
            add(prefix + "tracker_seq/" + (grown ? "PrefixTracker_grown" : "PrefixTracker"),
                [=](benchmark::State& st) { tracker_seq(st, n, grown); });
    }
    return 0;
}();

} // namespace
} // namespace kb
