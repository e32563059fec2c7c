/** @file keyspace/keyspace.hpp
 *  Brings in every public component of keyspace. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/atomic_bitmap.hpp>
