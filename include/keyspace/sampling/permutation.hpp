/** @file keyspace/sampling/permutation.hpp
 *  Permutation: a keyed bijection of [0, n) for any n, in O(1) memory. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/sampling/rng.hpp>

#include <algorithm> // for std::max
#include <bit>       // for std::bit_width
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** A keyed pseudo-random bijection of [0, n): a 4-round (unbalanced when needed) Feistel network over [0, 2^k),
 *  k = the bit width of n - 1 (at least 2), with cycle walking: re-encrypting until the value falls below n, fewer
 *  than 2 encryptions on average since 2^k < 2n. A value is split into a high part of ceil(k/2) bits and a low
 *  part of floor(k/2) bits; rounds alternately xor into one part the top bits of (other part xor K) * (K | 1) for a
 *  64-bit round key K (round keys from Rng(seed)): a multiply-shift hash, whose top bits depend on every bit of the
 *  other part, one multiply of latency per round. `at` and `inverse` are O(1) expected; n up to 2^64 - 1.
 *  Same (n, seed) => same permutation, stable within a major version. n = 0 throws std::invalid_argument. */
class Permutation {
public:
    /// A permutation of [0, n) keyed by seed (the same n and seed give the same permutation). n = 0 throws
    /// std::invalid_argument.
    Permutation(std::uint64_t n, std::uint64_t seed) : n_(n) {
        if (n == 0) detail::fail_invalid_argument({"Permutation: n must be at least 1, got 0"});
        const unsigned bits = std::max(2u, static_cast<unsigned>(std::bit_width(n - 1)));
        lo_bits_ = bits / 2;
        hi_bits_ = bits - lo_bits_;
        lo_mask_ = (1ull << lo_bits_) - 1;
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
    /// n: the permutation maps [0, n) onto itself.
    [[nodiscard]] std::uint64_t size() const noexcept { return n_; }

private:
    // The top `bits` bits of the multiply-shift hash of the keyed part.
    [[nodiscard]] std::uint64_t f(std::uint64_t part, int r, unsigned bits) const noexcept {
        const std::uint64_t x = (part ^ keys_[r]) * (keys_[r] | 1);
        return ((x ^ (x >> 32)) * 0xd6e8feb86659fd93ull) >> (64 - bits);
    }
    [[nodiscard]] std::uint64_t encrypt(std::uint64_t x) const noexcept {
        std::uint64_t hi = x >> lo_bits_, lo = x & lo_mask_;
        hi ^= f(lo, 0, hi_bits_);
        lo ^= f(hi, 1, lo_bits_);
        hi ^= f(lo, 2, hi_bits_);
        lo ^= f(hi, 3, lo_bits_);
        return (hi << lo_bits_) | lo;
    }
    [[nodiscard]] std::uint64_t decrypt(std::uint64_t x) const noexcept {
        std::uint64_t hi = x >> lo_bits_, lo = x & lo_mask_;
        lo ^= f(hi, 3, lo_bits_);
        hi ^= f(lo, 2, hi_bits_);
        lo ^= f(hi, 1, lo_bits_);
        hi ^= f(lo, 0, hi_bits_);
        return (hi << lo_bits_) | lo;
    }

    std::uint64_t n_;
    unsigned lo_bits_, hi_bits_;
    std::uint64_t lo_mask_;
    std::uint64_t keys_[4];
};

KEYSPACE_END_NAMESPACE
