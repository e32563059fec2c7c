// Bad input, one test per case of the policy: IDs at the edges of the ID space, degenerate and reversed ranges,
// NaN and infinite probabilities, impossible partitions, extreme seeds, and allocation failure during growth. Each
// gets its documented result: a value, std::nullopt, or an exception of the documented type with a message.
#include "catch.hpp"

#include <keyspace/keyspace.hpp>
#include <keyspace/sampling.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

using keyspace::AtomicBitmap;
using keyspace::FixedAtomicBitmap;
using keyspace::Key;
using keyspace::max_supported_id;
using keyspace::PrefixTracker;
using keyspace::TrackerConfig;

namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t two_63 = 1ull << 63;
constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_v = std::numeric_limits<double>::infinity();

/// Requires f() to throw exactly E, with a non-empty message.
template <class E, class F>
void require_throws_exactly(F&& f) {
    bool thrown = false;
    try {
        f();
    } catch (const E& e) {
        thrown = true;
        CHECK(typeid(e) == typeid(E));
        CHECK(std::string(e.what()).size() > 0);
    }
    CHECK(thrown);
}
#define REQUIRE_THROWS_EXACTLY(E, expr) require_throws_exactly<E>([&] { (void)(expr); })

template <class It>
std::vector<std::uint64_t> drain_ids(It&& it, std::size_t cap = 1u << 20) {
    std::vector<std::uint64_t> out;
    while (out.size() < cap) {
        auto k = it.next();
        if (!k) break;
        out.push_back(k->id);
    }
    return out;
}

/// Makes the next `after` growth allocations succeed and every later one throw std::bad_alloc, until destroyed.
class FailGrowth {
public:
    explicit FailGrowth(int after) {
        left() = after;
        keyspace::detail::growth_allocation_hook.store(&hook);
    }
    ~FailGrowth() { keyspace::detail::growth_allocation_hook.store(nullptr); }
    FailGrowth(const FailGrowth&) = delete;
    FailGrowth& operator=(const FailGrowth&) = delete;
    static int failures() { return failed(); }

private:
    static int& left() {
        static int n = 0;
        return n;
    }
    static int& failed() {
        static int n = 0;
        return n;
    }
    static void hook(std::size_t) {
        if (left() > 0) {
            --left();
            return;
        }
        ++failed();
        throw std::bad_alloc();
    }
};

/// Every single-ID mutator and query ignores these IDs on a simple tracker: false, nothing changed.
void check_ignored(PrefixTracker& t, std::initializer_list<std::uint64_t> ids) {
    for (std::uint64_t id : ids) {
        INFO("id " << id);
        CHECK_FALSE(t.add(id));
        CHECK_FALSE(t.claim(id));
        CHECK_FALSE(t.exists(id));
        CHECK_FALSE(t.remove(id));
        CHECK_FALSE(t.ensure_capacity(id));
    }
}

} // namespace

// ---- IDs at the edges ------------------------------------------------------------------------------------------

TEST_CASE("growable bitmap: IDs 0 and 2^63 - 1 work, 2^63 and UINT64_MAX throw on writes and read as absent",
          "[bad-input][bitmap]") {
    AtomicBitmap bm;
    CHECK(bm.set(0));
    CHECK(bm.set(two_63 - 1));
    CHECK(bm.test(two_63 - 1));
    CHECK_FALSE(bm.test_and_set(two_63 - 1));
    CHECK(bm.count() == 2);
    CHECK(bm.capacity() == two_63);
    for (std::uint64_t id : {two_63, two_63 + 1, u64_max}) {
        REQUIRE_THROWS_EXACTLY(std::length_error, bm.set(id));
        REQUIRE_THROWS_EXACTLY(std::length_error, bm.test_and_set(id));
        REQUIRE_THROWS_EXACTLY(std::length_error, bm.ensure_capacity(id));
        CHECK_FALSE(bm.test(id));
        CHECK_FALSE(bm.clear(id));
        CHECK_FALSE(bm.test_and_clear(id));
        CHECK(bm.word(id / 64) == 0);
        CHECK(bm.find_next_set(id) == std::nullopt);
        CHECK(bm.find_next_unset(id, u64_max) == std::nullopt);
        bm.prefetch(id); // no effect, no fault
    }
    CHECK(bm.find_next_set(1) == two_63 - 1);
    CHECK(bm.find_prev_set(u64_max) == two_63 - 1);
    CHECK(bm.find_prev_set(0) == std::nullopt);
    CHECK(bm.find_next_unset(two_63 - 1, u64_max) == std::nullopt);
    CHECK(bm.find_next_unset(two_63 - 2, u64_max) == two_63 - 2);
    CHECK(bm.count() == 2); // the rejected writes changed nothing
    CHECK(bm.clear(two_63 - 1));
    CHECK(bm.test_and_clear(0));
    CHECK(bm.empty());
}

TEST_CASE("bitmap capacity beyond 2^63 throws length_error at construction", "[bad-input][bitmap]") {
    REQUIRE_THROWS_EXACTLY(std::length_error, AtomicBitmap(two_63 + 1));
    REQUIRE_THROWS_EXACTLY(std::length_error, AtomicBitmap(u64_max));
    REQUIRE_THROWS_EXACTLY(std::length_error, FixedAtomicBitmap(u64_max));
    CHECK(AtomicBitmap(0).capacity() == 0);
    AtomicBitmap empty(0);
    CHECK(empty.set(5)); // grows from nothing
    CHECK(empty.count() == 1);
}

TEST_CASE("fixed bitmap: capacity - 1 works, capacity, 2^63 and UINT64_MAX throw on writes and read as absent",
          "[bad-input][bitmap]") {
    FixedAtomicBitmap bm(1000); // rounded up to 1024
    const std::uint64_t cap = bm.capacity();
    REQUIRE(cap == 1024);
    CHECK(bm.set(0));
    CHECK(bm.set(cap - 1));
    for (std::uint64_t id : {cap, two_63, u64_max}) {
        REQUIRE_THROWS_EXACTLY(std::length_error, bm.set(id));
        REQUIRE_THROWS_EXACTLY(std::length_error, bm.test_and_set(id));
        CHECK_FALSE(bm.test(id));
        CHECK_FALSE(bm.clear(id));
        CHECK(bm.find_next_set(id) == std::nullopt);
    }
    REQUIRE_THROWS_EXACTLY(std::length_error, bm.ensure_capacity(cap));
    REQUIRE_THROWS_EXACTLY(std::length_error, bm.set_range(cap - 10, cap + 1));
    CHECK(bm.count() == 2); // a rejected range sets nothing
    CHECK(bm.find_next_unset(cap - 1, u64_max) == cap); // beyond the capacity reads as clear
    CHECK(bm.find_prev_set(u64_max) == cap - 1);
    CHECK(bm.capacity() == cap);
}

TEST_CASE("bounded simple tracker: IDs at or beyond max_id are ignored, never thrown", "[bad-input][tracker]") {
    PrefixTracker t("k:", 1000);
    for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{999}}) {
        CHECK(t.add(id));
        CHECK(t.exists(id));
        CHECK_FALSE(t.claim(id));
        CHECK(t.remove(id));
        CHECK(t.claim(id));
    }
    check_ignored(t, {std::uint64_t{1000}, two_63, u64_max});
    CHECK(t.count() == 2);
    CHECK(t.capacity() == 1000);
}

TEST_CASE("unbounded simple tracker: 2^63 - 1 is the last ID, 2^63 and UINT64_MAX are ignored",
          "[bad-input][tracker]") {
    PrefixTracker t("k:");
    CHECK(t.add(0));
    CHECK(t.add(two_63 - 1));
    CHECK(t.exists(two_63 - 1));
    CHECK_FALSE(t.claim(two_63 - 1));
    check_ignored(t, {two_63, u64_max});
    CHECK(t.count() == 2);
    CHECK(drain_ids(t.iter().range(two_63 - 2, u64_max).set_only().sequential()) ==
          std::vector<std::uint64_t>{two_63 - 1});
    CHECK(t.remove(two_63 - 1));
    CHECK(t.count() == 1);
}

TEST_CASE("hierarchical trackers: pairs at the edges of IDs and sub-IDs are ignored, never thrown",
          "[bad-input][tracker]") {
    SECTION("flat (max_sub_id), bounded") {
        PrefixTracker t(TrackerConfig::hierarchical("h:").with_max_id(100).with_max_sub_id(10));
        CHECK(t.add_pair(0, 0));
        CHECK(t.add_pair(99, 9));
        CHECK_FALSE(t.add_pair(100, 0));
        CHECK_FALSE(t.add_pair(0, 10));
        CHECK_FALSE(t.add_pair(u64_max, u64_max));
        CHECK_FALSE(t.claim_pair(two_63, 0));
        CHECK_FALSE(t.exists_pair(99, 10));
        CHECK_FALSE(t.id_exists(u64_max));
        CHECK(t.sub_count(u64_max) == 0);
        CHECK(t.count() == 2);
    }
    SECTION("flat, unbounded: IDs up to 2^63 / max_sub_id") {
        PrefixTracker t(TrackerConfig::hierarchical("h:").with_max_sub_id(1024));
        const std::uint64_t last = two_63 / 1024 - 1;
        CHECK(t.add_pair(last, 1023));
        CHECK(t.exists_pair(last, 1023));
        CHECK(t.id_exists(last));
        CHECK(t.sub_count(last) == 1);
        CHECK_FALSE(t.add_pair(last + 1, 0));
        CHECK_FALSE(t.add_pair(two_63, 0));
        CHECK_FALSE(t.id_exists(last + 1));
        CHECK(t.sub_count(u64_max) == 0);
        CHECK(t.count() == 1);
    }
    SECTION("flat, unbounded, with a huge max_sub_id: the default range covers every stored pair") {
        PrefixTracker t(TrackerConfig::hierarchical("h:").with_max_sub_id(1ull << 40));
        CHECK(t.add_pair(5, 0));
        CHECK(t.add_pair(7, (1ull << 40) - 1));
        CHECK(t.capacity() > 7);
        CHECK_FALSE(t.id_exists(0));
        CHECK(t.id_exists(7));
        std::vector<Key> keys;
        for (auto k : t.iter().set_only().sequential()) keys.push_back(k);
        CHECK(keys == std::vector<Key>{{5, 0}, {7, (1ull << 40) - 1}});
    }
    SECTION("table (no max_sub_id): IDs below 2^57, sub-IDs below 2^32") {
        PrefixTracker t = PrefixTracker::hierarchical("h:");
        CHECK(t.add_pair(0, 0));
        CHECK(t.add_pair((1ull << 57) - 1, (1ull << 32) - 1));
        CHECK_FALSE(t.add_pair(1ull << 57, 0));
        CHECK_FALSE(t.add_pair(0, 1ull << 32));
        CHECK_FALSE(t.add_pair(two_63, 0));
        CHECK_FALSE(t.claim_pair(u64_max, u64_max));
        CHECK_FALSE(t.remove_pair(u64_max, 0));
        CHECK_FALSE(t.exists_pair(u64_max, 0));
        CHECK_FALSE(t.id_exists(u64_max));
        CHECK(t.count() == 2);
        // An iteration over IDs the table cannot hold ends at once (the range is clamped to 2^57) instead of
        // walking 2^62 IDs that can never be claimed.
        auto w = t.iter().range(1ull << 60, (1ull << 60) + (1ull << 40)).sub_range(0, 1).write();
        CHECK_FALSE(w.next().has_value());
    }
    SECTION("max_id * max_sub_id beyond 2^63 is rejected at construction") {
        REQUIRE_THROWS_EXACTLY(std::invalid_argument,
                               PrefixTracker(TrackerConfig::hierarchical("h:").with_max_id(1ull << 40).with_max_sub_id(
                                   1ull << 30)));
    }
}

TEST_CASE("tracker config: max_id and max_sub_id of 0 or beyond 2^63 throw invalid_argument",
          "[bad-input][tracker]") {
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, TrackerConfig::simple("k:").with_max_id(0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, TrackerConfig::simple("k:").with_max_id(two_63 + 1));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, TrackerConfig::simple("k:").with_max_id(u64_max));
    CHECK(TrackerConfig::simple("k:").with_max_id(two_63).max_id() == two_63);
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, TrackerConfig::hierarchical("h:").with_max_sub_id(0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, TrackerConfig::hierarchical("h:").with_max_sub_id(u64_max));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, TrackerConfig::simple("k:").with_max_sub_id(4));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, TrackerConfig::simple("k:").with_initial_capacity(u64_max));
}

// ---- ranges ----------------------------------------------------------------------------------------------------

TEST_CASE("reversed ranges throw invalid_argument everywhere a range enters", "[bad-input][range]") {
    AtomicBitmap bm;
    bm.set(5);
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, bm.set_range(10, 9));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, bm.clear_range(10, 9));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, bm.count_range(u64_max, 0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, bm.for_each_set(1, 0, [](std::uint64_t) {}));
    CHECK(bm.count() == 1);
    PrefixTracker t("k:");
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.add_range(10, 9));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.remove_range(u64_max, 0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().range(10, 9));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().min(10).max(9).sequential());
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().range_percent(0.6, 0.5));
    PrefixTracker h = PrefixTracker::hierarchical("h:");
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, h.iter().sub_range(3, 2));
}

TEST_CASE("empty ranges change nothing and yield nothing", "[bad-input][range]") {
    AtomicBitmap bm;
    bm.set(7);
    for (std::uint64_t b : {std::uint64_t{0}, std::uint64_t{7}, two_63, u64_max}) {
        CHECK(bm.set_range(b, b) == 0); // even at or beyond 2^63: nothing to set
        CHECK(bm.clear_range(b, b) == 0);
        CHECK(bm.count_range(b, b) == 0);
        CHECK(bm.find_next_set(b, b) == std::nullopt);
        CHECK(bm.find_next_unset(b, b) == std::nullopt);
        int calls = 0;
        bm.for_each_set(b, b, [&](std::uint64_t) { ++calls; });
        CHECK(calls == 0);
    }
    CHECK(bm.count() == 1);
    PrefixTracker t("k:", 100);
    t.add(7);
    CHECK(t.add_range(7, 7) == 0);
    CHECK(t.remove_range(7, 7) == 0);
    CHECK(drain_ids(t.iter().range(7, 7).sequential()).empty());
    CHECK(drain_ids(t.iter().range(7, 7).random()).empty());
    CHECK_FALSE(t.iter().range(7, 7).write().next().has_value());
    auto e = t.iter().range(7, 7).erase();
    REQUIRE(e.has_value());
    CHECK_FALSE(e->next().has_value());
    CHECK(t.count() == 1);
}

TEST_CASE("ranges reaching UINT64_MAX are clamped to the ID space (reads) or throw length_error (bitmap writes)",
          "[bad-input][range]") {
    AtomicBitmap bm;
    bm.set(3);
    bm.set(two_63 - 1);
    const std::uint64_t before = bm.count();
    REQUIRE_THROWS_EXACTLY(std::length_error, bm.set_range(two_63 - 10, u64_max));
    REQUIRE_THROWS_EXACTLY(std::length_error, bm.set_range(0, two_63 + 1));
    CHECK(bm.count() == before); // nothing set
    CHECK(bm.set_range(two_63 - 10, two_63) == 9);
    CHECK(bm.count_range(0, u64_max) == 11);
    std::uint64_t seen = 0;
    bm.for_each_set(0, u64_max, [&](std::uint64_t) { ++seen; });
    CHECK(seen == 11);
    CHECK(bm.find_next_set(4, u64_max) == two_63 - 10);
    CHECK(bm.find_next_unset(two_63 - 10, u64_max) == std::nullopt);
    CHECK(bm.clear_range(0, u64_max) == 11);
    CHECK(bm.empty());

    PrefixTracker bounded("k:", 1000);
    CHECK(bounded.add_range(990, u64_max) == 10); // clamped to max_id
    CHECK(bounded.remove_range(0, u64_max) == 10);
    PrefixTracker unbounded("k:");
    CHECK(unbounded.add_range(two_63 - 5, u64_max) == 5); // clamped to 2^63
    CHECK(drain_ids(unbounded.iter().range(0, u64_max).set_only().sequential()).size() == 5);
    CHECK(drain_ids(unbounded.iter().min(two_63 - 3).set_only().sequential()).size() == 3);
    CHECK(unbounded.remove_range(0, u64_max) == 5);
    CHECK(unbounded.empty());
}

// ---- probabilities ---------------------------------------------------------------------------------------------

TEST_CASE("NaN and infinite probabilities throw invalid_argument: sample, mixed_ratio, range_percent",
          "[bad-input][probability]") {
    PrefixTracker t("k:", 100);
    for (double p : {nan_v, inf_v, -inf_v, -0.1, 1.0 + 1e-12}) {
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().sample(p));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().mixed_ratio(p));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().range_percent(p, 1.0));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().range_percent(0.0, p));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, keyspace::SamplingConfig().with_sample(p));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, keyspace::SamplingConfig().with_mixed_ratio(p));
    }
    // The edges are valid: p = 0 keeps nothing, p = 1 everything.
    t.add_range(0, 100);
    CHECK(drain_ids(t.iter().sample(0.0).sequential()).empty());
    CHECK(drain_ids(t.iter().sample(1.0).sequential()).size() == 100);
    CHECK(drain_ids(t.iter().mixed_ratio(1.0).limit(10).random()).size() == 10);
}

TEST_CASE("NaN and infinite sampler parameters throw invalid_argument", "[bad-input][probability]") {
    using namespace keyspace;
    for (double x : {nan_v, inf_v, -inf_v}) {
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::zipfian(x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::latest_zipfian(x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::hotspot(x, 0.5));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::hotspot(0.2, x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::latest(x, 0.5));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::latest(0.2, x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::exponential(x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::normal(x, 0.1));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::normal(0.5, x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, ZipfDistribution(100, x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, HotspotDistribution(100, x, 0.5));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, LatestDistribution(100, 0.2, x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, ExponentialDistribution(100, x));
        REQUIRE_THROWS_EXACTLY(std::invalid_argument, NormalDistribution(100, x, 0.1));
    }
    // n = 0 is bad input of the same kind.
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, UniformDistribution(0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, ZipfDistribution(0, 1.0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, AccessDistribution::uniform().make_sampler(0));
}

// ---- partitions ------------------------------------------------------------------------------------------------

TEST_CASE("partition(i, n) with i >= n, and n = 0, throw invalid_argument", "[bad-input][partition]") {
    PrefixTracker t("k:", 100);
    t.add_range(0, 100);
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().partition(3, 3));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().partition(u64_max, 3));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().partition(0, 0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().slice(5, 5));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().slice(0, 0));
    REQUIRE_THROWS_EXACTLY(std::invalid_argument, t.iter().partitioned(0));
    // More partitions than keys is valid: the extra ones are empty.
    auto parts = t.iter().range(0, 3).partitioned(5);
    std::size_t total = 0;
    for (auto& p : parts) total += drain_ids(p).size();
    CHECK(total == 3);
    CHECK(drain_ids(t.iter().partition(u64_max - 1, u64_max)).size() <= 1);
}

// ---- seeds -----------------------------------------------------------------------------------------------------

TEST_CASE("seeds 0 and UINT64_MAX give working, distinct, reproducible generators and permutations",
          "[bad-input][seed]") {
    for (std::uint64_t seed : {std::uint64_t{0}, u64_max}) {
        keyspace::Rng a(seed), b(seed);
        std::set<std::uint64_t> outs;
        for (int i = 0; i < 64; ++i) {
            const std::uint64_t x = a();
            CHECK(x == b());
            outs.insert(x);
        }
        CHECK(outs.size() == 64); // not stuck (xoshiro's all-zero state is unreachable through splitmix64)

        keyspace::Permutation perm(1000, seed);
        std::set<std::uint64_t> image;
        for (std::uint64_t k = 0; k < 1000; ++k) {
            const std::uint64_t v = perm.at(k);
            CHECK(perm.inverse(v) == k);
            image.insert(v);
        }
        CHECK(image.size() == 1000);

        PrefixTracker t("k:", 500);
        t.add_range(0, 500);
        const auto first = drain_ids(t.iter().seed(seed).random());
        CHECK(first == drain_ids(t.iter().seed(seed).random()));
        CHECK(std::set<std::uint64_t>(first.begin(), first.end()).size() == 500);
    }
    keyspace::Rng zero(0), ones(u64_max);
    CHECK(zero() != ones());
}

// ---- allocation failure ----------------------------------------------------------------------------------------

TEST_CASE("allocation failure during growth throws bad_alloc and leaves the bitmap consistent and usable",
          "[bad-input][alloc]") {
    // Unreserved: growth allocates the tree's chunks from ID 64 on (a reserved first segment takes 2^33 bits
    // without allocating; see the test below).
    AtomicBitmap bm(std::in_place, keyspace::detail::unreserved, 64);
    bm.set(1);
    bm.set(63);
    {
        FailGrowth fail(0); // every growth allocation fails
        REQUIRE_THROWS_EXACTLY(std::bad_alloc, bm.set(1'000'000));
        REQUIRE_THROWS_EXACTLY(std::bad_alloc, bm.test_and_set(5'000'000));
        CHECK(bm.set(2)); // no growth needed: works
    }
    CHECK(FailGrowth::failures() >= 2);
    CHECK(bm.count() == 3);
    CHECK_FALSE(bm.test(1'000'000));
    CHECK(bm.find_next_set(64) == std::nullopt);
    CHECK(bm.count_range(0, u64_max) == 3);

    // Fail midway through a range that spans several chunks: the prefix that was set is counted exactly.
    {
        FailGrowth fail(3); // the root and one chunk succeed, later chunks fail
        REQUIRE_THROWS_EXACTLY(std::bad_alloc, bm.set_range(65536, 65536 * 5));
    }
    CHECK(bm.count() == bm.count_range(0, u64_max));
    std::uint64_t visited = 0;
    bm.for_each_set(0, u64_max, [&](std::uint64_t) { ++visited; });
    CHECK(visited == bm.count());

    // Usable afterwards: the same writes now succeed.
    CHECK(bm.set(1'000'000));
    CHECK(bm.test_and_set(5'000'000));
    bm.set_range(65536, 65536 * 5);
    CHECK(bm.count_range(65536, 65536 * 5) == 65536 * 4);
    CHECK(bm.count() == 3 + 2 + 65536 * 4);
    CHECK(bm.count() == bm.count_range(0, u64_max));
}

TEST_CASE("growth inside the reserved first segment allocates nothing, past it failure is as in the tree",
          "[bad-input][alloc]") {
    AtomicBitmap bm(64);
    if (!bm.storage().reserved()) return; // no reservation here: the test above covers the tree
    const std::uint64_t end = bm.storage().contiguous_words() * 64;
    {
        FailGrowth fail(0);
        CHECK(bm.set(1'000'000));
        CHECK(bm.test_and_set(end - 1));
        REQUIRE_THROWS_EXACTLY(std::bad_alloc, bm.set(end));
    }
    CHECK(bm.count() == 2);
    CHECK_FALSE(bm.test(end));
    CHECK(bm.count_range(0, u64_max) == 2);
    CHECK(bm.set(end));
    CHECK(bm.count() == 3);
}

TEST_CASE("allocation failure while a hierarchical tracker grows leaves it consistent and usable",
          "[bad-input][alloc]") {
    PrefixTracker t = PrefixTracker::hierarchical("h:");
    CHECK(t.add_pair(1, 1));
    {
        FailGrowth fail(0);
        REQUIRE_THROWS_EXACTLY(std::bad_alloc, t.add_pair(10'000'000, 1)); // a new table chunk for the ID
        REQUIRE_THROWS_EXACTLY(std::bad_alloc, t.add_pair(1, 1'000'000));  // the sub-bitmap grows
    }
    CHECK(t.count() == 1);
    CHECK_FALSE(t.exists_pair(10'000'000, 1));
    CHECK_FALSE(t.id_exists(10'000'000));
    CHECK(t.sub_count(1) == 1);
    CHECK(t.add_pair(10'000'000, 1));
    CHECK(t.add_pair(1, 1'000'000));
    CHECK(t.count() == 3);
    std::vector<Key> keys;
    for (auto k : t.iter().range(0, 20'000'000).sub_range(0, 2'000'000).set_only().sequential()) keys.push_back(k);
    CHECK(keys == std::vector<Key>{{1, 1}, {1, 1'000'000}, {10'000'000, 1}});
}

TEST_CASE("allocation failure at any step of adding a pair to a new ID leaves the tracker consistent",
          "[bad-input][alloc]") {
    // Adding (70000, 0) to an empty table-mode tracker allocates the ID table's nodes and chunk, a sub-bitmap, and
    // a chunk of the ID bitmap. Fail after each number of successful growth allocations in turn.
    for (int after = 0; after < 12; ++after) {
        PrefixTracker t = PrefixTracker::hierarchical("h:");
        bool added = false;
        {
            FailGrowth fail(after);
            try {
                added = t.add_pair(70000, 0);
            } catch (const std::bad_alloc&) {
                added = false;
            }
        }
        INFO("growth allocations allowed: " << after);
        CHECK(t.count() == (added ? 1u : 0u));
        CHECK(t.exists_pair(70000, 0) == added);
        CHECK(t.id_exists(70000) == added);
        CHECK(t.add_pair(70000, 0) == !added); // usable: the add now succeeds (or finds the pair)
        CHECK(t.add_pair(70000, 5));
        CHECK(t.count() == 2);
        CHECK(t.sub_count(70000) == 2);
        std::vector<Key> keys;
        for (auto k : t.iter().range(0, 100000).sub_range(0, 10).set_only().sequential()) keys.push_back(k);
        CHECK(keys == std::vector<Key>{{70000, 0}, {70000, 5}});
    }
}
