/** @file keyspace/sampling/rng.hpp
 *  Rng: xoshiro256** seeded through splitmix64. Small, fast, and a std::uniform_random_bit_generator. */
#pragma once

#include <keyspace/config.hpp>

#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

namespace detail {

/// splitmix64's output function: a bijective 64-bit mixer.
[[nodiscard]] constexpr std::uint64_t splitmix64_mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

[[nodiscard]] constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

} // namespace detail

/** xoshiro256** (Blackman & Vigna), its 256-bit state filled from the seed by splitmix64.
 *  Same seed => same sequence (stable within a major version). Not thread-safe: one per thread or stream;
 *  `Rng::stream(seed, i)` gives independent streams for workers or slices. */
class Rng {
public:
    using result_type = std::uint64_t;

    explicit constexpr Rng(std::uint64_t seed) noexcept {
        for (auto& word : s_) {
            seed += 0x9e3779b97f4a7c15ull;
            word = detail::splitmix64_mix(seed);
        }
    }
    /// The i-th independent stream of a seed (the seed and index are mixed before seeding).
    [[nodiscard]] static constexpr Rng stream(std::uint64_t seed, std::uint64_t index) noexcept {
        return Rng(detail::splitmix64_mix(seed ^ detail::splitmix64_mix(index + 0x632be59bd9b4e019ull)));
    }

    [[nodiscard]] static constexpr result_type min() noexcept { return 0; }
    [[nodiscard]] static constexpr result_type max() noexcept { return ~result_type{0}; }

    constexpr result_type operator()() noexcept {
        const std::uint64_t result = detail::rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = detail::rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, n), unbiased (Lemire's multiply-shift with rejection). n = 0 returns 0.
    constexpr std::uint64_t below(std::uint64_t n) noexcept {
        if (n == 0) return 0;
        std::uint64_t lo, hi;
        mul(operator()(), n, lo, hi);
        if (lo < n) {
            const std::uint64_t threshold = (0 - n) % n; // 2^64 mod n
            while (lo < threshold) mul(operator()(), n, lo, hi);
        }
        return hi;
    }

    /// Uniform in [0, 1) with 53 random bits.
    constexpr double uniform01() noexcept { return static_cast<double>(operator()() >> 11) * 0x1.0p-53; }

private:
    static constexpr void mul(std::uint64_t a, std::uint64_t b, std::uint64_t& lo, std::uint64_t& hi) noexcept {
#if defined(__SIZEOF_INT128__)
        __extension__ using u128 = unsigned __int128;
        const u128 p = static_cast<u128>(a) * b;
        lo = static_cast<std::uint64_t>(p);
        hi = static_cast<std::uint64_t>(p >> 64);
#else
        const std::uint64_t a_lo = a & 0xffffffffull, a_hi = a >> 32, b_lo = b & 0xffffffffull, b_hi = b >> 32;
        const std::uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
        const std::uint64_t mid = (ll >> 32) + (lh & 0xffffffffull) + (hl & 0xffffffffull);
        lo = (mid << 32) | (ll & 0xffffffffull);
        hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
    }

    std::uint64_t s_[4]{};
};

KEYSPACE_END_NAMESPACE
