/** @file keyspace/keyspace.hpp
 *  Brings in every public component of keyspace. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/counters.hpp>
#include <keyspace/storage.hpp>
#include <keyspace/sampling/rng.hpp>
#include <keyspace/sampling/permutation.hpp>
#include <keyspace/sampling.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/iterators.hpp>
#include <keyspace/in_flight.hpp>
#include <keyspace/shared_region.hpp>
#include <keyspace/prefix_groups_tracker.hpp>
#include <keyspace/toolkit.hpp>
