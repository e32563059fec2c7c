// Persistence: round trips, and every part of a file corrupted or cut short is rejected with a clear error.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/toolkit/persistence.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
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

TEST_CASE("save and load take a path as a std::filesystem::path or a string, with or without a directory",
          "[toolkit][persistence]") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("keyspace_paths_" + std::to_string(keyspace_test::SplitMix{
                                                               static_cast<std::uint64_t>(::time(nullptr))}.next()));
    std::filesystem::create_directories(dir);
    PrefixTracker t("p:", 5000);
    sample(t);
    const std::string as_string = (dir / "s.ksp").string();
    keyspace::save_tracker(t, as_string.c_str()); // const char*
    same_ids(t, *keyspace::load_tracker(as_string), 5000);
    keyspace::save_tracker(t, std::string_view(as_string), keyspace::Durability::NotDurable);
    same_ids(t, *keyspace::load_tracker(dir / "s.ksp"), 5000);
    CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator{}) == 1);
    // No directory part: the file and its temporary go to the working directory, which is synced.
    const std::string bare = "keyspace_bare_" + dir.filename().string() + ".ksp";
    keyspace::save_tracker(t, bare);
    CHECK(std::filesystem::exists(bare));
    same_ids(t, *keyspace::load_tracker(bare.c_str()), 5000);
    std::filesystem::remove(bare);
    // A directory is not a tracker file: the read fails with the name in the message.
    CHECK_THROWS_WITH(keyspace::load_tracker(dir), Catch::Contains(dir.string()));
    std::filesystem::remove_all(dir);
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

    std::string v3 = f;
    keyspace::detail::store_le32(p(v3) + 8, 3);
    reseal_header(v3);
    CHECK(load_error(v3).find("format version 3 is not supported") != std::string::npos);

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
    CHECK(load_error(zero_tail).find("ends with an empty word") != std::string::npos);

    // The segments of the payload (version 2): [first word, word count, words...] ascending. This file holds two:
    // word 0 (IDs 0..9) at payload words 0..2 and word 15 (ID 999) at payload words 3..5.
    const std::size_t payload_at = 64 + 2;
    const auto set_word = [&](std::string& g, std::size_t k, std::uint64_t v) {
        keyspace::detail::store_le64(p(g) + payload_at + 8 * k, v);
        reseal_payload(g);
    };
    REQUIRE(f.size() == payload_at + 6 * 8);
    std::string overlap = f;
    set_word(overlap, 3, 0);
    CHECK(load_error(overlap).find("overlap or are out of order") != std::string::npos);
    std::string long_segment = f;
    set_word(long_segment, 1, 5);
    CHECK(load_error(long_segment).find("does not fit the payload") != std::string::npos);
    std::string empty_segment = f;
    set_word(empty_segment, 4, 0);
    CHECK(load_error(empty_segment).find("does not fit the payload") != std::string::npos);
    std::string past_max = f;
    set_word(past_max, 3, 16);
    CHECK(load_error(past_max).find("larger than max_id") != std::string::npos);

    CHECK(load_error("not a tracker file at all, but long enough to have a header of sixty-four bytes")
              .find("bad magic") != std::string::npos);
}

namespace {
/// A fresh directory under the system's temporary directory, removed with its contents.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        static std::atomic<int> n{0};
        path = std::filesystem::temp_directory_path() /
               ("keyspace_persist_" +
                std::to_string(keyspace_test::SplitMix{static_cast<std::uint64_t>(
                                   std::chrono::steady_clock::now().time_since_epoch().count())}
                                   .next()) +
                "_" + std::to_string(n++));
        std::filesystem::create_directories(path);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    [[nodiscard]] std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
        return names;
    }
};

/// The state saved as "s<n>": IDs [0, n) of a tracker whose prefix names n.
std::unique_ptr<PrefixTracker> state(std::uint64_t n) {
    std::string prefix = "s";
    prefix += std::to_string(n);
    auto t = std::make_unique<PrefixTracker>(std::move(prefix), 1u << 16);
    t->add_range(0, n);
    return t;
}
} // namespace

TEST_CASE("concurrent saves to one path never show a reader a torn, empty or mixed file",
          "[toolkit][persistence][stress]") {
    TempDir dir;
    const auto path = dir.path / "shared.ksp";
    keyspace::save_tracker(*state(1), path, keyspace::Durability::NotDurable);
    const unsigned savers = keyspace_test::stress_threads(), readers = 2;
    const auto run_for = std::chrono::milliseconds(400);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> saves{0}, loads{0}, failures{0};
    std::vector<std::string> errors(savers + readers);
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < savers; ++i)
        threads.emplace_back([&, i] {
            // Each saver writes its own states: sizes differ by saver and round, several words to tens of KiB.
            for (std::uint64_t round = 0; !stop.load(std::memory_order_relaxed); ++round) {
                const auto t = state(2 + (i * 7919 + round * 104729) % 60000);
                try {
                    keyspace::save_tracker(*t, path, round % 2 == 0 ? keyspace::Durability::NotDurable
                                                                    : keyspace::Durability::Durable);
                    saves.fetch_add(1, std::memory_order_relaxed);
                } catch (const std::exception& e) {
                    failures.fetch_add(1, std::memory_order_relaxed);
                    errors[i] = e.what();
                }
            }
        });
    for (unsigned r = 0; r < readers; ++r)
        threads.emplace_back([&, r] {
            while (!stop.load(std::memory_order_relaxed)) {
                try {
                    const auto t = keyspace::load_tracker(path);
                    // A whole state: prefix "s<n>", exactly the IDs [0, n).
                    const std::uint64_t n = std::stoull(t->prefix().substr(1));
                    if (t->count() != n || !t->exists(n - 1) || t->exists(n))
                        throw std::runtime_error("mixed state " + t->prefix() + " with " + std::to_string(t->count()) +
                                                 " IDs");
                    loads.fetch_add(1, std::memory_order_relaxed);
                } catch (const std::exception& e) {
                    failures.fetch_add(1, std::memory_order_relaxed);
                    errors[savers + r] = e.what();
                }
            }
        });
    std::this_thread::sleep_for(run_for);
    stop = true;
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e == "");
    CHECK(failures.load() == 0);
    CHECK(saves.load() >= savers);
    CHECK(loads.load() > 0);
    CHECK(dir.entries() == std::vector<std::string>{"shared.ksp"}); // no temporary file left
}

TEST_CASE("a save never writes through a file or symlink at a temporary name", "[toolkit][persistence]") {
    TempDir dir;
    const auto path = dir.path / "t.ksp";
    const auto victim = dir.path / "victim";
    std::ofstream(victim) << "keep me";
    for (const std::string name : {"t.ksp.tmp", ".t.ksp.tmp"}) std::filesystem::create_symlink(victim, dir.path / name);
    PrefixTracker t("sym:", 1000);
    t.add_range(0, 100);
    keyspace::save_tracker(t, path);
    std::ifstream in(victim);
    std::string kept;
    std::getline(in, kept);
    CHECK(kept == "keep me");
    CHECK(keyspace::load_tracker(path)->count() == 100u);
}

TEST_CASE("a failed save leaves nothing behind", "[toolkit][persistence]") {
    TempDir dir;
    PrefixTracker long_prefix(std::string((1u << 20) + 1, 'p'), 100);
    long_prefix.add(1);
    CHECK_THROWS_WITH(keyspace::save_tracker(long_prefix, dir.path / "long.ksp"), Catch::Contains("longer than 1 MiB"));
    auto h = PrefixTracker::hierarchical("h:");
    CHECK_THROWS_AS(keyspace::save_tracker(h, dir.path / "h.ksp"), std::invalid_argument);
    std::ostringstream out;
    CHECK_THROWS_AS(keyspace::save_tracker(long_prefix, out), std::invalid_argument);
    CHECK(out.str().empty()); // rejected before anything is written
    // The rename fails: the target is a non-empty directory.
    std::filesystem::create_directories(dir.path / "taken" / "inside");
    PrefixTracker t("t:", 100);
    t.add(5);
    CHECK_THROWS_WITH(keyspace::save_tracker(t, dir.path / "taken"), Catch::Contains("cannot rename"));
    const auto left = dir.entries();
    CHECK(left == std::vector<std::string>{"taken"});
}

#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>

namespace {
struct SyncRecord {
    bool directory;
    bool target_had_this_inode; // when synced: did the final path already name the synced file?
};
std::vector<SyncRecord> sync_records;
std::filesystem::path sync_target;
void record_sync(int fd) {
    struct stat fs {}, ts {};
    REQUIRE(::fstat(fd, &fs) == 0);
    const bool target = ::stat(sync_target.c_str(), &ts) == 0 && ts.st_ino == fs.st_ino && ts.st_dev == fs.st_dev;
    sync_records.push_back({S_ISDIR(fs.st_mode), target});
}
} // namespace

TEST_CASE("a durable save syncs the file before the rename and the directory after", "[toolkit][persistence]") {
    TempDir dir;
    sync_target = dir.path / "d.ksp";
    PrefixTracker t("d:", 5000);
    t.add_range(10, 4000);
    keyspace::save_tracker(t, sync_target); // an old file to replace
    sync_records.clear();
    keyspace::detail::tracker_file_sync_observer = &record_sync;
    t.add(4999);
    keyspace::save_tracker(t, sync_target);
    const std::vector<SyncRecord> durable = sync_records;
    sync_records.clear();
    keyspace::save_tracker(t, sync_target, keyspace::Durability::NotDurable);
    const std::vector<SyncRecord> not_durable = sync_records;
    keyspace::detail::tracker_file_sync_observer = nullptr;

    REQUIRE(durable.size() == 2);
    CHECK_FALSE(durable[0].directory); // the file, synced while the path still named the old one
    CHECK_FALSE(durable[0].target_had_this_inode);
    CHECK(durable[1].directory); // then its directory, after the rename
    CHECK(not_durable.empty());
    CHECK(keyspace::load_tracker(sync_target)->count() == t.count());
}
#endif

TEST_CASE("a tracker holding one ID near 10^12 saves to a small file and loads back exactly",
          "[toolkit][persistence][sparse]") {
    const std::uint64_t far = 999'999'999'989ull;
    PrefixTracker t("far:");
    t.add(far);
    t.add(3);
    t.add(far + 64 * 100); // a second segment, 100 words further
    std::ostringstream out(std::ios::binary);
    keyspace::save_tracker(t, out);
    const std::string f = out.str();
    CHECK(f.size() <= 64 + 4 + 3 * 24);
    const auto back = loaded(f);
    CHECK(back->count() == 3u);
    CHECK(back->exists(far));
    CHECK(back->exists(3));
    CHECK(back->exists(far + 6400));
    CHECK_FALSE(back->exists(far - 1));
    CHECK_FALSE(back->exists(far + 1));

    TempDir dir;
    keyspace::save_tracker(t, dir.path / "far.ksp");
    CHECK(std::filesystem::file_size(dir.path / "far.ksp") == f.size());
    CHECK(keyspace::load_tracker(dir.path / "far.ksp")->exists(far));

    PrefixTracker bounded("far:", 1ull << 50);
    bounded.add((1ull << 50) - 1);
    const auto b = loaded(saved(bounded));
    CHECK(b->max_id() == 1ull << 50);
    CHECK(b->exists((1ull << 50) - 1));
    CHECK(b->count() == 1u);
}

namespace {
const std::filesystem::path fixtures = std::filesystem::path(__FILE__).parent_path() / "data";
} // namespace

TEST_CASE("files written on x86-64 load on every architecture, in both format versions",
          "[toolkit][persistence][portability]") {
    // tracker_v1_x86_64.ksp: written by 0.1.0 (format version 1); tracker_v2_x86_64.ksp: by this version. Both hold
    // IDs 3, 10, 17, ... below 5000, [64000, 64200) and 99999 under prefix "fixture:v<n>", max_id 100000; version 2
    // also an unbounded twin with ID 10^12 (tracker_v2_sparse_x86_64.ksp). The tests run them on AArch64 too.
    for (const int version : {1, 2}) {
        INFO("version " << version);
        const auto t = keyspace::load_tracker(fixtures / ("tracker_v" + std::to_string(version) + "_x86_64.ksp"));
        CHECK(t->prefix() == "fixture:v" + std::to_string(version));
        CHECK(t->max_id() == 100000u);
        std::uint64_t expect = 0;
        for (std::uint64_t id = 3; id < 5000; id += 7, ++expect) REQUIRE(t->exists(id));
        CHECK_FALSE(t->exists(4));
        for (std::uint64_t id = 64000; id < 64200; ++id, ++expect) REQUIRE(t->exists(id));
        CHECK(t->exists(99999));
        CHECK(t->count() == expect + 1);
    }
    const auto sparse = keyspace::load_tracker(fixtures / "tracker_v2_sparse_x86_64.ksp");
    CHECK_FALSE(sparse->max_id().has_value());
    CHECK(sparse->count() == 2u);
    CHECK(sparse->exists(1'000'000'000'000ull));
    CHECK(sparse->exists(7));
}

TEST_CASE("a version 1 file cut short, flipped or inconsistent is still rejected", "[toolkit][persistence]") {
    std::ifstream in(fixtures / "tracker_v1_x86_64.ksp", std::ios::binary);
    const std::string f{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    REQUIRE(loaded(f)->count() > 0);
    for (std::size_t cut : {std::size_t{40}, std::size_t{70}, f.size() / 2, f.size() - 1}) {
        INFO("cut at " << cut);
        CHECK(load_error(f.substr(0, cut)).find("truncated") != std::string::npos);
    }
    for (std::size_t at = 0; at < f.size(); at += 13) {
        std::string g = f;
        g[at] = static_cast<char>(g[at] ^ (1 << (at % 8)));
        REQUIRE(load_error(g) != "no error");
    }
    const auto p = [](std::string& g) { return reinterpret_cast<unsigned char*>(g.data()); };
    std::string zero_tail = f; // the last word emptied (it holds ID 99999 only), checksums redone
    for (std::size_t i = zero_tail.size() - 8; i < zero_tail.size(); ++i) zero_tail[i] = 0;
    keyspace::detail::store_le64(p(zero_tail) + 32, keyspace::detail::load_le64(p(zero_tail) + 32) - 1);
    reseal_payload(zero_tail);
    CHECK(load_error(zero_tail).find("last payload word is empty") != std::string::npos);
    std::string big = f;
    keyspace::detail::store_le64(p(big) + 16, 64);
    reseal_header(big);
    CHECK(load_error(big).find("larger than max_id") != std::string::npos);
}
