/** @file keyspace/sampling/normal.hpp
 *  NormalDistribution: the floor of a normal variate centred in the range, truncated to [0, n) by rejection. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/sampling_common.hpp>

#include <cmath>   // for std::log, std::sqrt
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** r = floor(x) for x drawn from normal(mean_pct * n, std_pct * n) conditioned on 0 <= x < n (rejection: a draw
 *  outside the range is redrawn). So P(r) = [Φ((r + 1 - μ)/σ) - Φ((r - μ)/σ)] / [Φ((n - μ)/σ) - Φ(-μ/σ)].
 *
 *  mean_pct is a position in [0, 1] (0 and 1 are allowed: a half-normal at either end of the range); std_pct is a
 *  fraction in (0, 1]. Since the mean lies in the range, at least about a third of the variates land in it for any
 *  parameters (P(0 <= Z < 1) = 0.34, mean at an end and std_pct = 1), so a draw costs at most about 3 normal
 *  variates on average. The standard normal variates come in pairs from Marsaglia's polar method; the second of a
 *  pair is kept for the next call (reset() forgets it): a variate costs about 1.3 uniforms, a pair one logarithm
 *  and one square root.
 *  Exact up to double rounding: ranges of ranks get their probability to about 2^-50, single ranks as long as
 *  std_pct * n is well below 2^50.
 *
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator. Same parameters,
 *  same generator state and a fresh (or reset) distribution => same draws, stable within a major version.
 *  n = 0, mean_pct ∉ [0, 1] and std_pct ∉ (0, 1] (NaN included) throw std::invalid_argument. */
class NormalDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters n, mean_pct and std_pct. */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = NormalDistribution;
        /// n = 1, mean_pct = 0.5, std_pct = 0.1.
        param_type() noexcept = default;
        /// The parameters; values out of range throw std::invalid_argument, as the constructor's do.
        param_type(std::uint64_t n, double mean_pct, double std_pct) : n_(n), mean_pct_(mean_pct), std_pct_(std_pct) {
            detail::check_sampling_n("NormalDistribution", n);
            detail::check_position("NormalDistribution", "mean_pct", mean_pct);
            detail::check_pct("NormalDistribution", "std_pct", std_pct);
            mean_ = mean_pct * static_cast<double>(n);
            sigma_ = std_pct * static_cast<double>(n);
            z_lo_ = -mean_ / sigma_;
            z_hi_ = (static_cast<double>(n) - mean_) / sigma_;
        }
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return n_; }
        /// The mean, as a fraction of n (in [0, 1]).
        [[nodiscard]] double mean_pct() const noexcept { return mean_pct_; }
        /// The standard deviation, as a fraction of n (in (0, 1]).
        [[nodiscard]] double std_pct() const noexcept { return std_pct_; }
        friend bool operator==(const param_type&, const param_type&) = default;

    private:
        friend class NormalDistribution;
        std::uint64_t n_ = 1;
        double mean_pct_ = 0.5, std_pct_ = 0.1;
        double mean_ = 0.5, sigma_ = 0.1; // mean_pct * n, std_pct * n
        double z_lo_ = -5.0, z_hi_ = 5.0; // the range [0, n) in standard-normal units
    };

    /// n = 1, mean_pct = 0.5, std_pct = 0.1.
    NormalDistribution() noexcept = default;
    /// See the class note; bad arguments throw std::invalid_argument.
    NormalDistribution(std::uint64_t n, double mean_pct, double std_pct) : p_(n, mean_pct, std_pct) {}
    /// A distribution with the parameters p.
    explicit NormalDistribution(const param_type& p) noexcept : p_(p) {}

    /// A rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return (*this)(g, p_);
    }
    /// A rank drawn with other parameters (this distribution's are untouched; the kept variate is shared).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        // The truncation is decided on the standard variate, z in [-μ/σ, (n - μ)/σ), so that it stays exact when
        // μ ± σz rounds to an end of the range (μ = n with a tiny σ: half the variates lie below n).
        for (;;) {
            const double z = standard_normal(g);
            if (z >= p.z_lo_ && z < p.z_hi_) return detail::rank_of(p.mean_ + p.sigma_ * z, p.n_);
        }
    }

    /// Forgets the kept second variate of the last pair, so the next draws depend on the generator alone.
    void reset() noexcept { has_spare_ = false; }
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }
    /// Resizes the range to [0, n) (same mean_pct and std_pct, so the bell scales with n).
    void set_n(std::uint64_t n) { p_ = param_type(n, p_.mean_pct(), p_.std_pct()); }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }
    /// The mean, as a fraction of n (in [0, 1]).
    [[nodiscard]] double mean_pct() const noexcept { return p_.mean_pct(); }
    /// The standard deviation, as a fraction of n (in (0, 1]).
    [[nodiscard]] double std_pct() const noexcept { return p_.std_pct(); }

    /// Equal parameters and the same kept variate (so equal generators give equal draws).
    friend bool operator==(const NormalDistribution& a, const NormalDistribution& b) noexcept {
        return a.p_ == b.p_ && a.has_spare_ == b.has_spare_ && (!a.has_spare_ || a.spare_ == b.spare_);
    }

private:
    /// A standard normal variate: Marsaglia's polar method, two per accepted point of the unit disc.
    template <detail::random_bit_generator G>
    double standard_normal(G& g) {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u, v, s;
        do {
            u = 2.0 * detail::uniform01(g) - 1.0;
            v = 2.0 * detail::uniform01(g) - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double m = std::sqrt(-2.0 * std::log(s) / s);
        spare_ = v * m;
        has_spare_ = true;
        return u * m;
    }

    param_type p_;
    double spare_ = 0;
    bool has_spare_ = false;
};

KEYSPACE_END_NAMESPACE
