/** @file keyspace/sampling/uniform.hpp
 *  UniformDistribution: a rank uniform in [0, n), without modulo bias. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/sampling_common.hpp>

#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** P(r) = 1/n for every rank r in [0, n), for any n in [1, 2^64).
 *
 *  Draws by Lemire's multiply-shift with rejection (the high word of x * n for 64 random bits x, redrawn when the
 *  low word is below 2^64 mod n), so it is exactly uniform where `x % n` is not: at n = 3 * 2^61 a modulo-reduced
 *  draw lands below 2^62 half of the time instead of two thirds. One 64-bit draw on almost every call.
 *
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator. Set-up O(1).
 *  Same parameters and generator state => same draws, stable within a major version. n = 0 throws
 *  std::invalid_argument. */
class UniformDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters: the range size n. */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = UniformDistribution;
        /// n = 1.
        param_type() noexcept = default;
        /// Ranks [0, n); n = 0 throws std::invalid_argument.
        explicit param_type(std::uint64_t n) : n_(n) { detail::check_sampling_n("UniformDistribution", n); }
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return n_; }
        friend bool operator==(const param_type&, const param_type&) = default;

    private:
        std::uint64_t n_ = 1;
    };

    /// n = 1.
    UniformDistribution() noexcept = default;
    /// Ranks [0, n); n = 0 throws std::invalid_argument.
    explicit UniformDistribution(std::uint64_t n) : p_(n) {}
    /// A distribution with the parameters p.
    explicit UniformDistribution(const param_type& p) noexcept : p_(p) {}

    /// A rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return detail::uniform_below(g, p_.n());
    }
    /// A rank drawn with other parameters (this distribution's are untouched).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        return detail::uniform_below(g, p.n());
    }

    /// Stateless: nothing to reset.
    void reset() noexcept {}
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }
    /// Resizes the range to [0, n); draws then follow a distribution built at n. n = 0 throws.
    void set_n(std::uint64_t n) { p_ = param_type(n); }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }

    friend bool operator==(const UniformDistribution&, const UniformDistribution&) = default;

private:
    param_type p_;
};

KEYSPACE_END_NAMESPACE
