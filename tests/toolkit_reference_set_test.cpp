// Reference sets: intersection, difference, coverage, and erase that spares protected IDs.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/toolkit/reference_set.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using keyspace::PrefixTracker;
using keyspace::ReferenceSet;

namespace {
std::vector<std::uint64_t> v(const std::set<std::uint64_t>& s) { return {s.begin(), s.end()}; }
} // namespace

TEST_CASE("intersection, difference and coverage match set algebra on a model", "[toolkit][reference_set]") {
    PrefixTracker t("t:", 500000);
    ReferenceSet ref;
    keyspace_test::SplitMix r{11};
    std::set<std::uint64_t> in_t, in_ref;
    for (int i = 0; i < 20000; ++i) {
        const std::uint64_t a = r.below(400000), b = r.below(600000);
        t.add(a), in_t.insert(a);
        ref.add(b), in_ref.insert(b);
    }
    std::set<std::uint64_t> both, t_only, ref_only;
    std::set_intersection(in_t.begin(), in_t.end(), in_ref.begin(), in_ref.end(), std::inserter(both, both.end()));
    std::set_difference(in_t.begin(), in_t.end(), in_ref.begin(), in_ref.end(), std::inserter(t_only, t_only.end()));
    std::set_difference(in_ref.begin(), in_ref.end(), in_t.begin(), in_t.end(),
                        std::inserter(ref_only, ref_only.end()));
    CHECK(keyspace::intersection(t, ref).to_vector() == v(both));
    CHECK(keyspace::intersection(ref, t).count() == both.size());
    CHECK(keyspace::difference(t, ref).to_vector() == v(t_only));
    CHECK(keyspace::difference(ref, t).to_vector() == v(ref_only)); // reaches past the tracker's max_id
    const keyspace::Coverage c = keyspace::coverage(ref, t);
    CHECK(c.reference == in_ref.size());
    CHECK(c.present == both.size());
    CHECK(c.missing() == ref_only.size());
    CHECK(c.fraction() == Approx(static_cast<double>(both.size()) / static_cast<double>(in_ref.size())));
}

TEST_CASE("coverage answers 'are 95% of the ground truth present?'", "[toolkit][reference_set]") {
    PrefixTracker t("t:", 10000);
    ReferenceSet truth;
    truth.add_range(0, 1000);
    t.add_range(0, 950);
    CHECK(keyspace::coverage(truth, t).at_least(0.95));
    CHECK_FALSE(keyspace::coverage(truth, t).at_least(0.951));
    t.remove(3);
    CHECK_FALSE(keyspace::coverage(truth, t).at_least(0.95));
    CHECK(keyspace::coverage(ReferenceSet(), t).fraction() == 1.0);
    CHECK_THROWS_AS(keyspace::coverage(truth, t).at_least(1.5), std::invalid_argument);
    ReferenceSet copy;
    CHECK(copy.add_all(t) == 949u);
    CHECK(keyspace::coverage(copy, t).fraction() == 1.0);
}

TEST_CASE("erase_unprotected removes only unprotected IDs and reports each once", "[toolkit][reference_set]") {
    PrefixTracker t("t:", 10000);
    t.add_range(0, 10000);
    ReferenceSet protect;
    for (std::uint64_t id = 0; id < 10000; id += 3) protect.add(id);
    std::vector<std::uint64_t> erased;
    auto r = keyspace::erase_unprotected(t, protect, 100, 1000, 50, [&](std::uint64_t id) { erased.push_back(id); });
    CHECK(r.erased == 50u);
    REQUIRE(erased.size() == 50u);
    for (const std::uint64_t id : erased) {
        CHECK(id >= 100u);
        CHECK(id % 3 != 0);
        CHECK_FALSE(t.exists(id));
    }
    CHECK(std::is_sorted(erased.begin(), erased.end()));
    r = keyspace::erase_unprotected(t, protect, [](std::uint64_t) {});
    CHECK(t.count() == 3334u); // only the protected remain
    for (std::uint64_t id = 0; id < 10000; ++id) REQUIRE(t.exists(id) == (id % 3 == 0));
    CHECK(r.spared > 0u);
    int calls = 0;
    t.add_range(0, 100);
    keyspace::erase_unprotected(t, protect, [&](std::uint64_t) { return ++calls < 5; });
    CHECK(calls == 5);
    CHECK_THROWS_AS(keyspace::erase_unprotected(t, protect, 5, 4, 1, [](std::uint64_t) {}), std::invalid_argument);
    auto h = PrefixTracker::hierarchical("h:");
    CHECK_THROWS_AS(keyspace::erase_unprotected(h, protect, [](std::uint64_t) {}), std::invalid_argument);
}

TEST_CASE("concurrent erase_unprotected calls never remove a protected ID nor report one twice",
          "[toolkit][reference_set][stress]") {
    const std::uint64_t n = 1 << 20;
    PrefixTracker t("t:", n);
    t.add_range(0, n);
    ReferenceSet protect;
    for (std::uint64_t id = 0; id < n; id += 7) protect.add(id);
    std::vector<std::vector<std::uint64_t>> got(4);
    std::vector<std::thread> pool;
    for (std::size_t w = 0; w < 4; ++w)
        pool.emplace_back([&, w] { keyspace::erase_unprotected(t, protect, [&](std::uint64_t id) { got[w].push_back(id); }); });
    for (auto& th : pool) th.join();
    std::vector<bool> seen(n, false);
    std::uint64_t total = 0;
    for (const auto& g : got)
        for (const std::uint64_t id : g) {
            REQUIRE(id % 7 != 0);
            REQUIRE_FALSE(seen[id]);
            seen[id] = true;
            ++total;
        }
    CHECK(total == n - (n + 6) / 7);
    CHECK(t.count() == (n + 6) / 7);
}

TEST_CASE("reference-set passes over a sparse tracker cost what its IDs cost, not its highest ID",
          "[toolkit][reference_set][sparse]") {
    const std::uint64_t far = 1'000'000'000'000ull;
    keyspace::PrefixTracker t("far:");
    t.add(far);
    t.add(far + 5);
    t.add(9);
    const auto started = std::chrono::steady_clock::now();
    keyspace::ReferenceSet truth;
    CHECK(truth.add_all(t) == 3u);
    truth.add(far + 100'000);
    const keyspace::Coverage c = keyspace::coverage(truth, t);
    CHECK(c.reference == 4u);
    CHECK(c.present == 3u);
    keyspace::ReferenceSet protect;
    protect.add(far);
    std::vector<std::uint64_t> erased;
    const auto r = keyspace::erase_unprotected(t, protect, [&](std::uint64_t id) { erased.push_back(id); });
    CHECK(erased == std::vector<std::uint64_t>{9, far + 5});
    CHECK(r.spared == 1u);
    CHECK(t.count() == 1u);
    // A pass over every word up to 10^12 would take minutes.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}
