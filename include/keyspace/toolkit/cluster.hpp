/** @file keyspace/toolkit/cluster.hpp
 *  Redis/Valkey cluster slots: key_slot(), hash tags that spread IDs evenly over the slots, slot sets, and the IDs
 *  whose keys fall in a set of slots (what a worker connected to one node may touch). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/text.hpp>
#include <keyspace/toolkit/key_format.hpp>

#include <algorithm>   // for std::min
#include <array>       // for std::array
#include <bit>         // for std::countr_zero, std::popcount
#include <cstddef>     // for std::size_t
#include <cstdint>     // for std::uint16_t, std::uint64_t
#include <iterator>    // for std::default_sentinel_t, std::input_iterator_tag
#include <optional>    // for std::optional
#include <stdexcept>   // for std::invalid_argument, std::logic_error
#include <string>      // for std::string, std::to_string
#include <string_view> // for std::string_view

KEYSPACE_BEGIN_NAMESPACE

/// Number of hash slots of a Redis/Valkey cluster.
inline constexpr std::uint32_t cluster_slot_count = 16384;

namespace detail {

constexpr std::array<std::uint16_t, 256> make_crc16_table() noexcept {
    std::array<std::uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        auto c = i << 8; // unsigned arithmetic throughout, truncated to 16 bits at the end
        for (int k = 0; k < 8; ++k)
            c = (c & 0x8000u) != 0 ? ((c << 1) ^ 0x1021u) & 0xffffu : (c << 1) & 0xffffu;
        t[i] = static_cast<std::uint16_t>(c);
    }
    return t;
}
inline constexpr std::array<std::uint16_t, 256> crc16_table = make_crc16_table();

} // namespace detail

/// CRC16/XMODEM (polynomial 0x1021, initial value 0, no reflection, no final xor): the hash of Redis cluster.
[[nodiscard]] constexpr std::uint16_t crc16_xmodem(std::string_view bytes) noexcept {
    std::uint16_t crc = 0;
    for (const char ch : bytes)
        crc = static_cast<std::uint16_t>((crc << 8) ^
                                         detail::crc16_table[((crc >> 8) ^ static_cast<unsigned char>(ch)) & 0xffu]);
    return crc;
}

/// The hash slot of a key, as `CLUSTER KEYSLOT` computes it: CRC16/XMODEM mod 16384 of the key, or — Redis's
/// hash-tag rule — of the text between the first `{` and the first `}` after it, when that text is not empty.
[[nodiscard]] constexpr std::uint32_t key_slot(std::string_view key) noexcept {
    const std::size_t open = key.find('{');
    if (open != std::string_view::npos) {
        const std::size_t close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
    }
    return crc16_xmodem(key) & (cluster_slot_count - 1);
}

/** A set of cluster slots (a 16384-bit set), e.g. the slots one node serves.
 *  Built from ranges or from the text form `"0-5460,10923"` (CLUSTER SLOTS gives inclusive ranges; so does the text
 *  form, as redis-cli prints them). Add/contains are O(1); next() finds the next member a word at a time. */
class SlotSet {
public:
    SlotSet() = default;
    /// All 16384 slots.
    [[nodiscard]] static SlotSet all() {
        SlotSet s;
        s.add_range(0, cluster_slot_count);
        return s;
    }
    /// Parses "a-b,c,d-e" (inclusive ranges, whitespace allowed around items). Throws std::invalid_argument naming the
    /// bad item: not a number, a slot >= 16384, or a range whose end is below its start.
    [[nodiscard]] static SlotSet parse(std::string_view text) {
        SlotSet s;
        std::size_t pos = 0;
        while (pos <= text.size()) {
            const std::size_t comma = std::min(text.find(',', pos), text.size());
            const std::string_view item = detail::trim_blanks(text.substr(pos, comma - pos));
            if (item.empty()) detail::throw_bad_list_item("SlotSet::parse", text, item, "is empty");
            const std::size_t dash = item.find('-');
            const std::uint32_t lo = number(text, detail::trim_blanks(item.substr(0, dash)));
            const std::uint32_t hi = dash == std::string_view::npos ? lo : number(text, detail::trim_blanks(item.substr(dash + 1)));
            if (hi < lo) detail::throw_bad_list_item("SlotSet::parse", text, item, "ends before it starts");
            s.add_range(lo, hi + 1);
            pos = comma + 1;
        }
        return s;
    }

    /// Adds the slots [b, e) (half-open). Throws std::invalid_argument when b > e or e > 16384.
    SlotSet& add_range(std::uint32_t b, std::uint32_t e) {
        if (b > e || e > cluster_slot_count)
            detail::fail_invalid_argument({"SlotSet::add_range: [", b, ", ", e, ") is not a range of slots in [0, 16384)"});
        for (std::uint32_t s = b; s < e; ++s) words_[s >> 6] |= 1ull << (s & 63);
        return *this;
    }
    /// Adds one slot. Throws std::invalid_argument when slot >= 16384.
    SlotSet& add(std::uint32_t slot) { return add_range(slot, slot + 1); }

    /// Whether the set holds slot (false for a slot above 16383).
    [[nodiscard]] bool contains(std::uint32_t slot) const noexcept {
        return slot < cluster_slot_count && ((words_[slot >> 6] >> (slot & 63)) & 1) != 0;
    }
    /// Slots in the set.
    [[nodiscard]] std::uint32_t size() const noexcept {
        std::uint32_t n = 0;
        for (const std::uint64_t w : words_) n += static_cast<std::uint32_t>(std::popcount(w));
        return n;
    }
    /// Whether the set holds no slot.
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    /// The first member >= slot, or nullopt.
    [[nodiscard]] std::optional<std::uint32_t> next(std::uint32_t slot) const noexcept {
        if (slot >= cluster_slot_count) return std::nullopt;
        std::size_t w = slot >> 6;
        std::uint64_t bits = words_[w] & (~0ull << (slot & 63));
        while (bits == 0) {
            if (++w == words_.size()) return std::nullopt;
            bits = words_[w];
        }
        return static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
    }
    friend bool operator==(const SlotSet&, const SlotSet&) = default;

private:
    static std::uint32_t number(std::string_view text, std::string_view s) {
        if (s.empty() || s.size() > 5) detail::throw_bad_list_item("SlotSet::parse", text, s, "is not a slot number in 0..16383");
        std::uint32_t v = 0;
        for (const char c : s) {
            if (c < '0' || c > '9') detail::throw_bad_list_item("SlotSet::parse", text, s, "is not a slot number in 0..16383");
            v = v * 10 + static_cast<std::uint32_t>(c - '0');
        }
        if (v >= cluster_slot_count) detail::throw_bad_list_item("SlotSet::parse", text, s, "is not a slot number in 0..16383");
        return v;
    }

    std::array<std::uint64_t, cluster_slot_count / 64> words_{};
};

/** Hash tags that spread IDs evenly over the cluster slots: slot_of(id) = id mod 16384 and tag_for_id(id) is a
 *  fixed 3-character tag (letters and digits) whose CRC16 lands in that slot. So consecutive IDs visit the slots
 *  round-robin, every slot gets the same number of IDs (±1) over any range, and the IDs of one slot are found
 *  without hashing (slot, slot + 16384, …). The table (48 KiB) is built once per process (thread-safe static),
 *  deterministically: the tags are the same in every process and version 0.x.
 *  Use with KeyFormatter::format(id, tags.tag_for_id(id), out); key_slot of the result is slot_of(id) for every
 *  formatter, since KeyFormatter refuses a prefix containing `{` (which would capture the hash: see KeyFormatter). */
class SlotTags {
public:
    /// Characters of every tag.
    static constexpr std::size_t tag_size = 3;

    /// The shared table.
    [[nodiscard]] static const SlotTags& instance() {
        static const SlotTags tags;
        return tags;
    }

    /// The slot of id's tagged key: id mod 16384.
    [[nodiscard]] static constexpr std::uint32_t slot_of(std::uint64_t id) noexcept {
        return static_cast<std::uint32_t>(id & (cluster_slot_count - 1));
    }
    /// The tag (without braces) whose key_slot is slot; slot must be < 16384.
    [[nodiscard]] std::string_view tag_for_slot(std::uint32_t slot) const noexcept {
        return {tags_[slot & (cluster_slot_count - 1)].data(), tag_size};
    }
    /// The tag that puts id's key in slot_of(id).
    [[nodiscard]] std::string_view tag_for_id(std::uint64_t id) const noexcept { return tag_for_slot(slot_of(id)); }

private:
    SlotTags() {
        static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        constexpr std::size_t a = sizeof(alphabet) - 1;
        std::array<bool, cluster_slot_count> have{};
        std::uint32_t filled = 0;
        std::array<char, tag_size> t{};
        for (std::size_t i = 0; i < a * a * a && filled < cluster_slot_count; ++i) {
            t[0] = alphabet[i / (a * a)], t[1] = alphabet[(i / a) % a], t[2] = alphabet[i % a];
            const std::uint32_t s = key_slot(std::string_view(t.data(), tag_size));
            if (!have[s]) have[s] = true, tags_[s] = t, ++filled;
        }
        if (filled != cluster_slot_count) // cannot happen: checked by the tests; guards a change of alphabet
            detail::fail_logic_error({"SlotTags: the 3-character tags do not cover every slot"});
    }
    std::array<std::array<char, tag_size>, cluster_slot_count> tags_{};
};

/** The IDs in [b, e) whose key falls in a SlotSet, ascending: an input range of std::uint64_t (and next()).
 *
 *  Two ways to know an ID's slot:
 *  - tagged(): keys carry SlotTags::tag_for_id(id) as their hash tag (KeyFormatter::format(id, tag, out)), so
 *    slot = id mod 16384; the iterator jumps from one member ID to the next (O(1) per ID, no hashing);
 *  - by_key(formatter): the slot of each key as the formatter renders it (its own tag, if any, decides): every ID
 *    of the range is formatted and hashed (tens of ns per ID).
 *  Pair with a tracker: `for (auto id : SlotIds::tagged(slots, 0, n)) if (t.claim(id)) …` (inserts) or
 *  `… if (t.exists(id)) …` (reads). Not thread-safe: one per thread. */
class SlotIds {
public:
    /// The type of the IDs yielded.
    using value_type = std::uint64_t;

    /// Throws std::invalid_argument when b > e.
    [[nodiscard]] static SlotIds tagged(const SlotSet& slots, std::uint64_t b, std::uint64_t e) {
        return SlotIds(slots, b, e, nullptr);
    }
    /// The formatter must outlive the iterator. Throws std::invalid_argument when b > e.
    [[nodiscard]] static SlotIds by_key(const SlotSet& slots, const KeyFormatter& formatter, std::uint64_t b,
                                        std::uint64_t e) {
        return SlotIds(slots, b, e, &formatter);
    }

    /// The next ID whose key is in the set, or nullopt at the end.
    std::optional<std::uint64_t> next() noexcept {
        while (pos_ < e_) {
            if (fmt_ == nullptr) {
                const std::uint32_t s = SlotTags::slot_of(pos_);
                const std::optional<std::uint32_t> n = slots_.next(s);
                const std::uint64_t base = pos_ - s;
                std::uint64_t cand;
                if (n) {
                    cand = base + *n;
                } else {
                    const std::optional<std::uint32_t> first = slots_.next(0);
                    if (!first || base > ~0ull - cluster_slot_count - *first) return finish();
                    cand = base + cluster_slot_count + *first;
                }
                if (cand >= e_) return finish();
                pos_ = cand + 1;
                return cand;
            }
            const std::uint64_t id = pos_++;
            std::array<char, 512> buf;
            const std::size_t n = fmt_->format(id, buf);
            if (n == 0) { // a prefix too long for the stack buffer: the slot comes from the tag or the whole key
                if (slots_.contains(key_slot(fmt_->to_string(id)))) return id;
                continue;
            }
            if (slots_.contains(key_slot(std::string_view(buf.data(), n)))) return id;
        }
        return std::nullopt;
    }

    /// The input iterator of a walk over the IDs (begin()).
    class iterator {
    public:
        /// The type of the IDs yielded.
        using value_type = std::uint64_t;
        /// A signed distance (required of iterators, unused).
        using difference_type = std::ptrdiff_t;
        /// A single-pass input iterator.
        using iterator_concept = std::input_iterator_tag;
        iterator() = default;
        /// At the first ID of the walk.
        explicit iterator(SlotIds* s) : s_(s) { ++*this; }
        /// The current ID.
        std::uint64_t operator*() const noexcept { return cur_; }
        /// Moves to the next ID.
        iterator& operator++() {
            if (auto v = s_->next()) cur_ = *v;
            else s_ = nullptr;
            return *this;
        }
        /// Moves to the next ID.
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.s_ == nullptr; }

    private:
        SlotIds* s_ = nullptr;
        std::uint64_t cur_ = 0;
    };
    /// A walk over the IDs (the SlotIds advances with it).
    iterator begin() { return iterator(this); }
    /// The end of the walk.
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    SlotIds(const SlotSet& slots, std::uint64_t b, std::uint64_t e, const KeyFormatter* fmt)
        : slots_(slots), pos_(b), e_(e), fmt_(fmt) {
        detail::check_range("SlotIds", b, e);
    }
    std::optional<std::uint64_t> finish() noexcept {
        pos_ = e_;
        return std::nullopt;
    }

    SlotSet slots_;
    std::uint64_t pos_, e_;
    const KeyFormatter* fmt_;
};

KEYSPACE_END_NAMESPACE
