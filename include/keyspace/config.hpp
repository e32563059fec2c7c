/** @file keyspace/config.hpp
 *  Version macros, the versioned namespace, and the few library-wide constants. */
#pragma once

// Every keyspace header includes this one first: an earlier language mode stops here, with one message, instead of
// at the first C++20 feature somewhere below. MSVC reports the language mode in _MSVC_LANG (its __cplusplus stays
// 199711L without /Zc:__cplusplus).
#if defined(_MSVC_LANG)
#define KEYSPACE_DETAIL_CPLUSPLUS _MSVC_LANG
#else
#define KEYSPACE_DETAIL_CPLUSPLUS __cplusplus
#endif
#if KEYSPACE_DETAIL_CPLUSPLUS < 202002L
#error "keyspace requires C++20 or later: compile with -std=c++20 (in CMake, linking keyspace::keyspace asks for it)"
// A missing header is a fatal error: compilation ends here, so no C++20 feature below adds errors of its own.
#include <keyspace/detail/stop_here_keyspace_requires_cxx20>
#endif

#include <cstddef> // for std::size_t
#include <cstdint> // for std::uint64_t

/// The major version.
#define KEYSPACE_VERSION_MAJOR 0
/// The minor version.
#define KEYSPACE_VERSION_MINOR 2
/// The patch version.
#define KEYSPACE_VERSION_PATCH 0
/// The version as "major.minor.patch".
#define KEYSPACE_VERSION_STRING "0.2.0"

// Everything lives in keyspace::v0 (an inline namespace), so two vendored copies of different major versions
// can coexist in one program without ODR clashes while users keep writing keyspace::AtomicBitmap.
/// Opens namespace keyspace and its inline ABI namespace (v0): every declaration of the library is inside.
#define KEYSPACE_BEGIN_NAMESPACE \
    namespace keyspace {         \
    inline namespace v0 {
/// Closes what KEYSPACE_BEGIN_NAMESPACE opened.
#define KEYSPACE_END_NAMESPACE \
    } /* namespace v0 */       \
    } /* namespace keyspace */

#if defined(KEYSPACE_DETAIL_NO_FORCED_INLINE) && (defined(__GNUC__) || defined(__clang__))
// For the instruction-set tag check (tests/isa_mix): forced-inline functions emitted out of line like any other, so
// the check sees their calls too.
#define KEYSPACE_NOINLINE __attribute__((noinline))
#define KEYSPACE_ALWAYS_INLINE inline
#elif defined(__GNUC__) || defined(__clang__)
#define KEYSPACE_NOINLINE __attribute__((noinline))
#define KEYSPACE_ALWAYS_INLINE inline __attribute__((always_inline))
#else
/// Keeps a function out of line (cold paths such as error reporting).
#define KEYSPACE_NOINLINE __declspec(noinline)
/// Inlines a function on the hot path whatever the optimizer estimates.
#define KEYSPACE_ALWAYS_INLINE __forceinline
#endif

// ThreadSanitizer cannot see vector loads of atomics: under it, every read kernel takes the relaxed-load scalar path.
#if defined(__SANITIZE_THREAD__)
#define KEYSPACE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KEYSPACE_TSAN 1
#endif
#endif

KEYSPACE_BEGIN_NAMESPACE

/// Valid IDs are [0, max_supported_id).
inline constexpr std::uint64_t max_supported_id = 1ull << 63;

/// Padding unit against false sharing (std::hardware_destructive_interference_size makes GCC 12 warn in headers).
inline constexpr std::size_t cache_line_size = 64;

KEYSPACE_END_NAMESPACE
