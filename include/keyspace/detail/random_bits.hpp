/** @file keyspace/detail/random_bits.hpp
 *  Uniform bits, doubles and bounded integers from any uniform random bit generator, without <random>: the
 *  building blocks every sampler draws through, so that a sampler works with Rng, std::mt19937, std::minstd_rand… */
#pragma once

#include <keyspace/config.hpp>

#include <bit>         // for std::bit_width
#include <concepts>    // for std::unsigned_integral, std::same_as, std::invocable
#include <cstdint>     // for std::uint64_t
#include <type_traits> // for std::invoke_result_t, std::bool_constant

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// std::uniform_random_bit_generator, spelled out here so that the samplers need not include <random>.
template <class G>
concept random_bit_generator = std::invocable<G&> && std::unsigned_integral<std::invoke_result_t<G&>> && requires {
    { G::min() } -> std::same_as<std::invoke_result_t<G&>>;
    { G::max() } -> std::same_as<std::invoke_result_t<G&>>;
    requires std::bool_constant<(G::min() < G::max())>::value;
};

/// The full 128-bit product a * b as (hi, lo).
KEYSPACE_ALWAYS_INLINE constexpr void mul_64x64(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) noexcept {
#if defined(__SIZEOF_INT128__)
    __extension__ using u128 = unsigned __int128; // __extension__: no -Wpedantic warning for the GNU type
    const u128 p = static_cast<u128>(a) * b;
    lo = static_cast<std::uint64_t>(p);
    hi = static_cast<std::uint64_t>(p >> 64);
#else
    const std::uint64_t a_lo = a & 0xffffffffull, a_hi = a >> 32, b_lo = b & 0xffffffffull, b_hi = b >> 32;
    const std::uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    const std::uint64_t mid = (ll >> 32) + (lh & 0xffffffffull) + (hl & 0xffffffffull); // < 3 * 2^32: no overflow
    lo = (mid << 32) | (ll & 0xffffffffull);
    hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/// 64 uniform random bits from g. A generator with the full 64-bit range is called once; one with a power-of-two
/// range (std::mt19937: 2^32) is called ceil(64 / bits) times; any other range (std::minstd_rand) is cut down to its
/// largest power of two by rejection first, so the result is exactly uniform for every generator.
template <random_bit_generator G>
KEYSPACE_ALWAYS_INLINE constexpr std::uint64_t bits64(G& g) {
    constexpr std::uint64_t lo = G::min();
    constexpr std::uint64_t span = static_cast<std::uint64_t>(G::max()) - lo; // range - 1
    if constexpr (lo == 0 && span == ~0ull) {
        return static_cast<std::uint64_t>(g());
    } else {
        constexpr bool power_of_two = (span & (span + 1)) == 0;
        constexpr int bits = static_cast<int>(std::bit_width(span + 1)) - 1; // floor(log2(range)), 1..63
        std::uint64_t out = 0;
        for (int have = 0; have < 64;) {
            const std::uint64_t v = static_cast<std::uint64_t>(g()) - lo;
            if constexpr (!power_of_two)
                if (v >> bits) continue; // above the largest power of two: redraw
            out = (out << bits) | v;
            have += bits;
        }
        return out;
    }
}

/// Uniform double in [0, 1) with 53 random bits (every multiple of 2^-53).
template <random_bit_generator G>
KEYSPACE_ALWAYS_INLINE constexpr double uniform01(G& g) {
    return static_cast<double>(bits64(g) >> 11) * 0x1.0p-53;
}

/// Uniform in [0, n), n >= 1, exactly (Lemire's multiply-shift with rejection: the high word of x * n for a 64-bit
/// x, redrawn when the low word falls below 2^64 mod n; one multiply and no division on almost every call).
template <random_bit_generator G>
KEYSPACE_ALWAYS_INLINE constexpr std::uint64_t uniform_below(G& g, std::uint64_t n) {
    std::uint64_t hi, lo;
    mul_64x64(bits64(g), n, hi, lo);
    if (lo < n) [[unlikely]] {
        const std::uint64_t threshold = (0 - n) % n; // 2^64 mod n
        while (lo < threshold) mul_64x64(bits64(g), n, hi, lo);
    }
    return hi;
}

/// uniform_below32 past its quick check: the generator comes in by value and goes back with the product, so that a
/// caller's generator can stay in a register through its loop.
template <class G>
struct Redrawn32 {
    G g;
    std::uint64_t m;
};
template <random_bit_generator G>
KEYSPACE_NOINLINE constexpr Redrawn32<G> redraw32(G g, std::uint64_t m, std::uint64_t n) {
    const auto threshold = static_cast<std::uint32_t>((std::uint64_t{1} << 32) % n); // 2^32 mod n
    while (static_cast<std::uint32_t>(m) < threshold) m = (bits64(g) >> 32) * n;
    return {g, m};
}

/// Uniform in [0, n), 1 <= n <= 2^32, exactly, from 32 random bits x (Lemire's multiply-shift with rejection, as
/// uniform_below, on 32 bits: the high half of x * n, redrawn from the high half of g's next output while the low
/// half falls below 2^32 mod n, which happens with probability below n / 2^32). The two halves of one 64-bit
/// output make two independent exact draws: the batched chunk tries of DrawStream draw a chunk and a rank from one.
template <random_bit_generator G>
KEYSPACE_ALWAYS_INLINE constexpr std::uint64_t uniform_below32(G& g, std::uint32_t x, std::uint64_t n) {
    std::uint64_t m = std::uint64_t{x} * n;
    if (static_cast<std::uint32_t>(m) < n) [[unlikely]] {
        const Redrawn32<G> r = redraw32(g, m, n);
        g = r.g;
        m = r.m;
    }
    return m >> 32;
}

/** wyrand (Wang Yi, 2019; the generator of wyhash): a 64-bit Weyl sequence finished by one 64x64 -> 128-bit
 *  multiply-fold. Period 2^64, 8 bytes of state; passes BigCrush and PractRand to many terabytes. About half the
 *  cost of xoshiro256** here (one multiply, no state shuffle): the internal generator of the draw engine, where
 *  several draws go into one key. Not Rng: Rng's documented xoshiro256** sequence is what users rely on. */
class WyRand {
public:
    using result_type = std::uint64_t;
    explicit constexpr WyRand(std::uint64_t seed) noexcept : s_(seed) {}
    [[nodiscard]] static constexpr result_type min() noexcept { return 0; }
    [[nodiscard]] static constexpr result_type max() noexcept { return ~result_type{0}; }
    constexpr result_type operator()() noexcept {
        s_ += 0xa0761d6478bd642full;
        std::uint64_t hi, lo;
        mul_64x64(s_, s_ ^ 0xe7037ed1a0b428dbull, hi, lo);
        return hi ^ lo;
    }

private:
    std::uint64_t s_;
};

} // namespace detail
KEYSPACE_END_NAMESPACE
