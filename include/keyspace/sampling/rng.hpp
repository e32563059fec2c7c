/** @file keyspace/sampling/rng.hpp
 *  Rng: xoshiro256** seeded through splitmix64. Small, fast, and a std::uniform_random_bit_generator. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>

#include <atomic>  // for std::atomic
#include <cstdint> // for std::uint64_t, std::uintptr_t

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

namespace detail {

/// The seed of sub-stream `index` of `seed`: the library's one seed mixer (Rng::stream, the iterators' slices and
/// internal generators, the toolkit's hashed choices). Distinct indices give unrelated seeds.
[[nodiscard]] constexpr std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) noexcept {
    return splitmix64_mix(seed ^ splitmix64_mix(index + 0x632be59bd9b4e019ull));
}

/// A seed for builders given none: distinct per call and per process run.
[[nodiscard]] inline std::uint64_t fresh_seed() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    const auto local = reinterpret_cast<std::uintptr_t>(&counter); // differs between runs (ASLR)
    return mix_seed(static_cast<std::uint64_t>(local) ^ 0x5eed, counter.fetch_add(1, std::memory_order_relaxed));
}

} // namespace detail

/** xoshiro256** 1.0 (Blackman & Vigna, 2018): 256 bits of state, period 2^256 - 1, 64-bit outputs that pass BigCrush
 *  and PractRand. The state is filled from the seed by splitmix64 (state word i = the i-th splitmix64 output for
 *  that seed), the seeding the algorithm's authors recommend, so no seed gives the all-zero state.
 *
 *  Same seed => same sequence; sequences (of operator(), below(), uniform01(), stream() and jump()) are stable
 *  within a major version of keyspace. Models std::uniform_random_bit_generator, so it drives the standard
 *  distributions as well as keyspace's.
 *
 *  Independent streams, two ways:
 *  - `Rng::stream(seed, i)`: the i-th stream of a seed, seeded from a mix of both. The streams start at unrelated
 *    points of the 2^256 period; the chance that any two of k streams drawing m values each overlap is about
 *    k^2 m / 2^256, i.e. never. Cheap (no state walk) and addressable by any index: the usual choice per slice or
 *    per worker.
 *  - `jump()`: advances by exactly 2^128 draws. Copies of one Rng jumped 0, 1, 2, … times are provably
 *    non-overlapping for 2^128 draws each; a jump costs 256 draws.
 *
 *  Thread safety: none (a value type; give each thread its own). */
class Rng {
public:
    /// The type of the values generated.
    using result_type = std::uint64_t;

    /// The generator for `seed`.
    explicit constexpr Rng(std::uint64_t seed) noexcept {
        for (auto& word : s_) {
            seed += 0x9e3779b97f4a7c15ull; // splitmix64's increment
            word = detail::splitmix64_mix(seed);
        }
    }
    /// The i-th independent stream of a seed: Rng(detail::mix_seed(seed, index)) (see the class note).
    [[nodiscard]] static constexpr Rng stream(std::uint64_t seed, std::uint64_t index) noexcept {
        return Rng(detail::mix_seed(seed, index));
    }

    /// The smallest value generated: 0.
    [[nodiscard]] static constexpr result_type min() noexcept { return 0; }
    /// The largest value generated: 2^64 - 1.
    [[nodiscard]] static constexpr result_type max() noexcept { return ~result_type{0}; }

    /// The next 64 uniform bits.
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

    /// Uniform in [0, n), unbiased: Lemire's multiply-shift with rejection (one draw and one multiply, a division
    /// only on the rare near-rejection). n = 0 returns 0 without drawing.
    constexpr std::uint64_t below(std::uint64_t n) noexcept {
        if (n == 0) return 0;
        return detail::uniform_below(*this, n);
    }

    /// Uniform in [0, 1) with 53 random bits (the top 53 bits of one draw).
    constexpr double uniform01() noexcept { return detail::uniform01(*this); }

    /// Advances the state by 2^128 draws (the reference xoshiro256** jump polynomial): for provably disjoint
    /// streams, copy one Rng and jump each copy a different number of times.
    constexpr void jump() noexcept {
        constexpr std::uint64_t polynomial[4] = {0x180ec6d33cfd0abaull, 0xd5a61266f0c9392cull, 0xa9582618e03fc9aaull,
                                                 0x39abdc4529b1661cull};
        std::uint64_t t[4] = {0, 0, 0, 0};
        for (const std::uint64_t word : polynomial)
            for (int b = 0; b < 64; ++b) {
                if (word & (1ull << b))
                    for (int i = 0; i < 4; ++i) t[i] ^= s_[i];
                operator()();
            }
        for (int i = 0; i < 4; ++i) s_[i] = t[i];
    }

    /// Same state => same future sequence.
    friend constexpr bool operator==(const Rng&, const Rng&) = default;

private:
    std::uint64_t s_[4]{};
};

KEYSPACE_END_NAMESPACE
