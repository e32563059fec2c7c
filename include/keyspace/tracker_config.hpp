/** @file keyspace/tracker_config.hpp
 *  TrackerConfig: how a PrefixTracker is laid out (prefix, simple or hierarchical, bounds, initial capacity). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/errors.hpp>

#include <cstdint>  // for std::uint64_t
#include <optional> // for std::optional
#include <string>   // for std::string
#include <utility>  // for std::move

KEYSPACE_BEGIN_NAMESPACE

/** How a PrefixTracker is laid out. Immutable value; every `with_*` returns a modified copy.
 *  Invalid values throw std::invalid_argument naming the argument. */
class TrackerConfig {
public:
    /// Simple mode: one bit per ID.
    [[nodiscard]] static TrackerConfig simple(std::string prefix) { return TrackerConfig(std::move(prefix), false); }
    /// Hierarchical mode: one bit per (id, sub_id) pair.
    [[nodiscard]] static TrackerConfig hierarchical(std::string prefix) {
        return TrackerConfig(std::move(prefix), true);
    }

    /// IDs are [0, max_id). 1 <= max_id <= max_supported_id.
    [[nodiscard]] TrackerConfig with_max_id(std::uint64_t max_id) const {
        if (max_id == 0 || max_id > max_supported_id)
            detail::fail_invalid_argument({"TrackerConfig::with_max_id: max_id must be in [1, 2^63], got ", max_id});
        TrackerConfig c = *this;
        c.max_id_ = max_id;
        return c;
    }
    /// Hierarchical mode: sub-IDs are [0, max_sub_id), stored flat (id * max_sub_id + sub_id), so exists_pair costs
    /// what exists costs. 1 <= max_sub_id <= max_supported_id.
    [[nodiscard]] TrackerConfig with_max_sub_id(std::uint64_t max_sub_id) const {
        if (!hierarchical_)
            detail::fail_invalid_argument({"TrackerConfig::with_max_sub_id: only a hierarchical config has sub-IDs"});
        if (max_sub_id == 0 || max_sub_id > max_supported_id)
            detail::fail_invalid_argument(
                {"TrackerConfig::with_max_sub_id: max_sub_id must be in [1, 2^63], got ", max_sub_id});
        TrackerConfig c = *this;
        c.max_sub_id_ = max_sub_id;
        return c;
    }
    /// Bits allocated up front (default 4096; a bounded simple tracker allocates max_id bits whatever this says).
    [[nodiscard]] TrackerConfig with_initial_capacity(std::uint64_t bits) const {
        if (bits > max_supported_id)
            detail::fail_invalid_argument({"TrackerConfig::with_initial_capacity: bits must be at most 2^63, got ", bits});
        TrackerConfig c = *this;
        c.initial_capacity_ = bits;
        return c;
    }

    /// The prefix: the whole text before the ID in the tracker's keys ("user:").
    [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
    /// Whether the tracker holds (id, sub_id) pairs.
    [[nodiscard]] bool is_hierarchical() const noexcept { return hierarchical_; }
    /// The bound on IDs, if any (IDs in [0, max_id)).
    [[nodiscard]] std::optional<std::uint64_t> max_id() const noexcept { return max_id_; }
    /// The bound on sub-IDs of a hierarchical tracker, if any (flat layout).
    [[nodiscard]] std::optional<std::uint64_t> max_sub_id() const noexcept { return max_sub_id_; }
    /// IDs addressable from the start, before any growth.
    [[nodiscard]] std::uint64_t initial_capacity() const noexcept { return initial_capacity_; }

    friend bool operator==(const TrackerConfig&, const TrackerConfig&) = default;

private:
    TrackerConfig(std::string prefix, bool hierarchical) : prefix_(std::move(prefix)), hierarchical_(hierarchical) {}

    std::string prefix_;
    bool hierarchical_;
    std::optional<std::uint64_t> max_id_;
    std::optional<std::uint64_t> max_sub_id_;
    std::uint64_t initial_capacity_ = 4096;
};

KEYSPACE_END_NAMESPACE
