/** @file keyspace/detail/select_bit.hpp
 *  select_bit: the position of the r-th set bit of a word, the one bit operation whose body depends on the
 *  instruction set (one pdep where BMI2 is fast, a loop otherwise). Declared in the inline namespace of the
 *  instruction set (detail/isa.hpp), so that files built with and without BMI2 keep their own; a non-template inline
 *  function or member that calls it must carry KEYSPACE_ISA_ABI. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>

#include <bit>     // for std::countr_zero
#include <cstdint> // for std::uint64_t

#if KEYSPACE_FAST_PDEP
#include <immintrin.h> // for _pdep_u64
#endif

KEYSPACE_BEGIN_NAMESPACE
namespace detail {
inline namespace KEYSPACE_ISA_NAME {

/// Index of the r-th set bit of m (r < popcount(m)): one pdep where BMI2 is fast, else r steps.
[[nodiscard]] KEYSPACE_ALWAYS_INLINE unsigned select_bit(std::uint64_t m, unsigned r) noexcept {
#if KEYSPACE_FAST_PDEP
    return static_cast<unsigned>(std::countr_zero(_pdep_u64(1ull << r, m)));
#else
    for (; r > 0; --r) m &= m - 1;
    return static_cast<unsigned>(std::countr_zero(m));
#endif
}

} // namespace KEYSPACE_ISA_NAME
} // namespace detail
KEYSPACE_END_NAMESPACE
