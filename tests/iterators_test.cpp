// The iterator builder and every terminal: semantics at any density and bounds.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/iterators.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <ranges>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using keyspace::Key;
using keyspace::PrefixTracker;
using keyspace::TrackerConfig;
using keyspace_test::SplitMix;

namespace {

template <class It>
std::vector<std::uint64_t> drain_ids(It&& it) {
    std::vector<std::uint64_t> out;
    while (auto k = it.next()) out.push_back(k->id);
    return out;
}

std::vector<std::uint64_t> populate(PrefixTracker& t, std::uint64_t n, double density, std::uint64_t seed) {
    SplitMix rng{seed};
    std::vector<std::uint64_t> ids;
    for (std::uint64_t i = 0; i < n; ++i)
        if (static_cast<double>(rng.next() >> 11) * 0x1.0p-53 < density) {
            t.add(i);
            ids.push_back(i);
        }
    return ids;
}

/// Upper p = 1e-5 quantile of chi-square with k degrees of freedom (Wilson–Hilferty).
double chi2_limit(double k) { return keyspace_test::chi2_quantile(k, 4.2649); }

/// |successes - n p| within 5 standard deviations (p < 6e-7 two-sided for a correct sampler).
bool binomial_ok(std::uint64_t successes, std::uint64_t n, double p) {
    const double mean = static_cast<double>(n) * p, sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
    return std::abs(static_cast<double>(successes) - mean) <= 5 * sd + 1;
}

} // namespace

// ---- the basic behaviour of each terminal -----------------------------------------------------------------------

TEST_CASE("sequential set_only yields the added IDs in order, limit and wrap_around", "[iter]") {
    PrefixTracker t(TrackerConfig::simple("user:").with_max_id(1'000'000));
    t.add(42);
    t.add(1337);
    CHECK(drain_ids(t.iter().set_only().sequential()) == std::vector<std::uint64_t>{42, 1337});
    std::vector<std::uint64_t> seen;
    for (auto [id, sub] : t.iter().set_only().sequential()) {
        seen.push_back(id);
        CHECK(sub == 0);
    }
    CHECK(seen == std::vector<std::uint64_t>{42, 1337});

    auto unset = t.iter().range(0, 1000).unset_only().sequential();
    std::uint64_t n = 0;
    while (auto k = unset.next()) {
        CHECK(k->id != 42);
        ++n;
    }
    CHECK(n == 999);

    auto forever = t.iter().set_only().sequential().wrap_around();
    for (int i = 0; i < 1000; ++i) {
        auto k = forever.next();
        REQUIRE(k);
        CHECK(k->id == (i % 2 == 0 ? 42u : 1337u));
    }
}

TEST_CASE("random set_only visits each set ID once, reproducibly with a seed", "[iter][random]") {
    PrefixTracker t("r:", 100'000);
    auto ids = populate(t, 100'000, 0.3, 5);
    auto a = drain_ids(t.iter().set_only().seed(42).random());
    auto b = drain_ids(t.iter().set_only().seed(42).random());
    auto c = drain_ids(t.iter().set_only().seed(43).random());
    CHECK(a == b);
    CHECK(a != c);
    CHECK_FALSE(std::is_sorted(a.begin(), a.end()));
    std::sort(a.begin(), a.end());
    CHECK(a == ids);
}

TEST_CASE("limit, sample, mixed_ratio, range_percent and their combination", "[iter]") {
    PrefixTracker t("s:", 100'000);
    auto ids = populate(t, 100'000, 0.5, 9);
    CHECK(drain_ids(t.iter().set_only().limit(1000).sequential()).size() == 1000);

    const auto half = drain_ids(t.iter().set_only().sample(0.5).seed(1).sequential());
    CHECK(binomial_ok(half.size(), ids.size(), 0.5));
    CHECK(std::is_sorted(half.begin(), half.end()));

    auto upper = drain_ids(t.iter().set_only().range_percent(0.5, 1.0).sequential());
    CHECK(upper.front() >= 50'000);
    CHECK(upper.size() == static_cast<std::size_t>(std::count_if(ids.begin(), ids.end(), [](auto i) { return i >= 50'000; })));

    auto combo = t.iter().mixed_ratio(0.9).sample(0.5).limit(10'000).seed(42).random();
    std::uint64_t n = 0, set = 0;
    while (auto k = combo.next()) {
        ++n;
        set += t.exists(k->id) ? 1 : 0;
    }
    CHECK(n == 10'000);
    CHECK(binomial_ok(set, n, 0.9));
}

TEST_CASE("unset_only().write() claims absent IDs, unique and set afterwards", "[iter][write]") {
    PrefixTracker t("w:", 1000);
    t.add(0);
    t.add(2);
    auto writer = t.iter().unset_only().write();
    std::vector<std::uint64_t> claimed;
    while (auto k = writer.next()) {
        claimed.push_back(k->id);
        if (claimed.size() >= 100) break;
    }
    CHECK(claimed.front() == 1);
    CHECK(claimed[1] == 3);
    CHECK(std::set<std::uint64_t>(claimed.begin(), claimed.end()).size() == 100);
    for (auto id : claimed) CHECK(t.exists(id));
    CHECK(t.count() == 102);
}

TEST_CASE("erase yields and removes set IDs, one eraser at a time", "[iter][erase]") {
    PrefixTracker t("d:", 10'000);
    t.add_range(100, 200);
    {
        auto e1 = t.iter().erase();
        REQUIRE(e1);
        CHECK_FALSE(t.iter().erase()); // exclusive while e1 lives
        CHECK(e1->next()->id == 100);
        auto moved = std::move(*e1);
        CHECK_FALSE(t.iter().erase()); // the moved-to iterator holds it
        CHECK(drain_ids(moved).size() == 99);
    }
    CHECK(t.count() == 0);
    auto e2 = t.iter().erase();
    CHECK(e2.has_value());
    CHECK_FALSE(e2->next());
}

// The move constructors promise that the source is left empty: a moved-from iterator yields nothing (a write stream
// claims nothing, an erase stream removes nothing) and says it is exhausted, whether moved from or assigned from.
template <class Make>
void check_moved_from_yields_nothing(PrefixTracker& t, Make make) {
    const std::uint64_t before = t.count();
    auto a = make();
    auto b = std::move(a);
    CHECK_FALSE(a.next());
    CHECK(a.is_exhausted());
    CHECK(a.remaining() == 0);
    CHECK(t.count() == before); // the source changed nothing
    CHECK(b.next()); // the target goes on
    auto c = make();
    c = std::move(b);
    CHECK_FALSE(b.next());
    CHECK(b.is_exhausted());
    CHECK(c.next());
}

TEST_CASE("a moved-from iterator yields nothing in every terminal", "[iter]") {
    PrefixTracker t("m:", 10'000);
    t.add_range(0, 5'000);
    using keyspace::AccessDistribution;
    SECTION("sequential") { check_moved_from_yields_nothing(t, [&] { return t.iter().set_only().sequential(); }); }
    SECTION("random permutation") { check_moved_from_yields_nothing(t, [&] { return t.iter().set_only().random(); }); }
    SECTION("mixed_ratio stream") {
        check_moved_from_yields_nothing(t, [&] { return t.iter().mixed_ratio(0.9).random(); });
    }
    SECTION("mixed_ratio stream with a limit") {
        check_moved_from_yields_nothing(t, [&] { return t.iter().mixed_ratio(0.9).limit(100).random(); });
    }
    SECTION("distribution stream") {
        check_moved_from_yields_nothing(t, [&] { return t.iter().set_only().distribution(AccessDistribution::zipfian(0.99)).random(); });
    }
    SECTION("write") {
        // Each next() claims a key: count what the moved-from source would have claimed.
        auto a = t.iter().write();
        auto b = std::move(a);
        const std::uint64_t before = t.count();
        CHECK_FALSE(a.next());
        CHECK(a.is_exhausted());
        CHECK(t.count() == before);
        CHECK(b.next());
        CHECK(t.count() == before + 1);
    }
    SECTION("erase") {
        auto a = t.iter().erase();
        REQUIRE(a);
        auto b = std::move(*a);
        const std::uint64_t before = t.count();
        CHECK_FALSE(a->next());
        CHECK(a->is_exhausted());
        CHECK(t.count() == before);
        CHECK(b.next());
        CHECK(t.count() == before - 1);
    }
}

TEST_CASE("erase streams over disjoint slices run side by side, overlapping ones wait their turn", "[iter][erase]") {
    PrefixTracker t("d:", 1'000);
    t.add_range(0, 1'000);
    auto s0 = t.iter().slice(0, 2).erase();
    REQUIRE(s0);
    auto s1 = t.iter().slice(1, 2).erase(); // the other half: no key in common with s0
    REQUIRE(s1);
    CHECK_FALSE(t.iter().erase());                  // the whole range overlaps both
    CHECK_FALSE(t.iter().range(499, 501).erase());  // overlaps both at the boundary
    CHECK_FALSE(t.iter().slice(0, 4).erase());      // inside s0's half
    CHECK(s0->next()->id == 0);
    CHECK(s1->next()->id == 500);
    s0.reset(); // gives [0, 500) back
    auto again = t.iter().range(0, 500).erase();
    REQUIRE(again);
    CHECK(again->next()->id == 1);
    CHECK_FALSE(t.iter().range(400, 600).erase()); // still overlaps both live ones
    CHECK(drain_ids(*again).size() == 498);
    CHECK(drain_ids(*s1).size() == 499);
    CHECK(t.count() == 0);
    CHECK_FALSE(t.iter().slice(1, 2).erase()); // drained, but s1 lives: its range is still held
    again.reset();
    s1.reset();

    // Two threads, one slice each: every key removed exactly once.
    t.add_range(0, 1'000);
    std::vector<std::uint64_t> got[2];
    std::thread workers[2];
    for (int w = 0; w < 2; ++w)
        workers[w] = std::thread([&, w] {
            auto e = t.iter().slice(static_cast<std::uint64_t>(w), 2).erase();
            if (e)
                while (auto k = e->next()) got[w].push_back(k->id);
        });
    for (auto& th : workers) th.join();
    CHECK(got[0].size() == 500);
    CHECK(got[1].size() == 500);
    CHECK(t.count() == 0);
}

TEST_CASE("erase streams over disjoint sub-ID ranges of a hierarchical tracker run side by side", "[iter][erase]") {
    auto t = PrefixTracker::hierarchical("h:");
    for (std::uint64_t f = 0; f < 8; ++f) t.add_pair(3, f);
    auto low = t.iter().range(0, 10).sub_range(0, 4).erase();
    auto high = t.iter().range(0, 10).sub_range(4, 8).erase();
    REQUIRE(low);
    REQUIRE(high);
    CHECK_FALSE(t.iter().range(3, 4).sub_range(3, 5).erase());
    auto other_ids = t.iter().range(10, 20).sub_range(0, 8).erase(); // same sub-IDs, other IDs: disjoint
    CHECK(other_ids);
    CHECK(drain_ids(*low).size() == 4);
    CHECK(drain_ids(*high).size() == 4);
    CHECK(t.count() == 0);
}

TEST_CASE("partitioned(4) splits the set IDs among workers", "[iter][partition]") {
    PrefixTracker t("p:", 1'000);
    auto ids = populate(t, 1'000, 0.5, 2);
    auto parts = t.iter().set_only().partitioned(4);
    REQUIRE(parts.size() == 4);
    std::vector<std::uint64_t> all;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto got = drain_ids(parts[i]);
        for (auto id : got) {
            CHECK(id >= i * 250);
            CHECK(id < (i + 1) * 250);
        }
        all.insert(all.end(), got.begin(), got.end());
    }
    CHECK(all == ids);
}

// ---- random: a true permutation ----------------------------------------------------------------------------------

TEST_CASE("random() visits every key exactly once for any range size", "[iter][random]") {
    for (std::uint64_t n : {1ull, 2ull, 3ull, 1000ull, 10007ull, 1ull << 16, (1ull << 16) + 1}) {
        PrefixTracker t("r:", n);
        for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{77}, std::numeric_limits<std::uint64_t>::max()}) {
            INFO("n = " << n << ", seed = " << seed);
            auto all = drain_ids(t.iter().seed(seed).random());
            REQUIRE(all.size() == n);
            std::vector<bool> seen(n);
            for (auto id : all) {
                REQUIRE(id < n);
                REQUIRE_FALSE(seen[id]);
                seen[id] = true;
            }
        }
        populate(t, n, 0.2, n);
        const auto want = drain_ids(t.iter().set_only().sequential());
        auto got = drain_ids(t.iter().set_only().seed(5).random());
        std::sort(got.begin(), got.end());
        CHECK(got == want);
        auto unset = drain_ids(t.iter().unset_only().seed(6).random());
        CHECK(unset.size() + want.size() == n);
    }
}

TEST_CASE("random() outputs pass a serial-pair chi-square test", "[iter][random]") {
    constexpr std::uint64_t n = 1ull << 20;
    for (double density : {1.0, 0.5, 0.05}) {
        const bool sparse = density < 1.0;
        PrefixTracker t("r:", n);
        if (sparse) populate(t, n, density, 3);
        auto it = sparse ? t.iter().set_only().seed(11).random() : t.iter().seed(11).random();
        std::vector<double> table(256, 0.0);
        auto prev = it.next();
        std::uint64_t pairs = 0;
        std::uint64_t near = 0;
        while (auto k = it.next()) {
            table[(prev->id * 16 / n) * 16 + k->id * 16 / n] += 1;
            near += (k->id > prev->id ? k->id - prev->id : prev->id - k->id) < 64 ? 1 : 0;
            prev = k;
            ++pairs;
        }
        double chi2 = 0;
        for (double c : table) {
            const double expect = static_cast<double>(pairs) / 256.0;
            chi2 += (c - expect) * (c - expect) / expect;
        }
        INFO("density " << density << ": chi2 = " << chi2 << " over " << pairs << " pairs, limit " << chi2_limit(255));
        CHECK(chi2 < chi2_limit(255));
        // Consecutive outputs are not neighbours: the share of pairs within 64 IDs of each other is tiny.
        INFO("pairs within 64 IDs: " << near);
        CHECK(static_cast<double>(near) < 0.01 * static_cast<double>(pairs));
    }
}

TEST_CASE("random() with wrap_around starts a new permutation each cycle", "[iter][random]") {
    PrefixTracker t("r:", 100);
    auto it = t.iter().seed(3).random().wrap_around();
    std::vector<std::uint64_t> c1, c2;
    for (int i = 0; i < 100; ++i) c1.push_back(it.next()->id);
    for (int i = 0; i < 100; ++i) c2.push_back(it.next()->id);
    CHECK(c1 != c2);
    std::sort(c1.begin(), c1.end());
    std::sort(c2.begin(), c2.end());
    CHECK(c1 == c2);
    PrefixTracker empty("e:", 100);
    auto none = empty.iter().set_only().random().wrap_around();
    CHECK_FALSE(none.next());
}

// ---- mixed_ratio, sample, limit ----------------------------------------------------------------------------------

TEST_CASE("mixed_ratio holds the set share within 1.5% at any density", "[iter][mixed]") {
    constexpr std::uint64_t n = 200'000;
    for (double density : {0.01, 0.10, 0.50, 0.90}) {
        PrefixTracker t("m:", n);
        populate(t, n, density, static_cast<std::uint64_t>(density * 1000));
        for (double r : {0.1, 0.5, 0.9}) {
            auto it = t.iter().mixed_ratio(r).seed(7).random();
            std::uint64_t set = 0;
            constexpr int draws = 100'000;
            for (int i = 0; i < draws; ++i) set += t.exists(it.next()->id) ? 1 : 0;
            INFO("density " << density << " r " << r);
            CHECK(std::abs(static_cast<double>(set) / draws - r) < 0.015);
        }
    }
}

namespace {

/// Chi-square of per-key draw counts against the uniform distribution over `keys`; draws outside `keys` fail.
double uniform_chi2(const std::map<std::uint64_t, std::uint64_t>& counts, const std::set<std::uint64_t>& keys,
                    std::uint64_t draws) {
    const double expect = static_cast<double>(draws) / static_cast<double>(keys.size());
    double chi2 = 0;
    for (const std::uint64_t k : keys) {
        const auto it = counts.find(k);
        const double c = it == counts.end() ? 0.0 : static_cast<double>(it->second);
        chi2 += (c - expect) * (c - expect) / expect;
    }
    for (const auto& [k, c] : counts)
        if (!keys.count(k)) chi2 += 1e9; // a draw of the wrong class
    return chi2;
}

/// A sparse class spread very unevenly over 512-position chunks: one chunk's first word full, one key per word in
/// another, runs of 5 in a third, ~10 % elsewhere. Word-then-bit (or chunk-then-bit) sampling is far from uniform
/// over it; the chunk draws of mixed_ratio must be exactly uniform.
std::set<std::uint64_t> uneven_class(std::uint64_t n) {
    std::set<std::uint64_t> keys;
    SplitMix rng{99};
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t chunk = i / 512, in_chunk = i % 512;
        const bool in = chunk % 4 == 0   ? in_chunk < 64
                        : chunk % 4 == 1 ? in_chunk % 64 == 7
                        : chunk % 4 == 2 ? in_chunk % 100 < 5
                                         : static_cast<double>(rng.next() >> 11) * 0x1.0p-53 < 0.1;
        if (in) keys.insert(i);
    }
    return keys;
}

} // namespace

TEST_CASE("mixed_ratio draws each class uniformly over an uneven population, before and after changes",
          "[iter][mixed][stats]") {
    constexpr std::uint64_t n = 8192, draws = 300'000;
    for (const bool set_class : {true, false}) {
        for (const bool offset : {false, true}) {
            // The sparse class is the set keys (set_class) or the unset ones; the space is the whole range or
            // [37, n - 21), whose edge chunks are partial.
            PrefixTracker t("u:", n);
            std::set<std::uint64_t> sparse = uneven_class(n);
            for (std::uint64_t i = 0; i < n; ++i)
                if (sparse.count(i) == (set_class ? 1u : 0u)) t.add(i);
            const std::uint64_t b = offset ? 37 : 0, e = offset ? n - 21 : n;
            std::set<std::uint64_t> keys;
            for (const std::uint64_t k : sparse)
                if (k >= b && k < e) keys.insert(k);
            auto it = t.iter().range(b, e).mixed_ratio(set_class ? 1.0 : 0.0).seed(11).random();
            const auto run = [&] {
                std::map<std::uint64_t, std::uint64_t> counts;
                for (std::uint64_t i = 0; i < draws; ++i) ++counts[it.next()->id];
                return uniform_chi2(counts, keys, draws);
            };
            INFO("set class " << set_class << ", offset " << offset << ", " << keys.size() << " keys");
            const double before = run();
            CHECK(before < chi2_limit(static_cast<double>(keys.size() - 1)));
            // Grow the class in one chunk past the highest count the stream has seen (20 keys: the bound is raised
            // rather than rescanned) and in another by many (a rescan), then draw again after 64 draws.
            std::uint64_t grown = 0;
            for (std::uint64_t i = 4 * 512; grown < 20; ++i)
                if (!keys.count(i)) {
                    set_class ? (void)t.add(i) : (void)t.remove(i);
                    keys.insert(i), ++grown;
                }
            for (int i = 0; i < 64; ++i) (void)it.next();
            const double raised = run();
            CHECK(raised < chi2_limit(static_cast<double>(keys.size() - 1)));
            for (std::uint64_t i = 9 * 512 + 100; i < 9 * 512 + 400; ++i)
                if (!keys.count(i)) {
                    set_class ? (void)t.add(i) : (void)t.remove(i);
                    keys.insert(i);
                }
            for (int i = 0; i < 64; ++i) (void)it.next();
            const double rescanned = run();
            CHECK(rescanned < chi2_limit(static_cast<double>(keys.size() - 1)));
        }
    }
}

TEST_CASE("mixed_ratio draws the keys of chunks far above the others as often as the rest", "[iter][mixed][stats]") {
    // A sparse class at ~10 % with three chunks at ~60 %: the scan bounds the counts below those three (heavy)
    // chunks, whose keys past the bound are reached through their extra slots (see DrawStream::draw_class).
    // Without those slots about 450 keys would never be drawn; with the wrong ranks, half the heavy keys twice.
    // Then a fourth chunk grows to ~65 %, and the draws after the next scan are checked the same way.
    constexpr std::uint64_t n = 1 << 16, draws = 400'000;
    for (const bool set_class : {true, false}) {
        for (const bool offset : {false, true}) {
            PrefixTracker t("h:", n);
            std::set<std::uint64_t> sparse;
            SplitMix rng{7};
            for (std::uint64_t i = 0; i < n; ++i) {
                const std::uint64_t chunk = i / 512;
                const double p = chunk == 5 || chunk == 40 || chunk == 127 ? 0.6 : 0.1;
                if (static_cast<double>(rng.next() >> 11) * 0x1.0p-53 < p) sparse.insert(i);
            }
            for (std::uint64_t i = 0; i < n; ++i)
                if (sparse.count(i) == (set_class ? 1u : 0u)) t.add(i);
            const std::uint64_t b = offset ? 37 : 0, e = offset ? n - 21 : n; // partial edge chunks, one heavy
            std::set<std::uint64_t> keys;
            for (const std::uint64_t k : sparse)
                if (k >= b && k < e) keys.insert(k);
            auto it = t.iter().range(b, e).mixed_ratio(set_class ? 1.0 : 0.0).seed(13).random();
            const auto run = [&](const char* when) {
                for (int i = 0; i < 1000; ++i) (void)it.next(); // past the scan
                std::map<std::uint64_t, std::uint64_t> counts;
                for (std::uint64_t i = 0; i < draws; ++i) ++counts[it.next()->id];
                std::uint64_t heavy = 0, heavy_keys = 0;
                for (const std::uint64_t k : keys)
                    if (k / 512 == 5 || k / 512 == 40 || k / 512 == 90 || k / 512 == 127) ++heavy_keys, heavy += counts[k];
                INFO(when << ": set class " << set_class << ", offset " << offset << ": " << keys.size()
                          << " keys, the heavy chunks' " << heavy_keys << " drawn " << heavy << " times of " << draws);
                CHECK(uniform_chi2(counts, keys, draws) < chi2_limit(static_cast<double>(keys.size() - 1)));
            };
            run("first scan");
            // A fourth chunk grows heavy: far more keys than the bound may rise by, so the stream scans again, and
            // that scan lists the heavy chunks as it reads them (above the first scan's bound).
            for (std::uint64_t i = 90 * 512; i < 91 * 512; ++i)
                if (!keys.count(i) && i % 8 < 5) {
                    set_class ? (void)t.add(i) : (void)t.remove(i);
                    keys.insert(i);
                }
            run("second scan");
        }
    }
}

TEST_CASE("mixed_ratio returns each key in its class at the moment it is returned while the caller churns",
          "[iter][mixed]") {
    // A churn loop in one thread: every drawn set key is removed (a DEL) and every drawn unset key added (an
    // insert), and a random key of the other class replaces it, so the density holds. The draws of a sparse class
    // may be computed a few draws ahead; a key changed since must not be returned as if it had not changed (a
    // small class makes a repeat within a batch common: 819 keys here).
    constexpr std::uint64_t n = 8192;
    for (const bool set_class : {true, false}) {
        PrefixTracker t("c:", n);
        populate(t, n, set_class ? 0.1 : 0.9, 21);
        auto it = t.iter().mixed_ratio(set_class ? 1.0 : 0.0).seed(3).random();
        SplitMix rng{4};
        std::uint64_t wrong = 0;
        for (int i = 0; i < 20'000; ++i) {
            const std::uint64_t k = it.next()->id;
            if (t.exists(k) != set_class) ++wrong;
            set_class ? (void)t.remove(k) : (void)t.add(k);
            for (;;) { // a key of the other class joins this one
                const std::uint64_t j = rng.next() % n;
                if (t.exists(j) == set_class || j == k) continue;
                set_class ? (void)t.add(j) : (void)t.remove(j);
                break;
            }
        }
        INFO("set class " << set_class);
        CHECK(wrong == 0);
    }
}

TEST_CASE("mixed_ratio draws a dense class uniformly over an uneven population", "[iter][mixed][stats]") {
    // The dense class (more than a quarter of the space: drawn by blocks of probed bits, not by chunks) is the
    // complement of uneven_class: whole unset words, one gap per word, short gaps, ~10 % scattered. Taking a
    // neighbouring match when a probed bit misses, or a random match of the probed word, would favour the keys
    // next to the gaps; the draws must be exactly uniform.
    constexpr std::uint64_t n = 8192, draws = 300'000;
    const std::set<std::uint64_t> sparse = uneven_class(n);
    for (const bool set_class : {true, false}) {
        PrefixTracker t("d:", n);
        std::set<std::uint64_t> keys; // the dense class
        for (std::uint64_t i = 0; i < n; ++i) {
            const bool in_dense = sparse.count(i) == 0;
            if (in_dense) keys.insert(i);
            if (in_dense == set_class) t.add(i);
        }
        auto it = t.iter().mixed_ratio(set_class ? 1.0 : 0.0).seed(13).random();
        std::map<std::uint64_t, std::uint64_t> counts;
        for (std::uint64_t i = 0; i < draws; ++i) ++counts[it.next()->id];
        const double chi2 = uniform_chi2(counts, keys, draws);
        INFO("set class " << set_class << ", " << keys.size() << " keys, chi2 " << chi2);
        CHECK(chi2 < chi2_limit(static_cast<double>(keys.size() - 1)));
    }
}

TEST_CASE("mixed_ratio draws from the other class when one class is empty", "[iter][mixed]") {
    PrefixTracker empty("m:", 1000);
    auto it = empty.iter().mixed_ratio(0.9).seed(1).random();
    for (int i = 0; i < 100; ++i) CHECK_FALSE(empty.exists(it.next()->id)); // no set key: every draw is unset
    PrefixTracker full("f:", 1000);
    full.add_range(0, 1000);
    auto it2 = full.iter().mixed_ratio(0.1).seed(1).random();
    for (int i = 0; i < 100; ++i) CHECK(full.exists(it2.next()->id)); // no unset key: every draw is set
    CHECK(it2.remaining() == std::numeric_limits<std::uint64_t>::max()); // endless
}

TEST_CASE("mixed_ratio is rejected with filters and non-random terminals", "[iter][mixed][bad-input]") {
    PrefixTracker t("m:", 10);
    CHECK_THROWS_AS(t.iter().mixed_ratio(0.5).set_only().random(), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().mixed_ratio(0.5).sequential(), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().mixed_ratio(0.5).write(), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().mixed_ratio(0.5).erase(), std::invalid_argument);
}

TEST_CASE("sample(p) keeps a binomial share of the keys, by skipping", "[iter][sample]") {
    PrefixTracker t("s:", 1'000'000);
    for (double p : {0.0, 0.01, 0.3, 1.0}) {
        const auto kept = drain_ids(t.iter().sample(p).seed(4).sequential());
        INFO("p = " << p);
        CHECK(binomial_ok(kept.size(), 1'000'000, p));
        const auto kept_random = drain_ids(t.iter().sample(p).seed(4).random());
        CHECK(binomial_ok(kept_random.size(), 1'000'000, p));
    }
}

TEST_CASE("limit stops at once, even over a huge range", "[iter][limit]") {
    PrefixTracker t("l:", 100'000'000);
    t.add(99'999'999);
    auto it = t.iter().sample(0.5).limit(10).seed(1).sequential();
    CHECK(drain_ids(it).size() == 10);
    CHECK(it.is_exhausted());
    CHECK(it.remaining() == 0);
    CHECK(drain_ids(t.iter().limit(0).sequential()).empty());
    CHECK(drain_ids(t.iter().set_only().limit(5).sequential()) == std::vector<std::uint64_t>{99'999'999});
}

TEST_CASE("wrap_around on an empty set returns nullopt instead of spinning", "[iter][wrap]") {
    PrefixTracker t("w:", 1'000'000);
    auto it = t.iter().set_only().sequential().wrap_around();
    CHECK_FALSE(it.next());
    CHECK_FALSE(it.next());
}

// ---- write streams -----------------------------------------------------------------------------------------------

TEST_CASE("two threads claiming with continue_write get every ID exactly once", "[iter][write][stress]") {
    constexpr std::uint64_t n = 200'000;
    PrefixTracker t("c:", n);
    std::vector<std::vector<std::uint64_t>> got(2);
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w)
        threads.emplace_back([&, w] {
            auto it = t.iter().continue_write();
            while (auto k = it.next()) got[w].push_back(k->id);
        });
    for (auto& th : threads) th.join();
    std::vector<int> owners(n);
    for (auto& g : got)
        for (auto id : g) REQUIRE(++owners[id] == 1);
    CHECK(got[0].size() + got[1].size() == n);
    CHECK(t.count() == n);
}

TEST_CASE("a write stream honours its own range whatever other ranges' streams did", "[iter][write]") {
    PrefixTracker t("c:", 1000);
    auto other = t.iter().range(500, 600).continue_write();
    for (int i = 0; i < 100; ++i) CHECK(other.next());
    auto mine = t.iter().range(0, 100).continue_write();
    auto k = mine.next();
    REQUIRE(k);
    CHECK(k->id == 0);
    CHECK(drain_ids(mine).size() == 99);
    CHECK(t.count() == 200);
}

TEST_CASE("continue_write streams share progress and reset_write_cursor rewinds it", "[iter][write]") {
    PrefixTracker t("c:", 10'000);
    auto a = t.iter().continue_write();
    CHECK(a.next()->id == 0);
    auto b = t.iter().continue_write();
    CHECK(b.next()->id == 4096); // a holds the first run of 4096
    t.reset_write_cursor();
    auto c = t.iter().continue_write();
    CHECK(c.next()->id == 1); // run 0 again: 1..4095 are still absent
    CHECK(a.next()->id == 2); // a's block snapshot said 1 was absent; c took it, so a moves on
}

TEST_CASE("a seeded write stream claims in a random order, each key once", "[iter][write]") {
    PrefixTracker t("c:", 5000);
    auto it = t.iter().seed(9).write();
    auto ids = drain_ids(it);
    CHECK(ids.size() == 5000);
    CHECK_FALSE(std::is_sorted(ids.begin(), ids.end()));
    std::sort(ids.begin(), ids.end());
    CHECK(std::unique(ids.begin(), ids.end()) == ids.end());
    CHECK(t.count() == 5000);
}

TEST_CASE("a write stream sweeps up keys freed behind its progress before it ends", "[iter][write]") {
    PrefixTracker t("c:", 256);
    auto it = t.iter().write();
    for (int i = 0; i < 200; ++i) it.next();
    t.remove(10);
    t.remove(150);
    auto rest = drain_ids(it);
    CHECK(rest.size() == 58);
    CHECK(std::count(rest.begin(), rest.end(), 10) == 1);
    CHECK(std::count(rest.begin(), rest.end(), 150) == 1);
    CHECK(t.count() == 256);
}

TEST_CASE("write wrap_around overwrites in cycles, each key once per cycle across threads", "[iter][write][stress]") {
    constexpr std::uint64_t n = 10'000;
    PrefixTracker t("o:", n);
    constexpr int threads_n = 2;
    std::vector<std::vector<std::uint64_t>> got(threads_n);
    std::vector<std::thread> threads;
    for (int w = 0; w < threads_n; ++w)
        threads.emplace_back([&, w] {
            auto it = t.iter().continue_write().wrap_around();
            for (std::uint64_t i = 0; i < 2 * n; ++i) got[w].push_back(it.next()->id);
        });
    for (auto& th : threads) th.join();
    // 4n keys handed out in total: the n claims, then overwrite cycles. Every key at least twice.
    std::vector<int> times(n);
    for (auto& g : got)
        for (auto id : g) ++times[id];
    CHECK(t.count() == n);
    CHECK(*std::min_element(times.begin(), times.end()) >= 3);
    CHECK(*std::max_element(times.begin(), times.end()) <= 5);
}

// ---- partitions --------------------------------------------------------------------------------------------------

TEST_CASE("partitions are disjoint and cover the range, the default unbounded one included", "[iter][partition]") {
    PrefixTracker t("p:");
    const std::vector<std::uint64_t> ids = {0, 5, 4095, 1'000'000, 1ull << 40, keyspace::max_supported_id - 1};
    for (auto id : ids) t.add(id);
    for (std::uint64_t n : {1ull, 3ull, 7ull, 64ull}) {
        auto parts = t.iter().set_only().partitioned(n);
        std::vector<std::uint64_t> all;
        for (auto& p : parts) {
            auto got = drain_ids(p);
            all.insert(all.end(), got.begin(), got.end());
        }
        CHECK(all == ids);
        // The same through partition(i, n), and for the write range [0, 2^63): slices meet exactly.
        std::vector<std::uint64_t> again;
        for (std::uint64_t i = 0; i < n; ++i) {
            auto got = drain_ids(t.iter().set_only().partition(i, n));
            again.insert(again.end(), got.begin(), got.end());
        }
        CHECK(again == ids);
    }
    auto w0 = t.iter().slice(0, 3).unset_only().write();
    auto w2 = t.iter().slice(2, 3).write();
    CHECK(w0.next()->id == 1);
    // Slices of [0, 2^63) into 3: the first 2^63 % 3 = 2 slices are one ID longer.
    CHECK(w2.next()->id == keyspace::max_supported_id / 3 * 2 + 2);
}

TEST_CASE("partitions keep walking on repeated next() and overlapping ones see the whole range", "[iter][partition]") {
    PrefixTracker t("p:", 100);
    t.add_range(0, 100);
    auto parts = t.iter().set_only().partitioned(4);
    CHECK(parts[1].next()->id == 25);
    CHECK(parts[1].next()->id == 26);
    auto over = t.iter().set_only().overlapping().partitioned(4);
    for (std::size_t i = 0; i < 4; ++i) {
        auto got = drain_ids(over[i]);
        CHECK(got.size() == 100);
        CHECK(got.front() == i * 25);
    }
}

// ---- hierarchical ------------------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE_SIG("hierarchical iteration walks pairs by id then sub_id, and erase keeps counts", "[iter][hierarchical]",
                       ((bool Flat), Flat), false, true) {
    auto config = TrackerConfig::hierarchical("h:").with_max_id(1000);
    if (Flat) config = config.with_max_sub_id(8192);
    PrefixTracker t(config);
    const std::vector<Key> keys = {{1, 0}, {1, 4095}, {1, 4096}, {7, 8000}, {999, 3}};
    for (auto k : keys) t.add_pair(k.id, k.sub_id);
    std::vector<Key> seq;
    for (auto k : t.iter().set_only().sequential()) seq.push_back(k);
    CHECK(seq == keys);
    std::vector<Key> ranged;
    for (auto k : t.iter().set_only().range(1, 8).sub_range(4000, 8192).sequential()) ranged.push_back(k);
    CHECK(ranged == std::vector<Key>{{1, 4095}, {1, 4096}, {7, 8000}});

    auto rnd = t.iter().set_only().sub_range(0, 8192).seed(3).random();
    std::vector<Key> r;
    while (auto k = rnd.next()) r.push_back(*k);
    std::sort(r.begin(), r.end());
    CHECK(r == keys);

    {
        auto e = t.iter().range(1, 2).erase();
        REQUIRE(e);
        std::vector<Key> erased;
        while (auto k = e->next()) erased.push_back(*k);
        CHECK(erased == std::vector<Key>{{1, 0}, {1, 4095}, {1, 4096}});
    }
    CHECK(t.count() == 2);
    CHECK_FALSE(t.id_exists(1));
    CHECK(t.sub_count(1) == 0);
    CHECK(t.sub_count(7) == 1);

    auto w = t.iter().range(5, 6).sub_range(0, 3).write();
    std::vector<Key> claimed;
    while (auto k = w.next()) claimed.push_back(*k);
    CHECK(claimed == std::vector<Key>{{5, 0}, {5, 1}, {5, 2}});
    CHECK(t.sub_count(5) == 3);
    CHECK(t.count() == 5);
}

// ---- builder validation ------------------------------------------------------------------------------------------

TEST_CASE("builder arguments are validated with clear messages", "[iter][bad-input]") {
    PrefixTracker t("b:", 100);
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(t.iter().range(5, 4), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().min(50).max(40).sequential(), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().sample(-0.1), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().sample(nan), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().sample(inf), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().mixed_ratio(1.5), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().mixed_ratio(nan), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().slice(3, 3), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().slice(0, 0), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().partitioned(0), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().partition(5, 2), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().range_percent(0.6, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().range_percent(-0.1, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().range_percent(0.0, nan), std::invalid_argument);
    CHECK_THROWS_AS(t.iter().set_only().write(), std::invalid_argument);
    CHECK_THROWS_WITH(t.iter().slice(3, 3), Catch::Matchers::Contains("i = 3"));
    CHECK_THROWS_WITH(t.iter().sample(2.0), Catch::Matchers::Contains("p must be in [0, 1]"));
    // Ranges beyond max_id are clamped, not rejected; seeds take any value.
    CHECK(drain_ids(t.iter().range(90, std::numeric_limits<std::uint64_t>::max()).sequential()).size() == 10);
    CHECK(drain_ids(t.iter().seed(0).random()).size() == 100);
    CHECK(drain_ids(t.iter().seed(std::numeric_limits<std::uint64_t>::max()).random()).size() == 100);
}

TEST_CASE("every iterator is an input range of Key with the pull API", "[iter]") {
    static_assert(std::ranges::input_range<keyspace::SequentialIter>);
    static_assert(std::ranges::input_range<keyspace::RandomIter>);
    static_assert(std::ranges::input_range<keyspace::WriteIter>);
    static_assert(std::ranges::input_range<keyspace::EraseIter>);
    static_assert(!std::is_copy_constructible_v<keyspace::SequentialIter>);
    static_assert(std::is_nothrow_move_constructible_v<keyspace::SequentialIter>);
    PrefixTracker t("i:", 10);
    t.add_range(0, 10);
    auto it = t.iter().set_only().sequential();
    CHECK(it.remaining() >= 10);
    CHECK(it.next_id() == 0u);
    std::vector<Key> batch(4);
    CHECK(it.next_batch(batch) == 4);
    CHECK(batch[3].id == 4);
    CHECK(drain_ids(it).size() == 5);
    CHECK(it.is_exhausted());
    CHECK(it.next_batch(batch) == 0);
}

// ---- const trackers, cursors, integer ranges -------------------------------------------------------------------

namespace {
template <class B>
concept can_write = requires(const B& b) { b.write(); };
template <class B>
concept can_continue_write = requires(const B& b) { b.continue_write(); };
template <class B>
concept can_erase = requires(const B& b) { b.erase(); };
template <class B>
concept can_read = requires(const B& b) {
    b.sequential();
    b.random();
    b.partition(0, 2);
    b.partitioned(2);
};
using MutableBuilder = decltype(std::declval<PrefixTracker&>().iter());
using ReadOnlyBuilder = decltype(std::declval<const PrefixTracker&>().iter());
} // namespace

TEST_CASE("a const tracker's builder has the reading terminals only", "[iter][const]") {
    static_assert(can_read<ReadOnlyBuilder> && can_read<MutableBuilder>);
    static_assert(!can_write<ReadOnlyBuilder> && !can_continue_write<ReadOnlyBuilder> && !can_erase<ReadOnlyBuilder>,
                  "write(), continue_write() and erase() must not compile through a const PrefixTracker&");
    static_assert(can_write<MutableBuilder> && can_continue_write<MutableBuilder> && can_erase<MutableBuilder>);
    static_assert(std::is_convertible_v<MutableBuilder, ReadOnlyBuilder> &&
                  !std::is_convertible_v<ReadOnlyBuilder, MutableBuilder>);

    PrefixTracker t("c:", 1000);
    t.add_range(10, 20);
    const PrefixTracker& ct = t;
    CHECK(drain_ids(ct.iter().set_only().sequential()).size() == 10);
    CHECK(drain_ids(ct.iter().set_only().seed(3).random()).size() == 10);
    keyspace::ConstIteratorBuilder narrowed = t.iter().range(0, 15); // a tracker's builder narrows to a const one
    CHECK(drain_ids(narrowed.set_only().sequential()) == std::vector<std::uint64_t>{10, 11, 12, 13, 14});
    CHECK(t.count() == 10); // reading changed nothing
}

TEST_CASE("continue_write keeps a bounded number of range cursors, and live streams keep theirs", "[iter][write]") {
    PrefixTracker t("r:", 1'000'000);
    using keyspace::IterationState;
    // One stream per request over ever new ranges: the cursors of ranges no stream holds are dropped, oldest first.
    for (std::uint64_t i = 0; i < 10'000; ++i) {
        auto w = t.iter().range(i * 64, i * 64 + 64).continue_write();
        REQUIRE(w.next_id() == i * 64);
    }
    CHECK(t.iteration_state().cursor_count() <= IterationState::retained_ranges);
    // A recently used range keeps its progress after its stream ends...
    auto a = t.iter().range(900'000, 900'100).continue_write();
    CHECK(a.next_id() == 900'000u);
    { auto drop = std::move(a); }
    CHECK(t.iter().range(900'000, 900'100).continue_write().next_id() == 900'001u);
    // ...and ranges with a live stream are never dropped, however many there are.
    std::vector<keyspace::WriteIter> live;
    for (std::uint64_t i = 0; i < 2 * IterationState::retained_ranges; ++i) {
        live.push_back(t.iter().range(800'000 + i * 10, 800'000 + i * 10 + 10).continue_write());
        REQUIRE(live.back().next_id() == 800'000 + i * 10);
    }
    CHECK(t.iteration_state().cursor_count() >= 2 * IterationState::retained_ranges);
    for (std::uint64_t i = 0; i < live.size(); ++i) // joining a live range continues its shared progress
        CHECK(t.iter().range(800'000 + i * 10, 800'000 + i * 10 + 10).continue_write().next_id() == 800'000 + i * 10 + 1);
}

TEST_CASE("range_percent computes its bounds in integer arithmetic, exact up to max_id 2^63", "[iter][bad-input]") {
    const std::uint64_t big = (1ull << 63) - 1;
    PrefixTracker t("p:", big);
    t.add(big - 1);
    CHECK(drain_ids(t.iter().set_only().range_percent(1.0, 1.0).sequential()).empty());
    CHECK(drain_ids(t.iter().set_only().range_percent(0.5, 1.0).sequential()) == std::vector<std::uint64_t>{big - 1});
    // floor(len * p) exactly: 2^63 - 1 IDs at p = 0.5 start the upper half at 2^62 - 1 (floor of 2^62 - 0.5).
    t.add((1ull << 62) - 2), t.add((1ull << 62) - 1);
    CHECK(drain_ids(t.iter().set_only().range_percent(0.5, 1.0).limit(1).sequential()) ==
          std::vector<std::uint64_t>{(1ull << 62) - 1});
    PrefixTracker small("s:", 10);
    small.add_range(0, 10);
    CHECK(drain_ids(small.iter().set_only().range_percent(0.25, 0.75).sequential()) ==
          std::vector<std::uint64_t>{2, 3, 4, 5, 6});
    // The double nearest 0.3 is a little below it: floor(10 * p) is 2, as for the double nearest 0.7 it is 6.
    CHECK(drain_ids(small.iter().set_only().range_percent(0.3, 0.7).sequential()) ==
          std::vector<std::uint64_t>{2, 3, 4, 5});
    CHECK(drain_ids(small.iter().set_only().range_percent(0.0, 1e-300).sequential()).empty());
}

TEST_CASE("sample(0) keeps nothing on every terminal and leaves the tracker unchanged", "[iter][sample]") {
    // p = 0 has no geometric skip length (log(1 - p) = 0): a stream that drew one anyway converted -inf to an
    // integer (undefined; UBSan stops the asan stage on it).
    for (const double zero : {0.0, -0.0}) {
        PrefixTracker t("z:", 1000);
        t.add_range(0, 500);
        CHECK(drain_ids(t.iter().sample(zero).sequential()).empty());
        CHECK(drain_ids(t.iter().sample(zero).seed(1).random()).empty());
        CHECK(drain_ids(t.iter().sample(zero).write()).empty());
        CHECK(drain_ids(t.iter().sample(zero).continue_write()).empty());
        if (auto e = t.iter().sample(zero).erase()) CHECK(drain_ids(*e).empty());
        CHECK(t.count() == 500);
    }
}

TEST_CASE("over an empty range, wrap_around streams answer nothing now and the others end", "[iter][wrap]") {
    PrefixTracker t("e:", 1000);
    t.add_range(0, 1000);
    auto seq = t.iter().range(5, 5).sequential().wrap_around();
    auto rnd = t.iter().range(5, 5).seed(1).random().wrap_around();
    CHECK_FALSE(seq.next());
    CHECK_FALSE(rnd.next());
    CHECK((seq.is_endless() && !seq.is_exhausted()));
    CHECK((rnd.is_endless() && !rnd.is_exhausted()));
    auto once = t.iter().range(5, 5).seed(1).random();
    CHECK_FALSE(once.next());
    CHECK(once.is_exhausted());
}
