/** @file keyspace/sampling/hotspot.hpp
 *  HotspotDistribution: a hot set of ranks [0, ceil(hot_pct * n)) drawn with probability hot_prob, uniformly inside
 *  each of the hot and the cold set. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/sampling_common.hpp>

#include <cmath>   // for std::ceil
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

namespace detail {

/** Two uniform sets: the hot ranks [0, hot) with probability prob, the cold ranks [hot, n) otherwise. */
struct HotColdSets {
    std::uint64_t n = 1;
    std::uint64_t hot = 1; // ceil(pct * n), in [1, n]
    double pct = 1;
    double prob = 1;

    HotColdSets() noexcept = default;
    HotColdSets(std::uint64_t n_, double pct_, double prob_) noexcept
        : n(n_), hot(hot_count(n_, pct_)), pct(pct_), prob(prob_) {}

    /// ceil(pct * n) in double arithmetic (so 0.2 * 10 is 2, not the 3 the exact binary value of 0.2 would give),
    /// clamped to [1, n].
    [[nodiscard]] static std::uint64_t hot_count(std::uint64_t n, double pct) noexcept {
        const double nd = static_cast<double>(n);
        const double h = std::ceil(nd * pct);
        if (!(h < nd)) return n; // also covers n beyond 2^53 rounding up in double
        return h < 1.0 ? 1 : static_cast<std::uint64_t>(h);
    }

    /// A rank in [0, n): one uniform double to choose the set (53-bit resolution of prob), one bounded integer.
    template <random_bit_generator G>
    std::uint64_t operator()(G& g) const {
        const std::uint64_t cold = n - hot;
        if (cold == 0) return uniform_below(g, hot); // no cold set: every draw is hot
        return uniform01(g) < prob ? uniform_below(g, hot) : hot + uniform_below(g, cold);
    }

    friend bool operator==(const HotColdSets& a, const HotColdSets& b) noexcept {
        return a.n == b.n && a.pct == b.pct && a.prob == b.prob;
    }
};

} // namespace detail

/** Hot set = ranks [0, ceil(hot_pct * n)): a draw is uniform in the hot set with probability hot_prob and uniform in
 *  the other ranks otherwise. So P(r) = hot_prob / hot for a hot r and (1 - hot_prob) / (n - hot) for a cold one.
 *  ceil(hot_pct * n) is computed in double and clamped to [1, n]; when the hot set is the whole range every draw
 *  is uniform over it, whatever hot_prob. n may be anything in [1, 2^64).
 *
 *  Models RandomNumberDistribution (no stream operators) with any uniform random bit generator. Set-up O(1), a draw
 *  one uniform double and one bounded integer. Same parameters and generator state => same draws, stable within a
 *  major version. n = 0, hot_pct ∉ (0, 1] and hot_prob ∉ [0, 1] (NaN included) throw std::invalid_argument. */
class HotspotDistribution {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;

    /** The parameters n, hot_pct, hot_prob, and the hot-set size derived from them. */
    class param_type {
    public:
        /// The distribution these parameters are for.
        using distribution_type = HotspotDistribution;
        /// n = 1, hot_pct = 0.2, hot_prob = 0.8 (YCSB's hotspot defaults).
        param_type() noexcept : sets_(1, 0.2, 0.8) {}
        /// The parameters; values out of range throw std::invalid_argument, as the constructor's do.
        param_type(std::uint64_t n, double hot_pct, double hot_prob) : sets_(checked(n, hot_pct, hot_prob)) {}
        /// The range size: ranks are drawn from [0, n).
        [[nodiscard]] std::uint64_t n() const noexcept { return sets_.n; }
        /// The hot fraction of the range, in (0, 1]: the first ceil(hot_pct * n) ranks.
        [[nodiscard]] double hot_pct() const noexcept { return sets_.pct; }
        /// The probability that a draw is in the hot set.
        [[nodiscard]] double hot_prob() const noexcept { return sets_.prob; }
        /// The hot set is [0, hot_count()): ceil(hot_pct * n) clamped to [1, n].
        [[nodiscard]] std::uint64_t hot_count() const noexcept { return sets_.hot; }
        friend bool operator==(const param_type&, const param_type&) = default;

    private:
        friend class HotspotDistribution;
        static detail::HotColdSets checked(std::uint64_t n, double hot_pct, double hot_prob) {
            detail::check_sampling_n("HotspotDistribution", n);
            detail::check_pct("HotspotDistribution", "hot_pct", hot_pct);
            detail::check_probability("HotspotDistribution", "hot_prob", hot_prob);
            return {n, hot_pct, hot_prob};
        }
        detail::HotColdSets sets_;
    };

    /// n = 1, hot_pct = 0.2, hot_prob = 0.8.
    HotspotDistribution() noexcept = default;
    /// See the class note; bad arguments throw std::invalid_argument.
    HotspotDistribution(std::uint64_t n, double hot_pct, double hot_prob) : p_(n, hot_pct, hot_prob) {}
    /// A distribution with the parameters p.
    explicit HotspotDistribution(const param_type& p) noexcept : p_(p) {}

    /// A rank in [0, n).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return p_.sets_(g);
    }
    /// A rank drawn with other parameters (this distribution's are untouched).
    template <detail::random_bit_generator G>
    result_type operator()(G& g, const param_type& p) {
        return p.sets_(g);
    }

    /// Stateless: nothing to reset.
    void reset() noexcept {}
    /// The parameters.
    [[nodiscard]] const param_type& param() const noexcept { return p_; }
    /// Replaces the parameters; draws then follow a distribution built with p.
    void param(const param_type& p) noexcept { p_ = p; }
    /// Resizes the range to [0, n) (same hot_pct and hot_prob); draws then follow a distribution built at n.
    void set_n(std::uint64_t n) { p_ = param_type(n, p_.hot_pct(), p_.hot_prob()); }

    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return p_.n() - 1; }
    /// The range size: ranks are drawn from [0, n).
    [[nodiscard]] std::uint64_t n() const noexcept { return p_.n(); }
    /// The hot fraction of the range, in (0, 1]: the first ceil(hot_pct * n) ranks.
    [[nodiscard]] double hot_pct() const noexcept { return p_.hot_pct(); }
    /// The probability that a draw is in the hot set.
    [[nodiscard]] double hot_prob() const noexcept { return p_.hot_prob(); }
    /// The ranks of the hot set.
    [[nodiscard]] std::uint64_t hot_count() const noexcept { return p_.hot_count(); }

    friend bool operator==(const HotspotDistribution&, const HotspotDistribution&) = default;

private:
    param_type p_;
};

KEYSPACE_END_NAMESPACE
