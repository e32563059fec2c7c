/** @file keyspace/detail/text.hpp
 *  Small helpers shared by the parsers of comma-separated lists ("0-5460,10923", "get:0.8,set:0.2"). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>

#include <stdexcept>   // for std::invalid_argument
#include <string>      // for std::string
#include <string_view> // for std::string_view

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// s without its leading and trailing blanks (spaces and tabs).
[[nodiscard]] constexpr std::string_view trim_blanks(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Throws std::invalid_argument("<where>: in '<text>', the item '<item>' <what>").
[[noreturn]] inline void throw_bad_list_item(const char* where, std::string_view text, std::string_view item,
                                             const char* what) {
    fail_invalid_argument({where, ": in '", text, "', the item '", item, "' ", what});
}

} // namespace detail
KEYSPACE_END_NAMESPACE
