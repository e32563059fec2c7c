// Concurrency: no lost update during growth, exact counts, and every claim won exactly once. Bounded in time;
// run under ThreadSanitizer too (sizes shrink there, the invariants do not).
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/atomic_bitmap.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using keyspace::AtomicBitmap;
using keyspace_test::SplitMix;
using keyspace_test::stress_threads;

namespace {

#if defined(KEYSPACE_TSAN)
constexpr std::uint64_t scale = 2; // TSan runs 5–15x slower
#else
constexpr std::uint64_t scale = 1;
#endif

} // namespace

TEST_CASE("threads that set, clear and claim while the bitmap grows lose no update and keep count exact",
          "[bitmap][stress]") {
    // Thread t owns the IDs with id % T == t, interleaved in the same words and chunks as everyone else's, spread
    // from 0 to ~2^27 so that chunks, tree nodes and the root are created while the others write.
    AtomicBitmap bm(64);
    const unsigned T = stress_threads();
    const std::uint64_t per_thread = 60'000 / scale;
    std::vector<std::vector<bool>> expect(T);
    std::atomic<bool> go{false};
    std::atomic<std::uint64_t> failures{0}; // Catch2 assertions are not thread-safe: threads count, main checks
    const auto expect_true = [&](bool ok) {
        if (!ok) failures.fetch_add(1, std::memory_order_relaxed);
    };
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < T; ++t)
        threads.emplace_back([&, t] {
            auto& mine = expect[t];
            mine.assign(per_thread, false);
            SplitMix rng{t + 1};
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (std::uint64_t k = 0; k < per_thread; ++k) {
                const std::uint64_t id = (k * k % 2003 + k * 2048) * T + t; // growing, with back-references
                switch (rng.below(3)) {
                case 0: expect_true(bm.set(id)); break;
                case 1: expect_true(bm.test_and_set(id)); break;
                default:
                    expect_true(bm.set(id));
                    expect_true(bm.test_and_clear(id));
                    continue;
                }
                mine[k] = true;
                if (rng.below(4) == 0) { // clear an earlier ID of ours
                    const std::uint64_t j = rng.below(k + 1);
                    const std::uint64_t jid = (j * j % 2003 + j * 2048) * T + t;
                    expect_true(bm.clear(jid) == bool(mine[j]));
                    mine[j] = false;
                }
            }
        });
    go.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();
    REQUIRE(failures.load() == 0);

    std::uint64_t expected = 0;
    for (unsigned t = 0; t < T; ++t)
        for (std::uint64_t k = 0; k < per_thread; ++k) {
            const std::uint64_t id = (k * k % 2003 + k * 2048) * T + t;
            REQUIRE(bm.test(id) == bool(expect[t][k]));
            expected += expect[t][k] ? 1 : 0;
        }
    CHECK(bm.count() == expected);
    CHECK(bm.count_range(0, bm.capacity()) == expected);
    std::uint64_t visited = 0;
    bm.for_each_set(0, bm.capacity(), [&](std::uint64_t) { ++visited; });
    CHECK(visited == expected);
}

TEST_CASE("threads claiming the same 10^6 indices win each exactly once", "[bitmap][stress]") {
    const std::uint64_t n = 1'000'000 / scale;
    const unsigned T = stress_threads();
    AtomicBitmap bm(64); // claims also race on growth
    std::vector<std::vector<std::uint64_t>> won(T);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < T; ++t)
        threads.emplace_back([&, t] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            // Every thread walks all n indices, half of them forward and half backward, so claims collide.
            for (std::uint64_t k = 0; k < n; ++k) {
                const std::uint64_t i = (t % 2 == 0) ? k : n - 1 - k;
                if (bm.test_and_set(i)) won[t].push_back(i);
            }
        });
    go.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();

    std::vector<unsigned char> owners(n, 0);
    std::uint64_t total = 0;
    for (auto& w : won) {
        total += w.size();
        for (std::uint64_t i : w) REQUIRE(++owners[i] == 1);
    }
    CHECK(total == n);
    CHECK(bm.count() == n);
}

TEST_CASE("readers scanning during growth see only bits that were set, in ascending order", "[bitmap][stress]") {
    AtomicBitmap bm(64);
    const std::uint64_t n = 4'000'000 / scale;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (std::uint64_t i = 0; i < n; i += 3) bm.set(i * 7); // only multiples of 21
        done.store(true, std::memory_order_release);
    });
    std::uint64_t scans = 0;
    bool ok = true;
    while (!done.load(std::memory_order_acquire) || scans < 2) {
        std::uint64_t prev = 0, seen = 0;
        bool first = true;
        bm.for_each_set(0, bm.capacity(), [&](std::uint64_t id) {
            if (id % 21 != 0 || (!first && id <= prev)) ok = false;
            prev = id;
            first = false;
            ++seen;
        });
        const auto next = bm.find_next_set(1);
        if (next && *next % 21 != 0) ok = false;
        const auto c = bm.count_range(0, bm.capacity());
        if (c > n) ok = false;
        ++scans;
    }
    writer.join();
    CHECK(ok);
    CHECK(bm.count() == (n + 2) / 3);
}

TEST_CASE("claimers and clearers racing on the same IDs during growth: wins alternate and the count is exact",
          "[bitmap][stress]") {
    // Half the threads claim (test_and_set), half clear (test_and_clear) the same IDs, spread to ~2^24 so the
    // storage grows under them. For every ID, claims won minus clears won is its final bit (0 or 1): no win is
    // lost or doubled.
    AtomicBitmap bm(64);
    const unsigned T = std::max(4u, stress_threads()) & ~1u;
    const std::uint64_t n = 100'000 / scale;
    constexpr int passes = 40;
    const auto id_of = [](std::uint64_t k) { return k * 331; }; // up to ~1.6 * 10^7
    std::vector<std::vector<std::uint32_t>> won(T, std::vector<std::uint32_t>(n, 0));
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < T; ++t)
        threads.emplace_back([&, t] {
            SplitMix rng{t + 11};
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (int pass = 0; pass < passes; ++pass) {
                const std::uint64_t offset = rng.below(n);
                for (std::uint64_t i = 0; i < n; ++i) {
                    const std::uint64_t k = (i + offset) % n;
                    const bool w = (t % 2 == 0) ? bm.test_and_set(id_of(k)) : bm.test_and_clear(id_of(k));
                    if (w) ++won[t][k];
                }
            }
        });
    go.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();

    std::uint64_t expected = 0, broken = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
        std::int64_t balance = 0;
        for (unsigned t = 0; t < T; ++t) balance += (t % 2 == 0 ? 1 : -1) * static_cast<std::int64_t>(won[t][k]);
        const bool bit = bm.test(id_of(k));
        if (balance != (bit ? 1 : 0)) ++broken;
        expected += bit ? 1 : 0;
    }
    CHECK(broken == 0);
    CHECK(bm.count() == expected);
    CHECK(bm.count_range(0, bm.capacity()) == expected);
}
