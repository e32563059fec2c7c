/** @file keyspace/toolkit/shapes.hpp
 *  Keyspace shapes: reproducible patterns of present IDs to pre-populate a tracker (sparse, clustered,
 *  alternating, aged, random holes). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/sampling/rng.hpp>

#include <cmath>     // for std::isfinite, std::floor
#include <cstdint>   // for std::uint64_t
#include <stdexcept> // for std::invalid_argument
#include <string>    // for std::string, std::to_string

KEYSPACE_BEGIN_NAMESPACE

/** A pattern of present IDs over a range [b, e), applied to a tracker with apply(). Position x = id - b.
 *
 *  | shape | position x is present when | density |
 *  |---|---|---|
 *  | `sparse(d)` | floor((x+1)·d) > floor(x·d): evenly spaced, deterministic | exactly floor(n·d) of n |
 *  | `clustered(run, gap)` | x mod (run+gap) < run: runs of `run` present, then `gap` absent | run / (run + gap) |
 *  | `alternating(stride)` | x mod stride == 0 | 1 / stride |
 *  | `aged(lo, hi)` | random with probability lo + (hi − lo)·x/(n−1): the oldest (lowest) IDs have lost the most | (lo + hi) / 2 |
 *  | `random_holes(h)` | random with probability 1 − h, independently per ID | 1 − h |
 *
 *  The random shapes decide each ID by a hash of (seed, id) (splitmix64 in counter mode): the same seed gives the
 *  same IDs in every process (random_holes: also for any split of the range into parts applied separately);
 *  different seeds give independent patterns. Hierarchical trackers are rejected (std::invalid_argument): shapes are over IDs. */
class Shape {
public:
    /// Which pattern a Shape makes.
    enum class Kind : std::uint8_t { Sparse, Clustered, Alternating, Aged, RandomHoles };

    /// Throws std::invalid_argument unless 0 <= density <= 1.
    [[nodiscard]] static Shape sparse(double density) {
        check_unit("sparse: density", density);
        return Shape(Kind::Sparse, density, 0, 0, 0);
    }
    /// Throws std::invalid_argument when run == 0.
    [[nodiscard]] static Shape clustered(std::uint64_t run, std::uint64_t gap) {
        if (run == 0) detail::fail_invalid_argument({"Shape::clustered: run must be > 0"});
        if (gap > ~0ull - run) detail::fail_invalid_argument({"Shape::clustered: run + gap overflows"});
        return Shape(Kind::Clustered, 0, 0, run, gap);
    }
    /// Throws std::invalid_argument when stride == 0.
    [[nodiscard]] static Shape alternating(std::uint64_t stride) {
        if (stride == 0) detail::fail_invalid_argument({"Shape::alternating: stride must be > 0"});
        return Shape(Kind::Alternating, 0, 0, stride, 0);
    }
    /// Throws std::invalid_argument unless 0 <= min_density <= max_density <= 1.
    [[nodiscard]] static Shape aged(double min_density, double max_density) {
        check_unit("aged: min_density", min_density);
        check_unit("aged: max_density", max_density);
        if (min_density > max_density)
            detail::fail_invalid_argument(
                {"Shape::aged: min_density ", min_density, " exceeds max_density ", max_density});
        return Shape(Kind::Aged, min_density, max_density, 0, 0);
    }
    /// Throws std::invalid_argument unless 0 <= hole_fraction <= 1.
    [[nodiscard]] static Shape random_holes(double hole_fraction) {
        check_unit("random_holes: hole_fraction", hole_fraction);
        return Shape(Kind::RandomHoles, 1.0 - hole_fraction, 0, 0, 0);
    }

    /// Which pattern this is.
    [[nodiscard]] Kind kind() const noexcept { return kind_; }
    /// Whether the shape draws random numbers (then the seed matters).
    [[nodiscard]] bool is_random() const noexcept { return kind_ == Kind::Aged || kind_ == Kind::RandomHoles; }

    /// The expected fraction of present IDs over a range of n IDs (exact for the deterministic shapes).
    [[nodiscard]] double expected_density(std::uint64_t n) const noexcept {
        if (n == 0) return 0;
        const auto dn = static_cast<double>(n);
        switch (kind_) {
        case Kind::Sparse: return std::floor(dn * a_) / dn;
        case Kind::Clustered: {
            const std::uint64_t period = run_ + gap_, full = n / period, rem = n % period;
            return static_cast<double>(full * run_ + (rem < run_ ? rem : run_)) / dn;
        }
        case Kind::Alternating: return static_cast<double>((n + run_ - 1) / run_) / dn;
        case Kind::Aged: return (a_ + b_) / 2;
        case Kind::RandomHoles: return a_;
        }
        return 0;
    }

    /// Whether id is present when the shape is applied to [b, e) with seed. Precondition: b <= id < e.
    [[nodiscard]] bool contains(std::uint64_t id, std::uint64_t b, std::uint64_t e, std::uint64_t seed) const noexcept {
        const std::uint64_t x = id - b, n = e - b;
        switch (kind_) {
        case Kind::Sparse:
            return std::floor(static_cast<double>(x + 1) * a_) > std::floor(static_cast<double>(x) * a_);
        case Kind::Clustered: return x % (run_ + gap_) < run_;
        case Kind::Alternating: return x % run_ == 0;
        case Kind::Aged: {
            const double t = n > 1 ? static_cast<double>(x) / static_cast<double>(n - 1) : 0.0;
            return coin(seed, id, a_ + (b_ - a_) * t);
        }
        case Kind::RandomHoles: return coin(seed, id, a_);
        }
        return false;
    }

    /// Adds the shape's IDs of [b, e) to tracker (IDs it ignores, e.g. >= max_id, stay out); returns how many
    /// were added (IDs already present are not counted). Throws std::invalid_argument when b > e or the tracker is
    /// hierarchical. Thread-safe like the tracker's add().
    std::uint64_t apply(PrefixTracker& tracker, std::uint64_t b, std::uint64_t e, std::uint64_t seed = 0) const {
        detail::require_simple(tracker, "Shape::apply");
        detail::check_range("Shape::apply", b, e);
        const std::uint64_t n = e - b;
        std::uint64_t added = 0;
        if (kind_ == Kind::Clustered) {
            for (std::uint64_t x = 0; x < n; x += run_ + gap_) {
                added += tracker.add_range(b + x, b + x + (n - x < run_ ? n - x : run_));
                if (n - x <= run_ + gap_) break;
            }
            return added;
        }
        if (kind_ == Kind::Alternating) {
            for (std::uint64_t x = 0; x < n; x += run_) {
                added += tracker.add(b + x) ? 1u : 0u;
                if (n - x <= run_) break;
            }
            return added;
        }
        for (std::uint64_t x = 0; x < n; ++x)
            if (contains(b + x, b, e, seed) && tracker.add(b + x)) ++added;
        return added;
    }

private:
    Shape(Kind k, double a, double b, std::uint64_t run, std::uint64_t gap) noexcept
        : kind_(k), a_(a), b_(b), run_(run), gap_(gap) {}

    static void check_unit(const char* what, double v) {
        if (!(v >= 0 && v <= 1)) detail::fail_invalid_argument({"Shape::", what, " must be in [0, 1], got ", v});
    }
    /// True with probability p, decided by a hash of (seed, id).
    static bool coin(std::uint64_t seed, std::uint64_t id, double p) noexcept {
        if (p >= 1) return true;
        const std::uint64_t h = detail::mix_seed(seed ^ 0x5348415045ull, id);
        // The top 53 bits against p * 2^53: true with probability p to within 2^-53.
        return static_cast<double>(h >> 11) < p * 9007199254740992.0;
    }

    Kind kind_;
    double a_, b_;            // sparse: density; aged: min, max; random holes: presence probability
    std::uint64_t run_, gap_; // clustered: run, gap; alternating: stride (run_)
};

KEYSPACE_END_NAMESPACE
