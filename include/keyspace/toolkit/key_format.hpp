/** @file keyspace/toolkit/key_format.hpp
 *  KeyFormatter: IDs to keys shaped `prefix{tag}:000000000042` and back, without allocation. GroupKeyFormatter:
 *  the keys of group iteration items (each item's tracker prefix, then the ID). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>

#include <concepts>    // for std::convertible_to
#include <cstddef>     // for std::size_t
#include <cstdint>     // for std::uint64_t
#include <cstring>     // for std::memcpy
#include <optional>    // for std::optional
#include <span>        // for std::span
#include <stdexcept>   // for std::invalid_argument
#include <string>      // for std::string, std::to_string
#include <string_view> // for std::string_view
#include <utility>     // for std::move

KEYSPACE_BEGIN_NAMESPACE

/// A key split back into its parts by KeyFormatter::parse. The views point into the parsed key.
struct ParsedKey {
    std::string_view prefix;   ///< the formatter's prefix
    std::string_view hash_tag; ///< the text between `{` and `}` (empty when the key has no tag)
    /// The ID.
    std::uint64_t id = 0;
    friend bool operator==(const ParsedKey&, const ParsedKey&) = default;
};

namespace detail {

/// "00" "01" … "99": two digits per lookup.
inline constexpr char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                         "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                         "8081828384858687888990919293949596979899";

/// Writes v < 10^4 as 4 digits.
KEYSPACE_ALWAYS_INLINE void write_4_digits(char* p, std::uint32_t v) noexcept {
    const std::uint32_t hi = v / 100, lo = v - hi * 100;
    std::memcpy(p, digit_pairs + 2 * hi, 2);
    std::memcpy(p + 2, digit_pairs + 2 * lo, 2);
}

/// Writes the low `width` decimal digits of v into out[0, width), most significant first (zero padded).
/// Eight digits at a time, split 4 + 4 and 2 + 2 so the divisions of one block do not wait on each other.
KEYSPACE_ALWAYS_INLINE void write_digits(char* out, std::uint64_t v, unsigned width) noexcept {
    char* p = out + width;
    while (p - out >= 8) {
        const std::uint64_t q = v / 100000000;
        const auto block = static_cast<std::uint32_t>(v - q * 100000000);
        const std::uint32_t hi = block / 10000;
        p -= 8;
        write_4_digits(p, hi);
        write_4_digits(p + 4, block - hi * 10000);
        v = q;
    }
    while (p - out >= 2) {
        const std::uint64_t q = v / 100;
        const auto r = static_cast<unsigned>(v - q * 100);
        p -= 2;
        std::memcpy(p, digit_pairs + 2 * r, 2);
        v = q;
    }
    if (p != out) *--p = static_cast<char>('0' + v % 10);
}

/// Number of decimal digits of v (1 for 0).
[[nodiscard]] constexpr unsigned decimal_digits(std::uint64_t v) noexcept {
    unsigned n = 1;
    while (v >= 10) v /= 10, ++n;
    return n;
}

inline constexpr std::uint64_t pow10_table[20] = {1ull,
                                                  10ull,
                                                  100ull,
                                                  1000ull,
                                                  10000ull,
                                                  100000ull,
                                                  1000000ull,
                                                  10000000ull,
                                                  100000000ull,
                                                  1000000000ull,
                                                  10000000000ull,
                                                  100000000000ull,
                                                  1000000000000ull,
                                                  10000000000000ull,
                                                  100000000000000ull,
                                                  1000000000000000ull,
                                                  10000000000000000ull,
                                                  100000000000000000ull,
                                                  1000000000000000000ull,
                                                  10000000000000000000ull};

} // namespace detail

/** Renders keys `prefix` + (`{tag}` when a tag is given) + `separator` + the ID zero-padded to `width` digits, e.g.
 *  `user{a1}:000000000042`, and parses them back.
 *
 *  - Width: 1..20 digits (default 12). An ID with more digits than the width is written in full (like `%012llu`),
 *    so the key is longer; every ID below 10^width gives a key of the same length, fixed_size().
 *  - No allocation after construction: format() writes into the caller's buffer; patch_id() rewrites only the ID
 *    digits of a key already rendered, e.g. inside a pre-encoded RESP command, whose lengths then stay valid.
 *  - parse() takes a key back to (prefix, tag, id), e.g. to rebuild a tracker from a server's SCAN output.
 *  - The tag: the formatter's own tag (constructor) or one given per call (format(id, tag, out), e.g. from
 *    SlotTags, which spreads IDs over cluster slots). Tags may not contain `{` or `}`.
 *  - The prefix may not contain `{`: Redis hashes the text between the first `{` of a key and the first `}` after
 *    it, so a `{` in the prefix would capture the hash of every tagged key (with prefix "we{ird", the key
 *    "we{ird{abc}:…" hashes "ird{abc", not "abc") and SlotTags / SlotIds::tagged would name other slots than the
 *    keys land in. A `}` in the prefix, and braces in the separator, are harmless (the first `{` is then the
 *    tag's). For a fixed hash tag, pass it as the tag: KeyFormatter("user:", "x") renders `user:{x}:000000000042`.
 *  - The separator may be empty: `KeyFormatter("f", "", "", 4)` renders `f0042`.
 *  - From a tracker: trackers name their keys by the whole prefix (`"user:"`, keys `user:<id>`), while the
 *    constructor takes the prefix and the separator apart (`KeyFormatter("user")` renders `user:…`, so
 *    `KeyFormatter(tracker.prefix())` would render `user::…`). for_prefix(tracker.prefix()) takes the whole prefix
 *    as-is, with no separator: its keys are exactly the prefix followed by the digits.
 *  Thread safety: a KeyFormatter is immutable after construction; every const member may be called concurrently. */
class KeyFormatter {
public:
    /// The default width: 12 digits.
    static constexpr unsigned default_width = 12;
    /// The widest width: 20 digits (2^64 - 1 has 20).
    static constexpr unsigned max_width = 20; // 2^64 - 1 has 20 digits

    /// Keys `prefix` + `{hash_tag}` (when not empty) + `separator` (may be empty) + the ID.
    /// Throws std::invalid_argument for a prefix containing `{`, a width outside 1..20 or a tag containing `{` or `}`.
    explicit KeyFormatter(std::string prefix, std::string hash_tag = {}, std::string separator = ":",
                          unsigned width = default_width)
        : prefix_(std::move(prefix)), tag_(std::move(hash_tag)), sep_(std::move(separator)), width_(width) {
        if (prefix_.find('{') != std::string::npos)
            detail::fail_invalid_argument({"KeyFormatter: the prefix '", prefix_,
                                           "' contains '{', which would capture the cluster hash of tagged keys; pass "
                                           "a hash tag as the tag argument instead"});
        if (width_ < 1 || width_ > max_width)
            detail::fail_invalid_argument({"KeyFormatter: width must be in 1..20, got ", width_});
        check_tag(tag_);
    }

    /// A formatter whose keys are `key_prefix` exactly as given, then the ID: the key form of a PrefixTracker
    /// (`for_prefix(tracker.prefix())` with prefix `"user:"` renders ID 42 as `user:000000000042`). The separator
    /// is empty; a hash tag, when given, follows the whole prefix (`user:{a1}000000000042`). prefix() returns
    /// `key_prefix` unchanged. Throws like the constructor.
    [[nodiscard]] static KeyFormatter for_prefix(std::string key_prefix, std::string hash_tag = {},
                                                 unsigned width = default_width) {
        return KeyFormatter(std::move(key_prefix), std::move(hash_tag), std::string(), width);
    }

    /// The prefix, as given.
    [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
    /// The formatter's own tag (empty: none).
    [[nodiscard]] const std::string& hash_tag() const noexcept { return tag_; }
    /// The text between the prefix (and tag) and the ID.
    [[nodiscard]] const std::string& separator() const noexcept { return sep_; }
    /// Digits of every ID below 10^width (longer IDs are written in full).
    [[nodiscard]] unsigned width() const noexcept { return width_; }

    /// Length of the key of any ID below 10^width with the formatter's own tag.
    [[nodiscard]] std::size_t fixed_size() const noexcept { return size_with_tag(tag_.size(), width_); }
    /// Length of the key of id with the formatter's own tag.
    [[nodiscard]] std::size_t size(std::uint64_t id) const noexcept { return size_with_tag(tag_.size(), digits(id)); }
    /// Length of the key of id with the given tag.
    [[nodiscard]] std::size_t size(std::uint64_t id, std::string_view tag) const noexcept {
        return size_with_tag(tag.size(), digits(id));
    }
    /// A buffer of this many bytes holds the key of any ID with the formatter's own tag.
    [[nodiscard]] std::size_t max_size() const noexcept { return size_with_tag(tag_.size(), max_width); }
    /// Offset of the first ID digit in a key rendered with a tag of tag_size characters (default: the own tag).
    [[nodiscard]] std::size_t id_offset() const noexcept { return id_offset(tag_.size()); }
    /// Offset of the first ID digit in a key rendered with a tag of tag_size characters.
    [[nodiscard]] std::size_t id_offset(std::size_t tag_size) const noexcept {
        return prefix_.size() + (tag_size != 0 ? tag_size + 2 : 0) + sep_.size();
    }

    /// Writes the key of id into out; returns its length, or 0 (nothing written) when out is too small.
    [[nodiscard]] std::size_t format(std::uint64_t id, std::span<char> out) const noexcept {
        return format(id, std::string_view(tag_), out);
    }
    /// Writes the key of id with the given tag (empty: no braces) into out; returns its length, or 0 (nothing
    /// written) when out is too small. The tag is not checked here (the hot path): it must not contain braces.
    [[nodiscard]] std::size_t format(std::uint64_t id, std::string_view tag, std::span<char> out) const noexcept {
        const unsigned nd = digits(id);
        const std::size_t n = size_with_tag(tag.size(), nd);
        if (out.size() < n) [[unlikely]]
            return 0;
        char* p = out.data();
        std::memcpy(p, prefix_.data(), prefix_.size());
        p += prefix_.size();
        if (!tag.empty()) {
            *p++ = '{';
            std::memcpy(p, tag.data(), tag.size());
            p += tag.size();
            *p++ = '}';
        }
        std::memcpy(p, sep_.data(), sep_.size());
        p += sep_.size();
        detail::write_digits(p, id, nd);
        return n;
    }
    /// The key of id as a std::string (allocates; for set-up and tests, not the hot path).
    [[nodiscard]] std::string to_string(std::uint64_t id) const { return to_string(id, tag_); }
    /// The key of id with the given tag as a std::string (allocates).
    [[nodiscard]] std::string to_string(std::uint64_t id, std::string_view tag) const {
        std::string s(size(id, tag), '\0');
        (void)format(id, tag, std::span<char>(s.data(), s.size()));
        return s;
    }

    /// Rewrites only the `width` ID digits of a key rendered by this formatter, in place: key must hold such a key
    /// (of a tag of tag_size characters; default the own tag) and id must be below 10^width (so the key keeps its
    /// length). Returns false, writing nothing, when id does not fit the width or key is too short.
    bool patch_id(std::span<char> key, std::uint64_t id) const noexcept { return patch_id(key, id, tag_.size()); }
    /// As patch_id(key, id), for a key rendered with a tag of tag_size characters.
    bool patch_id(std::span<char> key, std::uint64_t id, std::size_t tag_size) const noexcept {
        const std::size_t off = id_offset(tag_size);
        if (key.size() < off + width_ || (width_ < max_width && id >= detail::pow10_table[width_])) [[unlikely]]
            return false;
        detail::write_digits(key.data() + off, id, width_);
        return true;
    }
    /// Writes exactly `width` zero-padded digits of id at digits (the caller found the spot, e.g. id_offset() into a
    /// template). Precondition: id < 10^width (otherwise only the low `width` digits are written).
    void write_id_digits(char* digits_out, std::uint64_t id) const noexcept {
        detail::write_digits(digits_out, id, width_);
    }

    /// Parses a key of this formatter's shape: the prefix, an optional `{tag}` (any tag is accepted and returned),
    /// the separator, then 1..20 decimal digits (any count, not only `width`) whose value fits in 64 bits.
    /// Throws std::invalid_argument naming the key and what is wrong.
    [[nodiscard]] ParsedKey parse(std::string_view key) const {
        ParsedKey out;
        if (const char* err = parse_into(key, out))
            detail::fail_invalid_argument({"KeyFormatter::parse: key '", key, "' ", err});
        return out;
    }
    /// As parse(), but nullopt instead of an exception (for scanning many keys, some of other shapes).
    [[nodiscard]] std::optional<ParsedKey> try_parse(std::string_view key) const noexcept {
        ParsedKey out;
        if (parse_into(key, out) != nullptr) return std::nullopt;
        return out;
    }

private:
    static void check_tag(std::string_view tag) {
        if (tag.find_first_of("{}") != std::string_view::npos)
            detail::fail_invalid_argument({"KeyFormatter: the hash tag '", tag, "' must not contain braces"});
    }
    [[nodiscard]] unsigned digits(std::uint64_t id) const noexcept {
        if (width_ >= max_width || id < detail::pow10_table[width_]) [[likely]]
            return width_;
        return detail::decimal_digits(id);
    }
    [[nodiscard]] std::size_t size_with_tag(std::size_t tag_size, unsigned nd) const noexcept {
        return id_offset(tag_size) + nd;
    }

    /// nullptr on success, else what is wrong.
    const char* parse_into(std::string_view key, ParsedKey& out) const noexcept {
        if (key.substr(0, prefix_.size()) != prefix_) return "does not start with the prefix";
        out.prefix = key.substr(0, prefix_.size());
        std::string_view rest = key.substr(prefix_.size());
        out.hash_tag = {};
        if (!rest.empty() && rest.front() == '{') {
            const std::size_t close = rest.find('}');
            if (close == std::string_view::npos) return "has a '{' without a closing '}'";
            out.hash_tag = rest.substr(1, close - 1);
            rest = rest.substr(close + 1);
        }
        if (rest.substr(0, sep_.size()) != sep_) return "lacks the separator after the prefix and tag";
        rest = rest.substr(sep_.size());
        if (rest.empty()) return "has no ID digits";
        if (rest.size() > max_width) return "has more than 20 ID digits";
        std::uint64_t v = 0;
        for (const char c : rest) {
            if (c < '0' || c > '9') return "has a non-digit in the ID";
            const auto d = static_cast<std::uint64_t>(c - '0');
            if (v > (~0ull - d) / 10) return "has an ID beyond 2^64 - 1";
            v = v * 10 + d;
        }
        out.id = v;
        return nullptr;
    }

    std::string prefix_, tag_, sep_;
    unsigned width_;
};

/** Renders the keys of group iterations: each item's tracker prefix as-is, then (`{tag}` when a tag is given) the
 *  ID zero-padded to `width` digits — for every prefix, exactly the key KeyFormatter::for_prefix(prefix, tag, width)
 *  renders, so `user:000000000042` for item {"user:", 42}. One formatter serves every prefix of a group, with no
 *  allocation per key: format() writes into the caller's buffer. Items are GroupItem (from
 *  <keyspace/group_iterators.hpp>) or anything with a `prefix` convertible to std::string_view and an integral
 *  `id`; a hierarchical item renders the key of its ID (its sub_id is the field or member inside that key).
 *  To parse keys back, use for_prefix(prefix): a KeyFormatter of the same shape.
 *  The per-key path does not check the prefix: with a hash tag, a prefix containing `{` would capture the
 *  cluster hash (see KeyFormatter), which for_prefix() rejects.
 *  Thread safety: immutable after construction; every const member may be called concurrently. */
class GroupKeyFormatter {
public:
    /// Keys `prefix` + `{hash_tag}` (when not empty) + the ID in `width` digits. Throws std::invalid_argument for a
    /// width outside 1..20 or a tag containing `{` or `}` (as KeyFormatter does).
    explicit GroupKeyFormatter(std::string hash_tag = {}, unsigned width = KeyFormatter::default_width)
        : tail_(KeyFormatter::for_prefix(std::string(), std::move(hash_tag), width)) {}

    /// The tag put after every prefix (empty: none).
    [[nodiscard]] const std::string& hash_tag() const noexcept { return tail_.hash_tag(); }
    /// Digits of every ID below 10^width (longer IDs are written in full).
    [[nodiscard]] unsigned width() const noexcept { return tail_.width(); }

    /// The KeyFormatter of this shape for one prefix (allocates; for set-up and for parsing keys back). Throws
    /// std::invalid_argument for a prefix containing `{`.
    [[nodiscard]] KeyFormatter for_prefix(std::string_view key_prefix) const {
        return KeyFormatter::for_prefix(std::string(key_prefix), tail_.hash_tag(), tail_.width());
    }

    /// Length of the key of id under key_prefix.
    [[nodiscard]] std::size_t size(std::string_view key_prefix, std::uint64_t id) const noexcept {
        return key_prefix.size() + tail_.size(id);
    }
    /// A buffer of this many bytes holds the key of any ID under key_prefix.
    [[nodiscard]] std::size_t max_size(std::string_view key_prefix) const noexcept {
        return key_prefix.size() + tail_.max_size();
    }

    /// Writes the key of id under key_prefix into out; returns its length, or 0 (nothing written) when out is too
    /// small.
    [[nodiscard]] std::size_t format(std::string_view key_prefix, std::uint64_t id, std::span<char> out) const noexcept {
        const std::size_t n = size(key_prefix, id);
        if (out.size() < n) [[unlikely]]
            return 0;
        if (!key_prefix.empty()) std::memcpy(out.data(), key_prefix.data(), key_prefix.size()); // data() may be null
        (void)tail_.format(id, out.subspan(key_prefix.size()));
        return n;
    }
    /// Writes the key of a group item (its prefix and id) into out; returns its length, or 0 (nothing written)
    /// when out is too small.
    template <class Item>
        requires requires(const Item& item) {
            { item.prefix } -> std::convertible_to<std::string_view>;
            { item.id } -> std::convertible_to<std::uint64_t>;
        }
    [[nodiscard]] std::size_t format(const Item& item, std::span<char> out) const noexcept {
        return format(std::string_view(item.prefix), static_cast<std::uint64_t>(item.id), out);
    }
    /// The key of a group item as a std::string (allocates; for set-up and tests, not the hot path).
    template <class Item>
        requires requires(const Item& item) {
            { item.prefix } -> std::convertible_to<std::string_view>;
            { item.id } -> std::convertible_to<std::uint64_t>;
        }
    [[nodiscard]] std::string to_string(const Item& item) const {
        const std::string_view prefix(item.prefix);
        const auto id = static_cast<std::uint64_t>(item.id);
        std::string s(size(prefix, id), '\0');
        (void)format(prefix, id, std::span<char>(s.data(), s.size()));
        return s;
    }

private:
    KeyFormatter tail_; // the empty prefix with this tag and width: renders everything after the prefix
};

KEYSPACE_END_NAMESPACE
