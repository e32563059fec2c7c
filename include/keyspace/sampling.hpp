/** @file keyspace/sampling.hpp
 *  The sampling layer, which knows nothing of bitmaps or trackers: Rng, Permutation, the standalone distributions
 *  over ranks [0, n) (uniform, Zipf and scrambled Zipf, hotspot, latest and latest-Zipf, exponential, normal),
 *  AccessDistribution with its Sampler, and SamplingConfig. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/sampling/rng.hpp>
#include <keyspace/sampling/permutation.hpp>
#include <keyspace/sampling/uniform.hpp>
#include <keyspace/sampling/zipf.hpp>
#include <keyspace/sampling/hotspot.hpp>
#include <keyspace/sampling/latest.hpp>
#include <keyspace/sampling/exponential.hpp>
#include <keyspace/sampling/normal.hpp>
#include <keyspace/sampling/access_distribution.hpp>
#include <keyspace/sampling/sampling_config.hpp>
