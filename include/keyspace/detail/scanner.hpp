/** @file keyspace/detail/scanner.hpp
 *  Scanner: walks the matching positions of a space a word at a time (the engine of sequential(), erase() and the
 *  write streams' sweeps), and last_set: the highest set position of a range. Both reach the bits through a rows
 *  policy (LinearRows, FlatRows, TableRows), chosen once per scanner from the tracker's layout. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/detail/sub_bitmap_table.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm> // for std::min, std::max
#include <atomic>    // for std::memory_order
#include <bit>       // for std::popcount, std::countr_zero
#include <cstddef>   // for std::size_t, std::ptrdiff_t
#include <cstdint>   // for std::uint64_t
#include <optional>  // for std::optional
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

// ---- rows policies: how each layout maps a space's rows onto bits -------------------------------------------------
// Every policy answers the same questions, so the scanner and last_set are written once over them:
//   open(s, pos, to)          the stretch holding position pos (up to position to);
//   next_row(s, id)           set-only: the first ID >= id that may hold a set key (nullopt: none below s.e);
//   prev_set(s, id, lo, hi)   the highest set sub-position in [lo, hi) of id's row (sub-IDs, offset s.sb excluded);
//   prev_row(s, id, first)    the next lower ID >= first that may hold a set key, below id.

/// Simple trackers, and flat ones iterating every sub-ID: the space is one run of consecutive bits.
struct LinearRows {
    using Bitmap = AtomicBitmap;
    static constexpr bool rows = false;
    [[nodiscard]] static Stretch<Bitmap> open(const Space& s, std::uint64_t pos, std::uint64_t to) noexcept {
        const std::uint64_t base = s.base();
        return {&s.bits(), base + pos, base + to, pos};
    }
};

/// The part of a row that position pos opens, in a layout with rows (a row is an ID's sub-range [s.sb, s.se)):
/// the row's ID, the sub-ID pos stands for, and how many positions of that row lie in [pos, to).
struct RowPart {
    std::uint64_t id, sub, len;
};
[[nodiscard]] inline RowPart row_part(const Space& s, std::uint64_t pos, std::uint64_t to) noexcept {
    const std::uint64_t w = s.width(), row = pos / w;
    return {s.b + row, s.sb + pos % w, std::min(to, (row + 1) * w) - pos};
}

/// Flat hierarchical trackers over a sub-range: ID id's row is bits [id * stride + sb, id * stride + se).
struct FlatRows {
    using Bitmap = AtomicBitmap;
    static constexpr bool rows = true;
    [[nodiscard]] static Stretch<Bitmap> open(const Space& s, std::uint64_t pos, std::uint64_t to) noexcept {
        const RowPart r = row_part(s, pos, to);
        const std::uint64_t bit0 = r.id * s.stride + r.sub;
        return {&s.bits(), bit0, bit0 + r.len, pos};
    }
    KEYSPACE_ISA_ABI
    [[nodiscard]] static std::optional<std::uint64_t> next_row(const Space& s, std::uint64_t id) noexcept {
        const std::uint64_t k = s.stride; // e * k <= 2^63 (the space is clamped to max_supported_id / k)
        const auto bit = s.bits().find_next_set(id * k, s.e * k);
        return bit ? std::optional<std::uint64_t>(*bit / k) : std::nullopt;
    }
    KEYSPACE_ISA_ABI
    [[nodiscard]] static std::optional<std::uint64_t> prev_set(const Space& s, std::uint64_t id, std::uint64_t lo,
                                                               std::uint64_t hi) noexcept {
        const auto x = s.bits().find_prev_set(id * s.stride + hi, id * s.stride + lo);
        return x ? std::optional<std::uint64_t>(*x - id * s.stride) : std::nullopt;
    }
    [[nodiscard]] static std::optional<std::uint64_t> prev_row(const Space&, std::uint64_t id, std::uint64_t first) noexcept {
        return id > first ? std::optional<std::uint64_t>(id - 1) : std::nullopt;
    }
};

/// Table layout: ID id's row is its SubBitmap (bits = sub-IDs); bits() marks the IDs owning one.
struct TableRows {
    using Bitmap = SubBitmap;
    static constexpr bool rows = true;
    [[nodiscard]] static Stretch<Bitmap> open(const Space& s, std::uint64_t pos, std::uint64_t to) noexcept {
        const RowPart r = row_part(s, pos, to);
        return {s.tracker->sub_bitmap(r.id), r.sub, r.sub + r.len, pos};
    }
    KEYSPACE_ISA_ABI
    [[nodiscard]] static std::optional<std::uint64_t> next_row(const Space& s, std::uint64_t id) noexcept {
        return s.bits().find_next_set(id, s.e);
    }
    KEYSPACE_ISA_ABI
    [[nodiscard]] static std::optional<std::uint64_t> prev_set(const Space& s, std::uint64_t id, std::uint64_t lo,
                                                               std::uint64_t hi) noexcept {
        const SubBitmap* bm = s.tracker->sub_bitmap(id);
        return bm != nullptr ? bm->find_prev_set(hi, lo) : std::nullopt;
    }
    KEYSPACE_ISA_ABI
    [[nodiscard]] static std::optional<std::uint64_t> prev_row(const Space& s, std::uint64_t id, std::uint64_t first) noexcept {
        return id > first ? s.bits().find_prev_set(id, first) : std::nullopt;
    }
};

/** Walks the matching positions of [from, to) ascending, a word at a time. The engine of sequential(), erase()
 *  and the write streams' sweeps.
 *
 *  Two levels. The hot path in next() walks a *run*: whole words of the current stretch that lie in one committed
 *  block of memory, read straight through a pointer, 64 words at a time into a mask of the words holding a match
 *  (branch-free), then one matching word at a time; nothing there depends on the layout. When a run ends, refill_ — the slow path instantiated for the space's rows policy, chosen once at
 *  construction — opens stretches, jumps over empty stretches with the bitmap's SIMD search, handles partial words
 *  and rows, and starts the next run. A run's pointer stays valid while the scanner lives: published memory never
 *  moves, and only an exclusive clear() (no iterator in use) releases it. */
class Scanner {
public:
    Scanner() = default;
    KEYSPACE_ISA_ABI
    Scanner(const Space& s, Filter f, std::uint64_t from, std::uint64_t to) noexcept
        : space_(s), filter_(f), pos_(from), to_(to), keep_(f == Filter::All ? 0 : ~0ull),
          flip_(f == Filter::SetOnly ? 0 : ~0ull),
          refill_(s.table()    ? &Scanner::refill<TableRows>
                  : s.linear() ? &Scanner::refill<LinearRows>
                               : &Scanner::refill<FlatRows>) {}

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
            if (nonzero_ != 0) { // the next word of the group with a match
                const auto i = static_cast<std::uint64_t>(std::countr_zero(nonzero_));
                nonzero_ &= nonzero_ - 1;
                // Acquire, as bitmap.word(): a key yielded here shows what its writer wrote before setting it. Zero
                // only if a writer changed the word since the group was read: the loop moves on.
                mask_ = (group_[i].load(std::memory_order_acquire) & keep_) ^ flip_;
                word_pos_ = group_pos_ + i * 64;
                continue;
            }
            if (run_ != run_end_) {
                next_group();
                continue;
            }
            if (!refill_(*this)) return std::nullopt;
        }
    }
    /// Positions not yet passed (an upper bound on what is left).
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        return (pos_ < to_ ? to_ - pos_ : 0) + static_cast<std::uint64_t>(std::popcount(mask_)) +
               64 * static_cast<std::uint64_t>(std::popcount(nonzero_));
    }
    [[nodiscard]] std::uint64_t position() const noexcept { return pos_; }

private:
    // Reads the next (up to) 64 words of the run into a mask of the words with a match (nonzero_), branch-free, so
    // that next() pays a branch per matching word rather than a mispredicted one per word at low density.
    KEYSPACE_NOINLINE void next_group() noexcept {
        const atomic_word* p = run_;
        const auto n = static_cast<unsigned>(std::min<std::ptrdiff_t>(64, run_end_ - p));
        const std::uint64_t keep = keep_, flip = flip_; // locals: not reloaded after each load
        std::uint64_t nz = 0;
        for (unsigned i = 0; i < n; ++i) // relaxed: only to find the words; next() loads each again with acquire
            nz |= static_cast<std::uint64_t>(((p[i].load(std::memory_order_relaxed) & keep) ^ flip) != 0) << i;
        group_ = p;
        group_pos_ = pos_;
        nonzero_ = nz;
        run_ = p + n;
        pos_ += 64 * static_cast<std::uint64_t>(n); // the positions passed (remaining()), and where refill_ resumes
    }

    // Loads the next word with a match into mask_ (and starts a run after it), advancing pos_; false at the end of
    // [from, to). Rows is the space's layout: nothing here asks for it again.
    template <class Rows>
    KEYSPACE_ISA_ABI KEYSPACE_NOINLINE static bool refill(Scanner& sc) noexcept {
        return sc.load_next_word<Rows>();
    }
    template <class Rows>
    KEYSPACE_ISA_ABI bool load_next_word() noexcept {
        using Bitmap = typename Rows::Bitmap;
        auto& st = stretch<Bitmap>();
        for (;;) {
            if (pos_ >= to_) return false;
            if (!open_) {
                st = Rows::open(space_, pos_, to_);
                open_ = true;
                if constexpr (Rows::rows) {
                    if (filter_ == Filter::SetOnly && st.bm == nullptr) { // an ID without pairs (table layout)
                        skip_row_from<Rows>(pos_ + 1);
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
                    if constexpr (Rows::rows) {
                        if (filter_ == Filter::SetOnly) skip_row_from<Rows>(pos_);
                    }
                    continue;
                }
                x = *found;
                m = word_mask(st, x); // zero again only if a writer changed the word meanwhile: the loop moves on
            }
            const std::uint64_t word = x >> 6;
            word_pos_ = st.pos0 + word * 64 - st.lo; // position of the word's bit 0 (mod 2^64)
            pos_ = st.pos0 + (std::min(st.hi, word * 64 + 64) - st.lo);
            start_run(st, word + 1);
            if (m != 0) {
                mask_ = m;
                return true;
            }
        }
    }

    // The run after a matching word: the stretch's whole words from `first` on that are committed contiguously
    // with it (none when `first` is not committed, or the stretch ends inside its word).
    template <class Bitmap>
    void start_run(const Stretch<Bitmap>& st, std::uint64_t first) noexcept {
        run_ = run_end_ = nullptr;
        const std::uint64_t last = st.hi >> 6; // words below it end at or before hi
        if (st.bm == nullptr || first >= last) return;
        st.bm->storage().for_each_run(first, last, [&](std::uint64_t w0, const atomic_word* p, std::size_t n) {
            if (w0 == first) {
                run_ = p;
                run_end_ = p + n;
            }
            return false; // the first committed run only
        });
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

    // Set-only over rows: continue at the first row starting at or after p whose ID may hold a set key (owns a
    // sub-bitmap, or has a bit set), so that a sparse space costs a bitmap search rather than a visit per ID.
    template <class Rows>
    KEYSPACE_ISA_ABI void skip_row_from(std::uint64_t p) noexcept {
        const std::uint64_t w = space_.width();
        const std::uint64_t row = (p + w - 1) / w; // first row starting at or after p
        open_ = false;
        if (row * w >= to_ || space_.b + row >= space_.e) {
            pos_ = to_;
            return;
        }
        const auto id = Rows::next_row(space_, space_.b + row);
        pos_ = id ? std::min(to_, (*id - space_.b) * w) : to_;
    }

    template <class Bitmap>
    Stretch<Bitmap>& stretch() noexcept {
        if constexpr (std::is_same_v<Bitmap, SubBitmap>) return rows_;
        else return bits_;
    }

    Space space_{};
    Filter filter_ = Filter::All;
    std::uint64_t pos_ = 0, to_ = 0;
    std::uint64_t mask_ = 0, word_pos_ = 0;
    const atomic_word* run_ = nullptr; // the run's next word not yet grouped; run_ == run_end_: none
    const atomic_word* run_end_ = nullptr;
    const atomic_word* group_ = nullptr; // the current group: its first word, that word's position, and the
    std::uint64_t group_pos_ = 0;         // words of it with a match not yet loaded into mask_ (bit i: word i)
    std::uint64_t nonzero_ = 0;
    std::uint64_t keep_ = 0, flip_ = ~0ull; // a word's matches: (word & keep_) ^ flip_ (All: every bit)
    bool (*refill_)(Scanner&) noexcept = &Scanner::refill<LinearRows>;
    bool open_ = false;
    Stretch<AtomicBitmap> bits_{}; // simple and flat layouts
    Stretch<SubBitmap> rows_{};    // table layout
};

/// Highest set position in [lo, hi) of a space laid out as Rows.
template <class Rows>
KEYSPACE_ISA_ABI [[nodiscard]] std::optional<std::uint64_t> last_set_in(const Space& s, std::uint64_t lo,
                                                                        std::uint64_t hi) noexcept {
    if constexpr (!Rows::rows) { // one backward word search bounded by lo
        const auto x = s.bits().find_prev_set(s.base() + hi, s.base() + lo);
        return x ? std::optional<std::uint64_t>(*x - s.base()) : std::nullopt;
    } else { // row by row from the top, visiting only the rows that may hold a set key
        const std::uint64_t w = s.width(), first = s.b + lo / w;
        std::optional<std::uint64_t> id = Rows::prev_row(s, s.b + (hi - 1) / w + 1, first);
        for (; id; id = Rows::prev_row(s, *id, first)) {
            const std::uint64_t row0 = (*id - s.b) * w;
            const std::uint64_t sub_lo = s.sb + (std::max(lo, row0) - row0), sub_hi = s.sb + (std::min(hi, row0 + w) - row0);
            if (const auto sub = Rows::prev_set(s, *id, sub_lo, sub_hi)) return row0 + (*sub - s.sb);
        }
        return std::nullopt;
    }
}

/// Highest set position in [lo, hi), or nullopt. Linear spaces: one backward word search bounded by lo; otherwise
/// row by row from the top (table mode visits only the IDs that own a sub-bitmap).
KEYSPACE_ISA_ABI
[[nodiscard]] inline std::optional<std::uint64_t> last_set(const Space& s, std::uint64_t lo, std::uint64_t hi) noexcept {
    if (lo >= hi) return std::nullopt;
    if (s.table()) return last_set_in<TableRows>(s, lo, hi);
    return s.linear() ? last_set_in<LinearRows>(s, lo, hi) : last_set_in<FlatRows>(s, lo, hi);
}

} // namespace detail
KEYSPACE_END_NAMESPACE
