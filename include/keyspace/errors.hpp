/** @file keyspace/errors.hpp
 *  IoError: the library's one exception type of its own. */
#pragma once

#include <keyspace/config.hpp>

#include <stdexcept> // for std::runtime_error

KEYSPACE_BEGIN_NAMESPACE

/** What the outside world refused: a tracker file that cannot be written or read or holds no valid tracker
 *  (<keyspace/toolkit/persistence.hpp>), a shared region that cannot be created or opened or does not match
 *  (<keyspace/shared_region.hpp>). The message names the file or region and the reason.
 *
 *  Every other error is a standard exception: std::invalid_argument for a bad argument (rejected where it enters,
 *  naming the argument and its value), std::logic_error for a call that does not apply to the object (a pair
 *  member on a simple tracker), std::length_error for a write beyond a fixed capacity, std::bad_alloc. Built with
 *  -fno-exceptions, each of these prints "keyspace: <message>" to stderr and aborts instead. */
class IoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

KEYSPACE_END_NAMESPACE
