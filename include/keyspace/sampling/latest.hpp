/** @file keyspace/sampling/latest.hpp
 *  Recency distributions, which draw a recency rank (0 = the most recent key) over a range that keeps growing:
 *  LatestDistribution (hotspot-shaped) and LatestZipfDistribution (Zipf-shaped, YCSB's `latest`). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/sampling_common.hpp>
#include <keyspace/sampling/hotspot.hpp>
#include <keyspace/sampling/zipf.hpp>

#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** Recency ranks shaped like HotspotDistribution: the recent set = ranks [0, ceil(recent_pct * n)) is drawn with
 *  probability recent_prob, uniformly, the older ranks uniformly otherwise. Rank 0 is the most recent key: the
 *  caller maps rank r to the ID `newest - r` (over a tracker: the highest set ID in the range, minus r).
 *
 *  Growth: the state is the parameters alone, and set_n(n) derives the recent-set size from (n, recent_pct) exactly
 *  as the constructor does; so a distribution grown from n0 to n draws, from the same generator state, exactly the
 *  ranks one built at n draws. set_n is O(1) and a no-op when n is unchanged, so it may be called before every draw.
 *
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator.
 *  n = 0, recent_pct ∉ (0, 1] and recent_prob ∉ [0, 1] (NaN included) throw std::invalid_argument. */
class LatestDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters n, recent_pct, recent_prob, and the recent-set size derived from them. */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = LatestDistribution;
        /// n = 1, recent_pct = 0.2, recent_prob = 0.8.
        param_type() noexcept : sets_(1, 0.2, 0.8) {}
        /// The parameters; values out of range throw std::invalid_argument, as the constructor's do.
        param_type(std::uint64_t n, double recent_pct, double recent_prob)
            : sets_(checked(n, recent_pct, recent_prob)) {}
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return sets_.n; }
        /// The recent fraction of the range, in (0, 1].
        [[nodiscard]] double recent_pct() const noexcept { return sets_.pct; }
        /// The probability that a draw is recent.
        [[nodiscard]] double recent_prob() const noexcept { return sets_.prob; }
        /// The recent set is [0, recent_count()): ceil(recent_pct * n) in double, clamped to [1, n].
        [[nodiscard]] std::uint64_t recent_count() const noexcept { return sets_.hot; }
        friend bool operator==(const param_type&, const param_type&) = default;

    private:
        friend class LatestDistribution;
        static detail::HotColdSets checked(std::uint64_t n, double recent_pct, double recent_prob) {
            detail::check_sampling_n("LatestDistribution", n);
            detail::check_pct("LatestDistribution", "recent_pct", recent_pct);
            detail::check_probability("LatestDistribution", "recent_prob", recent_prob);
            return {n, recent_pct, recent_prob};
        }
        detail::HotColdSets sets_;
    };

    /// n = 1, recent_pct = 0.2, recent_prob = 0.8.
    LatestDistribution() noexcept = default;
    /// See the class note; bad arguments throw std::invalid_argument.
    LatestDistribution(std::uint64_t n, double recent_pct, double recent_prob) : p_(n, recent_pct, recent_prob) {}
    /// A distribution with the parameters p.
    explicit LatestDistribution(const param_type& p) noexcept : p_(p) {}

    /// A recency rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return p_.sets_(g);
    }
    /// A recency rank drawn with other parameters (this distribution's are untouched).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        return p.sets_(g);
    }

    /// The range grew (or shrank) to n keys: draws from now on are exactly those of a distribution built at n.
    /// O(1); nothing happens when n is unchanged. n = 0 throws std::invalid_argument.
    void set_n(std::uint64_t n) {
        if (n != p_.n()) p_ = param_type(n, p_.recent_pct(), p_.recent_prob());
    }

    /// Stateless: nothing to reset.
    void reset() noexcept {}
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }
    /// The recent fraction of the range, in (0, 1].
    [[nodiscard]] double recent_pct() const noexcept { return p_.recent_pct(); }
    /// The probability that a draw is recent.
    [[nodiscard]] double recent_prob() const noexcept { return p_.recent_prob(); }
    /// The ranks counted as recent.
    [[nodiscard]] std::uint64_t recent_count() const noexcept { return p_.recent_count(); }

    friend bool operator==(const LatestDistribution&, const LatestDistribution&) = default;

private:
    param_type p_;
};

/** Recency ranks shaped like Zipf: P(r) = (r + 1)^-skew / ζ(n, skew), rank 0 the most recent key — YCSB's `latest`
 *  (which uses skew 0.99), drawn exactly by the rejection-inversion of ZipfDistribution. The caller maps rank r to
 *  the ID `newest - r`.
 *
 *  Growth: set_n(n) recomputes the sampler's constants from (n, skew) exactly as the constructor does (O(1): a few
 *  logarithms, skipped when n is unchanged), so a distribution grown from n0 to n draws, from the same generator
 *  state, exactly the ranks one built at n draws. (YCSB's generator instead patches its ζ(n) incrementally, O(Δn)
 *  per growth.)
 *
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator.
 *  n = 0, skew < 0, infinite or NaN throw std::invalid_argument. */
class LatestZipfDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters n and skew (with the derived constants of the Zipf sampler). */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = LatestZipfDistribution;
        /// n = 1, skew = 0.99 (YCSB's).
        param_type() noexcept = default;
        /// The parameters; values out of range throw std::invalid_argument, as the constructor's do.
        param_type(std::uint64_t n, double skew) : zipf_(checked(n, skew)) {}
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return zipf_.n(); }
        /// The Zipf exponent (skew).
        [[nodiscard]] double skew() const noexcept { return zipf_.skew(); }
        friend bool operator==(const param_type&, const param_type&) = default;

    private:
        friend class LatestZipfDistribution;
        static ZipfDistribution::param_type checked(std::uint64_t n, double skew) {
            detail::check_sampling_n("LatestZipfDistribution", n);
            detail::check_skew("LatestZipfDistribution", skew);
            return {n, skew};
        }
        ZipfDistribution::param_type zipf_;
    };

    /// n = 1, skew = 0.99.
    LatestZipfDistribution() noexcept = default;
    /// See the class note; bad arguments throw std::invalid_argument.
    LatestZipfDistribution(std::uint64_t n, double skew) : p_(n, skew) {}
    /// A distribution with the parameters p.
    explicit LatestZipfDistribution(const param_type& p) noexcept : p_(p) {}

    /// A recency rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return p_.zipf_.core_(g);
    }
    /// A recency rank drawn with other parameters (this distribution's are untouched).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        return p.zipf_.core_(g);
    }

    /// The range grew (or shrank) to n keys: draws from now on are exactly those of a distribution built at n.
    /// O(1); nothing happens when n is unchanged. n = 0 throws std::invalid_argument.
    void set_n(std::uint64_t n) {
        if (n != p_.n()) p_ = param_type(n, p_.skew());
    }

    /// Stateless: nothing to reset.
    void reset() noexcept {}
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }
    /// The Zipf exponent (skew).
    [[nodiscard]] double skew() const noexcept { return p_.skew(); }

    friend bool operator==(const LatestZipfDistribution&, const LatestZipfDistribution&) = default;

private:
    param_type p_;
};

KEYSPACE_END_NAMESPACE
