/** @file keyspace/sampling/access_distribution.hpp
 *  AccessDistribution, a small value naming an access pattern over a range of ranks, and Sampler, the concrete
 *  sampler it makes for a range size: what the iterators hold to draw without knowing the distribution types. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/sampling_common.hpp>
#include <keyspace/sampling/exponential.hpp>
#include <keyspace/sampling/hotspot.hpp>
#include <keyspace/sampling/latest.hpp>
#include <keyspace/sampling/normal.hpp>
#include <keyspace/sampling/uniform.hpp>
#include <keyspace/sampling/zipf.hpp>

#include <cstdint> // for std::uint64_t, std::uint8_t
#include <utility> // for std::move
#include <variant> // for std::variant, std::visit, std::holds_alternative

KEYSPACE_BEGIN_NAMESPACE

/** One of the standalone distributions, chosen at run time: a std::variant of them, so draws do no allocation and
 *  no virtual call (std::visit; a draw through a Sampler costs what a draw from the distribution itself costs).
 *  Made by AccessDistribution::make_sampler(n, seed).
 *
 *  Draws are ranks in [0, n()). For the recency kinds (is_recency(): latest, latest_zipfian) rank 0 is the most
 *  recent key, to be mapped to `newest - r`; for the others rank r maps to `begin + r`. A scrambled Zipf sampler
 *  returns the rank already passed through its Permutation(n, seed).
 *
 *  Growth: set_n(n) re-derives the sampler for n in O(1) (a no-op when n is unchanged). For every kind but the
 *  scrambled Zipf the result draws exactly like a sampler made at n (the state is the parameters alone, except the
 *  normal's kept variate, which set_n keeps); a scrambled Zipf gets a new permutation, so its hot keys move.
 *  Thread safety: none (a value type; one per iterator or thread). */
class Sampler {
public:
    /// The type of a draw.
    using result_type = std::uint64_t;
    /// The concrete distributions a Sampler holds one of.
    using variant_type = std::variant<UniformDistribution, ZipfDistribution, ScrambledZipfDistribution,
                                      HotspotDistribution, LatestDistribution, LatestZipfDistribution,
                                      ExponentialDistribution, NormalDistribution>;

    /// Uniform over one rank.
    Sampler() noexcept = default;
    /// Wraps one of the standalone distributions.
    explicit Sampler(variant_type distribution) noexcept : d_(std::move(distribution)) {}

    /// A rank in [0, n()).
    template <detail::random_bit_generator G>
    result_type operator()(G& g) {
        return std::visit([&g](auto& d) -> result_type { return d(g); }, d_);
    }

    /// The range now holds n ranks (see the class note). n = 0 throws std::invalid_argument.
    void set_n(std::uint64_t n) {
        if (n != this->n()) std::visit([n](auto& d) { d.set_n(n); }, d_);
    }
    /// The range size.
    [[nodiscard]] std::uint64_t n() const noexcept {
        return std::visit([](const auto& d) { return d.n(); }, d_);
    }
    /// The smallest rank drawn: 0.
    [[nodiscard]] result_type min() const noexcept { return 0; }
    /// The largest rank drawn: n() - 1.
    [[nodiscard]] result_type max() const noexcept { return n() - 1; }
    /// True for latest and latest_zipfian: rank 0 is the most recent key.
    [[nodiscard]] bool is_recency() const noexcept {
        return std::holds_alternative<LatestDistribution>(d_) || std::holds_alternative<LatestZipfDistribution>(d_);
    }
    /// The distribution inside.
    [[nodiscard]] const variant_type& distribution() const noexcept { return d_; }

    friend bool operator==(const Sampler&, const Sampler&) = default;

private:
    variant_type d_;
};

/** Which distribution to draw ranks from over a range (a tracker's iteration range, say): a small immutable value
 *  made by the factories below, which validate their arguments (std::invalid_argument naming the argument and its
 *  value). The range size is not part of it: make_sampler(n, seed) builds the concrete sampler for a size.
 *
 *  | factory                         | sampler (see its class for the exact pmf)                              |
 *  |---------------------------------|------------------------------------------------------------------------|
 *  | uniform()                       | UniformDistribution                                                    |
 *  | zipfian(skew, scrambled)        | ZipfDistribution, or ScrambledZipfDistribution keyed by make_sampler's seed |
 *  | hotspot(hot_pct, hot_prob)      | HotspotDistribution                                                    |
 *  | latest(recent_pct, recent_prob) | LatestDistribution (recency ranks)                                     |
 *  | latest_zipfian(skew)            | LatestZipfDistribution (recency ranks; YCSB's latest is skew 0.99)     |
 *  | exponential(lambda_pct)         | ExponentialDistribution                                                |
 *  | normal(mean_pct, std_pct)       | NormalDistribution                                                     | */
class AccessDistribution {
public:
    /// Which distribution an AccessDistribution describes.
    enum class Kind : std::uint8_t { Uniform, Zipfian, Hotspot, Latest, LatestZipfian, Exponential, Normal };

    /// Uniform.
    AccessDistribution() noexcept = default;

    /// Every rank equally likely (the default).
    [[nodiscard]] static AccessDistribution uniform() noexcept { return {}; }
    /// P(r) ∝ (r + 1)^-skew; scrambled: the ranks pass through a keyed bijection so the hot keys are scattered.
    /// skew < 0, infinite or NaN throws std::invalid_argument.
    [[nodiscard]] static AccessDistribution zipfian(double skew, bool scrambled = false) {
        detail::check_skew("AccessDistribution::zipfian", skew);
        return {Kind::Zipfian, skew, 0, scrambled};
    }
    /// hot_prob of the draws uniform in the first ceil(hot_pct * n) ranks, the rest uniform in the others.
    /// hot_pct ∉ (0, 1] or hot_prob ∉ [0, 1] throws std::invalid_argument.
    [[nodiscard]] static AccessDistribution hotspot(double hot_pct, double hot_prob) {
        detail::check_pct("AccessDistribution::hotspot", "hot_pct", hot_pct);
        detail::check_probability("AccessDistribution::hotspot", "hot_prob", hot_prob);
        return {Kind::Hotspot, hot_pct, hot_prob, false};
    }
    /// hotspot-shaped over recency ranks (rank 0 = most recent).
    /// recent_pct ∉ (0, 1] or recent_prob ∉ [0, 1] throws std::invalid_argument.
    [[nodiscard]] static AccessDistribution latest(double recent_pct, double recent_prob) {
        detail::check_pct("AccessDistribution::latest", "recent_pct", recent_pct);
        detail::check_probability("AccessDistribution::latest", "recent_prob", recent_prob);
        return {Kind::Latest, recent_pct, recent_prob, false};
    }
    /// Zipf over recency ranks (YCSB's latest uses skew 0.99). skew < 0, infinite or NaN throws.
    [[nodiscard]] static AccessDistribution latest_zipfian(double skew) {
        detail::check_skew("AccessDistribution::latest_zipfian", skew);
        return {Kind::LatestZipfian, skew, 0, false};
    }
    /// P(r) ∝ exp(-r / (lambda_pct * n)). lambda_pct ∉ (0, 1] throws std::invalid_argument.
    [[nodiscard]] static AccessDistribution exponential(double lambda_pct) {
        detail::check_pct("AccessDistribution::exponential", "lambda_pct", lambda_pct);
        return {Kind::Exponential, lambda_pct, 0, false};
    }
    /// floor of normal(mean_pct * n, std_pct * n) truncated to [0, n).
    /// mean_pct ∉ [0, 1] or std_pct ∉ (0, 1] throws std::invalid_argument.
    [[nodiscard]] static AccessDistribution normal(double mean_pct, double std_pct) {
        detail::check_position("AccessDistribution::normal", "mean_pct", mean_pct);
        detail::check_pct("AccessDistribution::normal", "std_pct", std_pct);
        return {Kind::Normal, mean_pct, std_pct, false};
    }

    /// Which distribution this is.
    [[nodiscard]] Kind kind() const noexcept { return kind_; }
    /// zipfian(skew, true).
    [[nodiscard]] bool is_scrambled() const noexcept { return scrambled_; }
    /// latest and latest_zipfian: rank 0 is the most recent key.
    [[nodiscard]] bool is_recency() const noexcept { return kind_ == Kind::Latest || kind_ == Kind::LatestZipfian; }
    /// zipfian, latest_zipfian: the skew; 0 for the other kinds.
    [[nodiscard]] double skew() const noexcept { return is_zipf() ? a_ : 0.0; }
    /// The fraction argument: hot_pct, recent_pct, lambda_pct or mean_pct; 0 for uniform and the Zipf kinds.
    [[nodiscard]] double pct() const noexcept { return is_zipf() ? 0.0 : a_; }
    /// hotspot, latest: hot_prob or recent_prob; 0 for the other kinds.
    [[nodiscard]] double prob() const noexcept { return kind_ == Kind::Hotspot || kind_ == Kind::Latest ? b_ : 0.0; }
    /// normal: std_pct; 0 for the other kinds.
    [[nodiscard]] double std_pct() const noexcept { return kind_ == Kind::Normal ? b_ : 0.0; }

    /// The sampler for ranks [0, n). seed keys the permutation of a scrambled Zipf (ignored by the other kinds).
    /// O(1) for every kind and n. n = 0 throws std::invalid_argument.
    [[nodiscard]] Sampler make_sampler(std::uint64_t n, std::uint64_t seed = 0) const {
        detail::check_sampling_n("AccessDistribution::make_sampler", n);
        switch (kind_) {
        case Kind::Zipfian:
            if (scrambled_) return Sampler(ScrambledZipfDistribution(n, a_, seed));
            return Sampler(ZipfDistribution(n, a_));
        case Kind::Hotspot: return Sampler(HotspotDistribution(n, a_, b_));
        case Kind::Latest: return Sampler(LatestDistribution(n, a_, b_));
        case Kind::LatestZipfian: return Sampler(LatestZipfDistribution(n, a_));
        case Kind::Exponential: return Sampler(ExponentialDistribution(n, a_));
        case Kind::Normal: return Sampler(NormalDistribution(n, a_, b_));
        case Kind::Uniform: break;
        }
        return Sampler(UniformDistribution(n));
    }

    friend bool operator==(const AccessDistribution&, const AccessDistribution&) = default;

private:
    AccessDistribution(Kind kind, double a, double b, bool scrambled) noexcept
        : kind_(kind), scrambled_(scrambled), a_(a), b_(b) {}
    [[nodiscard]] bool is_zipf() const noexcept { return kind_ == Kind::Zipfian || kind_ == Kind::LatestZipfian; }

    Kind kind_ = Kind::Uniform;
    bool scrambled_ = false;
    double a_ = 0, b_ = 0;
};

KEYSPACE_END_NAMESPACE
