// Cluster slots: key_slot against known values and the hash-tag rule, SlotSet, SlotTags, SlotIds.
#include "catch.hpp"

#include <keyspace/toolkit/cluster.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using keyspace::KeyFormatter;
using keyspace::SlotIds;
using keyspace::SlotSet;
using keyspace::SlotTags;
using keyspace::key_slot;

TEST_CASE("key_slot gives Redis's slots for known keys", "[toolkit][cluster]") {
    CHECK(keyspace::crc16_xmodem("123456789") == 0x31C3); // the CRC16/XMODEM check value
    CHECK(key_slot("foo") == 12182u);
    CHECK(key_slot("bar") == 5061u);
    CHECK(key_slot("hello") == 866u);
    CHECK(key_slot("") == 0u);
    static_assert(key_slot("foo") == 12182u); // usable at compile time
}

TEST_CASE("key_slot follows the hash-tag rule", "[toolkit][cluster]") {
    CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
    CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
    CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));  // the first {…} counts
    CHECK(key_slot("foo{}{bar}") == key_slot("foo{}{bar}")); // empty tag: the whole key
    CHECK(key_slot("foo{}{bar}") != key_slot("bar"));
    CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar")); // from the first { to the first } after it
    CHECK(key_slot("foo{bar") == keyspace::crc16_xmodem("foo{bar") % 16384u); // no closing brace: whole key
    CHECK(key_slot("user{abc}:000000000042") == key_slot("abc"));
}

TEST_CASE("SlotSet parses inclusive ranges and rejects bad items clearly", "[toolkit][cluster]") {
    const SlotSet s = SlotSet::parse("0-5460, 10923 ,16383");
    CHECK(s.size() == 5461u + 2u);
    CHECK(s.contains(0));
    CHECK(s.contains(5460));
    CHECK_FALSE(s.contains(5461));
    CHECK(s.contains(10923));
    CHECK(s.contains(16383));
    CHECK_FALSE(s.contains(16384));
    CHECK(s.next(5461) == 10923u);
    CHECK(s.next(16383) == 16383u);
    CHECK(SlotSet::all().size() == 16384u);
    CHECK(SlotSet().empty());
    CHECK_FALSE(SlotSet().next(0).has_value());
    CHECK_THROWS_WITH(SlotSet::parse("0-16384"), Catch::Contains("16384"));
    CHECK_THROWS_WITH(SlotSet::parse("5-3"), Catch::Contains("ends before it starts"));
    CHECK_THROWS_WITH(SlotSet::parse("1,,2"), Catch::Contains("is empty"));
    CHECK_THROWS_WITH(SlotSet::parse("x"), Catch::Contains("'x'"));
    CHECK_THROWS_AS(SlotSet().add_range(3, 2), std::invalid_argument);
    CHECK_THROWS_AS(SlotSet().add(16384), std::invalid_argument);
}

TEST_CASE("SlotTags gives every slot a 3-character tag that hashes to it", "[toolkit][cluster]") {
    const SlotTags& tags = SlotTags::instance();
    std::set<std::string> distinct;
    for (std::uint32_t s = 0; s < keyspace::cluster_slot_count; ++s) {
        const std::string_view t = tags.tag_for_slot(s);
        REQUIRE(t.size() == SlotTags::tag_size);
        REQUIRE(t.find_first_of("{}") == std::string_view::npos);
        REQUIRE(key_slot(t) == s);
        distinct.emplace(t);
    }
    CHECK(distinct.size() == keyspace::cluster_slot_count);
    const KeyFormatter f("user");
    for (std::uint64_t id = 0; id < 100000; id += 37)
        REQUIRE(key_slot(f.to_string(id, tags.tag_for_id(id))) == SlotTags::slot_of(id));
}

TEST_CASE("tagged IDs spread evenly over the slots", "[toolkit][cluster]") {
    std::vector<std::uint32_t> per_slot(keyspace::cluster_slot_count, 0);
    const std::uint64_t b = 12345, n = 1'000'000;
    for (std::uint64_t id = b; id < b + n; ++id) ++per_slot[SlotTags::slot_of(id)];
    const auto [lo, hi] = std::minmax_element(per_slot.begin(), per_slot.end());
    CHECK(*hi - *lo <= 1u);
}

TEST_CASE("SlotIds::tagged yields exactly the IDs of the slot set, ascending", "[toolkit][cluster]") {
    const SlotSet slots = SlotSet::parse("3,100-200,16383");
    std::vector<std::uint64_t> expect;
    const std::uint64_t b = 16380, e = 16384 * 5 + 150;
    for (std::uint64_t id = b; id < e; ++id)
        if (slots.contains(SlotTags::slot_of(id))) expect.push_back(id);
    std::vector<std::uint64_t> got;
    for (const std::uint64_t id : SlotIds::tagged(slots, b, e)) got.push_back(id);
    CHECK(got == expect);
    auto none = SlotIds::tagged(SlotSet(), 0, 1'000'000);
    CHECK_FALSE(none.next().has_value());
    auto top = SlotIds::tagged(SlotSet::parse("0"), ~0ull - 100, ~0ull);
    CHECK_FALSE(top.next().has_value()); // no overflow near 2^64
    CHECK_THROWS_AS(SlotIds::tagged(slots, 5, 4), std::invalid_argument);
}

TEST_CASE("SlotIds::by_key yields the IDs whose formatted key is in the set", "[toolkit][cluster]") {
    const KeyFormatter f("bench");
    const SlotSet slots = SlotSet::parse("0-5460");
    std::vector<std::uint64_t> expect;
    for (std::uint64_t id = 0; id < 20000; ++id)
        if (slots.contains(key_slot(f.to_string(id)))) expect.push_back(id);
    std::vector<std::uint64_t> got;
    for (const std::uint64_t id : SlotIds::by_key(slots, f, 0, 20000)) got.push_back(id);
    CHECK(got == expect);
    // about a third of the slots: about a third of the IDs
    CHECK(got.size() > 20000u * 30 / 100);
    CHECK(got.size() < 20000u * 37 / 100);
}

TEST_CASE("a prefix with '{' is rejected where it enters: it would capture the hash of tagged keys",
          "[toolkit][cluster][bad-input]") {
    // With "we{ird", the key "we{ird{tag}:…" hashes "ird{tag" (Redis takes the text between the first '{' and the
    // first '}' after it), so format(id, tag_for_id(id)) would not land in slot_of(id).
    for (const std::string prefix : {"we{ird", "app{", "{", "user:{x}", "a{}b"}) {
        INFO(prefix);
        CHECK_THROWS_WITH(KeyFormatter(prefix), Catch::Contains("'" + prefix + "'") && Catch::Contains("{"));
        CHECK_THROWS_AS(KeyFormatter(prefix, "t"), std::invalid_argument);
    }
    // The tag argument gives the same key shape the brace in the prefix meant: "user:{x}:000000000042".
    CHECK(KeyFormatter("user:", "x").to_string(42) == "user:{x}:000000000042");
}

TEST_CASE("tagged keys land in slot_of(id) for every accepted prefix and separator", "[toolkit][cluster]") {
    const SlotTags& tags = SlotTags::instance();
    // '}' in the prefix or braces in the separator do not matter: the first '{' is the tag's, and so is the first
    // '}' after it.
    for (const KeyFormatter& f : {KeyFormatter("bench"), KeyFormatter("a}b"), KeyFormatter("}"), KeyFormatter(""),
                                  KeyFormatter("x", "", "{s}"), KeyFormatter("we}ird", "", "}{", 4)}) {
        INFO(f.prefix() << " " << f.separator());
        for (std::uint64_t id = 0; id < 40000; id += 3) {
            const std::string key = f.to_string(id, tags.tag_for_id(id));
            REQUIRE(key_slot(key) == SlotTags::slot_of(id));
        }
    }
    // Known values (CLUSTER KEYSLOT of a Redis 7.0 server): a '}' before the tag is ignored; a '{' before it takes
    // the hash.
    CHECK(key_slot("a}b{xyz}:1") == 7349u);
    CHECK(key_slot("xyz") == 7349u);
    CHECK(key_slot("we{ird{tag}:1") == 14888u); // = slot of "ird{tag"
    CHECK(key_slot("app{{abc}:000000000001") == 444u); // = slot of "{abc"
    CHECK(key_slot("user:{x}:000000000042") == 16287u);
    CHECK(KeyFormatter("a}b").to_string(42, tags.tag_for_slot(42)).find("a}b{") == 0);
    CHECK(key_slot(KeyFormatter("a}b").to_string(42, tags.tag_for_slot(42))) == 42u);
    // SlotIds::tagged({42}) yields IDs whose keys — from any accepted formatter — are in slot 42.
    const KeyFormatter f("a}b");
    for (const std::uint64_t id : SlotIds::tagged(SlotSet().add(42), 0, 200000))
        REQUIRE(key_slot(f.to_string(id, tags.tag_for_id(id))) == 42u);
}
