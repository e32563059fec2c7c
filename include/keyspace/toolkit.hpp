/** @file keyspace/toolkit.hpp
 *  Brings in the benchmark-tool toolkit: key formatting, cluster slots, operation mixes, keyspace shapes,
 *  snapshots, reference sets and persistence. */
#pragma once

#include <keyspace/toolkit/key_format.hpp>
#include <keyspace/toolkit/cluster.hpp>
#include <keyspace/toolkit/op_mix.hpp>
#include <keyspace/toolkit/shapes.hpp>
#include <keyspace/toolkit/snapshot.hpp>
#include <keyspace/toolkit/reference_set.hpp>
#include <keyspace/toolkit/persistence.hpp>
