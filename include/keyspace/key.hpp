/** @file keyspace/key.hpp
 *  Key: one key of a tracker, an ID and (hierarchical mode) a sub-ID. */
#pragma once

#include <keyspace/config.hpp>

#include <compare> // for operator<=>
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** One key of a tracker: an ID and, in hierarchical mode, a sub-ID (0 in simple mode). */
struct Key {
    /// The ID.
    std::uint64_t id;
    /// The sub-ID of a hierarchical tracker's pair; 0 for a simple tracker.
    std::uint64_t sub_id;
    friend auto operator<=>(const Key&, const Key&) = default;
};

KEYSPACE_END_NAMESPACE
