/** @file keyspace/detail/bits.hpp
 *  Word arithmetic and the bit layer's two capacity rules (IDs below 2^63, writes within a fixed capacity). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>

#include <bit>       // for std::popcount, std::countr_zero
#include <cstdint>   // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::uint64_t word_bits = 64;
inline constexpr std::uint64_t max_supported_word = max_supported_id / word_bits; // 2^57 words

[[nodiscard]] constexpr std::uint64_t word_of(std::uint64_t bit) noexcept { return bit >> 6; }
[[nodiscard]] constexpr std::uint64_t bit_mask(std::uint64_t bit) noexcept { return 1ull << (bit & 63); }
/// Bits at and above position (bit & 63) in a word.
[[nodiscard]] constexpr std::uint64_t mask_from(std::uint64_t bit) noexcept { return ~0ull << (bit & 63); }
/// Bits strictly below position (end & 63); an end on a word boundary means the whole word.
[[nodiscard]] constexpr std::uint64_t mask_below(std::uint64_t end) noexcept {
    return (end & 63) == 0 ? ~0ull : ~(~0ull << (end & 63));
}
/// Rounds bits up to a multiple of 64 without overflow for any bits < 2^64 - 63.
[[nodiscard]] constexpr std::uint64_t round_up_to_word(std::uint64_t bits) noexcept { return (bits + 63) & ~63ull; }

// The rules of the bit layer, each one check with one message, through the library's error path (detail/errors.hpp).
// Out of line, so the hot callers inline to a compare and a branch.
[[noreturn]] KEYSPACE_NOINLINE inline void throw_id_too_large(const char* fn, std::uint64_t id) {
    fail_length_error({fn, ": id ", id, " is not below keyspace::max_supported_id (2^63)"});
}

[[noreturn]] KEYSPACE_NOINLINE inline void throw_beyond_fixed_capacity(std::uint64_t bit, std::uint64_t capacity) {
    fail_length_error({"keyspace::FixedStorage: bit ", bit, " is beyond the fixed capacity of ", capacity, " bits"});
}

} // namespace detail
KEYSPACE_END_NAMESPACE
