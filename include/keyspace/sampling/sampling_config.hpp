/** @file keyspace/sampling/sampling_config.hpp
 *  SamplingConfig: the sampling options of an iteration bundled in one value (distribution, seed, limit, sample,
 *  mixed ratio), for code that passes them around before it has a builder. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/sampling_common.hpp>
#include <keyspace/sampling/access_distribution.hpp>

#include <cstdint>  // for std::uint64_t
#include <optional> // for std::optional

KEYSPACE_BEGIN_NAMESPACE

/** Sampling options: an immutable value; every `with_*` returns a modified copy, every accessor std::nullopt for an
 *  option never set (the consumer's default applies). Bad values throw std::invalid_argument naming the argument
 *  and its value where they enter, in the `with_*` call. Consumed by IteratorBuilder::with_sampling, where each
 *  option that is set stands for the builder call of the same name. */
class SamplingConfig {
public:
    /// Nothing set.
    SamplingConfig() noexcept = default;

    /// Which distribution random draws and write streams follow.
    [[nodiscard]] SamplingConfig with_distribution(const AccessDistribution& d) const noexcept {
        SamplingConfig c = *this;
        c.distribution_ = d;
        return c;
    }
    /// The seed of every random choice (same seed => same draws).
    [[nodiscard]] SamplingConfig with_seed(std::uint64_t seed) const noexcept {
        SamplingConfig c = *this;
        c.seed_ = seed;
        return c;
    }
    /// At most n keys (0: none).
    [[nodiscard]] SamplingConfig with_limit(std::uint64_t n) const noexcept {
        SamplingConfig c = *this;
        c.limit_ = n;
        return c;
    }
    /// Keep each key with probability p, p in [0, 1]; NaN or outside throws std::invalid_argument.
    [[nodiscard]] SamplingConfig with_sample(double p) const {
        detail::check_probability("SamplingConfig::with_sample", "p", p);
        SamplingConfig c = *this;
        c.sample_ = p;
        return c;
    }
    /// Each draw is a set key with probability r, an unset one otherwise, r in [0, 1]; NaN or outside throws.
    [[nodiscard]] SamplingConfig with_mixed_ratio(double r) const {
        detail::check_probability("SamplingConfig::with_mixed_ratio", "r", r);
        SamplingConfig c = *this;
        c.mixed_ratio_ = r;
        return c;
    }

    /// The access distribution, if set.
    [[nodiscard]] const std::optional<AccessDistribution>& distribution() const noexcept { return distribution_; }
    /// The seed, if set.
    [[nodiscard]] std::optional<std::uint64_t> seed() const noexcept { return seed_; }
    /// The item limit, if set.
    [[nodiscard]] std::optional<std::uint64_t> limit() const noexcept { return limit_; }
    /// The sampling probability, if set.
    [[nodiscard]] std::optional<double> sample() const noexcept { return sample_; }
    /// The fraction of present keys in a mixed stream, if set.
    [[nodiscard]] std::optional<double> mixed_ratio() const noexcept { return mixed_ratio_; }

    friend bool operator==(const SamplingConfig&, const SamplingConfig&) = default;

private:
    std::optional<AccessDistribution> distribution_;
    std::optional<std::uint64_t> seed_;
    std::optional<std::uint64_t> limit_;
    std::optional<double> sample_;
    std::optional<double> mixed_ratio_;
};

KEYSPACE_END_NAMESPACE
