/** @file keyspace/detail/sampling_common.hpp
 *  What every sampler shares: the argument checks (each rejects a bad value where it enters, a constructor or a
 *  factory, with std::invalid_argument naming the function, the argument and its value; the throws stay out of
 *  line) and the conversion of a double to a rank. */
#pragma once

#include <keyspace/config.hpp>

#include <charconv>     // for std::to_chars (shortest round-trip form of a double)
#include <cmath>        // for std::isfinite
#include <cstdint>      // for std::uint64_t
#include <stdexcept>    // for std::invalid_argument
#include <string>       // for std::string, std::to_string
#include <system_error> // for std::errc

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// "<where>: <name> must be <requirement>, got <value>".
[[noreturn]] KEYSPACE_NOINLINE inline void throw_bad_sampling_argument(const char* where, const char* name,
                                                                       const char* requirement, double value) {
    char text[32];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    const std::string shown = ec == std::errc{} ? std::string(text, end) : std::to_string(value);
    throw std::invalid_argument(std::string(where) + ": " + name + " must be " + requirement + ", got " + shown);
}

[[noreturn]] KEYSPACE_NOINLINE inline void throw_bad_sampling_size(const char* where, const char* name,
                                                                   const char* requirement, std::uint64_t value) {
    throw std::invalid_argument(std::string(where) + ": " + name + " must be " + requirement + ", got " +
                                std::to_string(value));
}

/// The size of a rank range: n >= 1.
inline void check_sampling_n(const char* where, std::uint64_t n) {
    if (n == 0) [[unlikely]]
        throw_bad_sampling_size(where, "n", "at least 1", n);
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

/// A probability: in [0, 1].
inline void check_prob(const char* where, const char* name, double p) {
    if (!(p >= 0.0 && p <= 1.0)) [[unlikely]]
        throw_bad_sampling_argument(where, name, "in [0, 1]", p);
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
