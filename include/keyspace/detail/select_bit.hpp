/** @file keyspace/detail/select_bit.hpp
 *  select_bit: the index of the r-th set bit of a word. */
#pragma once

#include <keyspace/config.hpp>

#include <bit>     // for std::countr_zero
#include <cstdint> // for std::uint64_t

// pdep is one cycle where BMI2 is enabled, except on AMD before Zen 3 (microcoded there).
#if defined(__BMI2__) && !defined(__znver1__) && !defined(__znver2__) && !defined(KEYSPACE_NO_SIMD)
#include <immintrin.h> // for _pdep_u64
#define KEYSPACE_FAST_PDEP 1
#else
#define KEYSPACE_FAST_PDEP 0
#endif

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// Index of the r-th set bit of m (r < popcount(m)): one pdep where BMI2 is fast, else r steps.
[[nodiscard]] KEYSPACE_ALWAYS_INLINE unsigned select_bit(std::uint64_t m, unsigned r) noexcept {
#if KEYSPACE_FAST_PDEP
    return static_cast<unsigned>(std::countr_zero(_pdep_u64(1ull << r, m)));
#else
    for (; r > 0; --r) m &= m - 1;
    return static_cast<unsigned>(std::countr_zero(m));
#endif
}

} // namespace detail
KEYSPACE_END_NAMESPACE
