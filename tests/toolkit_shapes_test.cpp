// Keyspace shapes: exact counts for the deterministic shapes, statistical density checks for the random ones.
#include "catch.hpp"

#include <keyspace/toolkit/shapes.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

using keyspace::PrefixTracker;
using keyspace::Shape;

namespace {
/// |count - expected| within 5 standard deviations, for a sum of independent coins of variance `var` in total.
bool within_5sd(std::uint64_t count, double expected, double var) {
    return std::fabs(static_cast<double>(count) - expected) <= 5 * std::sqrt(var) + 1e-9;
}
std::uint64_t count_in(const PrefixTracker& t, std::uint64_t b, std::uint64_t e) {
    std::uint64_t n = 0;
    for (std::uint64_t i = b; i < e; ++i) n += t.exists(i) ? 1 : 0;
    return n;
}
} // namespace

TEST_CASE("sparse spaces IDs evenly with exactly floor(n * density) present", "[toolkit][shapes]") {
    for (const double d : {0.0, 0.01, 0.1, 0.3333, 0.5, 0.77, 1.0}) {
        PrefixTracker t("s:", 200000);
        const std::uint64_t b = 1000, e = 101000;
        const std::uint64_t added = Shape::sparse(d).apply(t, b, e);
        CHECK(added == static_cast<std::uint64_t>(std::floor(100000 * d)));
        CHECK(t.count() == added);
        CHECK(Shape::sparse(d).expected_density(100000) * 100000 == Approx(static_cast<double>(added)));
        CHECK(count_in(t, 0, b) == 0u);
        CHECK(count_in(t, e, 200000) == 0u);
        if (d > 0) { // gaps between neighbours are floor(1/d) or ceil(1/d)
            std::optional<std::uint64_t> prev;
            for (std::uint64_t i = b; i < e; ++i) {
                if (!t.exists(i)) continue;
                if (prev) {
                    const double gap = static_cast<double>(i - *prev);
                    REQUIRE(gap >= std::floor(1 / d));
                    REQUIRE(gap <= std::ceil(1 / d));
                }
                prev = i;
            }
        }
    }
}

TEST_CASE("clustered lays runs of present IDs separated by gaps", "[toolkit][shapes]") {
    PrefixTracker t("c:", 100000);
    const Shape s = Shape::clustered(7, 13);
    const std::uint64_t b = 5, e = 10005;
    const std::uint64_t added = s.apply(t, b, e);
    for (std::uint64_t i = b; i < e; ++i) REQUIRE(t.exists(i) == ((i - b) % 20 < 7));
    CHECK(added == 500u * 7u);
    CHECK(s.expected_density(10000) == Approx(0.35));
    CHECK(count_in(t, e, e + 100) == 0u);
    PrefixTracker u("c:", 100);
    CHECK(Shape::clustered(7, 13).apply(u, 0, 25) == 7u + 5u); // a cut-off last run
    CHECK(Shape::clustered(7, 13).expected_density(25) == Approx(12.0 / 25));
}

TEST_CASE("alternating keeps every stride-th ID", "[toolkit][shapes]") {
    PrefixTracker t("a:", 100000);
    const std::uint64_t added = Shape::alternating(3).apply(t, 10, 10010);
    for (std::uint64_t i = 10; i < 10010; ++i) REQUIRE(t.exists(i) == ((i - 10) % 3 == 0));
    CHECK(added == 3334u);
    CHECK(Shape::alternating(3).expected_density(10000) * 10000 == Approx(3334));
    PrefixTracker u("a:", 100);
    CHECK(Shape::alternating(1).apply(u, 0, 100) == 100u);
}

TEST_CASE("random_holes keeps each ID with probability 1 - holes, reproducibly by seed", "[toolkit][shapes]") {
    const std::uint64_t n = 1'000'000;
    for (const double h : {0.0, 0.05, 0.5, 0.9, 1.0}) {
        PrefixTracker t("r:", n);
        const std::uint64_t added = Shape::random_holes(h).apply(t, 0, n, 99);
        CHECK(within_5sd(added, static_cast<double>(n) * (1 - h), static_cast<double>(n) * h * (1 - h)));
    }
    PrefixTracker a("r:", 100000), b("r:", 100000), c("r:", 100000), d("r:", 100000);
    const Shape s = Shape::random_holes(0.5);
    s.apply(a, 0, 100000, 7);
    s.apply(b, 0, 100000, 7);
    s.apply(c, 0, 100000, 8);
    s.apply(d, 0, 40000, 7); // in two parts: the same IDs
    s.apply(d, 40000, 100000, 7);
    std::uint64_t same_ab = 0, same_ac = 0, same_ad = 0;
    for (std::uint64_t i = 0; i < 100000; ++i) {
        same_ab += a.exists(i) == b.exists(i) ? 1 : 0;
        same_ac += a.exists(i) == c.exists(i) ? 1 : 0;
        same_ad += a.exists(i) == d.exists(i) ? 1 : 0;
    }
    CHECK(same_ab == 100000u);
    CHECK(same_ad == 100000u);
    CHECK(within_5sd(same_ac, 50000, 25000)); // other seed: independent
    // neighbours are independent: present-after-present as often as present
    std::uint64_t pairs = 0, both = 0;
    for (std::uint64_t i = 1; i < 100000; ++i)
        if (a.exists(i - 1)) ++pairs, both += a.exists(i) ? 1 : 0;
    CHECK(within_5sd(both, static_cast<double>(pairs) * 0.5, static_cast<double>(pairs) * 0.25));
}

TEST_CASE("aged density rises linearly from min at the oldest IDs to max at the newest", "[toolkit][shapes]") {
    const std::uint64_t n = 1'000'000;
    PrefixTracker t("g:", n);
    const double lo = 0.1, hi = 0.9;
    const std::uint64_t added = Shape::aged(lo, hi).apply(t, 0, n, 3);
    CHECK(within_5sd(added, static_cast<double>(n) * 0.5, static_cast<double>(n) * 0.25));
    CHECK(Shape::aged(lo, hi).expected_density(n) == Approx(0.5));
    for (std::uint64_t tenth = 0; tenth < 10; ++tenth) {
        const std::uint64_t b = tenth * n / 10, e = b + n / 10;
        const double p = lo + (hi - lo) * (static_cast<double>(tenth) + 0.5) / 10;
        const std::uint64_t c = count_in(t, b, e);
        CHECK(within_5sd(c, static_cast<double>(n / 10) * p, static_cast<double>(n / 10) * p * (1 - p)));
    }
}

TEST_CASE("shapes reject bad parameters and hierarchical trackers", "[toolkit][shapes]") {
    CHECK_THROWS_AS(Shape::sparse(-0.1), std::invalid_argument);
    CHECK_THROWS_AS(Shape::sparse(1.5), std::invalid_argument);
    CHECK_THROWS_AS(Shape::sparse(std::nan("")), std::invalid_argument);
    CHECK_THROWS_AS(Shape::clustered(0, 5), std::invalid_argument);
    CHECK_THROWS_AS(Shape::alternating(0), std::invalid_argument);
    CHECK_THROWS_AS(Shape::aged(0.6, 0.5), std::invalid_argument);
    CHECK_THROWS_AS(Shape::random_holes(2), std::invalid_argument);
    PrefixTracker t("x:", 100);
    CHECK_THROWS_AS(Shape::sparse(0.5).apply(t, 10, 5), std::invalid_argument);
    auto h = PrefixTracker::hierarchical("h:");
    CHECK_THROWS_WITH(Shape::sparse(0.5).apply(h, 0, 10), Catch::Contains("hierarchical"));
    CHECK(Shape::sparse(0.5).apply(t, 50, 200) == 25u); // IDs >= max_id are ignored
}
