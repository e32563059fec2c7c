// KeyFormatter: rendering, in-place ID rewrite, parsing back, bad input. GroupKeyFormatter: group items' keys.
#include "catch.hpp"

#include <keyspace/prefix_groups_tracker.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/toolkit/key_format.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using keyspace::GroupKeyFormatter;
using keyspace::KeyFormatter;
using keyspace::ParsedKey;

TEST_CASE("keys render as prefix, tag, separator and a 12-digit zero-padded ID by default", "[toolkit][key_format]") {
    const KeyFormatter plain("user");
    CHECK(plain.width() == 12u);
    CHECK(plain.to_string(42) == "user:000000000042");
    const KeyFormatter tagged("user", "a1");
    CHECK(tagged.to_string(42) == "user{a1}:000000000042");
    CHECK(tagged.to_string(7, "zz") == "user{zz}:000000000007");
    CHECK(tagged.to_string(7, "") == "user:000000000007");
    const KeyFormatter narrow("k", "", "-", 3);
    CHECK(narrow.to_string(5) == "k-005");
    CHECK(narrow.to_string(999) == "k-999");
    CHECK(narrow.to_string(1000) == "k-1000"); // more digits than the width: written in full
    CHECK(narrow.to_string(UINT64_MAX) == "k-18446744073709551615");
    CHECK(KeyFormatter("", "", ":", 20).to_string(UINT64_MAX) == ":18446744073709551615");
    CHECK(KeyFormatter("", "", ":", 20).to_string(1) == ":00000000000000000001");
}

TEST_CASE("format matches snprintf for IDs of every digit count", "[toolkit][key_format]") {
    const KeyFormatter f("bench:", "", ":", 12);
    std::array<char, 64> buf{};
    std::array<char, 64> ref{};
    std::uint64_t id = 0;
    for (int i = 0; i < 2000; ++i) {
        id = id * 7 + static_cast<std::uint64_t>(i); // wanders over all magnitudes
        if (i % 97 == 0) id = static_cast<std::uint64_t>(i);
        const std::size_t n = f.format(id, buf);
        const int m = std::snprintf(ref.data(), ref.size(), "bench::%012llu", static_cast<unsigned long long>(id));
        REQUIRE(n == static_cast<std::size_t>(m));
        REQUIRE(std::string(buf.data(), n) == std::string(ref.data(), n));
    }
}

TEST_CASE("format writes nothing and returns 0 into a buffer too small", "[toolkit][key_format]") {
    const KeyFormatter f("user", "t");
    std::array<char, 64> buf{};
    buf.fill('#');
    CHECK(f.fixed_size() == std::string("user{t}:000000000000").size());
    CHECK(f.format(1, std::span<char>(buf.data(), f.fixed_size() - 1)) == 0);
    CHECK(buf[0] == '#');
    CHECK(f.format(1, std::span<char>(buf.data(), f.fixed_size())) == f.fixed_size());
    CHECK(f.max_size() >= f.size(UINT64_MAX));
}

TEST_CASE("patch_id rewrites only the ID digits of a pre-encoded RESP command", "[toolkit][key_format]") {
    const KeyFormatter f("user", "x");
    const std::string key = f.to_string(0);
    std::string resp = "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    const std::size_t key_at = resp.find(key);
    const std::string before = resp;
    std::span<char> key_span(resp.data() + key_at, key.size());
    REQUIRE(f.patch_id(key_span, 123456789));
    CHECK(resp == "*2\r\n$3\r\nGET\r\n$20\r\nuser{x}:000123456789\r\n");
    // an ID wider than the width would change the length: refused, nothing written
    CHECK_FALSE(f.patch_id(key_span, 1'000'000'000'000ull));
    CHECK(resp == "*2\r\n$3\r\nGET\r\n$20\r\nuser{x}:000123456789\r\n");
    CHECK_FALSE(f.patch_id(std::span<char>(resp.data() + key_at, 5), 1));
    f.write_id_digits(resp.data() + key_at + f.id_offset(), 999'999'999'999ull);
    CHECK(resp == "*2\r\n$3\r\nGET\r\n$20\r\nuser{x}:999999999999\r\n");
    // a per-call tag of another length
    std::string k2 = f.to_string(0, "abcd");
    REQUIRE(f.patch_id(std::span<char>(k2.data(), k2.size()), 77, 4));
    CHECK(k2 == "user{abcd}:000000000077");
}

TEST_CASE("parse takes keys back to prefix, tag and ID", "[toolkit][key_format]") {
    const KeyFormatter f("user", "t");
    for (std::uint64_t id : std::array<std::uint64_t, 6>{0, 1, 42, 999999999999, 1000000000000, UINT64_MAX}) {
        const std::string k = f.to_string(id);
        const ParsedKey p = f.parse(k);
        CHECK(std::string(p.prefix) == "user");
        CHECK(std::string(p.hash_tag) == "t");
        CHECK(p.id == id);
    }
    CHECK(f.parse("user:000000000009") == ParsedKey{"user", "", 9});
    CHECK(f.parse("user{other}:17").id == 17u); // any tag, any digit count
    CHECK(std::string(f.parse("user{other}:17").hash_tag) == "other");
}

TEST_CASE("parse rejects malformed keys with a message naming the problem", "[toolkit][key_format]") {
    const KeyFormatter f("user");
    const auto msg = [&](const char* key) {
        try {
            (void)f.parse(key);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    CHECK(msg("usr:000000000001").find("prefix") != std::string::npos);
    CHECK(msg("user{abc:000000000001").find("closing") != std::string::npos);
    CHECK(msg("user000000000001").find("separator") != std::string::npos);
    CHECK(msg("user:").find("no ID digits") != std::string::npos);
    CHECK(msg("user:12a4").find("non-digit") != std::string::npos);
    CHECK(msg("user:18446744073709551616").find("beyond") != std::string::npos);
    CHECK(msg("user:000000000000000000001").find("more than 20") != std::string::npos);
    CHECK(msg("user:12a4").find("'user:12a4'") != std::string::npos);
    CHECK_FALSE(f.try_parse("user:x").has_value());
    CHECK(f.try_parse("user:5") == ParsedKey{"user", "", 5});
}

TEST_CASE("the formatter rejects a bad width or tag", "[toolkit][key_format]") {
    CHECK_THROWS_AS(KeyFormatter("p", "", ":", 0), std::invalid_argument);
    CHECK_THROWS_AS(KeyFormatter("p", "", ":", 21), std::invalid_argument);
    CHECK_THROWS_AS(KeyFormatter("p", "a{b", ":"), std::invalid_argument);
    CHECK_THROWS_AS(KeyFormatter("p", "a}b", ":"), std::invalid_argument);
}

TEST_CASE("an empty separator puts the ID right after the prefix and tag", "[toolkit][key_format]") {
    const KeyFormatter f("f", "", "", 4);
    CHECK(f.separator().empty());
    CHECK(f.to_string(7) == "f0007");
    CHECK(f.to_string(12345) == "f12345");
    CHECK(f.to_string(7, "t") == "f{t}0007");
    CHECK(f.id_offset() == 1u);
    CHECK(f.fixed_size() == 5u);
    CHECK(f.parse("f0007") == ParsedKey{"f", "", 7});
    CHECK(f.parse("f{t}0007") == ParsedKey{"f", "t", 7});
    CHECK_FALSE(f.try_parse("f").has_value());
    CHECK_FALSE(f.try_parse("g0007").has_value());
}

TEST_CASE("for_prefix renders a tracker's keys: its whole prefix, then the digits", "[toolkit][key_format]") {
    const keyspace::PrefixTracker users("user:", 1000);
    const KeyFormatter f = KeyFormatter::for_prefix(users.prefix());
    CHECK(f.prefix() == users.prefix());
    CHECK(f.to_string(42) == "user:000000000042");
    CHECK(f.to_string(42) == users.prefix() + "000000000042");
    CHECK(f.parse("user:000000000042") == ParsedKey{"user:", "", 42});
    // the constructor reads its first argument as the prefix before a separator: the tracker's prefix doubles it
    CHECK(KeyFormatter(users.prefix()).to_string(42) == "user::000000000042");
    // a width, and a tag after the whole prefix
    CHECK(KeyFormatter::for_prefix("f", "", 4).to_string(7) == "f0007");
    const KeyFormatter tagged = KeyFormatter::for_prefix("user:", "a1");
    CHECK(tagged.to_string(42) == "user:{a1}000000000042");
    CHECK(tagged.parse("user:{a1}000000000042") == ParsedKey{"user:", "a1", 42});
    CHECK_THROWS_AS(KeyFormatter::for_prefix("user:", "", 0), std::invalid_argument);
    CHECK_THROWS_AS(KeyFormatter::for_prefix("user:", "a{"), std::invalid_argument);
}

TEST_CASE("GroupKeyFormatter renders each group item as its tracker's for_prefix key", "[toolkit][key_format]") {
    keyspace::PrefixGroupsTracker groups;
    groups.add(keyspace::TrackerConfig::simple("user:").with_max_id(1000))->add(42);
    groups.add(keyspace::TrackerConfig::simple("f").with_max_id(1000))->add(7);
    groups.add(keyspace::TrackerConfig::hierarchical("h:").with_max_id(10).with_max_sub_id(4))->add_pair(3, 2);
    const GroupKeyFormatter keys;
    std::vector<std::string> rendered;
    std::array<char, 64> buf{};
    for (const auto& item : groups.iter().set_only().build()) {
        const std::size_t n = keys.format(item, buf);
        REQUIRE(n == keys.size(item.prefix, item.id));
        rendered.emplace_back(buf.data(), n);
        CHECK(rendered.back() == keys.to_string(item));
        // exactly the key of a KeyFormatter made from the tracker, which parses it back
        const KeyFormatter f = KeyFormatter::for_prefix(groups.get(item.prefix)->prefix());
        CHECK(rendered.back() == f.to_string(item.id));
        CHECK(keys.for_prefix(item.prefix).parse(rendered.back()) == ParsedKey{item.prefix, "", item.id});
    }
    CHECK(rendered == std::vector<std::string>{"user:000000000042", "f000000000007", "h:000000000003"});

    // a tag and a width; a buffer too small gets nothing
    const GroupKeyFormatter tagged("a1", 4);
    CHECK(tagged.hash_tag() == "a1");
    CHECK(tagged.width() == 4u);
    const keyspace::GroupItem item{"user:", 42, 0};
    CHECK(tagged.to_string(item) == "user:{a1}0042");
    CHECK(tagged.to_string(item) == KeyFormatter::for_prefix("user:", "a1", 4).to_string(42));
    CHECK(tagged.max_size("user:") == KeyFormatter::for_prefix("user:", "a1", 4).max_size());
    CHECK(tagged.to_string(keyspace::GroupItem{"f", 123456, 0}) == "f{a1}123456"); // wider than the width: in full
    std::array<char, 12> small{};
    CHECK(tagged.format(item, small) == 0u);
    CHECK(small == std::array<char, 12>{});
    std::array<char, 13> exact{};
    CHECK(tagged.format(item, exact) == 13u);
    CHECK_THROWS_AS(GroupKeyFormatter("", 0), std::invalid_argument);
    CHECK_THROWS_AS(GroupKeyFormatter("a}"), std::invalid_argument);
    CHECK_THROWS_AS(keys.for_prefix("we{ird"), std::invalid_argument);
}
