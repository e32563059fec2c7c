/** @file keyspace/detail/atomic_word.hpp
 *  atomic_word: the 64-bit word every bitmap stores, accessed atomically.
 *
 *  The words live in memory the library never constructs objects in: calloc'd arrays, private anonymous mappings
 *  (huge pages) and regions shared with other processes. A std::atomic<std::uint64_t> is not an implicit-lifetime
 *  type (its default constructor is not trivial), so using such memory as an array of std::atomic would be using
 *  objects that were never created. atomic_word is a plain word (trivial default constructor and destructor: an
 *  implicit-lifetime type, which calloc/malloc create implicitly) whose every access goes through
 *  std::atomic_ref<std::uint64_t>. The interface is std::atomic's (load, store, exchange, fetch_*, compare_exchange_*
 *  with the same memory_order parameters and defaults), so code written against std::atomic<std::uint64_t> compiles
 *  unchanged, and the generated code is the same.
 *
 *  Differences from std::atomic: default construction leaves the value indeterminate (value-initialise, `T{}` or
 *  make_unique<atomic_word[]>(n), for zero, as calloc gives); like std::atomic it is neither copyable nor
 *  assignable, so a word is never read or written non-atomically by accident. The read kernels of
 *  <keyspace/detail/simd.hpp> read arrays of words as arrays of std::uint64_t (the layout is asserted below). */
#pragma once

#include <keyspace/config.hpp>

#include <atomic>      // for std::atomic_ref, std::memory_order
#include <cstdint>     // for std::uint64_t
#include <type_traits> // for std::is_trivially_default_constructible_v, std::is_standard_layout_v

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

struct alignas(std::atomic_ref<std::uint64_t>::required_alignment) atomic_word {
    using value_type = std::uint64_t;
    static constexpr bool is_always_lock_free = std::atomic_ref<std::uint64_t>::is_always_lock_free;

    atomic_word() noexcept = default; // trivial: the value is whatever the memory holds (zero from calloc, T{})
    atomic_word(const atomic_word&) = delete;
    atomic_word& operator=(const atomic_word&) = delete;

    [[nodiscard]] KEYSPACE_ALWAYS_INLINE std::uint64_t load(std::memory_order o = std::memory_order_seq_cst) const noexcept {
        return ref().load(o);
    }
    KEYSPACE_ALWAYS_INLINE void store(std::uint64_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        ref().store(v, o);
    }
    KEYSPACE_ALWAYS_INLINE std::uint64_t exchange(std::uint64_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().exchange(v, o);
    }
    KEYSPACE_ALWAYS_INLINE std::uint64_t fetch_add(std::uint64_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().fetch_add(v, o);
    }
    KEYSPACE_ALWAYS_INLINE std::uint64_t fetch_sub(std::uint64_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().fetch_sub(v, o);
    }
    KEYSPACE_ALWAYS_INLINE std::uint64_t fetch_and(std::uint64_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().fetch_and(v, o);
    }
    KEYSPACE_ALWAYS_INLINE std::uint64_t fetch_or(std::uint64_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().fetch_or(v, o);
    }
    KEYSPACE_ALWAYS_INLINE std::uint64_t fetch_xor(std::uint64_t v, std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().fetch_xor(v, o);
    }
    KEYSPACE_ALWAYS_INLINE bool compare_exchange_weak(std::uint64_t& expected, std::uint64_t desired,
                                                      std::memory_order success, std::memory_order failure) noexcept {
        return ref().compare_exchange_weak(expected, desired, success, failure);
    }
    KEYSPACE_ALWAYS_INLINE bool compare_exchange_weak(std::uint64_t& expected, std::uint64_t desired,
                                                      std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().compare_exchange_weak(expected, desired, o);
    }
    KEYSPACE_ALWAYS_INLINE bool compare_exchange_strong(std::uint64_t& expected, std::uint64_t desired,
                                                        std::memory_order success, std::memory_order failure) noexcept {
        return ref().compare_exchange_strong(expected, desired, success, failure);
    }
    KEYSPACE_ALWAYS_INLINE bool compare_exchange_strong(std::uint64_t& expected, std::uint64_t desired,
                                                        std::memory_order o = std::memory_order_seq_cst) noexcept {
        return ref().compare_exchange_strong(expected, desired, o);
    }

private:
    // std::atomic_ref<const T> is C++26: a load from a const word goes through a non-const reference (it writes
    // nothing, so this is fine even where the word itself were const).
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE std::atomic_ref<std::uint64_t> ref() const noexcept {
        return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(value_));
    }

    std::uint64_t value_; // no initialiser: the default constructor stays trivial
};

// An implicit-lifetime type (trivial default constructor, trivial destructor): calloc'd, mapped and shared memory
// holds atomic_word objects without a constructor call.
static_assert(std::is_trivially_default_constructible_v<atomic_word>, "atomic_word must be an implicit-lifetime type");
static_assert(std::is_trivially_destructible_v<atomic_word>, "atomic_word must be an implicit-lifetime type");
// The read kernels load arrays of words as arrays of std::uint64_t; zero-filled memory reads as zero words.
static_assert(std::is_standard_layout_v<atomic_word>, "atomic_word must be pointer-interconvertible with its word");
static_assert(sizeof(atomic_word) == sizeof(std::uint64_t) && alignof(atomic_word) % alignof(std::uint64_t) == 0,
              "atomic_word must have the size of std::uint64_t and at least its alignment");
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free, "keyspace needs lock-free 64-bit atomics");

} // namespace detail
KEYSPACE_END_NAMESPACE
