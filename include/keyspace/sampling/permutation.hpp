/** @file keyspace/sampling/permutation.hpp
 *  Permutation: a keyed bijection of [0, n) for any n, in O(1) memory. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/sampling/rng.hpp>

#include <bit>     // for std::bit_width
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** A keyed pseudo-random bijection of [0, n): a balanced 4-round Feistel network over the smallest domain of 4^h
 *  values (h bits per half) that holds n, with cycle walking (re-encrypting until the value falls below n; fewer
 *  than 4 rounds of walking on average, since 4^h < 4n). Each round adds to one half the top h bits of a
 *  multiplicative hash of the other half xor a round key (round keys from Rng(seed)). `at` and `inverse` are O(1) expected; n up to 2^64 - 1. Same (n, seed) => same
 *  permutation, stable within a major version. n = 0 throws std::invalid_argument. */
class Permutation {
public:
    Permutation(std::uint64_t n, std::uint64_t seed) : n_(n) {
        if (n == 0) detail::throw_invalid_argument("Permutation: n must be at least 1, got 0");
        const unsigned bits = static_cast<unsigned>(std::bit_width(n - 1)); // values below n fit in `bits` bits
        half_ = bits <= 2 ? 1 : (bits + 1) / 2;
        mask_ = half_ >= 32 ? 0xffffffffull : ((1ull << half_) - 1);
        Rng rng(seed);
        for (auto& k : keys_) k = rng();
    }

    /// The k-th element of the permutation, k < size().
    [[nodiscard]] std::uint64_t at(std::uint64_t k) const noexcept {
        std::uint64_t x = encrypt(k);
        while (x >= n_) x = encrypt(x);
        return x;
    }
    /// The k with at(k) == v, v < size().
    [[nodiscard]] std::uint64_t inverse(std::uint64_t v) const noexcept {
        std::uint64_t x = decrypt(v);
        while (x >= n_) x = decrypt(x);
        return x;
    }
    [[nodiscard]] std::uint64_t size() const noexcept { return n_; }

private:
    // Round function: the top half_ bits of a multiplicative hash of the keyed half (one multiply).
    [[nodiscard]] std::uint64_t round(std::uint64_t half, int r) const noexcept {
        return ((half ^ keys_[r]) * 0x9e3779b97f4a7c15ull) >> (64 - half_);
    }
    [[nodiscard]] std::uint64_t encrypt(std::uint64_t x) const noexcept {
        std::uint64_t left = (x >> half_) & mask_, right = x & mask_;
        for (int r = 0; r < 4; ++r) {
            const std::uint64_t next = left ^ round(right, r);
            left = right;
            right = next;
        }
        return (left << half_) | right;
    }
    [[nodiscard]] std::uint64_t decrypt(std::uint64_t x) const noexcept {
        std::uint64_t left = (x >> half_) & mask_, right = x & mask_;
        for (int r = 3; r >= 0; --r) {
            const std::uint64_t prev = right ^ round(left, r);
            right = left;
            left = prev;
        }
        return (left << half_) | right;
    }

    std::uint64_t n_;
    unsigned half_;
    std::uint64_t mask_;
    std::uint64_t keys_[4];
};

KEYSPACE_END_NAMESPACE
