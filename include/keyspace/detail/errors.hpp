/** @file keyspace/detail/errors.hpp
 *  How the library rejects what it cannot do: one out-of-line, [[noreturn]] function per kind of error, each taking
 *  the message as a list of parts (text and numbers) that it joins on the cold path, so a check at a call site
 *  compiles to a compare and a branch.
 *
 *  The kinds, library-wide:
 *  - std::invalid_argument: a bad argument, rejected where it enters (builders, constructors, parsers);
 *  - std::logic_error: a call that does not apply to this object (a pair member on a simple tracker);
 *  - std::length_error: a write beyond a fixed capacity, an ID at or beyond 2^63;
 *  - keyspace::IoError (a std::runtime_error, <keyspace/errors.hpp>): what the outside world refused (a file, a
 *    shared region).
 *  Built with -fno-exceptions, each of them writes "keyspace: <message>" to stderr and aborts instead. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/errors.hpp>

#include <charconv>         // for std::to_chars
#include <cstdio>           // for std::fputs, stderr
#include <cstdlib>          // for std::abort
#include <concepts>         // for std::integral, std::floating_point
#include <cstdint>          // for std::uint64_t, std::int64_t
#include <initializer_list> // for std::initializer_list
#include <new>              // for std::bad_alloc
#include <string>           // for std::string
#include <string_view>      // for std::string_view
#include <stdexcept>        // for std::invalid_argument, std::logic_error, std::length_error
#include <system_error>     // for std::errc
#include <type_traits>      // for std::is_signed_v

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define KEYSPACE_EXCEPTIONS 1
#else
#define KEYSPACE_EXCEPTIONS 0
#endif

// Clean-up on an exception's way out, in code that must also compile with -fno-exceptions (where no exception
// leaves a call: errors abort, so the clean-up block is never needed):
//   KEYSPACE_TRY { ... } KEYSPACE_CATCH_ALL { undo(); KEYSPACE_RETHROW; }
#if KEYSPACE_EXCEPTIONS
#define KEYSPACE_TRY try
#define KEYSPACE_CATCH_ALL catch (...)
#define KEYSPACE_RETHROW throw
#else
#define KEYSPACE_TRY if (true)
#define KEYSPACE_CATCH_ALL else
#define KEYSPACE_RETHROW std::abort()
#endif

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// One part of an error message: text, an integer, or a floating-point value (shortest round-trip form).
class MessagePart {
public:
    MessagePart(std::string_view s) noexcept : kind_(Kind::Text), text_(s) {} // NOLINT: implicit by design
    MessagePart(const char* s) noexcept : kind_(Kind::Text), text_(s) {}      // NOLINT
    MessagePart(const std::string& s) noexcept : kind_(Kind::Text), text_(s) {} // NOLINT
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char>)
    MessagePart(T v) noexcept { // NOLINT
        if constexpr (std::is_signed_v<T>) kind_ = Kind::Signed, i_ = static_cast<std::int64_t>(v);
        else kind_ = Kind::Unsigned, u_ = static_cast<std::uint64_t>(v);
    }
    template <std::floating_point T>
    MessagePart(T v) noexcept : kind_(Kind::Double), d_(static_cast<double>(v)) {} // NOLINT

    void append_to(std::string& out) const {
        char buf[32];
        std::to_chars_result r{buf, std::errc{}};
        switch (kind_) {
        case Kind::Text: out.append(text_); return;
        case Kind::Unsigned: r = std::to_chars(buf, buf + sizeof buf, u_); break;
        case Kind::Signed: r = std::to_chars(buf, buf + sizeof buf, i_); break;
        case Kind::Double: r = std::to_chars(buf, buf + sizeof buf, d_); break;
        }
        out.append(buf, r.ec == std::errc{} ? r.ptr : buf);
    }

private:
    enum class Kind : unsigned char { Text, Unsigned, Signed, Double };
    Kind kind_ = Kind::Text;
    std::string_view text_;
    std::uint64_t u_ = 0;
    std::int64_t i_ = 0;
    double d_ = 0;
};

/// The parts of one message, joined in order.
using Message = std::initializer_list<MessagePart>;

[[nodiscard]] inline std::string compose(Message parts) {
    std::string out;
    for (const MessagePart& p : parts) p.append_to(out);
    return out;
}

/// Throws E(message), or without exceptions prints it and aborts.
template <class E>
[[noreturn]] KEYSPACE_NOINLINE void raise(Message parts) {
#if KEYSPACE_EXCEPTIONS
    throw E(compose(parts));
#else
    const std::string text = "keyspace: " + compose(parts) + "\n";
    std::fputs(text.c_str(), stderr);
    std::abort();
#endif
}

/// std::invalid_argument: a bad argument, named with its value.
[[noreturn]] KEYSPACE_NOINLINE inline void fail_invalid_argument(Message parts) { raise<std::invalid_argument>(parts); }
/// std::logic_error: a call that does not apply to this object.
[[noreturn]] KEYSPACE_NOINLINE inline void fail_logic_error(Message parts) { raise<std::logic_error>(parts); }
/// std::length_error: beyond a fixed capacity or the supported ID range.
[[noreturn]] KEYSPACE_NOINLINE inline void fail_length_error(Message parts) { raise<std::length_error>(parts); }
/// std::bad_alloc: memory the system would not give (a mapping, an allocation outside operator new).
[[noreturn]] KEYSPACE_NOINLINE inline void fail_bad_alloc() {
#if KEYSPACE_EXCEPTIONS
    throw std::bad_alloc();
#else
    std::fputs("keyspace: out of memory\n", stderr);
    std::abort();
#endif
}
/// keyspace::IoError: a file or a shared region refused.
[[noreturn]] KEYSPACE_NOINLINE inline void fail_io(Message parts) { raise<IoError>(parts); }

// ---- rules checked in more than one place: one check, one message ------------------------------------------------

/// b <= e for a half-open range [b, e).
inline void check_range(const char* where, std::uint64_t b, std::uint64_t e) {
    if (b > e) [[unlikely]]
        fail_invalid_argument({where, ": begin (", b, ") is greater than end (", e, ")"});
}
/// A probability: 0 <= p <= 1 (NaN fails the comparison).
inline void check_probability(const char* where, const char* name, double p) {
    if (!(p >= 0.0 && p <= 1.0)) [[unlikely]]
        fail_invalid_argument({where, ": ", name, " must be in [0, 1], got ", p});
}
/// The i-th of n slices or partitions: n >= 1 and i < n.
inline void check_slice(const char* where, std::uint64_t i, std::uint64_t n) {
    if (n == 0) [[unlikely]]
        fail_invalid_argument({where, ": n must be at least 1, got 0"});
    if (i >= n) [[unlikely]]
        fail_invalid_argument({where, ": i must be below n, got i = ", i, ", n = ", n});
}

} // namespace detail
KEYSPACE_END_NAMESPACE
