// Endless streams stay alive: a call that finds nothing matching right now returns nullopt, and a later call finds
// keys added (or, for claim streams, freed) since, without rebuilding the stream. Finite streams end for good.
#include "catch.hpp"

#include <keyspace/iterators.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

using keyspace::AccessDistribution;
using keyspace::PrefixTracker;
using keyspace::TrackerConfig;

TEST_CASE("a distribution stream that found nothing finds keys added later", "[iter][live]") {
    PrefixTracker t("d:", 100'000);
    auto it = t.iter().set_only().seed(1).distribution(AccessDistribution::zipfian(0.99)).random();
    CHECK(it.is_endless());
    CHECK_FALSE(it.next());
    CHECK_FALSE(it.next());
    CHECK_FALSE(it.is_exhausted()); // nothing now, not finished
    t.add(4242);
    auto k = it.next();
    REQUIRE(k);
    CHECK(k->id == 4242);
    t.remove(4242);
    CHECK_FALSE(it.next());
    t.add(99'999);
    REQUIRE(it.next());
}

TEST_CASE("a mixed_ratio stream over a space whose classes change keeps drawing", "[iter][live]") {
    PrefixTracker t("m:", 1000);
    auto it = t.iter().mixed_ratio(1.0).seed(2).random();
    CHECK(it.is_endless());
    REQUIRE(it.next()); // no set key: an unset one
    t.add(500);
    for (int i = 0; i < 10; ++i) CHECK(it.next()->id == 500);
    CHECK_FALSE(it.is_exhausted());
}

TEST_CASE("wrap_around streams that found nothing find keys added later", "[iter][live][wrap]") {
    PrefixTracker t("w:", 10'000);
    auto seq = t.iter().set_only().sequential().wrap_around();
    auto perm = t.iter().set_only().seed(3).random().wrap_around();
    CHECK(seq.is_endless());
    CHECK(perm.is_endless());
    CHECK_FALSE(seq.next());
    CHECK_FALSE(perm.next());
    CHECK_FALSE(seq.is_exhausted());
    CHECK_FALSE(perm.is_exhausted());
    t.add(7);
    t.add(9000);
    std::set<std::uint64_t> a, b;
    for (int i = 0; i < 4; ++i) {
        a.insert(seq.next()->id);
        b.insert(perm.next()->id);
    }
    CHECK(a == std::set<std::uint64_t>{7, 9000});
    CHECK(b == std::set<std::uint64_t>{7, 9000});
}

TEST_CASE("finite streams end for good and say so", "[iter][live]") {
    PrefixTracker t("f:", 1000);
    t.add(3);
    auto seq = t.iter().set_only().sequential();
    CHECK_FALSE(seq.is_endless());
    CHECK(seq.next()->id == 3);
    CHECK_FALSE(seq.next());
    CHECK(seq.is_exhausted());
    t.add(900);
    CHECK_FALSE(seq.next()); // ended: a finished pass does not restart
    auto perm = t.iter().set_only().random();
    CHECK_FALSE(perm.is_endless());
    auto limited = t.iter().set_only().distribution(AccessDistribution::uniform()).limit(2).random();
    CHECK(limited.is_endless());
    REQUIRE(limited.next());
    REQUIRE(limited.next());
    CHECK_FALSE(limited.next());
    CHECK(limited.is_exhausted()); // its limit ends it
    auto e = t.iter().erase();
    REQUIRE(e);
    CHECK_FALSE(e->is_endless());
    CHECK_FALSE(t.iter().sample(0.5).write().is_endless()); // one sampled pass
}

TEST_CASE("a write stream whose range filled claims IDs freed later", "[iter][live][write]") {
    for (int mode = 0; mode < 4; ++mode) {
        DYNAMIC_SECTION("mode " << mode) {
            PrefixTracker t("c:", 5000);
            auto b = t.iter();
            auto it = mode == 0 ? b.write()
                      : mode == 1 ? b.continue_write()
                      : mode == 2 ? b.seed(5).write()
                                  : b.seed(5).distribution(AccessDistribution::zipfian(0.99)).write();
            CHECK(it.is_endless());
            std::uint64_t n = 0;
            while (it.next()) ++n;
            CHECK(n == 5000);
            CHECK_FALSE(it.next());
            CHECK_FALSE(it.is_exhausted());
            t.remove(17);
            t.remove(4321);
            std::set<std::uint64_t> again;
            for (int i = 0; i < 2; ++i) {
                auto k = it.next();
                REQUIRE(k);
                again.insert(k->id);
            }
            CHECK(again == std::set<std::uint64_t>{17, 4321});
            CHECK_FALSE(it.next());
            CHECK(t.count() == 5000);
        }
    }
}

TEST_CASE("a write stream whose range is full does little work per call", "[iter][live][write]") {
    constexpr std::uint64_t n = 1ull << 26; // a full sweep is 2^20 words
    PrefixTracker t("big:", n);
    t.add_range(0, n);
    auto it = t.iter().write();
    CHECK_FALSE(it.next()); // the first pass
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20'000; ++i) REQUIRE_FALSE(it.next());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(s < 2.0); // a sweep per call would take minutes
    t.remove(n - 5);
    std::optional<keyspace::Key> k;
    for (int i = 0; i < 100'000 && !k; ++i) k = it.next(); // bounded steps of a resumed sweep
    REQUIRE(k);
    CHECK(k->id == n - 5);
}

TEST_CASE("churn: claim streams find every ID deleters free, each claimed once per free", "[iter][live][write][stress]") {
    constexpr std::uint64_t n = 1 << 14;
    PrefixTracker t("churn:", n);
    t.add_range(0, n);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> removed{0}, claimed{0};
    std::vector<std::thread> threads;
    for (int d = 0; d < 2; ++d)
        threads.emplace_back([&, d] { // removals spread over time, well after the writers' first pass
            std::uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(d + 1);
            for (int i = 0; i < 4000; ++i) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if (t.remove(x % n)) removed.fetch_add(1, std::memory_order_relaxed);
                if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        });
    for (int w = 0; w < 2; ++w)
        threads.emplace_back([&, w] {
            auto it = w == 0 ? t.iter().continue_write() : t.iter().seed(9).distribution(AccessDistribution::zipfian(0.99)).write();
            while (!stop.load(std::memory_order_relaxed))
                if (it.next()) claimed.fetch_add(1, std::memory_order_relaxed);
            while (it.next()) claimed.fetch_add(1, std::memory_order_relaxed); // what is still free
        });
    for (int d = 0; d < 2; ++d) threads[static_cast<std::size_t>(d)].join();
    stop.store(true);
    for (std::size_t w = 2; w < threads.size(); ++w) threads[w].join();
    // Every freed ID was claimed again, and none twice: the range is full and the tallies agree.
    CHECK(t.count() == n);
    CHECK(claimed.load() == removed.load());
}
