// detail::atomic_word, the word every bitmap stores: a plain implicit-lifetime word that calloc'd, mapped and shared
// memory holds without a constructor call, with std::atomic's interface and orderings.
#include "catch.hpp"

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/detail/simd.hpp>
#include <keyspace/detail/storage.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/mman.h>

using keyspace::detail::atomic_word;

// The words live in memory no constructor runs on: the type must be one such memory holds implicitly (trivial
// default constructor and destructor), laid out as a std::uint64_t (the kernels read arrays of words as arrays of
// std::uint64_t, and zero bytes must be zero words), and lock-free through std::atomic_ref.
static_assert(std::is_trivially_default_constructible_v<atomic_word>);
static_assert(std::is_trivially_destructible_v<atomic_word>);
static_assert(std::is_standard_layout_v<atomic_word>);
static_assert(sizeof(atomic_word) == sizeof(std::uint64_t));
static_assert(alignof(atomic_word) % alignof(std::uint64_t) == 0);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
// Like std::atomic, a word is never copied (a copy would be a non-atomic read of a shared word).
static_assert(!std::is_copy_constructible_v<atomic_word> && !std::is_copy_assignable_v<atomic_word>);
// One word type for the storages and the kernels.
static_assert(std::is_same_v<keyspace::detail::simd::atomic_word, atomic_word>);

TEST_CASE("atomic_word: std::atomic's operations with their results", "[atomic_word]") {
    atomic_word w{}; // value-initialised: zero
    CHECK(w.load() == 0);
    w.store(5, std::memory_order_release);
    CHECK(w.load(std::memory_order_acquire) == 5);
    CHECK(w.exchange(9) == 5);
    CHECK(w.fetch_or(0b110, std::memory_order_acq_rel) == 9);
    CHECK(w.fetch_and(~std::uint64_t{1}, std::memory_order_acq_rel) == 0b1111);
    CHECK(w.fetch_xor(0b1010) == 0b1110);
    CHECK(w.fetch_add(10) == 0b0100);
    CHECK(w.fetch_sub(4) == 14);
    std::uint64_t expected = 7;
    CHECK_FALSE(w.compare_exchange_strong(expected, 1, std::memory_order_acq_rel, std::memory_order_acquire));
    CHECK(expected == 10);
    CHECK(w.compare_exchange_strong(expected, 1));
    expected = 1;
    while (!w.compare_exchange_weak(expected, 2, std::memory_order_relaxed)) {
    }
    CHECK(w.load(std::memory_order_relaxed) == 2);
}

TEST_CASE("atomic_word: words from calloc, a shared mapping and make_unique start at zero and count exactly",
          "[atomic_word][memory]") {
    constexpr std::size_t n = 4096;
    void* c = std::calloc(n, sizeof(atomic_word));
    REQUIRE(c != nullptr);
    void* m = ::mmap(nullptr, n * sizeof(atomic_word), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    auto u = std::make_unique<atomic_word[]>(n);
    for (auto* words : {static_cast<atomic_word*>(c), static_cast<atomic_word*>(m), u.get()}) {
        CHECK(keyspace::detail::simd::popcount(words, n) == 0);
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < 4; ++t)
            threads.emplace_back([words, t] {
                for (std::size_t i = t; i < n * 64; i += 4)
                    words[i / 64].fetch_or(1ull << (i % 64), std::memory_order_relaxed);
            });
        for (auto& th : threads) th.join();
        CHECK(keyspace::detail::simd::popcount(words, n) == n * 64);
    }
    ::munmap(m, n * sizeof(atomic_word));
    std::free(c);
}
