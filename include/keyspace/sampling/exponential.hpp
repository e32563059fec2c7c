/** @file keyspace/sampling/exponential.hpp
 *  ExponentialDistribution: ranks with geometrically decaying probability, P(r) ∝ exp(-r / (lambda_pct * n)). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/sampling_common.hpp>

#include <cmath>   // for std::expm1, std::log1p
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** P(r) = q^r (1 - q) / (1 - q^n) for every rank r in [0, n), q = exp(-1 / (lambda_pct * n)): an exponential decay
 *  with mean distance lambda_pct * n from rank 0, truncated to the range (the geometric distribution truncated to
 *  [0, n)).
 *
 *  Drawn exactly by inversion, with no rejection: r = floor(-lambda_pct * n * log1p(u * expm1(-1 / lambda_pct)))
 *  for u uniform in [0, 1). (Its CDF is exactly (1 - q^(r+1)) / (1 - q^n); note 1 - q^n = -expm1(-1/lambda_pct)
 *  does not depend on n.) One uniform and one log1p per draw; set-up O(1). Exact up to double rounding: ranges of
 *  ranks get their probability to about 2^-50, single ranks as long as lambda_pct * n is below about 2^50.
 *
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator. Same parameters and
 *  generator state => same draws, stable within a major version. n = 0 and lambda_pct ∉ (0, 1] (NaN included) throw
 *  std::invalid_argument. */
class ExponentialDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters n and lambda_pct, and the two constants of the inversion derived from them. */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = ExponentialDistribution;
        /// n = 1, lambda_pct = 0.1.
        param_type() noexcept : param_type(1, 0.1, nullptr) {}
        /// The parameters; values out of range throw std::invalid_argument, as the constructor's do.
        param_type(std::uint64_t n, double lambda_pct) : param_type(n, lambda_pct, "ExponentialDistribution") {}
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return n_; }
        /// The mean distance from rank 0, as a fraction of n (in (0, 1]).
        [[nodiscard]] double lambda_pct() const noexcept { return lambda_pct_; }
        friend bool operator==(const param_type& a, const param_type& b) noexcept {
            return a.n_ == b.n_ && a.lambda_pct_ == b.lambda_pct_; // the rest follows from them
        }

    private:
        friend class ExponentialDistribution;
        param_type(std::uint64_t n, double lambda_pct, const char* where) : n_(n), lambda_pct_(lambda_pct) {
            if (where != nullptr) {
                detail::check_sampling_n(where, n);
                detail::check_pct(where, "lambda_pct", lambda_pct);
            }
            tail_ = std::expm1(-1.0 / lambda_pct); // in [-1, -1 + e^-1]: -(1 - q^n)
            scale_ = lambda_pct * static_cast<double>(n);
        }
        template <detail::random_bit_generator G>
        std::uint64_t draw(G& g) const {
            return detail::rank_of(-scale_ * std::log1p(detail::uniform01(g) * tail_), n_);
        }
        std::uint64_t n_;
        double lambda_pct_;
        double tail_ = 0;  // expm1(-1 / lambda_pct)
        double scale_ = 0; // lambda_pct * n
    };

    /// n = 1, lambda_pct = 0.1.
    ExponentialDistribution() noexcept = default;
    /// See the class note; bad arguments throw std::invalid_argument.
    ExponentialDistribution(std::uint64_t n, double lambda_pct) : p_(n, lambda_pct) {}
    /// A distribution with the parameters p.
    explicit ExponentialDistribution(const param_type& p) noexcept : p_(p) {}

    /// A rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return p_.draw(g);
    }
    /// A rank drawn with other parameters (this distribution's are untouched).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        return p.draw(g);
    }

    /// Stateless: nothing to reset.
    void reset() noexcept {}
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }
    /// Resizes the range to [0, n) (same lambda_pct, so the decay length scales with n).
    void set_n(std::uint64_t n) { p_ = param_type(n, p_.lambda_pct()); }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }
    /// The mean distance from rank 0, as a fraction of n (in (0, 1]).
    [[nodiscard]] double lambda_pct() const noexcept { return p_.lambda_pct(); }

    friend bool operator==(const ExponentialDistribution&, const ExponentialDistribution&) = default;

private:
    param_type p_;
};

KEYSPACE_END_NAMESPACE
