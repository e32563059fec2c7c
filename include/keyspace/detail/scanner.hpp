/** @file keyspace/detail/scanner.hpp
 *  Scanner: walks the matching positions of a space a word at a time (the engine of sequential(), erase() and the
 *  write streams' sweeps), and last_set: the highest set position of a range. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/detail/sub_bitmap_table.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm>   // for std::min, std::max
#include <bit>         // for std::popcount, std::countr_zero
#include <cstdint>     // for std::uint64_t
#include <optional>    // for std::optional
#include <type_traits> // for std::is_same_v

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// Bits [lo, hi) of one bitmap that a scan walks: the whole space (linear spaces) or one ID's row; position of bit x
/// = pos0 + (x - lo). Bitmap is the tracker's AtomicBitmap (simple and flat layouts) or an ID's SubBitmap (table
/// layout; nullptr: an ID without one, all clear).
template <class Bitmap>
struct Stretch {
    const Bitmap* bm = nullptr;
    std::uint64_t lo = 0, hi = 0, pos0 = 0;

    [[nodiscard]] std::uint64_t word(std::uint64_t w) const noexcept { return bm != nullptr ? bm->word(w) : 0; }
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<std::uint64_t> next_set(std::uint64_t from) const noexcept {
        return bm != nullptr ? bm->find_next_set(from, hi) : std::nullopt;
    }
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<std::uint64_t> next_unset(std::uint64_t from) const noexcept {
        if (bm == nullptr) return from < hi ? std::optional<std::uint64_t>(from) : std::nullopt;
        return bm->find_next_unset(from, hi);
    }
};

/** Walks the matching positions of [from, to) ascending, a word at a time. The engine of sequential(), erase()
 *  and the write streams' sweeps. */
class Scanner {
public:
    Scanner() = default;
    Scanner(const Space& s, Filter f, std::uint64_t from, std::uint64_t to) noexcept
        : space_(s), filter_(f), pos_(from), to_(to) {}

    /// The next matching position, or nullopt at the end. skip > 0 first passes over that many matches.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::optional<std::uint64_t> next(std::uint64_t skip = 0) noexcept {
        for (;;) {
            if (mask_ != 0) [[likely]] {
                if (skip != 0) [[unlikely]] {
                    const auto c = static_cast<std::uint64_t>(std::popcount(mask_));
                    if (skip >= c) { // geometric skipping passes whole words
                        skip -= c;
                        mask_ = 0;
                        continue;
                    }
                    for (; skip > 0; --skip) mask_ &= mask_ - 1;
                }
                const auto bit = static_cast<std::uint64_t>(std::countr_zero(mask_));
                mask_ &= mask_ - 1;
                return word_pos_ + bit;
            }
            if (!load_next_word()) return std::nullopt;
        }
    }
    /// Positions not yet passed (an upper bound on what is left).
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        return (pos_ < to_ ? to_ - pos_ : 0) + static_cast<std::uint64_t>(std::popcount(mask_));
    }
    [[nodiscard]] std::uint64_t position() const noexcept { return pos_; }

private:
    // Opens the stretch holding position pos_ (linear: the whole space; otherwise the row of pos_'s ID).
    template <class Bitmap>
    void open_stretch(Stretch<Bitmap>& st) const noexcept {
        const std::uint64_t w = space_.width();
        if constexpr (std::is_same_v<Bitmap, SubBitmap>) { // table layout: the ID's sub-bitmap, bits = sub-IDs
            const std::uint64_t row = pos_ / w, id = space_.b + row;
            const std::uint64_t row_end = std::min(to_, (row + 1) * w);
            const std::uint64_t sub0 = space_.sb + pos_ % w;
            st = Stretch<SubBitmap>{space_.tracker->sub_bitmap(id), sub0, sub0 + (row_end - pos_), pos_};
        } else if (space_.linear()) {
            const std::uint64_t base = space_.base();
            st = Stretch<AtomicBitmap>{&space_.bits(), base + pos_, base + to_, pos_};
        } else { // flat layout over a sub-range: the ID's row of bits
            const std::uint64_t row = pos_ / w, id = space_.b + row;
            const std::uint64_t row_end = std::min(to_, (row + 1) * w);
            const std::uint64_t bit0 = id * space_.stride + space_.sb + pos_ % w;
            st = Stretch<AtomicBitmap>{&space_.bits(), bit0, bit0 + (row_end - pos_), pos_};
        }
    }

    // Loads the next word with a match into mask_, advancing pos_; false at the end of [from, to).
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE bool load_next_word() noexcept {
        return space_.table() ? load_next_word_of(rows_) : load_next_word_of(bits_);
    }
    template <class Bitmap>
    KEYSPACE_ISA_ABI
    bool load_next_word_of(Stretch<Bitmap>& st) noexcept {
        for (;;) {
            if (pos_ >= to_) return false;
            if (!open_) {
                open_stretch(st);
                open_ = true;
                if constexpr (std::is_same_v<Bitmap, SubBitmap>) {
                    if (filter_ == Filter::SetOnly && st.bm == nullptr) { // an ID without pairs
                        skip_row();
                        continue;
                    }
                }
            }
            // pos_ maps to bit x of the stretch.
            std::uint64_t x = st.lo + (pos_ - st.pos0);
            if (x >= st.hi) {
                open_ = false;
                continue;
            }
            std::uint64_t m = word_mask(st, x);
            // A few words inline first: at low density the next match is usually near.
            for (int k = 0; k < 4 && m == 0 && filter_ != Filter::All; ++k) {
                const std::uint64_t next = (x | 63) + 1;
                if (next >= st.hi) break;
                x = next;
                m = word_mask(st, x);
            }
            if (m == 0) {
                // The rest of this word has no match: jump over the run with the bitmap's SIMD search.
                const std::uint64_t after = std::min(st.hi, (x | 63) + 1);
                const auto found = after >= st.hi ? std::nullopt
                                   : filter_ == Filter::SetOnly ? st.next_set(after)
                                                                : st.next_unset(after);
                if (!found) {
                    pos_ = st.pos0 + (st.hi - st.lo);
                    open_ = false;
                    if (filter_ == Filter::SetOnly && !space_.linear()) skip_row_from(pos_);
                    continue;
                }
                x = *found;
                m = word_mask(st, x); // zero again only if a writer changed the word meanwhile: the loop moves on
            }
            word_ = x >> 6;
            word_pos_ = st.pos0 + word_ * 64 - st.lo; // position of the word's bit 0 (mod 2^64)
            pos_ = st.pos0 + (std::min(st.hi, word_ * 64 + 64) - st.lo);
            if (m != 0) {
                mask_ = m;
                return true;
            }
        }
    }

    // The matching bits of x's word at and after x, within the stretch.
    template <class Bitmap>
    [[nodiscard]] std::uint64_t word_mask(const Stretch<Bitmap>& st, std::uint64_t x) const noexcept {
        const std::uint64_t w = x >> 6;
        std::uint64_t m = bits_between(x & 63, std::min(st.hi, w * 64 + 64) - w * 64);
        if (filter_ == Filter::SetOnly) m &= st.word(w);
        else if (filter_ == Filter::UnsetOnly) m &= ~st.word(w);
        return m;
    }

    // Set-only over rows: continue at the next ID that owns a sub-bitmap (table mode) or has any bit set (flat
    // pairs), so that a sparse space costs a bitmap search rather than a visit per ID.
    KEYSPACE_ISA_ABI
    void skip_row() noexcept { skip_row_from(pos_ + 1); }
    KEYSPACE_ISA_ABI
    void skip_row_from(std::uint64_t p) noexcept {
        const std::uint64_t w = space_.width();
        const std::uint64_t row = (p + w - 1) / w; // first row starting at or after p
        if (row * w >= to_ || space_.b + row >= space_.e) {
            pos_ = to_;
            return;
        }
        const std::uint64_t k = space_.stride; // flat: e * k <= 2^63 (the space is clamped to max_supported_id / k)
        std::optional<std::uint64_t> id;
        if (space_.table()) { // bits() marks the IDs owning a sub-bitmap
            id = space_.bits().find_next_set(space_.b + row, space_.e);
        } else if (const auto bit = space_.bits().find_next_set((space_.b + row) * k, space_.e * k)) {
            id = *bit / k;
        }
        pos_ = id ? std::min(to_, (*id - space_.b) * w) : to_;
        open_ = false;
    }

    Space space_{};
    Filter filter_ = Filter::All;
    std::uint64_t pos_ = 0, to_ = 0;
    Stretch<AtomicBitmap> bits_{}; // simple and flat layouts
    Stretch<SubBitmap> rows_{};    // table layout
    bool open_ = false;
    std::uint64_t word_ = 0, mask_ = 0, word_pos_ = 0;
};

/// Highest set position in [lo, hi), or nullopt. Linear spaces: one backward word search bounded by lo; otherwise
/// row by row from the top (table mode visits only the IDs that own a sub-bitmap).
KEYSPACE_ISA_ABI
[[nodiscard]] inline std::optional<std::uint64_t> last_set(const Space& s, std::uint64_t lo, std::uint64_t hi) noexcept {
    if (lo >= hi) return std::nullopt;
    if (s.linear()) {
        const auto x = s.bits().find_prev_set(s.base() + hi, s.base() + lo);
        return x ? std::optional<std::uint64_t>(*x - s.base()) : std::nullopt;
    }
    const std::uint64_t w = s.width(), first_row = lo / w;
    std::uint64_t row = (hi - 1) / w;
    if (s.table()) { // start at the highest ID owning a sub-bitmap
        const auto id = s.bits().find_prev_set(s.b + row + 1, s.b + first_row);
        if (!id) return std::nullopt;
        row = *id - s.b;
    }
    for (;;) {
        const std::uint64_t id = s.b + row, row0 = row * w;
        const std::uint64_t sub_lo = s.sb + (std::max(lo, row0) - row0), sub_hi = s.sb + (std::min(hi, row0 + w) - row0);
        std::optional<std::uint64_t> sub;
        if (s.table()) {
            if (const SubBitmap* bm = s.tracker->sub_bitmap(id)) sub = bm->find_prev_set(sub_hi, sub_lo);
        } else if (const auto x = s.bits().find_prev_set(id * s.stride + sub_hi, id * s.stride + sub_lo)) {
            sub = *x - id * s.stride;
        }
        if (sub) return row0 + (*sub - s.sb);
        if (row == first_row) return std::nullopt;
        if (s.table()) {
            const auto lower = s.bits().find_prev_set(id, s.b + first_row);
            if (!lower) return std::nullopt;
            row = *lower - s.b;
        } else {
            --row;
        }
    }
}

} // namespace detail
KEYSPACE_END_NAMESPACE
