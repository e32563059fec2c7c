// PrefixTracker and TrackerConfig: simple and hierarchical modes, bounds, bad input.
#include "catch.hpp"

#include <keyspace/prefix_tracker.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

using keyspace::PrefixTracker;
using keyspace::TrackerConfig;

TEST_CASE("a bounded simple tracker adds, answers exists and counts", "[tracker]") {
    PrefixTracker simple(TrackerConfig::simple("vec:").with_max_id(1'000'000).with_initial_capacity(4096));
    CHECK(simple.add(0));
    CHECK(simple.add(100));
    CHECK(simple.exists(100));
    CHECK_FALSE(simple.exists(99));
    CHECK(simple.count() == 2);
    CHECK(simple.prefix() == "vec:");
    CHECK(simple.max_id() == 1'000'000u);
    CHECK(simple.capacity() == 1'000'000u);
}

TEST_CASE("a hierarchical tracker adds pairs and answers exists_pair", "[tracker][hierarchical]") {
    auto hier = PrefixTracker::hierarchical("hash:");
    CHECK(hier.add_pair(1, 0));
    CHECK(hier.add_pair(1, 5));
    CHECK(hier.add_pair(2, 10));
    CHECK(hier.exists_pair(1, 5));
    CHECK_FALSE(hier.exists_pair(1, 99));
    CHECK(hier.count() == 3);
    CHECK(hier.is_hierarchical());
}

TEST_CASE("add, remove, claim and exists report what they changed", "[tracker]") {
    PrefixTracker t("user:");
    CHECK(t.add(7));
    CHECK_FALSE(t.add(7));
    CHECK_FALSE(t.claim(7));
    CHECK(t.claim(8));
    CHECK(t.remove(7));
    CHECK_FALSE(t.remove(7));
    CHECK_FALSE(t.exists(7));
    CHECK(t.exists(8));
    CHECK(t.count() == 1);
    CHECK(t.add_range(100, 200) == 100);
    CHECK(t.add_range(150, 250) == 50);
    CHECK(t.remove_range(0, 1000) == 151);
    CHECK(t.empty());
    CHECK_THROWS_AS(t.add_range(5, 4), std::invalid_argument);
}

TEST_CASE("IDs at or beyond max_id are ignored by every member", "[tracker][bad-input]") {
    PrefixTracker t("k:", 1000);
    constexpr std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();
    for (std::uint64_t id : {std::uint64_t{1000}, std::uint64_t{1001}, keyspace::max_supported_id, max64}) {
        CHECK_FALSE(t.add(id));
        CHECK_FALSE(t.claim(id));
        CHECK_FALSE(t.remove(id));
        CHECK_FALSE(t.exists(id));
        CHECK_FALSE(t.ensure_capacity(id));
    }
    CHECK(t.add(999));
    CHECK(t.add(0));
    CHECK(t.add_range(990, max64) == 9);
    CHECK(t.count() == 11);
    PrefixTracker unbounded("u:");
    CHECK_FALSE(unbounded.add(keyspace::max_supported_id));
    CHECK(unbounded.add(keyspace::max_supported_id - 1));
    CHECK(unbounded.exists(keyspace::max_supported_id - 1));
}

TEST_CASE("an unbounded tracker grows to IDs near 10^12 on demand", "[tracker][growth]") {
    PrefixTracker t("big:");
    CHECK(t.capacity() == 4096);
    CHECK(t.add(1'000'000'000'000ull));
    CHECK(t.capacity() > 1'000'000'000'000ull);
    CHECK(t.exists(1'000'000'000'000ull));
    CHECK(t.ensure_capacity(2'000'000'000'000ull));
    CHECK(t.count() == 1);
}

TEST_CASE("pair members need a hierarchical tracker and simple members a simple one", "[tracker][bad-input]") {
    PrefixTracker simple("s:");
    auto hier = PrefixTracker::hierarchical("h:");
    CHECK_THROWS_AS(simple.add_pair(1, 1), std::logic_error);
    CHECK_THROWS_AS((void)simple.exists_pair(1, 1), std::logic_error);
    CHECK_THROWS_AS((void)simple.sub_count(1), std::logic_error);
    CHECK_THROWS_AS(hier.add(1), std::logic_error);
    CHECK_THROWS_AS(hier.claim(1), std::logic_error);
    CHECK_THROWS_AS(hier.remove(1), std::logic_error);
    CHECK_THROWS_WITH(hier.add(1), Catch::Matchers::Contains("hierarchical"));
}

TEST_CASE("config arguments are validated where they enter", "[tracker][bad-input]") {
    CHECK_THROWS_AS(TrackerConfig::simple("a:").with_max_id(0), std::invalid_argument);
    CHECK_THROWS_AS(TrackerConfig::simple("a:").with_max_id(keyspace::max_supported_id + 1), std::invalid_argument);
    CHECK_THROWS_AS(TrackerConfig::simple("a:").with_max_sub_id(10), std::invalid_argument);
    CHECK_THROWS_AS(TrackerConfig::hierarchical("a:").with_max_sub_id(0), std::invalid_argument);
    CHECK_THROWS_WITH(TrackerConfig::simple("a:").with_max_id(0), Catch::Matchers::Contains("got 0"));
    CHECK_THROWS_AS(PrefixTracker(TrackerConfig::hierarchical("a:").with_max_id(1ull << 40).with_max_sub_id(1ull << 30)),
                    std::invalid_argument);
    const auto c = TrackerConfig::hierarchical("a:").with_max_id(10).with_max_sub_id(4).with_initial_capacity(128);
    CHECK(c.prefix() == "a:");
    CHECK(c.is_hierarchical());
    CHECK(c.max_id() == 10u);
    CHECK(c.max_sub_id() == 4u);
    CHECK(c.initial_capacity() == 128u);
    CHECK(c == TrackerConfig::hierarchical("a:").with_max_id(10).with_max_sub_id(4).with_initial_capacity(128));
    CHECK_FALSE(c == TrackerConfig::hierarchical("a:").with_max_id(10));
}

TEMPLATE_TEST_CASE_SIG("hierarchical pairs keep count, id_exists and sub_count consistent", "[tracker][hierarchical]",
                       ((bool Flat), Flat), false, true) {
    auto config = TrackerConfig::hierarchical("hash:");
    if (Flat) config = config.with_max_sub_id(10'000);
    PrefixTracker t(config);
    CHECK(t.add_pair(3, 4095));
    CHECK(t.add_pair(3, 4096)); // no 4096 cap
    CHECK(t.add_pair(3, 9'999));
    CHECK_FALSE(t.add_pair(3, 9'999));
    CHECK(t.claim_pair(5, 0));
    CHECK_FALSE(t.claim_pair(5, 0));
    CHECK(t.count() == 4);
    CHECK(t.id_exists(3));
    CHECK(t.exists(3));
    CHECK(t.sub_count(3) == 3);
    CHECK(t.sub_count(5) == 1);
    CHECK_FALSE(t.id_exists(4));
    CHECK(t.sub_count(4) == 0);
    CHECK(t.remove_pair(5, 0));
    CHECK_FALSE(t.remove_pair(5, 0));
    CHECK_FALSE(t.id_exists(5));
    CHECK(t.count() == 3);
    if (Flat) {
        CHECK_FALSE(t.add_pair(1, 10'000)); // sub-ID at max_sub_id: ignored
        CHECK_FALSE(t.exists_pair(1, 10'000));
    } else {
        CHECK(t.add_pair(1, 100'000));
        CHECK(t.remove_pair(1, 100'000));
        CHECK_FALSE(t.add_pair(1, 1ull << 32)); // sub-IDs are below 2^32 without max_sub_id
    }
    t.clear();
    CHECK(t.count() == 0);
    CHECK_FALSE(t.exists_pair(3, 4096));
    CHECK(t.add_pair(3, 4096));
    CHECK(t.count() == 1);
}

TEST_CASE("concurrent add_pair on shared IDs counts every pair once", "[tracker][hierarchical][stress]") {
    auto t = PrefixTracker::hierarchical("h:");
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w)
        threads.emplace_back([&, w] {
            for (std::uint64_t id = 0; id < 2000; ++id)
                for (std::uint64_t sub = static_cast<std::uint64_t>(w); sub < 40; sub += 2) t.add_pair(id, sub);
        });
    for (auto& th : threads) th.join();
    CHECK(t.count() == 2000 * 40);
    for (std::uint64_t id = 0; id < 2000; id += 97) CHECK(t.sub_count(id) == 40);
}

TEST_CASE("a tracker costs little beyond its bits", "[tracker][memory]") {
    CHECK(sizeof(PrefixTracker) < 256);
    PrefixTracker big("big:", 1'000'000'000);
    CHECK(big.capacity() == 1'000'000'000u);
    // 10^9 bits = 125,000,000 bytes; the rest is bounded by the tree nodes of a contiguous first segment (none).
    CHECK(big.bits().memory_bytes() <= 126'000'000u);
}

TEST_CASE("layout(), bits() and sub_bitmap() expose each layout's storage, Key members dispatch by mode",
          "[tracker][hierarchical]") {
    using keyspace::Key;
    using keyspace::TrackerLayout;
    PrefixTracker simple("s:");
    CHECK(simple.layout() == TrackerLayout::simple);
    CHECK(simple.add(Key{5, 0}));
    CHECK(simple.exists(Key{5, 0}));
    CHECK(simple.bits().test(5));
    CHECK(simple.sub_bitmap(5) == nullptr);
    CHECK(simple.claim(Key{6, 0}));
    CHECK_FALSE(simple.claim(Key{6, 0}));
    CHECK(simple.remove(Key{5, 0}));

    PrefixTracker flat(TrackerConfig::hierarchical("f:").with_max_sub_id(10));
    CHECK(flat.layout() == TrackerLayout::flat);
    CHECK(flat.add(Key{3, 7}));
    CHECK(flat.bits().test(3 * 10 + 7)); // bit id * max_sub_id + sub_id
    CHECK(flat.exists(Key{3, 7}));
    CHECK_FALSE(flat.exists(Key{3, 6}));
    CHECK(flat.sub_bitmap(3) == nullptr);

    auto table = PrefixTracker::hierarchical("t:");
    CHECK(table.layout() == TrackerLayout::table);
    CHECK(table.sub_bitmap(9) == nullptr);
    CHECK(table.add(Key{9, 1u << 20}));
    CHECK(table.claim(Key{9, 3}));
    REQUIRE(table.sub_bitmap(9) != nullptr);
    CHECK(table.sub_bitmap(9)->test(1u << 20));
    CHECK(table.sub_bitmap(9)->count() == 2);
    CHECK(table.bits().test(9)); // the IDs that own a sub-bitmap
    CHECK_FALSE(table.bits().test(8));
    CHECK(table.remove(Key{9, 3}));
    CHECK(table.count() == 1);
    // The table layout's limits: IDs below 2^57, sub-IDs below 2^32; beyond them mutators return false.
    CHECK_FALSE(table.add(Key{1ull << 57, 0}));
    CHECK_FALSE(table.add(Key{1, 1ull << 32}));
    CHECK(table.sub_bitmap(1ull << 60) == nullptr);
    table.clear();
    CHECK(table.sub_bitmap(9) == nullptr);
    CHECK_FALSE(table.bits().test(9));
}
