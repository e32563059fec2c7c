// The iterators with an access distribution: random() as an endless stream of draws, write streams drawing their
// claims, the filter's redraw and fallback, latest following the highest set key, with_sampling.
// (The statistical checks of the drawn distributions over a tracker are in sampling_stats_test.cpp.)
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/iterators.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using keyspace::AccessDistribution;
using keyspace::Key;
using keyspace::PrefixTracker;
using keyspace::SamplingConfig;
using keyspace::TrackerConfig;

namespace {

template <class It>
std::vector<std::uint64_t> take_ids(It& it, std::size_t n) {
    std::vector<std::uint64_t> out;
    while (out.size() < n) {
        const auto k = it.next();
        if (!k) break;
        out.push_back(k->id);
    }
    return out;
}

const std::vector<AccessDistribution> every_kind{
    AccessDistribution::uniform(),         AccessDistribution::zipfian(0.99), AccessDistribution::zipfian(1.2, true),
    AccessDistribution::hotspot(0.1, 0.9), AccessDistribution::latest(0.1, 0.9), AccessDistribution::latest_zipfian(0.99),
    AccessDistribution::exponential(0.05), AccessDistribution::normal(0.5, 0.1)};

} // namespace

TEST_CASE("random() with a distribution is an endless, reproducible stream with replacement", "[iter][distribution]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(100));
    for (std::uint64_t i = 0; i < 100; ++i) t.add(i);
    for (const auto& d : every_kind) {
        auto a = t.iter().set_only().seed(7).distribution(d).random();
        auto b = t.iter().set_only().seed(7).distribution(d).random();
        const auto xs = take_ids(a, 5000), ys = take_ids(b, 5000);
        REQUIRE(xs.size() == 5000); // far more draws than keys: endless
        CHECK(xs == ys);
        CHECK(std::all_of(xs.begin(), xs.end(), [](std::uint64_t id) { return id < 100; }));
        CHECK(std::set<std::uint64_t>(xs.begin(), xs.end()).size() < xs.size()); // with replacement
        CHECK_FALSE(a.is_exhausted());
        CHECK(a.remaining() == std::numeric_limits<std::uint64_t>::max());
    }
    auto other = t.iter().set_only().seed(8).distribution(AccessDistribution::uniform()).random();
    auto same = t.iter().set_only().seed(7).distribution(AccessDistribution::uniform()).random();
    CHECK(take_ids(other, 100) != take_ids(same, 100));
}

TEST_CASE("a distribution stream maps rank r to the r-th key of the range", "[iter][distribution]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(1'000'000));
    // Zipf with skew 3: rank 0 takes 83% of the draws, so range(500, 2000) must yield 500 most of the time.
    auto it = t.iter().range(500, 2000).seed(1).distribution(AccessDistribution::zipfian(3.0)).random();
    std::map<std::uint64_t, int> hits;
    for (auto id : take_ids(it, 10000)) {
        REQUIRE(id >= 500);
        REQUIRE(id < 2000);
        ++hits[id];
    }
    CHECK(hits[500] > 7800);
    CHECK(hits[501] > hits[502]);
    // The limit caps the stream.
    auto limited = t.iter().limit(5).distribution(AccessDistribution::uniform()).random();
    CHECK(take_ids(limited, 100).size() == 5);
    CHECK(limited.is_exhausted());
}

TEST_CASE("a filtered distribution stream yields only matching keys and falls back at very low density",
          "[iter][distribution]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(1'000'000));
    t.add(777'777);
    // One set key among 10^6: draws miss 64 times, then fall back to the next set key after the draw (wrapping).
    auto it = t.iter().set_only().seed(3).distribution(AccessDistribution::zipfian(0.99)).random();
    for (auto id : take_ids(it, 200)) REQUIRE(id == 777'777);
    // Unset keys, with every key but one set.
    PrefixTracker full(TrackerConfig::simple("f:").with_max_id(4096));
    full.add_range(0, 4096);
    full.remove(12);
    auto holes = full.iter().unset_only().distribution(AccessDistribution::uniform()).random();
    for (auto id : take_ids(holes, 100)) REQUIRE(id == 12);
    // Nothing matches: that call returns nullopt instead of spinning, and the stream stays alive for later keys.
    PrefixTracker empty(TrackerConfig::simple("e:").with_max_id(1000));
    auto none = empty.iter().set_only().distribution(AccessDistribution::hotspot(0.2, 0.8)).random();
    CHECK_FALSE(none.next().has_value());
    CHECK_FALSE(none.is_exhausted());
    empty.add(500);
    CHECK(none.next().value().id == 500);
}

TEST_CASE("latest counts down from the highest set key and follows growth and removal", "[iter][distribution]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(1'000'000));
    t.add_range(0, 1000);
    // recent set = 1% of the ranks, drawn with probability 1: every draw is among the 1% newest keys.
    auto it = t.iter().seed(5).distribution(AccessDistribution::latest(0.01, 1.0)).random();
    for (auto id : take_ids(it, 2000)) REQUIRE((id >= 990 && id < 1000));
    t.add_range(1000, 5000); // appended just above: followed at the next draw
    for (auto id : take_ids(it, 2000)) REQUIRE((id >= 4950 && id < 5000));
    t.remove_range(2000, 5000); // the newest keys removed: counts from the new highest
    for (auto id : take_ids(it, 2000)) REQUIRE((id >= 1980 && id < 2000));
    // A key set far above the newest is noticed within the refresh interval (at most 2^20 draws).
    t.add(900'000);
    auto later = take_ids(it, (1u << 20) + 10);
    CHECK(later.back() <= 900'000);
    CHECK(later.back() >= 891'000);
    // latest_zipfian: rank 0 (the newest key) is the most drawn.
    PrefixTracker u(TrackerConfig::simple("u:").with_max_id(10'000));
    u.add_range(0, 3000);
    auto z = u.iter().set_only().seed(9).distribution(AccessDistribution::latest_zipfian(0.99)).random();
    std::map<std::uint64_t, int> hits;
    for (auto id : take_ids(z, 20000)) ++hits[id];
    CHECK(std::max_element(hits.begin(), hits.end(), [](auto& a, auto& b) { return a.second < b.second; })->first ==
          2999);
}

TEST_CASE("latest over hierarchical trackers counts down from the highest set pair", "[iter][distribution]") {
    for (bool flat : {true, false}) {
        auto cfg = TrackerConfig::hierarchical("h:").with_max_id(1000);
        if (flat) cfg = cfg.with_max_sub_id(16);
        PrefixTracker t(cfg);
        for (std::uint64_t id = 0; id < 50; ++id)
            for (std::uint64_t sub = 0; sub < 4; ++sub) t.add_pair(id, sub);
        t.add_pair(60, 2);
        auto it = t.iter().sub_range(0, 8).seed(2).distribution(AccessDistribution::latest(0.001, 1.0)).random();
        for (int i = 0; i < 100; ++i) {
            const auto k = it.next();
            REQUIRE(k);
            INFO("flat " << flat);
            CHECK(k->id == 60);
            CHECK(k->sub_id <= 2); // newest = (60, 2); 0.1% of 481 positions rounds up to 1 rank
        }
        auto set = t.iter().set_only().seed(2).distribution(AccessDistribution::zipfian(0.5)).random();
        for (int i = 0; i < 500; ++i) {
            const auto k = set.next();
            REQUIRE(k);
            CHECK(t.exists_pair(k->id, k->sub_id));
        }
    }
}

TEST_CASE("a write stream with a distribution claims each key once, draws first, and fills the range",
          "[iter][distribution][write]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(20'000));
    auto w = t.iter().seed(11).distribution(AccessDistribution::zipfian(1.2)).write();
    std::vector<std::uint64_t> got;
    while (auto k = w.next()) got.push_back(k->id);
    REQUIRE(got.size() == 20'000);
    CHECK(std::set<std::uint64_t>(got.begin(), got.end()).size() == 20'000);
    CHECK(t.count() == 20'000);
    // The first claims follow the distribution: Zipf(1.2) puts 88% of its mass on ranks below 1000 at n = 20000
    // (less once the hottest keys are taken and their draws are drawn again); uniform claims would put 5% there.
    const auto low = std::count_if(got.begin(), got.begin() + 200, [](std::uint64_t id) { return id < 1000; });
    CHECK(low >= 100);
    CHECK_FALSE(w.next().has_value());
}

TEST_CASE("two threads claiming with a distribution get every ID exactly once", "[iter][distribution][write][stress]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(50'000));
    std::vector<std::uint64_t> mine[2];
    std::vector<std::thread> th;
    for (int i = 0; i < 2; ++i)
        th.emplace_back([&, i] {
            auto w = t.iter().distribution(AccessDistribution::hotspot(0.1, 0.9)).continue_write();
            while (auto k = w.next()) mine[i].push_back(k->id);
        });
    for (auto& x : th) x.join();
    std::vector<std::uint64_t> all(mine[0]);
    all.insert(all.end(), mine[1].begin(), mine[1].end());
    std::sort(all.begin(), all.end());
    REQUIRE(all.size() == 50'000);
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    CHECK(t.count() == 50'000);
}

TEST_CASE("a write stream with a distribution and wrap_around overwrites drawn keys endlessly", "[iter][distribution][write]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(300));
    auto w = t.iter().seed(4).distribution(AccessDistribution::zipfian(0.99)).write().wrap_around();
    for (int i = 0; i < 300; ++i) REQUIRE(w.next());
    CHECK(t.count() == 300);
    std::map<std::uint64_t, int> hits;
    for (int i = 0; i < 30'000; ++i) {
        const auto k = w.next();
        REQUIRE(k);
        REQUIRE(k->id < 300);
        ++hits[k->id];
    }
    CHECK(hits[0] > hits[10]); // still Zipf-shaped
    CHECK(t.count() == 300);   // nothing forgotten
}

TEST_CASE("mixed_ratio with a distribution keeps the set share and draws inside each class", "[iter][distribution][mixed]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(10'000));
    t.add_range(0, 5000);
    auto it = t.iter().seed(6).mixed_ratio(0.25).distribution(AccessDistribution::zipfian(0.99)).random();
    int set = 0;
    std::map<std::uint64_t, int> hits;
    for (int i = 0; i < 40'000; ++i) {
        const auto k = it.next();
        REQUIRE(k);
        if (t.exists(k->id)) ++set;
        ++hits[k->id];
    }
    CHECK(std::abs(set - 10'000) < 500);
    CHECK(hits[0] > hits[100]);       // Zipf among the set keys
    CHECK(hits[5000] > hits[5100]);   // and among the unset ones (rank 5000 is the hottest unset key)
}

TEST_CASE("with_sampling applies each option it holds as the builder call of the same name", "[iter][distribution]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(1000));
    t.add_range(0, 1000);
    const auto cfg = SamplingConfig().with_distribution(AccessDistribution::zipfian(0.8)).with_seed(21).with_limit(300);
    auto a = t.iter().set_only().with_sampling(cfg).random();
    auto b = t.iter().set_only().distribution(AccessDistribution::zipfian(0.8)).seed(21).limit(300).random();
    const auto xs = take_ids(a, 1000), ys = take_ids(b, 1000);
    CHECK(xs.size() == 300);
    CHECK(xs == ys);
    // Options not set keep the builder's; mixed_ratio and sample carry over with their checks.
    auto c = t.iter().limit(7).with_sampling(SamplingConfig().with_seed(1)).sequential();
    CHECK(take_ids(c, 100).size() == 7);
    CHECK_THROWS_AS(t.iter().set_only().with_sampling(SamplingConfig().with_mixed_ratio(0.5)).random(),
                    std::invalid_argument);
    auto half = t.iter().with_sampling(SamplingConfig().with_sample(0.0)).sequential();
    CHECK_FALSE(half.next().has_value());
}

TEST_CASE("distribution() is rejected by the ordered terminals", "[iter][distribution][bad-input]") {
    PrefixTracker t(TrackerConfig::simple("k:").with_max_id(100));
    const auto b = t.iter().distribution(AccessDistribution::zipfian(1.0));
    CHECK_THROWS_AS(b.sequential(), std::invalid_argument);
    CHECK_THROWS_AS(b.erase(), std::invalid_argument);
    CHECK_THROWS_AS(b.partitioned(2), std::invalid_argument);
    CHECK_THROWS_AS(b.partition(0, 2), std::invalid_argument);
    CHECK_THROWS_AS(b.set_only().write(), std::invalid_argument);
    CHECK_NOTHROW(b.random());
    CHECK_NOTHROW(b.write());
    // An empty range: streams end at once.
    auto none = t.iter().range(5, 5).distribution(AccessDistribution::zipfian(1.0)).random();
    CHECK_FALSE(none.next().has_value());
    auto nowrite = t.iter().range(5, 5).distribution(AccessDistribution::zipfian(1.0)).write();
    CHECK_FALSE(nowrite.next().has_value());
}

TEST_CASE("find_prev_set with a lower bound reads nothing below it", "[bitmap]") {
    keyspace::AtomicBitmap bm(1 << 16);
    bm.set(10);
    bm.set(5000);
    CHECK(bm.find_prev_set(6000, 0) == 5000u);
    CHECK(bm.find_prev_set(5000, 0) == 10u);
    CHECK_FALSE(bm.find_prev_set(5000, 11).has_value());
    CHECK(bm.find_prev_set(5000, 10) == 10u);
    CHECK(bm.find_prev_set(5001, 5000) == 5000u);
    CHECK_FALSE(bm.find_prev_set(10, 10).has_value());
    CHECK_FALSE(bm.find_prev_set(3, 8).has_value());
    CHECK(bm.find_prev_set(std::numeric_limits<std::uint64_t>::max(), 64) == 5000u);
}

TEST_CASE("on an unbounded tracker a write stream with a distribution draws below capacity()", "[iter][distribution][write]") {
    PrefixTracker t(TrackerConfig::simple("u:").with_initial_capacity(4096));
    const auto cap = t.capacity();
    auto w = t.iter().seed(1).distribution(AccessDistribution::uniform()).write();
    std::uint64_t n = 0;
    while (auto k = w.next()) {
        REQUIRE(k->id < cap);
        ++n;
    }
    CHECK(n == cap);
    auto wide = t.iter().range(0, 1u << 20).seed(1).distribution(AccessDistribution::uniform()).write();
    const auto k = wide.next();
    REQUIRE(k);
    CHECK(k->id < (1u << 20));
}
