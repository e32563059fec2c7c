// AtomicBitmap: the behaviour of every member, against a std::vector<bool> model where a model helps.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/atomic_bitmap.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using keyspace::AtomicBitmap;
using keyspace::FixedAtomicBitmap;
using keyspace_test::SplitMix;

namespace {

constexpr std::uint64_t chunk_bits = keyspace::GrowableStorage::chunk_words * 64; // 65536

template <class Bitmap>
std::optional<std::uint64_t> model_next_set(const std::vector<bool>& m, std::uint64_t from, std::uint64_t limit) {
    for (std::uint64_t i = from; i < limit && i < m.size(); ++i)
        if (m[i]) return i;
    return std::nullopt;
}

std::optional<std::uint64_t> model_next_unset(const std::vector<bool>& m, std::uint64_t from, std::uint64_t limit) {
    for (std::uint64_t i = from; i < limit; ++i)
        if (i >= m.size() || !m[i]) return i;
    return std::nullopt;
}

std::optional<std::uint64_t> model_prev_set(const std::vector<bool>& m, std::uint64_t before) {
    for (std::uint64_t i = std::min<std::uint64_t>(before, m.size()); i-- > 0;)
        if (m[i]) return i;
    return std::nullopt;
}

std::uint64_t model_count(const std::vector<bool>& m, std::uint64_t b, std::uint64_t e) {
    std::uint64_t c = 0;
    for (std::uint64_t i = b; i < e && i < m.size(); ++i) c += m[i] ? 1 : 0;
    return c;
}

} // namespace

TEMPLATE_TEST_CASE("single-bit operations report whether they changed the bit", "[bitmap]", AtomicBitmap,
                   FixedAtomicBitmap) {
    TestType bm(1000);
    CHECK_FALSE(bm.test(42));
    CHECK(bm.set(42));
    CHECK_FALSE(bm.set(42));
    CHECK(bm.test(42));
    CHECK_FALSE(bm.test_and_set(42));
    CHECK(bm.clear(42));
    CHECK_FALSE(bm.clear(42));
    CHECK_FALSE(bm.test(42));
    CHECK(bm.test_and_set(42));
    CHECK(bm.test(42));
    CHECK(bm.test_and_clear(42));
    CHECK_FALSE(bm.test_and_clear(42));
    CHECK_FALSE(bm.test(42));
    CHECK(bm.count() == 0);
    CHECK(bm.empty());
}

TEST_CASE("capacity defaults to 4096 bits and rounds up to a multiple of 64", "[bitmap]") {
    CHECK(AtomicBitmap().capacity() == 4096);
    CHECK(FixedAtomicBitmap().capacity() == 4096);
    CHECK(AtomicBitmap(1).capacity() == 64);
    CHECK(AtomicBitmap(64).capacity() == 64);
    CHECK(AtomicBitmap(65).capacity() == 128);
    CHECK(AtomicBitmap::with_capacity(1000).capacity() == 1024);
    CHECK(AtomicBitmap(0).capacity() == 0);
}

TEMPLATE_TEST_CASE("count is exact after a random mix of operations", "[bitmap]", AtomicBitmap, FixedAtomicBitmap) {
    constexpr std::uint64_t n = 200'000;
    TestType bm(n);
    std::vector<bool> model(n);
    SplitMix rng{7};
    for (int step = 0; step < 300'000; ++step) {
        const std::uint64_t i = rng.below(n);
        switch (rng.below(4)) {
        case 0: REQUIRE(bm.set(i) == !model[i]); model[i] = true; break;
        case 1: REQUIRE(bm.clear(i) == model[i]); model[i] = false; break;
        case 2: REQUIRE(bm.test_and_set(i) == !model[i]); model[i] = true; break;
        default: REQUIRE(bm.test_and_clear(i) == model[i]); model[i] = false; break;
        }
    }
    CHECK(bm.count() == model_count(model, 0, n));
    CHECK(bm.count_range(0, n) == bm.count());
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(bm.test(i) == model[i]);
}

TEST_CASE("a bitmap grows from 64 bits to 10^9 IDs without losing bits", "[bitmap][growth]") {
    // Both layouts: the first segment reserved (10^9 lies inside it) and unreserved (every ID past 64 in the tree).
    const bool reserve = GENERATE(true, false);
    std::unique_ptr<AtomicBitmap> owner = reserve ? std::make_unique<AtomicBitmap>(64)
                                                  : std::make_unique<AtomicBitmap>(std::in_place,
                                                                                   keyspace::detail::unreserved, 64);
    AtomicBitmap& bm = *owner;
    INFO("reserved " << bm.storage().reserved());
    std::vector<std::uint64_t> ids;
    for (std::uint64_t i = 1; i < 1'000'000'000; i = i * 3 + 1) ids.push_back(i);
    ids.push_back(999'999'999);
    std::uint64_t grew = 0;
    for (std::uint64_t id : ids) {
        const std::uint64_t before = bm.capacity();
        CHECK(bm.set(id));
        if (bm.capacity() > before) ++grew;
        CHECK(bm.capacity() > id);
    }
    CHECK(grew > 10);
    CHECK(bm.count() == ids.size());
    for (std::uint64_t id : ids) CHECK(bm.test(id));
    CHECK(bm.count_range(0, bm.capacity()) == ids.size());
    if (bm.storage().reserved()) {
        // The reservation counts its pages up to the highest word written (2 MiB pages: past 4 MiB it is advised
        // for huge pages), an upper bound of what is resident.
        CHECK(bm.memory_bytes() <= (1'000'000'000 / 8 / (2u << 20) + 1) * (2u << 20));
    } else {
        // Memory follows the chunks written (one 8 KiB chunk per ID here), not the highest index.
        CHECK(bm.memory_bytes() < ids.size() * (8192 + 3 * 4096) + 4096);
    }
    std::vector<std::uint64_t> seen;
    bm.for_each_set(0, bm.capacity(), [&](std::uint64_t id) { seen.push_back(id); });
    CHECK(seen == ids);
}

TEST_CASE("ensure_capacity grows to cover the index and reports whether it grew", "[bitmap][growth]") {
    AtomicBitmap bm(128);
    CHECK_FALSE(bm.ensure_capacity(100));
    CHECK(bm.ensure_capacity(1000));
    CHECK(bm.capacity() >= 1001);
    CHECK(bm.capacity() % 64 == 0);
    CHECK_FALSE(bm.ensure_capacity(1000));
    CHECK_FALSE(bm.test(1000)); // addressable, not set
    CHECK(bm.memory_bytes() == 16); // growth is logical until a word is written
}

TEST_CASE("a sparse ID near 10^12 commits one chunk, and scans skip the empty space", "[bitmap][growth]") {
    AtomicBitmap bm;
    CHECK(bm.set(1'000'000'000'000ull));
    CHECK(bm.memory_bytes() < 64ull << 20);
    CHECK(bm.test(1'000'000'000'000ull));
    CHECK_FALSE(bm.test(999'999'999'999ull));
    CHECK(bm.find_next_set(0) == 1'000'000'000'000ull);
    CHECK(bm.find_prev_set(bm.capacity()) == 1'000'000'000'000ull);
    CHECK(bm.count_range(0, bm.capacity()) == 1);
    CHECK(bm.find_next_unset(1'000'000'000'000ull, bm.capacity()) == 1'000'000'000'001ull);
    CHECK(bm.set((1ull << 62) + 5));
    CHECK(bm.find_next_set(1'000'000'000'001ull) == (1ull << 62) + 5);
    CHECK(bm.count() == 2);
}

TEMPLATE_TEST_CASE("find_next_set, find_next_unset and find_prev_set agree with a model at word and chunk boundaries",
                   "[bitmap][search]", AtomicBitmap, FixedAtomicBitmap) {
    constexpr std::uint64_t n = 4 * chunk_bits + 1000;
    // A small initial capacity puts most of the growable bitmap in chunks; the fixed one is one array.
    TestType bm(std::is_same_v<TestType, AtomicBitmap> ? 130 : n);
    std::vector<bool> model(n);
    const std::uint64_t edges[] = {0, 1, 62, 63, 64, 65, 127, 128, 129, 191, 192,
                                   chunk_bits - 1, chunk_bits, chunk_bits + 1, 2 * chunk_bits - 64, 2 * chunk_bits,
                                   3 * chunk_bits + 63, n - 1};
    SplitMix rng{11};
    for (int round = 0; round < 4; ++round) {
        for (std::uint64_t e : edges)
            if (rng.below(2) == 0) {
                bm.set(e);
                model[e] = true;
            }
        if (round >= 2) // a dense stretch, for find_next_unset
            for (std::uint64_t i = 2 * chunk_bits - 200; i < 2 * chunk_bits + 300; ++i) {
                bm.set(i);
                model[i] = true;
            }
        const std::uint64_t cap = bm.capacity();
        for (std::uint64_t from : edges) {
            for (std::uint64_t limit : edges) {
                INFO("from " << from << " limit " << limit);
                CHECK(bm.find_next_set(from, limit) == model_next_set<TestType>(model, from, std::min(limit, cap)));
                CHECK(bm.find_next_unset(from, limit) == model_next_unset(model, from, limit));
            }
            CHECK(bm.find_next_set(from) == model_next_set<TestType>(model, from, n));
            CHECK(bm.find_prev_set(from) == model_prev_set(model, from));
        }
    }
}

TEST_CASE("searches return nullopt on empty bitmaps and empty ranges", "[bitmap][search]") {
    AtomicBitmap bm;
    CHECK_FALSE(bm.find_next_set(0));
    CHECK_FALSE(bm.find_prev_set(1'000'000));
    CHECK(bm.find_next_unset(0, 10) == 0u);
    CHECK_FALSE(bm.find_next_unset(10, 10));
    CHECK_FALSE(bm.find_next_unset(11, 10));
    bm.set(5);
    CHECK_FALSE(bm.find_next_set(6, 6));
    CHECK_FALSE(bm.find_next_set(0, 5));
    CHECK(bm.find_next_set(0, 6) == 5u);
    CHECK_FALSE(bm.find_prev_set(5));
    CHECK(bm.find_prev_set(6) == 5u);
    bm.set_range(0, 4096);
    CHECK_FALSE(bm.find_next_unset(0, 4096));
    CHECK(bm.find_next_unset(0, 5000) == 4096u); // beyond the capacity bits read as clear
}

TEMPLATE_TEST_CASE("range operations agree with a std::vector<bool> model on random ranges", "[bitmap][range]",
                   AtomicBitmap, FixedAtomicBitmap) {
    constexpr std::uint64_t n = 3 * chunk_bits + 777;
    TestType bm(std::is_same_v<TestType, AtomicBitmap> ? 1000 : n);
    std::vector<bool> model(n);
    SplitMix rng{42};
    for (int step = 0; step < 600; ++step) {
        std::uint64_t b = rng.below(n), e = rng.below(n + 1);
        if (b > e) std::swap(b, e);
        if (rng.below(3) == 0) e = std::min<std::uint64_t>(n, b + rng.below(130)); // short ranges hit edge words
        INFO("step " << step << " [" << b << ", " << e << ")");
        switch (rng.below(4)) {
        case 0: {
            const std::uint64_t expect = (e - b) - model_count(model, b, e);
            REQUIRE(bm.set_range(b, e) == expect);
            for (std::uint64_t i = b; i < e; ++i) model[i] = true;
            break;
        }
        case 1: {
            const std::uint64_t expect = model_count(model, b, e);
            REQUIRE(bm.clear_range(b, e) == expect);
            for (std::uint64_t i = b; i < e; ++i) model[i] = false;
            break;
        }
        case 2: REQUIRE(bm.count_range(b, e) == model_count(model, b, e)); break;
        default: {
            std::vector<std::uint64_t> got, want;
            bm.for_each_set(b, e, [&](std::uint64_t id) { got.push_back(id); });
            for (std::uint64_t i = b; i < e; ++i)
                if (model[i]) want.push_back(i);
            REQUIRE(got == want);
        }
        }
        REQUIRE(bm.count() == model_count(model, 0, n));
    }
}

TEST_CASE("for_each_set stops when the callback returns false", "[bitmap][range]") {
    AtomicBitmap bm(100'000);
    bm.set_range(0, 100'000);
    std::uint64_t calls = 0;
    bm.for_each_set(10, 100'000, [&](std::uint64_t id) {
        ++calls;
        return id < 19;
    });
    CHECK(calls == 10);
}

TEST_CASE("range calls reject begin > end and clamp to what exists", "[bitmap][range][bad-input]") {
    AtomicBitmap bm;
    CHECK_THROWS_AS(bm.set_range(10, 9), std::invalid_argument);
    CHECK_THROWS_AS(bm.clear_range(10, 9), std::invalid_argument);
    CHECK_THROWS_AS((void)bm.count_range(10, 9), std::invalid_argument);
    CHECK_THROWS_AS(bm.for_each_set(10, 9, [](std::uint64_t) {}), std::invalid_argument);
    CHECK_THROWS_WITH(bm.set_range(10, 9), Catch::Matchers::Contains("begin (10)"));
    CHECK(bm.set_range(5, 5) == 0);
    CHECK(bm.count_range(0, std::numeric_limits<std::uint64_t>::max()) == 0);
    CHECK(bm.clear_range(0, std::numeric_limits<std::uint64_t>::max()) == 0);
    CHECK_THROWS_AS(bm.set_range(0, keyspace::max_supported_id + 1), std::length_error);
    CHECK(bm.count() == 0);
    CHECK(bm.set_range(keyspace::max_supported_id - 3, keyspace::max_supported_id) == 3);
    CHECK(bm.test(keyspace::max_supported_id - 1));
    CHECK(bm.count_range(0, std::numeric_limits<std::uint64_t>::max()) == 3);
    CHECK(bm.find_prev_set(std::numeric_limits<std::uint64_t>::max()) == keyspace::max_supported_id - 1);
    CHECK(bm.clear_range(0, std::numeric_limits<std::uint64_t>::max()) == 3);
    CHECK(bm.count() == 0);
}

TEST_CASE("IDs at and beyond 2^63 are rejected or read as absent, never wrap", "[bitmap][bad-input]") {
    AtomicBitmap bm;
    constexpr std::uint64_t top = keyspace::max_supported_id;
    constexpr std::uint64_t max64 = std::numeric_limits<std::uint64_t>::max();
    CHECK_THROWS_AS(bm.set(top), std::length_error);
    CHECK_THROWS_AS(bm.set(max64), std::length_error);
    CHECK_THROWS_AS(bm.test_and_set(max64), std::length_error);
    CHECK_THROWS_AS(bm.ensure_capacity(max64), std::length_error);
    CHECK_THROWS_WITH(bm.set(top), Catch::Matchers::Contains("9223372036854775808"));
    CHECK_FALSE(bm.test(top));
    CHECK_FALSE(bm.test(max64));
    CHECK_FALSE(bm.clear(max64));
    CHECK_FALSE(bm.test_and_clear(max64));
    CHECK(bm.set(top - 1));
    CHECK(bm.test(top - 1));
    CHECK_FALSE(bm.test(0));
    CHECK(bm.capacity() == top);
    CHECK(bm.find_next_set(0) == top - 1);
    CHECK_FALSE(bm.find_next_set(max64));
    CHECK_FALSE(bm.find_next_unset(max64, max64));
    CHECK_FALSE(bm.find_next_unset(top - 1, max64));
    CHECK(bm.find_next_unset(top - 2, max64) == top - 2);
    CHECK(bm.count() == 1);
    CHECK_THROWS_AS(AtomicBitmap(top + 1), std::length_error);
    CHECK_THROWS_AS(FixedAtomicBitmap(max64), std::length_error);
}

TEST_CASE("a fixed bitmap throws std::length_error beyond its capacity and stays unchanged", "[bitmap][bad-input]") {
    FixedAtomicBitmap bm(100); // 128 bits
    CHECK(bm.set(127));
    CHECK_THROWS_AS(bm.set(128), std::length_error);
    CHECK_THROWS_AS(bm.test_and_set(1000), std::length_error);
    CHECK_THROWS_AS(bm.set_range(100, 129), std::length_error);
    CHECK_THROWS_AS(bm.ensure_capacity(128), std::length_error);
    CHECK_FALSE(bm.ensure_capacity(127));
    CHECK_FALSE(bm.test(128));
    CHECK_FALSE(bm.clear(128));
    CHECK(bm.count() == 1);
    CHECK(bm.capacity() == 128);
}

TEST_CASE("reset keeps the capacity, clear_all returns to the initial one", "[bitmap]") {
    AtomicBitmap bm(256);
    bm.set_range(0, 256);
    bm.set(5'000'000);
    const std::uint64_t grown = bm.capacity();
    const std::size_t grown_mem = bm.memory_bytes();
    bm.reset();
    CHECK(bm.count() == 0);
    CHECK(bm.capacity() == grown);
    CHECK(bm.memory_bytes() == grown_mem);
    CHECK_FALSE(bm.find_next_set(0));
    CHECK(bm.set(5'000'000));
    bm.clear_all();
    CHECK(bm.count() == 0);
    CHECK(bm.capacity() == 256);
    CHECK(bm.memory_bytes() == 32);
    CHECK_FALSE(bm.test(5'000'000));
    CHECK(bm.set(7));
    CHECK(bm.count() == 1);
}

TEST_CASE("a bitmap over adopted memory reports no allocated memory before and after clear_all", "[bitmap][memory]") {
    // Memory the bitmap adopts (a shared region's words) is not its allocation: memory_bytes() is 0, and clear_all(),
    // which returns a storage to its initial state, must not turn it into the size of the adopted words.
    constexpr std::uint64_t words = 16384; // 2^20 bits, 131072 bytes
    auto memory = std::make_unique<keyspace::detail::atomic_word[]>(words);
    AtomicBitmap bm(std::in_place, keyspace::detail::adopt_words, memory.get(), words);
    CHECK(bm.storage().shared());
    CHECK(bm.memory_bytes() == 0);
    CHECK(bm.set(12345));
    CHECK(bm.memory_bytes() == 0);
    bm.clear_all();
    CHECK(bm.memory_bytes() == 0);
    CHECK_FALSE(bm.test(12345));
    CHECK(bm.capacity() == words * 64);
    bm.reset();
    CHECK(bm.memory_bytes() == 0);
}

TEMPLATE_TEST_CASE("large contiguous arrays start zeroed, on a 2 MiB boundary where they are mapped, and hold every bit",
                   "[bitmap][memory]", AtomicBitmap, FixedAtomicBitmap) {
    namespace d = keyspace::detail;
    // Below, at and above the mapped-path threshold (4 MiB = 2^25 bits), and a size that is not a whole number of
    // 2 MiB pages.
    for (std::uint64_t bits : {(std::uint64_t{1} << 25) - 64, std::uint64_t{1} << 25, (std::uint64_t{1} << 26) + 192}) {
        TestType bm(bits);
        INFO("bits " << bits);
        const auto words = bits / 64;
        // The mapped path (when compiled in) is taken from 4 MiB on, and then starts on a 2 MiB boundary.
        const bool mapping_enabled = d::maps_huge_pages(d::huge_page_min_bytes / 8);
        CHECK(d::maps_huge_pages(words) == (mapping_enabled && words * 8 >= d::huge_page_min_bytes));
        if (d::maps_huge_pages(words))
            CHECK(reinterpret_cast<std::uintptr_t>(bm.storage().word(0)) % d::huge_page_bytes == 0);
        CHECK(bm.memory_bytes() == words * 8);
        CHECK(bm.count_range(0, bits) == 0); // every word readable and zero
        CHECK(bm.set(0));
        CHECK(bm.set(bits - 1));
        CHECK(bm.set(bits / 2 + 1));
        CHECK(bm.count() == 3);
        CHECK(bm.count_range(0, bits) == 3);
        CHECK(bm.find_prev_set(bits) == bits - 1);
        CHECK(bm.find_next_set(1) == bits / 2 + 1);
        bm.reset();
        CHECK(bm.count_range(0, bits) == 0);
    }
}

TEST_CASE("count sums the writes of many threads, and a new bitmap never inherits an old one's count", "[bitmap][count]") {
    for (int round = 0; round < 3; ++round) {
        auto bm = std::make_unique<AtomicBitmap>(1 << 20);
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t)
            threads.emplace_back([&, t] {
                for (std::uint64_t i = t; i < (1 << 20); i += 8) bm->set(i);
                for (std::uint64_t i = t; i < (1 << 20); i += 16) bm->clear(i);
            });
        for (auto& th : threads) th.join();
        CHECK(bm->count() == (1u << 20) / 2);
        CHECK(bm->count_range(0, 1 << 20) == (1u << 20) / 2);
        bm = nullptr; // destroys the bitmap and frees its counter column
        AtomicBitmap fresh;
        CHECK(fresh.count() == 0); // the destroyed bitmap's cells were zeroed before reuse
        fresh.set(1);
        CHECK(fresh.count() == 1);
    }
}

TEST_CASE("count stays exact with more live threads than private counter slots", "[bitmap][count]") {
    // 300 threads alive at once exceed the 256 private slots: the rest count through the shared overflow cell.
    AtomicBitmap bm(300 * 64);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int t = 0; t < 300; ++t)
        threads.emplace_back([&, t] {
            bm.set(static_cast<std::uint64_t>(t) * 64);
            ready.fetch_add(1);
            while (ready.load() < 300) std::this_thread::yield(); // keep every slot taken until all have written
            bm.set(static_cast<std::uint64_t>(t) * 64 + 1);
        });
    for (auto& th : threads) th.join();
    CHECK(bm.count() == 600);
}
