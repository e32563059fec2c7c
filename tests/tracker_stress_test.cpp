// Concurrency on a PrefixTracker: claimers against an erase iterator and readers while the bitmap grows, shared
// claim streams across rounds with cursor resets, and overwrite cycles from several streams. Each test checks an
// invariant (nothing claimed twice, nothing lost, counts exact), is bounded in time and runs under ThreadSanitizer
// too (sizes shrink there, the invariants do not).
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/keyspace.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

using keyspace::Key;
using keyspace::PrefixTracker;
using keyspace::TrackerConfig;
using keyspace_test::SplitMix;
using keyspace_test::stress_threads;

namespace {

#if defined(KEYSPACE_TSAN)
constexpr std::uint64_t scale = 8; // TSan runs 5–15x slower
#else
constexpr std::uint64_t scale = 1;
#endif

/// Counts failures from worker threads (Catch2 assertions are not thread-safe: threads count, the main thread checks).
struct Failures {
    std::atomic<std::uint64_t> n{0};
    void check(bool ok) {
        if (!ok) n.fetch_add(1, std::memory_order_relaxed);
    }
};

void wait_for(const std::atomic<bool>& go) {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
}

} // namespace

TEST_CASE("claimers, an erase iterator and readers on one growing tracker: each claim is erased at most once and "
          "nothing is lost",
          "[tracker][stress]") {
    // IDs are multiples of 41 up to ~2^22, so claims create chunks and tree levels while the eraser and the readers
    // scan. Claimers make several passes, so an ID erased meanwhile is claimed again.
    constexpr std::uint64_t stride = 41;
    const std::uint64_t n = 200'000 / scale;
    const unsigned claimers = std::max(2u, stress_threads() - 2);
    constexpr int passes = 12;
    PrefixTracker t(TrackerConfig::simple("s:").with_initial_capacity(64));

    std::vector<std::vector<std::uint32_t>> claimed(claimers, std::vector<std::uint32_t>(n, 0));
    std::vector<std::uint32_t> erased(n, 0);
    std::atomic<bool> go{false}, claimers_done{false};
    Failures failures;
    std::uint64_t erase_passes = 0;

    std::vector<std::thread> threads;
    for (unsigned c = 0; c < claimers; ++c)
        threads.emplace_back([&, c] {
            SplitMix rng{c + 1};
            wait_for(go);
            for (int pass = 0; pass < passes; ++pass) {
                const std::uint64_t offset = rng.below(n); // each pass starts somewhere else
                for (std::uint64_t i = 0; i < n; ++i) {
                    const std::uint64_t k = (i + offset) % n;
                    if (t.claim(k * stride)) ++claimed[c][k];
                }
            }
        });
    std::thread eraser([&] {
        wait_for(go);
        const auto erase_all = [&] {
            auto e = t.iter().erase();
            failures.check(e.has_value()); // the only eraser: never refused
            if (!e) return;
            for (const Key k : *e) {
                failures.check(k.id % stride == 0 && k.id / stride < n); // only claimed IDs exist
                if (k.id % stride == 0 && k.id / stride < n) ++erased[k.id / stride];
            }
        };
        while (!claimers_done.load(std::memory_order_acquire)) {
            erase_all();
            ++erase_passes;
        }
        erase_all(); // after the last claim: everything left
    });
    std::thread reader([&] {
        wait_for(go);
        while (!claimers_done.load(std::memory_order_acquire)) {
            std::optional<std::uint64_t> prev;
            for (const Key k : t.iter().set_only().limit(4096).sequential()) {
                failures.check(k.id % stride == 0 && (!prev || k.id > *prev)); // real IDs, ascending
                prev = k.id;
            }
            // count() here is a sum of per-thread tallies read one after another while claims and erasures run: it
            // may be off from every instantaneous count by the writes overlapping the call, so it is not checked
            // against n until the writers have stopped.
            (void)t.count();
            (void)t.exists(stride * 7);
            failures.check(!t.exists(stride * 7 + 1)); // never claimed
        }
    });
    go.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();
    claimers_done.store(true, std::memory_order_release);
    eraser.join();
    reader.join();

    REQUIRE(failures.n.load() == 0);
    std::uint64_t total_claims = 0, mismatched = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
        std::uint64_t c = 0;
        for (auto& v : claimed) c += v[k];
        total_claims += c;
        if (c != erased[k]) ++mismatched; // each claim erased exactly once, by the end
    }
    CHECK(mismatched == 0);
    CHECK(total_claims >= n); // every ID was claimed at least once
    CHECK(t.count() == 0);
    CHECK(t.empty());
    CHECK_FALSE(t.iter().set_only().sequential().next().has_value());
    INFO("erase passes while claiming: " << erase_passes);
}

TEST_CASE("continue_write() streams from several threads, rounds separated by reset_write_cursor(): no key is "
          "handed out twice in a round and every absent key is claimed",
          "[tracker][stress][iterators]") {
    const std::uint64_t n = (1u << 17) / scale;
    const unsigned T = stress_threads();
    constexpr int rounds = 12;
    PrefixTracker t("w:", n);
    SplitMix rng{99};
    for (int round = 0; round < rounds; ++round) {
        // Before each round after the first: free a random part of the keys, then rewind the shared progress.
        std::vector<unsigned char> absent(n, 1);
        std::uint64_t want = n;
        if (round > 0) {
            std::fill(absent.begin(), absent.end(), 0);
            want = 0;
            const std::uint64_t stride = 1 + rng.below(7);
            for (std::uint64_t id = rng.below(stride); id < n; id += stride) {
                REQUIRE(t.remove(id));
                absent[id] = 1;
                ++want;
            }
            t.reset_write_cursor();
        }
        REQUIRE(t.count() == n - want);

        std::vector<std::vector<std::uint64_t>> got(T);
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (unsigned i = 0; i < T; ++i)
            threads.emplace_back([&, i] {
                wait_for(go);
                auto w = t.iter().continue_write();
                while (auto k = w.next()) {
                    got[i].push_back(k->id);
                    // In odd rounds one thread rewinds the progress mid-round: running streams re-walk claimed
                    // blocks, and claims stay unique because each is an atomic test-and-set.
                    if (round % 2 == 1 && i == 0 && got[i].size() == 1000) t.reset_write_cursor();
                }
            });
        go.store(true, std::memory_order_release);
        for (auto& th : threads) th.join();

        std::vector<unsigned char> seen(n, 0);
        std::uint64_t total = 0, duplicates = 0, unexpected = 0;
        for (auto& v : got)
            for (std::uint64_t id : v) {
                ++total;
                if (id >= n) {
                    ++unexpected;
                    continue;
                }
                if (seen[id]++ != 0) ++duplicates;
                if (!absent[id]) ++unexpected; // handed out a key that was present
            }
        INFO("round " << round);
        CHECK(duplicates == 0);
        CHECK(unexpected == 0);
        CHECK(total == want);
        CHECK(t.count() == n);
    }
}

TEST_CASE("write wrap_around() from several streams: each key once per cycle, in block order, and the bits stay set",
          "[tracker][stress][iterators]") {
    // 5000 keys: 78 full 64-key blocks and a short last one. The tracker starts full, so every yield is an
    // overwrite. Each thread pulls at least its quota and then finishes the block it is in, so every block handed
    // out is complete: then each key of a block was yielded equally often, and counts fall by at most one from the
    // first block to the last (block j of the shared sequence is block j % blocks of cycle j / blocks).
    const std::uint64_t n = 5000;
    const unsigned T = stress_threads();
    const std::uint64_t quota = (400 * n / scale) / T;
    PrefixTracker t("o:", n);
    t.add_range(0, n);
    std::vector<std::vector<std::uint32_t>> counts(T, std::vector<std::uint32_t>(n, 0));
    std::atomic<bool> go{false}, writers_done{false};
    Failures failures;
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < T; ++i)
        threads.emplace_back([&, i] {
            wait_for(go);
            auto w = t.iter().continue_write().wrap_around();
            std::optional<std::uint64_t> prev;
            for (std::uint64_t pulled = 0;; ++pulled) {
                const auto k = w.next();
                failures.check(k.has_value() && k->id < n); // endless
                if (!k || k->id >= n) return;
                ++counts[i][k->id];
                // Inside a block, keys come in order.
                if (prev && k->id % 64 != 0) failures.check(k->id == *prev + 1);
                prev = k->id;
                const bool block_end = k->id % 64 == 63 || k->id == n - 1;
                if (pulled + 1 >= quota && block_end) return;
            }
        });
    std::thread reader([&] {
        wait_for(go);
        SplitMix rng{7};
        while (!writers_done.load(std::memory_order_acquire)) {
            failures.check(t.count() == n); // overwrites never change the count
            failures.check(t.exists(rng.below(n)));
        }
    });
    go.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();
    writers_done.store(true, std::memory_order_release);
    reader.join();
    REQUIRE(failures.n.load() == 0);

    std::vector<std::uint64_t> total(n, 0);
    for (auto& c : counts)
        for (std::uint64_t id = 0; id < n; ++id) total[id] += c[id];
    const std::uint64_t blocks = (n + 63) / 64;
    std::uint64_t uneven_blocks = 0, order_breaks = 0;
    for (std::uint64_t b = 0; b < blocks; ++b) {
        const std::uint64_t first = total[b * 64];
        for (std::uint64_t id = b * 64; id < std::min(n, b * 64 + 64); ++id)
            if (total[id] != first) ++uneven_blocks;
        if (b > 0 && (first > total[(b - 1) * 64] || first + 1 < total[(b - 1) * 64])) ++order_breaks;
    }
    CHECK(uneven_blocks == 0);
    CHECK(order_breaks == 0);
    const auto [lo, hi] = std::minmax_element(total.begin(), total.end());
    CHECK(*hi - *lo <= 1);
    CHECK(*lo >= 2); // at least two whole cycles
    CHECK(t.count() == n);
    CHECK(t.iter().set_only().sequential().remaining() == n);
}
