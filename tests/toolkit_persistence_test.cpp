// Persistence: round trips, and every part of a file corrupted or cut short is rejected with a clear error.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/toolkit/persistence.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using keyspace::PrefixTracker;
using keyspace::TrackerFileError;

namespace {
std::string saved(const PrefixTracker& t) {
    std::ostringstream out(std::ios::binary);
    keyspace::save_tracker(t, out);
    return out.str();
}
std::unique_ptr<PrefixTracker> loaded(const std::string& bytes) {
    std::istringstream in(bytes, std::ios::binary);
    return keyspace::load_tracker(in, "test");
}
std::string load_error(const std::string& bytes) {
    try {
        (void)loaded(bytes);
    } catch (const TrackerFileError& e) {
        return e.what();
    }
    return "no error";
}
void same_ids(const PrefixTracker& a, const PrefixTracker& b, std::uint64_t upto) {
    REQUIRE(a.count() == b.count());
    for (std::uint64_t id = 0; id < upto; ++id) REQUIRE(a.exists(id) == b.exists(id));
}
/// Rewrites the header checksum after a deliberate header change (to reach the checks behind it).
void reseal_header(std::string& f) {
    auto* p = reinterpret_cast<unsigned char*>(f.data());
    keyspace::detail::store_le64(p + 56, keyspace::detail::checksum64(std::span<const unsigned char>(p, 56)));
}
void reseal_payload(std::string& f) {
    auto* p = reinterpret_cast<unsigned char*>(f.data());
    keyspace::detail::store_le64(p + 48, keyspace::detail::checksum64(std::span<const unsigned char>(p + 64, f.size() - 64)));
    reseal_header(f);
}
PrefixTracker& sample(PrefixTracker& t) {
    keyspace_test::SplitMix r{3};
    for (int i = 0; i < 3000; ++i) t.add(r.below(90000));
    t.add_range(1000, 1300); // whole words
    return t;
}
} // namespace

TEST_CASE("a saved tracker loads back with the same prefix, bound and IDs", "[toolkit][persistence]") {
    PrefixTracker bounded("user:{x}", 100003);
    sample(bounded);
    bounded.add(100002);
    const auto b = loaded(saved(bounded));
    CHECK(b->prefix() == "user:{x}");
    CHECK(b->max_id() == 100003u);
    same_ids(bounded, *b, 100003);

    PrefixTracker unbounded(std::string("bin\0ary", 7));
    sample(unbounded);
    unbounded.add(5'000'000);
    const auto u = loaded(saved(unbounded));
    CHECK(u->prefix() == std::string("bin\0ary", 7));
    CHECK_FALSE(u->max_id().has_value());
    same_ids(unbounded, *u, 5'000'001);

    PrefixTracker empty("e:");
    const std::string f = saved(empty);
    CHECK(f.size() == 64u + 2u);
    const auto e = loaded(f);
    CHECK(e->empty());
    CHECK(e->prefix() == "e:");
}

TEST_CASE("save and load through a file, and a missing file is a clear error", "[toolkit][persistence]") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("keyspace_persist_" + std::to_string(keyspace_test::SplitMix{
                                                                 static_cast<std::uint64_t>(::time(nullptr))}.next()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "t.ksp";
    PrefixTracker t("f:", 70000);
    sample(t);
    keyspace::save_tracker(t, path);
    CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    const auto back = keyspace::load_tracker(path);
    same_ids(t, *back, 70000);
    CHECK_THROWS_WITH(keyspace::load_tracker(dir / "absent.ksp"), Catch::Contains("absent.ksp") && Catch::Contains("cannot open"));
    CHECK_THROWS_AS(keyspace::save_tracker(t, dir / "no" / "such" / "dir.ksp"), TrackerFileError);
    auto h = PrefixTracker::hierarchical("h:");
    CHECK_THROWS_AS(keyspace::save_tracker(h, dir / "h.ksp"), std::invalid_argument);
    CHECK_FALSE(std::filesystem::exists(dir / "h.ksp.tmp"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a file cut short anywhere is rejected as truncated", "[toolkit][persistence]") {
    PrefixTracker t("trunc:", 50000);
    sample(t);
    const std::string f = saved(t);
    REQUIRE(loaded(f)->count() == t.count());
    for (std::size_t cut : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{63}, std::size_t{64},
                            std::size_t{66}, std::size_t{70}, std::size_t{71}, f.size() / 2, f.size() - 8,
                            f.size() - 1}) {
        INFO("cut at " << cut);
        const std::string e = load_error(f.substr(0, cut));
        CHECK(e.find("truncated") != std::string::npos);
        CHECK(e.find("'test'") != std::string::npos);
    }
    CHECK(load_error(f + "x").find("trailing bytes") != std::string::npos);
}

TEST_CASE("a flipped bit in any part of a file is rejected, naming the part", "[toolkit][persistence]") {
    PrefixTracker t("flip:", 50000);
    sample(t);
    const std::string f = saved(t);
    const auto flipped = [&](std::size_t at) {
        std::string g = f;
        g[at] = static_cast<char>(g[at] ^ 0x10);
        return load_error(g);
    };
    CHECK(flipped(0).find("bad magic") != std::string::npos);
    CHECK(flipped(7).find("bad magic") != std::string::npos);
    for (std::size_t at : {8, 12, 16, 24, 32, 40, 44, 48, 56, 63}) {
        INFO("byte " << at);
        const std::string e = flipped(at);
        CHECK((e.find("header checksum mismatch") != std::string::npos || e.find("version") != std::string::npos));
    }
    CHECK(flipped(64).find("payload checksum mismatch") != std::string::npos); // the prefix
    CHECK(flipped(70).find("payload checksum mismatch") != std::string::npos); // payload, first word
    CHECK(flipped(f.size() / 2).find("payload checksum mismatch") != std::string::npos);
    CHECK(flipped(f.size() - 1).find("payload checksum mismatch") != std::string::npos);
    // Every single-bit flip anywhere is caught.
    for (std::size_t at = 0; at < f.size(); at += 7) {
        std::string g = f;
        g[at] = static_cast<char>(g[at] ^ (1 << (at % 8)));
        REQUIRE(load_error(g) != "no error");
    }
}

TEST_CASE("consistent-looking files with bad contents are rejected", "[toolkit][persistence]") {
    PrefixTracker t("c:", 1000);
    t.add_range(0, 10);
    t.add(999);
    const std::string f = saved(t);
    const auto p = [](std::string& g) { return reinterpret_cast<unsigned char*>(g.data()); };

    std::string v2 = f;
    keyspace::detail::store_le32(p(v2) + 8, 2);
    reseal_header(v2);
    CHECK(load_error(v2).find("format version 2 is not supported") != std::string::npos);

    std::string count = f;
    keyspace::detail::store_le64(p(count) + 32, 12);
    reseal_header(count);
    CHECK(load_error(count).find("the header says 12") != std::string::npos);

    std::string flags = f;
    keyspace::detail::store_le32(p(flags) + 12, 3);
    reseal_header(flags);
    CHECK(load_error(flags).find("unknown flags") != std::string::npos);

    std::string beyond = f; // shrink max_id below the stored ID 999, in the same last word
    keyspace::detail::store_le64(p(beyond) + 16, 990);
    reseal_header(beyond);
    CHECK(load_error(beyond).find("at or above max_id") != std::string::npos);

    std::string zero_max = f;
    keyspace::detail::store_le64(p(zero_max) + 16, 0);
    reseal_header(zero_max);
    CHECK(load_error(zero_max).find("outside [1, 2^63]") != std::string::npos);

    std::string big = f; // a payload larger than max_id
    keyspace::detail::store_le64(p(big) + 16, 64);
    reseal_header(big);
    CHECK(load_error(big).find("larger than max_id") != std::string::npos);

    std::string huge = f; // a header claiming an enormous payload: truncated, without allocating it
    keyspace::detail::store_le32(p(huge) + 12, 0);
    keyspace::detail::store_le64(p(huge) + 24, 1ull << 50);
    reseal_header(huge);
    CHECK(load_error(huge).find("truncated in the payload") != std::string::npos);

    std::string prefix = f;
    keyspace::detail::store_le32(p(prefix) + 40, 2u << 20);
    reseal_header(prefix);
    CHECK(load_error(prefix).find("prefix length") != std::string::npos);

    std::string zero_tail = f; // the last word emptied, checksums redone
    const std::size_t last = zero_tail.size() - 8;
    for (std::size_t i = last; i < zero_tail.size(); ++i) zero_tail[i] = 0;
    keyspace::detail::store_le64(p(zero_tail) + 32, 10);
    reseal_payload(zero_tail);
    CHECK(load_error(zero_tail).find("last payload word is empty") != std::string::npos);

    CHECK(load_error("not a tracker file at all, but long enough to have a header of sixty-four bytes")
              .find("bad magic") != std::string::npos);
}
