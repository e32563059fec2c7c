// Snapshots and added_since / removed_since against a model; a snapshot taken under concurrent writes.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/toolkit/snapshot.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using keyspace::PrefixTracker;
using keyspace::Snapshot;

TEST_CASE("a snapshot holds exactly the tracker's IDs and stays put afterwards", "[toolkit][snapshot]") {
    PrefixTracker t("u:", 100000);
    keyspace_test::SplitMix r{5};
    std::set<std::uint64_t> model;
    for (int i = 0; i < 5000; ++i) {
        const std::uint64_t id = r.below(100000);
        t.add(id);
        model.insert(id);
    }
    const Snapshot s(t);
    CHECK(s.prefix() == "u:");
    CHECK(s.count() == model.size());
    CHECK(s.size_bits() >= 100000u);
    std::vector<std::uint64_t> ids;
    for (const std::uint64_t id : s.ids()) ids.push_back(id);
    CHECK(ids == std::vector<std::uint64_t>(model.begin(), model.end()));
    t.add_range(0, 100000);
    CHECK(s.count() == model.size());
    for (std::uint64_t id = 0; id < 100000; id += 17) REQUIRE(s.contains(id) == (model.count(id) == 1));
    CHECK_FALSE(s.contains(1ull << 40));
}

TEST_CASE("added_since and removed_since list and count the changes word-parallel", "[toolkit][snapshot]") {
    for (const bool bounded : {true, false}) {
        auto t = bounded ? std::make_unique<PrefixTracker>("u:", 300000) : std::make_unique<PrefixTracker>("u:");
        keyspace_test::SplitMix r{9};
        std::set<std::uint64_t> before;
        for (int i = 0; i < 4000; ++i) {
            const std::uint64_t id = r.below(200000);
            t->add(id);
            before.insert(id);
        }
        const Snapshot s(*t);
        std::set<std::uint64_t> added, removed;
        for (int i = 0; i < 3000; ++i) {
            const std::uint64_t id = r.below(300000); // also beyond the snapshot's capacity (unbounded: growth)
            if (t->add(id)) added.insert(id), removed.erase(id);
        }
        for (const std::uint64_t id : before)
            if (r.below(3) == 0 && t->remove(id)) removed.insert(id), added.erase(id);
        for (int i = 0; i < 500; ++i) { // re-add some removed ones: neither added nor removed
            const std::uint64_t id = r.below(200000);
            if (removed.count(id) == 1 && t->add(id)) removed.erase(id);
        }
        const auto a = keyspace::added_since(*t, s);
        const auto d = keyspace::removed_since(*t, s);
        CHECK(a.count() == added.size());
        CHECK(d.count() == removed.size());
        CHECK(a.to_vector() == std::vector<std::uint64_t>(added.begin(), added.end()));
        std::vector<std::uint64_t> got;
        for (const std::uint64_t id : d) got.push_back(id);
        CHECK(got == std::vector<std::uint64_t>(removed.begin(), removed.end()));
        // snapshot against snapshot
        const Snapshot later(*t);
        CHECK(keyspace::added_since(later, s).count() == added.size());
        CHECK(keyspace::removed_since(later, s).count() == removed.size());
        CHECK(keyspace::added_since(later, later).empty());
        CHECK(s.count() + added.size() - removed.size() == t->count());
    }
}

TEST_CASE("snapshots reject hierarchical trackers", "[toolkit][snapshot]") {
    auto h = PrefixTracker::hierarchical("h:");
    CHECK_THROWS_WITH(Snapshot(h), Catch::Contains("hierarchical"));
}

TEST_CASE("a snapshot under concurrent writes holds every write done before it and none started after",
          "[toolkit][snapshot][stress]") {
    const std::uint64_t n = 1 << 22;
    PrefixTracker t("c:", n);
    std::atomic<std::uint64_t> progress{0}; // IDs [0, progress) are added
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (std::uint64_t id = 0; id < n && !stop.load(std::memory_order_relaxed); ++id) {
            t.add(id);
            progress.store(id + 1, std::memory_order_release);
        }
    });
    int checked = 0;
    for (int round = 0; round < 20; ++round) {
        const std::uint64_t lo = progress.load(std::memory_order_acquire);
        const Snapshot s(t);
        const std::uint64_t hi = progress.load(std::memory_order_acquire) + 1; // at most one add in flight
        REQUIRE(s.count() >= lo);
        REQUIRE(s.count() <= hi);
        for (std::uint64_t id = 0; id < lo; id += 61) REQUIRE(s.contains(id));
        REQUIRE(keyspace::added_since(s, s).empty());
        const auto ids = s.ids();
        std::uint64_t expect = 0;
        for (const std::uint64_t id : ids) { // IDs added ascending: the copy is a prefix plus at most a word's tail
            if (id >= hi) FAIL("ID " << id << " beyond the writer's progress " << hi);
            if (id != expect) break;
            ++expect;
        }
        REQUIRE(expect >= lo);
        ++checked;
    }
    stop = true;
    writer.join();
    CHECK(checked == 20);
}

TEST_CASE("snapshots and diffs of a sparse tracker cost what its IDs cost, not its highest ID",
          "[toolkit][snapshot][sparse]") {
    const std::uint64_t far = 1'000'000'000'000ull;
    PrefixTracker t("far:");
    t.add(far);
    t.add(12);
    const auto started = std::chrono::steady_clock::now();
    const Snapshot s(t); // one 8 KiB chunk committed near 10^12: the copy holds two words
    CHECK(s.count() == 2u);
    CHECK(s.contains(far));
    CHECK(s.contains(12));
    CHECK_FALSE(s.contains(far + 1));
    CHECK(s.ids().to_vector() == std::vector<std::uint64_t>{12, far});
    t.add(far + 70'000); // another chunk
    t.remove(12);
    CHECK(keyspace::added_since(t, s).to_vector() == std::vector<std::uint64_t>{far + 70'000});
    CHECK(keyspace::removed_since(t, s).to_vector() == std::vector<std::uint64_t>{12});
    const Snapshot later(t);
    CHECK(keyspace::added_since(later, s).count() == 1u);
    CHECK(keyspace::removed_since(later, s).count() == 1u);
    CHECK_FALSE(keyspace::added_since(t, later).to_vector().size() > 0);
    // A full pass over 10^12 IDs would take minutes; skipping what is not committed takes microseconds.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

TEST_CASE("a snapshot keeps only runs of words holding IDs", "[toolkit][snapshot][sparse]") {
    PrefixTracker t("runs:", 1u << 20);
    t.add_range(0, 64 * 3);          // words 0..2
    t.add(64 * 5);                   // word 5: two empty words between, kept in the same run
    t.add(64 * 100 + 1);             // word 100: a run of its own
    t.add_range(64 * 9000, 64 * 9002); // words 9000..9001
    const Snapshot s(t);
    REQUIRE(s.run_count() == 3);
    CHECK(s.run(0).first_word == 0);
    CHECK(s.run(0).words.size() == 6);
    CHECK(s.run(1).first_word == 100);
    CHECK(s.run(1).words.size() == 1);
    CHECK(s.run(2).first_word == 9000);
    CHECK(s.stored_words() == 6 + 1 + 2);
    CHECK(s.next_word(6) == 100);
    CHECK(s.next_word(101) == 9000);
    CHECK(s.next_word(9002) == s.size_bits() / 64);
    CHECK(s.word(5) == 1u);
    CHECK(s.word(4) == 0u);
    CHECK(s.count() == t.count());
    const Snapshot from_words(std::vector<std::uint64_t>{0, 0, 7, 0, 0, 0, 1});
    CHECK(from_words.run_count() == 2);
    CHECK(from_words.ids().to_vector() == std::vector<std::uint64_t>{128, 129, 130, 384});
}
