/** @file keyspace/sampling/zipf.hpp
 *  ZipfDistribution (exact, by rejection-inversion) and ScrambledZipfDistribution (the same ranks passed through a
 *  keyed bijection, so the hot ranks are scattered over the range). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/sampling_common.hpp>
#include <keyspace/sampling/permutation.hpp>

#include <cmath>   // for std::log, std::exp, std::log1p, std::expm1, std::fabs
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

namespace detail {

/// log1p(x) / x, continuous through x = 0 (a series where the quotient would lose digits).
[[nodiscard]] inline double log1p_over_x(double x) noexcept {
    if (std::fabs(x) > 1e-8) return std::log1p(x) / x;
    return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

/// expm1(x) / x, continuous through x = 0.
[[nodiscard]] inline double expm1_over_x(double x) noexcept {
    if (std::fabs(x) > 1e-8) return std::expm1(x) / x;
    return 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

/** Rejection-inversion (Hörmann & Derflinger 1996) for P(k) ∝ h(k) = k^-s over k in [1, n], any s >= 0.
 *
 *  H(x) = (x^(1-s) - 1) / (1-s) is an antiderivative of h (log x at s = 1), written as log(x) * expm1(t) / t with
 *  t = (1-s) log x so that it is one accurate formula for every s, s = 1 and its neighbourhood included; its
 *  inverse is exp(y * log1p(t) / t) with t = (1-s) y. Because h is convex, the integral of h over
 *  [k - 1/2, k + 1/2] is at least h(k) (Jensen), so each k >= 2 owns the u-interval (H(k - 1/2), H(k + 1/2)] and
 *  accepts exactly its top part of length h(k), [H(k + 1/2) - h(k), H(k + 1/2)]; k = 1 owns exactly
 *  (H(3/2) - 1, H(3/2)], of length h(1) = 1 (this keeps the rejection rate low for large s). So u uniform on
 *  (H(3/2) - 1, H(n + 1/2)], x = H^-1(u), k = round(x), accept if u >= H(k + 1/2) - h(k): each k is accepted with
 *  probability exactly proportional to h(k). u in k = 1's interval is taken without inverting; the cheap squeeze
 *  k - x <= squeeze (squeeze = 2 - H^-1(H(5/2) - h(2))) accepts most other draws before the full test: the
 *  rejected part of each k's interval shrinks with k. Rejections are rare for every s (under 2 % of the draws
 *  for s <= 3), so a draw costs O(1) expected: one uniform, a log1p and an exp (none when k = 1), rarely one more
 *  log, exp and expm1. Set-up: a few logarithms. */
struct ZipfRejectionInversion {
    std::uint64_t n = 1;
    double s = 0;
    double one_minus_s = 1;
    double h_x1 = 0;    // H(3/2) - 1: the low end of u
    double h_1 = 0;     // H(3/2): u in (h_x1, h_1] is rank 1
    double h_n = 0;     // H(n + 1/2): the high end of u
    double squeeze = 0; // k - x <= squeeze => accept

    ZipfRejectionInversion() noexcept = default;
    ZipfRejectionInversion(std::uint64_t n_, double s_) noexcept : n(n_), s(s_), one_minus_s(1.0 - s_) {
        h_1 = big_h(1.5);
        h_x1 = h_1 - 1.0;
        h_n = big_h(static_cast<double>(n) + 0.5);
        squeeze = 2.0 - big_h_inverse(big_h(2.5) - h(2.0));
    }

    /// h(x) = x^-s.
    [[nodiscard]] double h(double x) const noexcept { return std::exp(-s * std::log(x)); }
    /// H(x), an antiderivative of h.
    [[nodiscard]] double big_h(double x) const noexcept {
        const double log_x = std::log(x);
        return expm1_over_x(one_minus_s * log_x) * log_x;
    }
    /// H^-1(y).
    [[nodiscard]] double big_h_inverse(double y) const noexcept {
        return std::exp(log1p_over_x(one_minus_s * y) * y);
    }

    /// A rank k - 1 in [0, n).
    template <random_bit_generator G>
    std::uint64_t operator()(G& g) const {
        if (s == 0.0) return uniform_below(g, n); // h = 1: exactly uniform, no floating point
        for (;;) {
            const double u = h_n + uniform01(g) * (h_x1 - h_n); // in (h_x1, h_n]
            // k = 1 owns exactly (h_x1, h_1]: no inversion needed (most draws for s >= 2).
            if (u <= h_1) return 0;
            const double x = big_h_inverse(u);
            // k = round(x) clamped to [1, n]; x is NaN or huge only at the very top of u for s > 1 (rounding).
            const double y = x + 0.5;
            std::uint64_t k = y < 0x1.0p63 ? static_cast<std::uint64_t>(y) : n;
            if (k > n) k = n;
            if (k < 1) k = 1;
            const double kd = static_cast<double>(k);
            if (kd - x <= squeeze || u >= big_h(kd + 0.5) - h(kd)) return k - 1;
        }
    }

    friend bool operator==(const ZipfRejectionInversion& a, const ZipfRejectionInversion& b) noexcept {
        return a.n == b.n && a.s == b.s; // the rest follows from them
    }
};

} // namespace detail

/** P(r) = (r + 1)^-skew / ζ(n, skew) for every rank r in [0, n) (rank 0 the hottest), ζ(n, s) = Σ_{k=1..n} k^-s.
 *
 *  Exact for every skew >= 0, s = 0 (uniform), s = 1 and s > 1 included, by rejection-inversion
 *  (Hörmann & Derflinger 1996, "Rejection-inversion to generate variates from monotone discrete distributions", in
 *  the generalised form without their s > 1 restriction): O(1) set-up for any n (about 40 ns; no ζ(n) sum: YCSB's
 *  Gray method spends O(n) on it, 12 ms at n = 10^6, and over-samples ranks 2-4 by 8-20 %), O(1) expected per draw
 *  (11-25 ns on the reference machine for skews 0.5 to 2, 18 ns at 0.99).
 *  Exactness: no approximation is made beyond double rounding, so the probability of any range of ranks is right to
 *  about 2^-50 of the total. One by one, ranks are resolved while a rank's share of the uniform, (r + 1)^-skew, is
 *  wider than the double resolution of u there: for every rank when n <= (1 - skew) * 2^52 (skew < 1: 2^51 at 0.5,
 *  2^45 at 0.99), otherwise up to rank ~2^47 at skew 1, ~2^41 at 1.2, ~2^26 at 2, ~2^17 at 3. Ranks beyond (at most
 *  ~0.3 % of the draws at skew 1.2, under 10^-8 at skew >= 2, more near skew 1 when n approaches 2^53) are drawn
 *  right in aggregate but not individually. n may be anything up to 2^64 - 1. skew = 0 draws an exactly uniform
 *  integer.
 *
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator.
 *  Same parameters and generator state => same draws, stable within a major version.
 *  n = 0, skew < 0, infinite or NaN throw std::invalid_argument. */
class ZipfDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters n and skew, and the constants of the sampler derived from them. */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = ZipfDistribution;
        /// n = 1, skew = 0.99 (YCSB's zipfian constant).
        param_type() noexcept : param_type(1, 0.99, nullptr) {}
        /// Ranks [0, n) with P(r) ∝ (r + 1)^-skew; n = 0, skew < 0, infinite or NaN throw std::invalid_argument.
        param_type(std::uint64_t n, double skew) : param_type(n, skew, "ZipfDistribution") {}
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return core_.n; }
        /// The Zipf exponent (skew).
        [[nodiscard]] double skew() const noexcept { return core_.s; }
        friend bool operator==(const param_type&, const param_type&) = default;

    private:
        friend class ZipfDistribution;
        friend class ScrambledZipfDistribution;
        friend class LatestZipfDistribution;
        param_type(std::uint64_t n, double skew, const char* where) : core_(checked(n, skew, where)) {}
        static detail::ZipfRejectionInversion checked(std::uint64_t n, double skew, const char* where) {
            if (where != nullptr) {
                detail::check_sampling_n(where, n);
                detail::check_skew(where, skew);
            }
            return {n, skew};
        }
        detail::ZipfRejectionInversion core_;
    };

    /// n = 1, skew = 0.99.
    ZipfDistribution() noexcept = default;
    /// Ranks [0, n) with P(r) ∝ (r + 1)^-skew; n = 0, skew < 0, infinite or NaN throw std::invalid_argument.
    ZipfDistribution(std::uint64_t n, double skew) : p_(n, skew) {}
    /// A distribution with the parameters p.
    explicit ZipfDistribution(const param_type& p) noexcept : p_(p) {}

    /// A rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return p_.core_(g);
    }
    /// A rank drawn with other parameters (this distribution's are untouched).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        return p.core_(g);
    }

    /// Stateless: nothing to reset.
    void reset() noexcept {}
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }
    /// Resizes the range to [0, n) in O(1); draws then are exactly those of a distribution built at n.
    void set_n(std::uint64_t n) { p_ = param_type(n, p_.skew()); }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }
    /// The Zipf exponent (skew).
    [[nodiscard]] double skew() const noexcept { return p_.skew(); }

    friend bool operator==(const ZipfDistribution&, const ZipfDistribution&) = default;

private:
    param_type p_;
};

/** Zipf over the range with the hot ranks scattered: draws r from ZipfDistribution(n, skew) and returns
 *  Permutation(n, seed).at(r). The permutation is a bijection, so the frequency profile (frequencies sorted in
 *  decreasing order) is still exactly Zipf(n, skew) — unlike YCSB's scrambled zipfian, whose `fnv64(r) % n` merges
 *  ranks (at n = 10^6 its hottest 1 % of keys get ~40 % of the draws instead of ~66 %). Rank 0, the hottest of the
 *  plain distribution, is permutation().at(0) here, and so on.
 *
 *  Costs a Zipf draw plus a Permutation::at (about 35 ns in all at skew 0.99). set_n() rebuilds the permutation for
 *  the new n, so the hot keys move: a scrambled distribution is not meant for a growing range.
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator.
 *  n = 0, skew < 0, infinite or NaN throw std::invalid_argument. */
class ScrambledZipfDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters n, skew and the permutation seed. */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = ScrambledZipfDistribution;
        /// n = 1, skew = 0.99, seed = 0.
        param_type() noexcept : zipf_(), perm_(make_permutation(1, 0)) {}
        /// Ranks [0, n), P(permutation(n, seed).at(r)) ∝ (r + 1)^-skew.
        param_type(std::uint64_t n, double skew, std::uint64_t seed)
            : zipf_(n, skew), perm_(make_permutation(n, seed)), seed_(seed) {}
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return zipf_.n(); }
        /// The Zipf exponent (skew).
        [[nodiscard]] double skew() const noexcept { return zipf_.skew(); }
        /// The key of the scrambling permutation.
        [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
        /// The underlying (unscrambled) Zipf parameters.
        [[nodiscard]] const ZipfDistribution::param_type& zipf() const noexcept { return zipf_; }
        /// The bijection applied to the Zipf ranks.
        [[nodiscard]] const Permutation& permutation() const noexcept { return perm_; }
        friend bool operator==(const param_type& a, const param_type& b) noexcept {
            return a.zipf_ == b.zipf_ && a.seed_ == b.seed_; // the permutation follows from (n, seed)
        }

    private:
        static Permutation make_permutation(std::uint64_t n, std::uint64_t seed) noexcept {
            return Permutation(n, seed); // n >= 1 was checked by the Zipf parameters
        }
        ZipfDistribution::param_type zipf_;
        Permutation perm_;
        std::uint64_t seed_ = 0;
    };

    /// n = 1, skew = 0.99, seed = 0.
    ScrambledZipfDistribution() noexcept = default;
    /// Ranks [0, n), P(permutation(n, seed).at(r)) ∝ (r + 1)^-skew; bad n or skew throw std::invalid_argument.
    ScrambledZipfDistribution(std::uint64_t n, double skew, std::uint64_t seed) : p_(n, skew, seed) {}
    /// A distribution with the parameters p.
    explicit ScrambledZipfDistribution(const param_type& p) noexcept : p_(p) {}

    /// A rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return (*this)(g, p_);
    }
    /// A rank drawn with other parameters (this distribution's are untouched).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        return p.permutation().at(p.zipf().core_(g));
    }

    /// Stateless: nothing to reset.
    void reset() noexcept {}
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }
    /// Rebuilds for [0, n) (same skew and seed): a new permutation, so the hot keys move.
    void set_n(std::uint64_t n) { p_ = param_type(n, p_.skew(), p_.seed()); }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }
    /// The Zipf exponent (skew).
    [[nodiscard]] double skew() const noexcept { return p_.skew(); }
    /// The key of the scrambling permutation.
    [[nodiscard]] std::uint64_t seed() const noexcept { return p_.seed(); }
    /// The permutation ranks are scrambled through.
    [[nodiscard]] const Permutation& permutation() const noexcept { return p_.permutation(); }

    friend bool operator==(const ScrambledZipfDistribution& a, const ScrambledZipfDistribution& b) noexcept {
        return a.p_ == b.p_;
    }

private:
    param_type p_;
};

KEYSPACE_END_NAMESPACE
