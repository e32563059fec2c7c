// The sampling layer, functionally: Rng against the xoshiro256** reference, Permutation as a bijection, the
// distributions' RandomNumberDistribution interface, argument checks, ranges, determinism and growth, and
// AccessDistribution / Sampler / SamplingConfig. The statistical tests are in sampling_stats_test.cpp.
#include "catch.hpp"

#include <keyspace/sampling.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using keyspace::AccessDistribution;
using keyspace::ExponentialDistribution;
using keyspace::HotspotDistribution;
using keyspace::LatestDistribution;
using keyspace::LatestZipfDistribution;
using keyspace::NormalDistribution;
using keyspace::Permutation;
using keyspace::Rng;
using keyspace::Sampler;
using keyspace::SamplingConfig;
using keyspace::ScrambledZipfDistribution;
using keyspace::UniformDistribution;
using keyspace::ZipfDistribution;
using Catch::Matchers::Contains;

namespace {

using u64s = std::initializer_list<std::uint64_t>;
constexpr std::uint64_t two63 = 1ull << 63;
constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

template <class D>
std::vector<std::uint64_t> draws(D d, std::uint64_t seed, int count) {
    Rng g(seed);
    std::vector<std::uint64_t> out;
    for (int i = 0; i < count; ++i) out.push_back(d(g));
    return out;
}

/// The first value of a constexpr-evaluated Rng: the known answer below is checked at compile time too.
constexpr std::uint64_t first_output(std::uint64_t seed) {
    Rng g(seed);
    return g();
}

} // namespace

// ---- Rng ----------------------------------------------------------------------------------------------------------

static_assert(std::uniform_random_bit_generator<Rng>);
static_assert(Rng::min() == 0 && Rng::max() == u64_max);
// Known answers computed from the reference definitions (splitmix64 seeding, xoshiro256** 1.0 next() and jump()),
// independently of this library: splitmix64 from state 0 first returns 0xe220a8397b1dcdaf (its published value).
static_assert(keyspace::detail::splitmix64_mix(0x9e3779b97f4a7c15ull) == 0xe220a8397b1dcdafull);
static_assert(first_output(0) == 0x99ec5f36cb75f2b4ull);

TEST_CASE("sampling: Rng seeded with 0 produces the reference xoshiro256** sequence", "[sampling][rng]") {
    Rng g(0);
    CHECK(g() == 0x99ec5f36cb75f2b4ull);
    CHECK(g() == 0xbf6e1f784956452aull);
    CHECK(g() == 0x1a5f849d4933e6e0ull);
    CHECK(g() == 0x6aa594f1262d2d2cull);
    Rng h(12345);
    CHECK(h() == 0xbe6a36374160d49bull);
    CHECK(h() == 0x214aaa0637a688c6ull);
}

TEST_CASE("sampling: Rng::jump advances by the reference jump polynomial", "[sampling][rng]") {
    Rng g(0);
    g.jump();
    CHECK(g() == 0x376215edc846d62cull);
    CHECK(g() == 0x57c0611de8350ca7ull);
}

TEST_CASE("sampling: Rng: the same seed gives the same sequence, and equal states compare equal", "[sampling][rng]") {
    Rng a(987654321), b(987654321), c(987654322);
    CHECK(a == b);
    CHECK_FALSE(a == c);
    for (int i = 0; i < 1000; ++i) REQUIRE(a() == b());
    CHECK(a == b);
    CHECK(Rng(1)() != Rng(2)());
}

TEST_CASE("sampling: Rng streams of one seed, and jumped copies, give different sequences", "[sampling][rng]") {
    std::set<std::uint64_t> firsts;
    for (std::uint64_t i = 0; i < 256; ++i) {
        Rng s = Rng::stream(42, i);
        firsts.insert(s());
        CHECK(Rng::stream(42, i) == Rng::stream(42, i)); // addressable: the same stream twice
    }
    firsts.insert(Rng(42)());
    CHECK(firsts.size() == 257);
    CHECK_FALSE(Rng::stream(42, 0) == Rng::stream(43, 0));

    Rng base(7), jumped(7);
    jumped.jump();
    CHECK_FALSE(base == jumped);
    Rng jumped_again = jumped;
    jumped_again.jump();
    CHECK_FALSE(jumped_again == jumped);
    CHECK_FALSE(jumped_again == base);
}

TEST_CASE("sampling: Rng::below stays below n, returns 0 for n <= 1, and matches its golden values",
          "[sampling][rng]") {
    Rng g(1);
    CHECK(g.below(0) == 0);
    CHECK(g.below(1) == 0);
    for (std::uint64_t n : u64s{2, 3, 10, 1000, (1ull << 32) + 1, two63, 3ull << 61, u64_max})
        for (int i = 0; i < 2000; ++i) REQUIRE(g.below(n) < n);
    for (int i = 0; i < 10000; ++i) {
        const double u = g.uniform01();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
    }
    // Stable within a major version.
    Rng h(42);
    CHECK(h.below(1000) == 83);
    CHECK(h.below(3ull << 61) == 2621606884861703663ull);
    CHECK(h.uniform01() == 0.68004341102813937);
}

TEST_CASE("sampling: bits from a generator of any range are full 64-bit words", "[sampling][rng]") {
    // std::mt19937 has 32-bit outputs, std::minstd_rand the range [1, 2^31 - 2] (not a power of two).
    auto check = [](auto gen) {
        std::uint64_t ones = 0, zeros = 0;
        for (int i = 0; i < 200; ++i) {
            const std::uint64_t v = keyspace::detail::bits64(gen);
            ones |= v;
            zeros |= ~v;
        }
        CHECK(ones == u64_max); // every bit was seen set
        CHECK(zeros == u64_max); // and clear
    };
    check(std::mt19937(3));
    check(std::minstd_rand(3));
    check(std::mt19937_64(3));
    check(Rng(3));
}

// ---- Permutation --------------------------------------------------------------------------------------------------

TEST_CASE("sampling: Permutation is a bijection of 0..n-1 for small and awkward n and several seeds",
          "[sampling][permutation]") {
    for (std::uint64_t n : {1ull, 2ull, 3ull, 1000ull, 10007ull, 1ull << 16, (1ull << 16) + 1}) {
        for (std::uint64_t seed : {0ull, 1ull, 42ull, 0xdeadbeefull}) {
            const Permutation p(n, seed);
            CHECK(p.size() == n);
            std::vector<bool> seen(n);
            for (std::uint64_t k = 0; k < n; ++k) {
                const std::uint64_t v = p.at(k);
                REQUIRE(v < n);
                REQUIRE_FALSE(seen[v]);
                seen[v] = true;
                REQUIRE(p.inverse(v) == k);
            }
        }
    }
}

TEST_CASE("sampling: Permutation is a bijection for every n up to 4096", "[sampling][permutation]") {
    std::vector<char> seen;
    for (std::uint64_t n = 1; n <= 4096; ++n) {
        const Permutation p(n, n * 31 + 5);
        seen.assign(n, 0);
        for (std::uint64_t k = 0; k < n; ++k) {
            const std::uint64_t v = p.at(k);
            REQUIRE(v < n);
            REQUIRE(seen[v] == 0);
            seen[v] = 1;
        }
    }
}

TEST_CASE("sampling: Permutation::inverse undoes at() for ranges up to 2^64 - 1", "[sampling][permutation]") {
    Rng g(5);
    for (std::uint64_t n : u64s{1ull << 40, (1ull << 40) + 7, 3ull << 61, two63, two63 + 1, u64_max}) {
        const Permutation p(n, 99);
        for (int i = 0; i < 2000; ++i) {
            const std::uint64_t k = g.below(n);
            const std::uint64_t v = p.at(k);
            REQUIRE(v < n);
            REQUIRE(p.inverse(v) == k);
            REQUIRE(p.at(p.inverse(k)) == k);
        }
    }
}

TEST_CASE("sampling: Permutation: the same (n, seed) gives the same order, another seed another",
          "[sampling][permutation]") {
    const Permutation a(1'000'000, 7), b(1'000'000, 7), c(1'000'000, 8);
    int differ = 0;
    for (std::uint64_t k = 0; k < 1000; ++k) {
        REQUIRE(a.at(k) == b.at(k));
        differ += a.at(k) != c.at(k) ? 1 : 0;
    }
    CHECK(differ > 990);
    // Stable within a major version.
    CHECK(a.at(0) == 670453);
    CHECK(a.at(1) == 720982);
    CHECK(a.at(999'999) == 105835);
}

TEST_CASE("sampling: Permutation rejects n = 0", "[sampling][permutation][bad-input]") {
    CHECK_THROWS_AS(Permutation(0, 1), std::invalid_argument);
    CHECK_THROWS_WITH(Permutation(0, 1), Contains("n") && Contains("0"));
}

// ---- the distributions' interface ---------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("sampling: every distribution models RandomNumberDistribution", "[sampling][distribution]",
                   UniformDistribution, ZipfDistribution, ScrambledZipfDistribution, HotspotDistribution,
                   LatestDistribution, LatestZipfDistribution, ExponentialDistribution, NormalDistribution) {
    using D = TestType;
    using P = typename D::param_type;
    STATIC_REQUIRE(std::is_same_v<typename D::result_type, std::uint64_t>);
    STATIC_REQUIRE(std::is_same_v<typename P::distribution_type, D>);
    STATIC_REQUIRE(std::is_default_constructible_v<D>);
    STATIC_REQUIRE(std::is_copy_constructible_v<D> && std::is_copy_assignable_v<D>);
    STATIC_REQUIRE(std::is_copy_constructible_v<P> && std::is_copy_assignable_v<P>);
    STATIC_REQUIRE(std::equality_comparable<D> && std::equality_comparable<P>);
    STATIC_REQUIRE(std::is_constructible_v<D, const P&>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<D&>()(std::declval<Rng&>())), std::uint64_t>);
    STATIC_REQUIRE(std::is_same_v<decltype(std::declval<D&>()(std::declval<std::mt19937&>(), std::declval<const P&>())),
                                  std::uint64_t>);

    D d; // default: one rank
    CHECK(d.min() == 0);
    CHECK(d.max() == 0);
    d.set_n(1000);
    CHECK(d.max() == 999);
    const P p = d.param();
    CHECK(D(p) == d);
    CHECK(D(p).param() == p);
    D e;
    CHECK_FALSE(e == d);
    e.param(p);
    CHECK(e == d);
    d.reset();

    // Equal distributions and equal generators give equal draws; operator()(g, p) uses p, not the member's.
    Rng g1(11), g2(11);
    for (int i = 0; i < 200; ++i) REQUIRE(d(g1) == e(g2));
    D one;
    for (int i = 0; i < 200; ++i) {
        REQUIRE(one(g1, p) < 1000);
        REQUIRE(d(g1, one.param()) == 0);
    }
    CHECK(one.max() == 0);
}

TEST_CASE("sampling: distributions draw the same ranks for the same seed, stable within a major version",
          "[sampling][distribution]") {
    using V = std::vector<std::uint64_t>;
    CHECK(draws(UniformDistribution(1'000'000), 42, 6) == V{83862, 378980, 680043, 924692, 991803, 769739});
    CHECK(draws(ZipfDistribution(1'000'000, 0.99), 42, 6) == V{322424, 5406, 69, 1, 0, 17});
    CHECK(draws(ScrambledZipfDistribution(1'000'000, 0.99, 7), 42, 6) ==
          V{560698, 539241, 278313, 720982, 670453, 494888});
    CHECK(draws(HotspotDistribution(1'000'000, 0.2, 0.8), 42, 6) == V{75796, 184938, 815791, 170001, 116669, 58135});
    CHECK(draws(LatestDistribution(1'000'000, 0.1, 0.9), 42, 6) == V{37898, 92469, 792765, 85000, 58334, 29067});
    CHECK(draws(LatestZipfDistribution(1'000'000, 0.99), 42, 6) == V{322424, 5406, 69, 1, 0, 17});
    CHECK(draws(ExponentialDistribution(1'000'000, 0.1), 42, 6) == V{8758, 47636, 113947, 258562, 479861, 146839});
    CHECK(draws(NormalDistribution(1'000'000, 0.5, 0.1), 42, 6) ==
          V{427378, 478880, 522162, 552277, 546417, 574097});
}

TEST_CASE("sampling: every distribution draws ranks below n, from n = 1 to the largest n it takes",
          "[sampling][distribution]") {
    Rng g(3);
    std::mt19937 mt(3);
    std::minstd_rand lcg(3);
    auto in_range = [&](auto d, std::uint64_t n) {
        CHECK(d.max() == n - 1);
        for (int i = 0; i < 3000; ++i) {
            REQUIRE(d(g) < n);
            REQUIRE(d(mt) < n);
            REQUIRE(d(lcg) < n);
        }
    };
    for (std::uint64_t n : u64s{1, 2, 3, 1000, (1ull << 53) - 1, 1ull << 53, 3ull << 61, two63, u64_max}) {
        INFO("n = " << n);
        in_range(UniformDistribution(n), n);
        in_range(HotspotDistribution(n, 0.1, 0.7), n);
        in_range(LatestDistribution(n, 0.3, 0.5), n);
        in_range(ScrambledZipfDistribution(n, 0.99, 5), n);
        for (double s : {0.0, 0.5, 0.99, 1.0, 1.2, 2.0, 3.0, 40.0}) {
            in_range(ZipfDistribution(n, s), n);
            in_range(LatestZipfDistribution(n, s), n);
        }
        for (double lambda : {1e-300, 0.001, 0.1, 1.0}) in_range(ExponentialDistribution(n, lambda), n);
        for (double mean : {0.0, 0.5, 1.0})
            for (double sd : {1e-300, 0.01, 1.0}) in_range(NormalDistribution(n, mean, sd), n);
    }
}

TEST_CASE("sampling: distributions reject bad parameters with std::invalid_argument naming the argument and its value",
          "[sampling][distribution][bad-input]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(UniformDistribution(0), Contains("UniformDistribution: n must be at least 1, got 0"));
    CHECK_THROWS_WITH(ZipfDistribution(0, 1.0), Contains("n must be at least 1, got 0"));
    CHECK_THROWS_WITH(ZipfDistribution(10, -0.5), Contains("skew") && Contains("-0.5"));
    CHECK_THROWS_WITH(ZipfDistribution(10, nan), Contains("skew") && Contains("nan"));
    CHECK_THROWS_WITH(ZipfDistribution(10, inf), Contains("skew") && Contains("inf"));
    CHECK_THROWS_WITH(ScrambledZipfDistribution(10, -1, 0), Contains("skew") && Contains("-1"));
    CHECK_THROWS_AS(ScrambledZipfDistribution(0, 1, 0), std::invalid_argument);
    CHECK_THROWS_WITH(LatestZipfDistribution(10, nan), Contains("LatestZipfDistribution") && Contains("skew"));
    CHECK_THROWS_AS(LatestZipfDistribution(0, 1), std::invalid_argument);
    for (double pct : {0.0, -0.1, 1.5, nan}) {
        CHECK_THROWS_WITH(HotspotDistribution(10, pct, 0.5), Contains("hot_pct"));
        CHECK_THROWS_WITH(LatestDistribution(10, pct, 0.5), Contains("recent_pct"));
        CHECK_THROWS_WITH(ExponentialDistribution(10, pct), Contains("lambda_pct"));
        CHECK_THROWS_WITH(NormalDistribution(10, 0.5, pct), Contains("std_pct"));
    }
    for (double prob : {-0.01, 1.01, nan}) {
        CHECK_THROWS_WITH(HotspotDistribution(10, 0.5, prob), Contains("hot_prob"));
        CHECK_THROWS_WITH(LatestDistribution(10, 0.5, prob), Contains("recent_prob"));
        CHECK_THROWS_WITH(NormalDistribution(10, prob, 0.1), Contains("mean_pct"));
    }
    CHECK_THROWS_WITH(HotspotDistribution(10, 1.5, 0.5), Contains("got 1.5"));
    CHECK_THROWS_AS(HotspotDistribution(0, 0.5, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(LatestDistribution(0, 0.5, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(ExponentialDistribution(0, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(NormalDistribution(0, 0.5, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(ZipfDistribution::param_type(10, -1), std::invalid_argument);
    // Boundary values are accepted.
    CHECK_NOTHROW(ZipfDistribution(1, 0.0));
    CHECK_NOTHROW(HotspotDistribution(1, 1.0, 0.0));
    CHECK_NOTHROW(HotspotDistribution(1, 1e-300, 1.0));
    CHECK_NOTHROW(NormalDistribution(1, 0.0, 1.0));
    CHECK_NOTHROW(NormalDistribution(1, 1.0, 1.0));
    // A grown latest distribution checks n too.
    LatestDistribution latest(10, 0.5, 0.5);
    CHECK_THROWS_AS(latest.set_n(0), std::invalid_argument);
    CHECK(latest.n() == 10);
}

// ---- the shapes, where exact facts can be checked without statistics -----------------------------------------------

TEST_CASE("sampling: Zipf with skew 0 and hotspot with the whole range hot are exactly uniform draws",
          "[sampling][zipf]") {
    // Both take the integer path: the same draws as UniformDistribution from the same generator state.
    CHECK(draws(ZipfDistribution(12345, 0.0), 9, 500) == draws(UniformDistribution(12345), 9, 500));
    CHECK(draws(HotspotDistribution(12345, 1.0, 0.3), 9, 500) == draws(UniformDistribution(12345), 9, 500));
}

TEST_CASE("sampling: Zipf with a huge skew draws rank 0", "[sampling][zipf]") {
    ZipfDistribution z(1'000'000, 60.0);
    Rng g(1);
    for (int i = 0; i < 10000; ++i) REQUIRE(z(g) == 0);
}

TEST_CASE("sampling: the hot set is ceil(hot_pct * n) ranks, at least one and at most n", "[sampling][hotspot]") {
    CHECK(HotspotDistribution(10, 0.2, 0.5).hot_count() == 2); // 0.2 * 10 is 2 in double
    CHECK(HotspotDistribution(10, 0.25, 0.5).hot_count() == 3);
    CHECK(HotspotDistribution(3, 0.01, 0.5).hot_count() == 1);
    CHECK(HotspotDistribution(1, 0.5, 0.5).hot_count() == 1);
    CHECK(HotspotDistribution(u64_max, 1.0, 0.5).hot_count() == u64_max);
    CHECK(HotspotDistribution(two63, 0.5, 0.5).hot_count() == two63 / 2);
    CHECK(LatestDistribution(1000, 0.1, 0.5).recent_count() == 100);
}

TEST_CASE("sampling: hot_prob 1 draws only hot ranks and hot_prob 0 only cold ones", "[sampling][hotspot]") {
    HotspotDistribution hot(1000, 0.1, 1.0), cold(1000, 0.1, 0.0);
    Rng g(4);
    for (int i = 0; i < 10000; ++i) {
        REQUIRE(hot(g) < 100);
        REQUIRE(cold(g) >= 100);
    }
}

TEST_CASE("sampling: a scrambled Zipf draw is the Zipf draw passed through its permutation", "[sampling][zipf]") {
    const ScrambledZipfDistribution s(100'000, 0.8, 1234);
    const ZipfDistribution z(100'000, 0.8);
    const Permutation p(100'000, 1234);
    Rng g1(2), g2(2);
    auto sd = s;
    auto zd = z;
    for (int i = 0; i < 5000; ++i) REQUIRE(sd(g1) == p.at(zd(g2)));
    CHECK(s.permutation().at(0) == p.at(0));
}

TEST_CASE("sampling: latest distributions grown from a smaller n draw exactly like ones built at the final n",
          "[sampling][latest]") {
    for (std::uint64_t n0 : {1ull, 10ull, 999ull}) {
        for (std::uint64_t n : {1000ull, 1'000'003ull, 1ull << 40}) {
            LatestDistribution grown(n0, 0.1, 0.9);
            LatestZipfDistribution grown_zipf(n0, 0.99);
            for (std::uint64_t step = n0; step < n; step = step * 3 + 1) { // grow through intermediate sizes
                grown.set_n(step);
                grown_zipf.set_n(step);
            }
            grown.set_n(n);
            grown_zipf.set_n(n);
            CHECK(grown == LatestDistribution(n, 0.1, 0.9));
            CHECK(grown_zipf == LatestZipfDistribution(n, 0.99));
            CHECK(draws(grown, 77, 2000) == draws(LatestDistribution(n, 0.1, 0.9), 77, 2000));
            CHECK(draws(grown_zipf, 77, 2000) == draws(LatestZipfDistribution(n, 0.99), 77, 2000));
        }
    }
}

TEST_CASE("sampling: NormalDistribution keeps the second variate of a pair until reset", "[sampling][normal]") {
    NormalDistribution a(1'000'000, 0.5, 0.1), b(1'000'000, 0.5, 0.1);
    Rng g1(8), g2(8);
    CHECK(a(g1) == b(g2));
    CHECK_FALSE(a == NormalDistribution(1'000'000, 0.5, 0.1)); // a variate is kept
    CHECK(a == b);
    a.reset();
    CHECK(a == NormalDistribution(1'000'000, 0.5, 0.1));
}

// ---- AccessDistribution, Sampler, SamplingConfig ------------------------------------------------------------------

TEST_CASE("sampling: AccessDistribution factories record their kind and arguments", "[sampling][access]") {
    using Kind = AccessDistribution::Kind;
    CHECK(AccessDistribution().kind() == Kind::Uniform);
    CHECK(AccessDistribution::uniform() == AccessDistribution());
    const auto z = AccessDistribution::zipfian(0.99);
    CHECK(z.kind() == Kind::Zipfian);
    CHECK(z.skew() == 0.99);
    CHECK_FALSE(z.is_scrambled());
    CHECK(AccessDistribution::zipfian(0.99, true).is_scrambled());
    CHECK_FALSE(AccessDistribution::zipfian(0.99, true) == z);
    const auto h = AccessDistribution::hotspot(0.2, 0.8);
    CHECK((h.kind() == Kind::Hotspot && h.pct() == 0.2 && h.prob() == 0.8 && !h.is_recency()));
    const auto l = AccessDistribution::latest(0.1, 0.9);
    CHECK((l.kind() == Kind::Latest && l.pct() == 0.1 && l.prob() == 0.9 && l.is_recency()));
    const auto lz = AccessDistribution::latest_zipfian(0.99);
    CHECK((lz.kind() == Kind::LatestZipfian && lz.skew() == 0.99 && lz.is_recency()));
    const auto e = AccessDistribution::exponential(0.05);
    CHECK((e.kind() == Kind::Exponential && e.pct() == 0.05));
    const auto nd = AccessDistribution::normal(0.5, 0.1);
    CHECK((nd.kind() == Kind::Normal && nd.pct() == 0.5 && nd.std_pct() == 0.1 && nd.prob() == 0.0));
}

TEST_CASE("sampling: AccessDistribution factories reject bad arguments", "[sampling][access][bad-input]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(AccessDistribution::zipfian(-1), Contains("AccessDistribution::zipfian") && Contains("skew"));
    CHECK_THROWS_WITH(AccessDistribution::zipfian(nan, true), Contains("skew") && Contains("nan"));
    CHECK_THROWS_WITH(AccessDistribution::latest_zipfian(-0.1), Contains("skew") && Contains("-0.1"));
    CHECK_THROWS_WITH(AccessDistribution::hotspot(0, 0.5), Contains("hot_pct") && Contains("got 0"));
    CHECK_THROWS_WITH(AccessDistribution::hotspot(0.5, 2), Contains("hot_prob") && Contains("got 2"));
    CHECK_THROWS_WITH(AccessDistribution::latest(1.1, 0.5), Contains("recent_pct"));
    CHECK_THROWS_WITH(AccessDistribution::latest(0.1, nan), Contains("recent_prob"));
    CHECK_THROWS_WITH(AccessDistribution::exponential(nan), Contains("lambda_pct"));
    CHECK_THROWS_WITH(AccessDistribution::normal(-0.5, 0.1), Contains("mean_pct"));
    CHECK_THROWS_WITH(AccessDistribution::normal(0.5, 0), Contains("std_pct"));
    CHECK_THROWS_WITH(AccessDistribution::uniform().make_sampler(0), Contains("make_sampler") && Contains("got 0"));
}

TEST_CASE("sampling: make_sampler builds the standalone distribution of the kind, drawing the same ranks",
          "[sampling][access]") {
    const std::uint64_t n = 1'000'000;
    auto same = [&](const AccessDistribution& a, auto standalone, std::uint64_t seed = 0) {
        Sampler s = a.make_sampler(n, seed);
        CHECK(s.n() == n);
        CHECK(s.max() == n - 1);
        CHECK(s.is_recency() == a.is_recency());
        Rng g1(6), g2(6);
        for (int i = 0; i < 1000; ++i) REQUIRE(s(g1) == standalone(g2));
    };
    same(AccessDistribution::uniform(), UniformDistribution(n));
    same(AccessDistribution::zipfian(0.99), ZipfDistribution(n, 0.99));
    same(AccessDistribution::zipfian(0.99, true), ScrambledZipfDistribution(n, 0.99, 55), 55);
    same(AccessDistribution::hotspot(0.2, 0.8), HotspotDistribution(n, 0.2, 0.8));
    same(AccessDistribution::latest(0.1, 0.9), LatestDistribution(n, 0.1, 0.9));
    same(AccessDistribution::latest_zipfian(0.99), LatestZipfDistribution(n, 0.99));
    same(AccessDistribution::exponential(0.1), ExponentialDistribution(n, 0.1));
    same(AccessDistribution::normal(0.5, 0.1), NormalDistribution(n, 0.5, 0.1));
}

TEST_CASE("sampling: Sampler::set_n regrows a sampler that then draws like one made at the new n",
          "[sampling][access]") {
    for (const auto& a : {AccessDistribution::latest(0.1, 0.9), AccessDistribution::latest_zipfian(0.99),
                          AccessDistribution::zipfian(1.2), AccessDistribution::hotspot(0.3, 0.6),
                          AccessDistribution::exponential(0.2), AccessDistribution::uniform()}) {
        Sampler s = a.make_sampler(10);
        s.set_n(500);
        s.set_n(123'456);
        CHECK(s.n() == 123'456);
        CHECK(s == a.make_sampler(123'456));
        Sampler fresh = a.make_sampler(123'456);
        Rng g1(1), g2(1);
        for (int i = 0; i < 1000; ++i) REQUIRE(s(g1) == fresh(g2));
    }
    Sampler s = AccessDistribution::latest(0.1, 0.9).make_sampler(10);
    CHECK_THROWS_AS(s.set_n(0), std::invalid_argument);
    // A draw copies nothing: the sampler is a small value (no allocation inside).
    STATIC_REQUIRE(std::is_nothrow_copy_constructible_v<Sampler>);
    STATIC_REQUIRE(sizeof(Sampler) <= 128);
}

TEST_CASE("sampling: SamplingConfig leaves unset options empty and returns a modified copy from each with_",
          "[sampling][config]") {
    const SamplingConfig empty;
    CHECK_FALSE(empty.distribution().has_value());
    CHECK_FALSE(empty.seed().has_value());
    CHECK_FALSE(empty.limit().has_value());
    CHECK_FALSE(empty.sample().has_value());
    CHECK_FALSE(empty.mixed_ratio().has_value());

    const SamplingConfig c = empty.with_distribution(AccessDistribution::zipfian(0.99))
                                 .with_seed(7)
                                 .with_limit(100)
                                 .with_sample(0.5)
                                 .with_mixed_ratio(0.25);
    CHECK(c.distribution() == AccessDistribution::zipfian(0.99));
    CHECK(c.seed() == 7u);
    CHECK(c.limit() == 100u);
    CHECK(c.sample() == 0.5);
    CHECK(c.mixed_ratio() == 0.25);
    CHECK(empty == SamplingConfig()); // untouched
    CHECK_FALSE(c == empty);
    CHECK(empty.with_sample(0.0).sample() == 0.0);
    CHECK(empty.with_mixed_ratio(1.0).mixed_ratio() == 1.0);
}

TEST_CASE("sampling: SamplingConfig rejects a sample or mixed ratio outside 0..1 or NaN",
          "[sampling][config][bad-input]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const SamplingConfig c;
    CHECK_THROWS_WITH(c.with_sample(1.5), Contains("with_sample") && Contains("p") && Contains("1.5"));
    CHECK_THROWS_WITH(c.with_sample(-0.1), Contains("-0.1"));
    CHECK_THROWS_WITH(c.with_sample(nan), Contains("nan"));
    CHECK_THROWS_WITH(c.with_mixed_ratio(2), Contains("with_mixed_ratio") && Contains("r") && Contains("2"));
    CHECK_THROWS_WITH(c.with_mixed_ratio(nan), Contains("nan"));
}
