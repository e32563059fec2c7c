/** @file keyspace/detail/sampling_common.hpp
 *  What every sampler shares: the argument checks (each rejects a bad value where it enters, a constructor or a
 *  factory, with std::invalid_argument naming the function, the argument and its value, through detail/errors.hpp)
 *  and the conversion of a double to a rank. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>

#include <cmath>   // for std::isfinite
#include <cstdint> // for std::uint64_t

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// "<where>: <name> must be <requirement>, got <value>": the sampling layer's one message shape.
[[noreturn]] inline void throw_bad_sampling_argument(const char* where, const char* name, const char* requirement,
                                                     MessagePart value) {
    fail_invalid_argument({where, ": ", name, " must be ", requirement, ", got ", value});
}

/// The size of a rank range: n >= 1.
inline void check_sampling_n(const char* where, std::uint64_t n) {
    if (n == 0) [[unlikely]]
        throw_bad_sampling_argument(where, "n", "at least 1", n);
}

/// A Zipf exponent: finite and >= 0 (NaN fails the comparison).
inline void check_skew(const char* where, double skew) {
    if (!(skew >= 0.0 && std::isfinite(skew))) [[unlikely]]
        throw_bad_sampling_argument(where, "skew", "a finite number >= 0", skew);
}

/// A fraction of the range: in (0, 1].
inline void check_pct(const char* where, const char* name, double pct) {
    if (!(pct > 0.0 && pct <= 1.0)) [[unlikely]]
        throw_bad_sampling_argument(where, name, "in (0, 1]", pct);
}

/// A position in the range, as a fraction: in [0, 1].
inline void check_position(const char* where, const char* name, double pct) {
    if (!(pct >= 0.0 && pct <= 1.0)) [[unlikely]]
        throw_bad_sampling_argument(where, name, "in [0, 1]", pct);
}

/// floor(x) as a rank in [0, n): NaN and values at or beyond n give n - 1, negative values 0. The guard against
/// 2^64 keeps the conversion defined for every double.
[[nodiscard]] inline std::uint64_t rank_of(double x, std::uint64_t n) noexcept {
    if (!(x < 0x1.0p64)) return n - 1; // also NaN
    if (!(x >= 1.0)) return 0;
    const auto r = static_cast<std::uint64_t>(x);
    return r < n ? r : n - 1;
}

} // namespace detail
KEYSPACE_END_NAMESPACE
