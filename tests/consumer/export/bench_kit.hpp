// A library built on keyspace: its public header uses keyspace's types, so its users need keyspace too.
#pragma once
#include <keyspace/prefix_tracker.hpp>

#include <cstdint>

namespace bench_kit {
/// Loads [0, n) into the tracker; returns how many IDs were added.
std::uint64_t load(keyspace::PrefixTracker& tracker, std::uint64_t n);
} // namespace bench_kit
