/** @file keyspace/iterators.hpp
 *  IteratorBuilder and the iterators over a PrefixTracker: sequential, random (a true permutation, or an endless
 *  mixed-ratio stream), write/claim (private or shared progress), erase, and partitions.
 *
 *  Vocabulary. A builder resolves to an iteration *space*: IDs [b, e) and, for hierarchical trackers, sub-IDs
 *  [sb, se). Its keys are numbered by *position* p in [0, n), n = (e - b) * (se - sb): p -> (b + p / W, sb + p % W)
 *  with W = se - sb (simple trackers: W = 1, p -> b + p). When the positions map onto consecutive bits of the
 *  tracker's bitmap (simple trackers, and flat hierarchical ones iterating every sub-ID) the space is *linear* and
 *  every iterator works a 64-bit word at a time; otherwise it works one ID (row) at a time.
 *
 *  Concurrency. Iterators read the bitmap a word at a time: a key's state is the state of its word when the
 *  iterator loaded it. Claims (write) and removals (erase) are atomic per key and never handed out twice. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/sampling/access_distribution.hpp>
#include <keyspace/sampling/permutation.hpp>
#include <keyspace/sampling/rng.hpp>
#include <keyspace/sampling/sampling_config.hpp>

#include <algorithm> // for std::min, std::max
#include <array>     // for std::array

// pdep is one cycle where BMI2 is enabled, except on AMD before Zen 3 (microcoded there).
#if defined(__BMI2__) && !defined(__znver1__) && !defined(__znver2__) && !defined(KEYSPACE_NO_SIMD)
#include <immintrin.h> // for _pdep_u64
#define KEYSPACE_FAST_PDEP 1
#else
#define KEYSPACE_FAST_PDEP 0
#endif
#include <atomic>    // for std::atomic
#include <bit>       // for std::popcount, std::countr_zero
#include <cmath>     // for std::log, std::floor, std::isnan
#include <cstddef>   // for std::size_t, std::ptrdiff_t
#include <cstdint>   // for std::uint64_t
#include <iterator>  // for std::input_iterator_tag, std::default_sentinel_t
#include <limits>    // for std::numeric_limits
#include <optional>  // for std::optional
#include <span>      // for std::span
#include <string>    // for std::string, std::to_string
#include <tuple>     // for std::tie
#include <utility>   // for std::pair, std::exchange
#include <vector>    // for std::vector

KEYSPACE_BEGIN_NAMESPACE

namespace detail {

/// Without max_sub_id, hierarchical sub-IDs are below 2^32 (so any (id, sub_id) range of 2^32 IDs numbers < 2^64).
inline constexpr std::uint64_t max_table_sub_id = 1ull << 32;

enum class Filter : std::uint8_t { All, SetOnly, UnsetOnly };

/// The iterators' door into a tracker (friend of PrefixTracker).
struct TrackerAccess {
    static const AtomicBitmap& bits(const PrefixTracker& t) noexcept { return t.bits_; }
    static bool table_mode(const PrefixTracker& t) noexcept { return t.pairs_ != nullptr; }
    static const SubBitmap* sub_bitmap(const PrefixTracker& t, std::uint64_t id) noexcept {
        return id < max_supported_word ? t.sub_bitmap(id) : nullptr;
    }
    static std::atomic<bool>& erasing(const PrefixTracker& t) noexcept { return t.erasing_; }
    static WriteCursor& cursor(const PrefixTracker& t, std::uint64_t b, std::uint64_t e, std::uint64_t sb,
                               std::uint64_t se) {
        return t.write_cursor(b, e, sb, se);
    }
    static bool claim(PrefixTracker& t, Key k) { return t.is_hierarchical() ? t.claim_pair(k.id, k.sub_id) : t.claim(k.id); }
    static bool add(PrefixTracker& t, Key k) { return t.is_hierarchical() ? t.add_pair(k.id, k.sub_id) : t.add(k.id); }
    static bool remove(PrefixTracker& t, Key k) {
        return t.is_hierarchical() ? t.remove_pair(k.id, k.sub_id) : t.remove(k.id);
    }
    static bool exists(const PrefixTracker& t, Key k) {
        return t.is_hierarchical() ? t.exists_pair(k.id, k.sub_id) : t.exists(k.id);
    }
};

/// The seed of sub-stream `stream` of `seed` (slices, partitions, an iterator's internal generators).
[[nodiscard]] constexpr std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
    return splitmix64_mix(seed + 0x9e3779b97f4a7c15ull * (stream + 1));
}

/// A seed for builders given none: distinct per builder and per process run.
[[nodiscard]] inline std::uint64_t fresh_seed() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    const auto local = reinterpret_cast<std::uintptr_t>(&counter);
    return mix_seed(static_cast<std::uint64_t>(local) ^ 0x5eed, counter.fetch_add(1, std::memory_order_relaxed));
}

/// Index of the r-th set bit of m (r < popcount(m)): one pdep where BMI2 is fast, else r steps.
[[nodiscard]] KEYSPACE_ALWAYS_INLINE unsigned select_bit(std::uint64_t m, unsigned r) noexcept {
#if KEYSPACE_FAST_PDEP
    return static_cast<unsigned>(std::countr_zero(_pdep_u64(1ull << r, m)));
#else
    for (; r > 0; --r) m &= m - 1;
    return static_cast<unsigned>(std::countr_zero(m));
#endif
}

/// Bits [lo, hi) of a 64-bit word relative to its start, lo < hi <= 64.
[[nodiscard]] constexpr std::uint64_t bits_between(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t upper = hi >= 64 ? ~0ull : ((1ull << hi) - 1);
    return upper & (~0ull << lo);
}

/** The resolved iteration space of a builder; see the file comment. */
struct Space {
    PrefixTracker* tracker = nullptr;
    std::uint64_t b = 0, e = 0;   // IDs
    std::uint64_t sb = 0, se = 1; // sub-IDs (simple: [0, 1))
    std::uint64_t stride = 1;     // bitmap bits per ID: 1 simple, max_sub_id flat, 0 table mode
    bool hierarchical = false;

    [[nodiscard]] std::uint64_t width() const noexcept { return se - sb; }
    [[nodiscard]] std::uint64_t size() const noexcept { return (e - b) * width(); } // checked when built
    [[nodiscard]] bool linear() const noexcept { return stride != 0 && sb == 0 && se == stride; }
    /// First bitmap bit of the space when linear.
    [[nodiscard]] std::uint64_t base() const noexcept { return b * stride; }

    [[nodiscard]] Key key_at(std::uint64_t p) const noexcept {
        if (!hierarchical) return Key{b + p, 0};
        const std::uint64_t w = width();
        return Key{b + p / w, sb + p % w};
    }
    [[nodiscard]] const AtomicBitmap& bits() const noexcept { return TrackerAccess::bits(*tracker); }

    /// Matching positions among [lo, lo + count) ∩ [0, size()), count <= 64, as a mask (bit i = position lo + i).
    KEYSPACE_ALWAYS_INLINE std::uint64_t mask_at(std::uint64_t lo, unsigned count, Filter f) const {
        const std::uint64_t n = size(), have = std::min<std::uint64_t>(count, n - lo);
        const std::uint64_t valid = have >= 64 ? ~0ull : ((1ull << have) - 1);
        if (f == Filter::All) return valid;
        std::uint64_t w;
        if (linear()) [[likely]] {
            const std::uint64_t bit = base() + lo, s = bit & 63;
            const AtomicBitmap& bm = bits();
            w = bm.word(bit >> 6) >> s;
            if (s + have > 64) w |= bm.word((bit >> 6) + 1) << (64 - s);
        } else {
            w = exists_mask(lo, valid);
        }
        return (f == Filter::SetOnly ? w : ~w) & valid;
    }
    /// Rows (non-linear spaces): one existence test per position of `valid`.
    KEYSPACE_NOINLINE std::uint64_t exists_mask(std::uint64_t lo, std::uint64_t valid) const {
        std::uint64_t w = 0;
        for (std::uint64_t m = valid; m != 0; m &= m - 1) {
            const auto i = static_cast<unsigned>(std::countr_zero(m));
            if (TrackerAccess::exists(*tracker, key_at(lo + i))) w |= 1ull << i;
        }
        return w;
    }

    void prefetch(std::uint64_t p) const noexcept {
        if (linear()) bits().prefetch(base() + p);
    }
};

/// One ID's stretch of bits, or (linear spaces) the whole space as one stretch: bits [lo, hi) of `bm`
/// (nullptr: an ID with no sub-bitmap, all clear), position of bit x = pos0 + (x - lo).
struct Stretch {
    const void* bm = nullptr;
    bool sub = false; // bm is a SubBitmap (table mode) rather than the tracker's AtomicBitmap
    std::uint64_t lo = 0, hi = 0, pos0 = 0;

    [[nodiscard]] std::uint64_t word(std::uint64_t w) const noexcept {
        if (bm == nullptr) return 0;
        return sub ? static_cast<const SubBitmap*>(bm)->word(w) : static_cast<const AtomicBitmap*>(bm)->word(w);
    }
    [[nodiscard]] std::optional<std::uint64_t> next_set(std::uint64_t from) const noexcept {
        if (bm == nullptr) return std::nullopt;
        return sub ? static_cast<const SubBitmap*>(bm)->find_next_set(from, hi)
                   : static_cast<const AtomicBitmap*>(bm)->find_next_set(from, hi);
    }
    [[nodiscard]] std::optional<std::uint64_t> next_unset(std::uint64_t from) const noexcept {
        if (bm == nullptr) return from < hi ? std::optional<std::uint64_t>(from) : std::nullopt;
        return sub ? static_cast<const SubBitmap*>(bm)->find_next_unset(from, hi)
                   : static_cast<const AtomicBitmap*>(bm)->find_next_unset(from, hi);
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
    void open_stretch() noexcept {
        const std::uint64_t w = space_.width();
        if (space_.linear()) {
            const std::uint64_t base = space_.base();
            stretch_ = Stretch{&space_.bits(), false, base + pos_, base + to_, pos_};
            return;
        }
        const std::uint64_t row = pos_ / w, id = space_.b + row;
        const std::uint64_t row_end = std::min(to_, (row + 1) * w);
        if (space_.stride == 0) { // table mode: the ID's sub-bitmap, bits = sub-IDs
            const SubBitmap* s = TrackerAccess::sub_bitmap(*space_.tracker, id);
            const std::uint64_t sub0 = space_.sb + pos_ % w;
            stretch_ = Stretch{s, true, sub0, sub0 + (row_end - pos_), pos_};
        } else {
            const std::uint64_t bit0 = id * space_.stride + space_.sb + pos_ % w;
            stretch_ = Stretch{&space_.bits(), false, bit0, bit0 + (row_end - pos_), pos_};
        }
    }

    // Loads the next word with a match into mask_, advancing pos_; false at the end of [from, to).
    KEYSPACE_NOINLINE bool load_next_word() noexcept {
        for (;;) {
            if (pos_ >= to_) return false;
            if (!open_) {
                open_stretch();
                open_ = true;
                if (filter_ == Filter::SetOnly && space_.stride == 0 && stretch_.bm == nullptr) { // empty row
                    skip_row();
                    continue;
                }
            }
            // pos_ maps to bit x of the stretch.
            std::uint64_t x = stretch_.lo + (pos_ - stretch_.pos0);
            if (x >= stretch_.hi) {
                open_ = false;
                continue;
            }
            std::uint64_t m = word_mask(x);
            // A few words inline first: at low density the next match is usually near.
            for (int k = 0; k < 4 && m == 0 && filter_ != Filter::All; ++k) {
                const std::uint64_t next = (x | 63) + 1;
                if (next >= stretch_.hi) break;
                x = next;
                m = word_mask(x);
            }
            if (m == 0) {
                // The rest of this word has no match: jump over the run with the bitmap's SIMD search.
                const std::uint64_t after = std::min(stretch_.hi, (x | 63) + 1);
                const auto found = after >= stretch_.hi ? std::nullopt
                                   : filter_ == Filter::SetOnly ? stretch_.next_set(after)
                                                                : stretch_.next_unset(after);
                if (!found) {
                    pos_ = stretch_.pos0 + (stretch_.hi - stretch_.lo);
                    open_ = false;
                    if (filter_ == Filter::SetOnly && !space_.linear()) skip_row_from(pos_);
                    continue;
                }
                x = *found;
                m = word_mask(x); // zero again only if a writer changed the word meanwhile: the loop moves on
            }
            word_ = x >> 6;
            word_pos_ = stretch_.pos0 + word_ * 64 - stretch_.lo; // position of the word's bit 0 (mod 2^64)
            pos_ = stretch_.pos0 + (std::min(stretch_.hi, word_ * 64 + 64) - stretch_.lo);
            if (m != 0) {
                mask_ = m;
                return true;
            }
        }
    }

    // The matching bits of x's word at and after x, within the stretch.
    [[nodiscard]] std::uint64_t word_mask(std::uint64_t x) const noexcept {
        const std::uint64_t w = x >> 6;
        std::uint64_t m = bits_between(x & 63, std::min(stretch_.hi, w * 64 + 64) - w * 64);
        if (filter_ == Filter::SetOnly) m &= stretch_.word(w);
        else if (filter_ == Filter::UnsetOnly) m &= ~stretch_.word(w);
        return m;
    }

    // Set-only over rows: continue at the next ID that owns a sub-bitmap (table mode) or has any bit set (flat
    // pairs), so that a sparse space costs a bitmap search rather than a visit per ID.
    void skip_row() noexcept { skip_row_from(pos_ + 1); }
    void skip_row_from(std::uint64_t p) noexcept {
        const std::uint64_t w = space_.width();
        const std::uint64_t row = (p + w - 1) / w; // first row starting at or after p
        if (row * w >= to_ || space_.b + row >= space_.e) {
            pos_ = to_;
            return;
        }
        const std::uint64_t k = space_.stride; // flat: e * k <= 2^63 (the space is clamped to max_supported_id / k)
        std::optional<std::uint64_t> id;
        if (k == 0) {
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
    Stretch stretch_{};
    bool open_ = false;
    std::uint64_t word_ = 0, mask_ = 0, word_pos_ = 0;
};

/// Highest set position in [lo, hi), or nullopt. Linear spaces: one backward word search bounded by lo; otherwise
/// row by row from the top (table mode visits only the IDs that own a sub-bitmap).
[[nodiscard]] inline std::optional<std::uint64_t> last_set(const Space& s, std::uint64_t lo, std::uint64_t hi) noexcept {
    if (lo >= hi) return std::nullopt;
    if (s.linear()) {
        const auto x = s.bits().find_prev_set(s.base() + hi, s.base() + lo);
        return x ? std::optional<std::uint64_t>(*x - s.base()) : std::nullopt;
    }
    const std::uint64_t w = s.width(), first_row = lo / w;
    std::uint64_t row = (hi - 1) / w;
    if (s.stride == 0) { // start at the highest ID owning a sub-bitmap
        const auto id = s.bits().find_prev_set(s.b + row + 1, s.b + first_row);
        if (!id) return std::nullopt;
        row = *id - s.b;
    }
    for (;;) {
        const std::uint64_t id = s.b + row, row0 = row * w;
        const std::uint64_t sub_lo = s.sb + (std::max(lo, row0) - row0), sub_hi = s.sb + (std::min(hi, row0 + w) - row0);
        std::optional<std::uint64_t> sub;
        if (s.stride == 0) {
            if (const SubBitmap* bm = TrackerAccess::sub_bitmap(*s.tracker, id)) sub = bm->find_prev_set(sub_hi, sub_lo);
        } else if (const auto x = s.bits().find_prev_set(id * s.stride + sub_hi, id * s.stride + sub_lo)) {
            sub = *x - id * s.stride;
        }
        if (sub) return row0 + (*sub - s.sb);
        if (row == first_row) return std::nullopt;
        if (s.stride == 0) {
            const auto lower = s.bits().find_prev_set(id, s.b + first_row);
            if (!lower) return std::nullopt;
            row = *lower - s.b;
        } else {
            --row;
        }
    }
}

/** Positions of a space drawn from an AccessDistribution: the engine of random() and of the write streams when a
 *  distribution is given. Rank r is position r (a scrambled Zipf's sampler permutes it first); for the recency
 *  kinds (latest, latest_zipfian) rank r is position `newest - r`, newest being the highest set position of the
 *  space (the top of the space while none is set), and the sampler is kept at newest + 1 ranks (set_n, O(1)).
 *
 *  Following newest: every draw checks that newest is still set (else searches down for the new one) and follows
 *  keys added just above it (the next 64 positions, repeatedly); a full search above it runs every 4096 draws,
 *  the interval doubling up to 2^20 while it finds nothing, so keys set far above newest are noticed within that
 *  many draws. */
class DrawStream {
public:
    DrawStream(const Space& s, const AccessDistribution& d, std::uint64_t seed)
        : space_(s), recency_(d.is_recency()), rng_(mix_seed(seed, 5)) {
        if (recency_) {
            find_newest();
            sampler_ = d.make_sampler(newest_ + 1, mix_seed(seed, 4));
        } else {
            sampler_ = d.make_sampler(s.size(), mix_seed(seed, 4));
        }
    }

    /// One position, whatever its state.
    std::uint64_t draw() {
        if (!recency_) return sampler_(rng_);
        follow_newest();
        return newest_ - sampler_(rng_);
    }
    /// One position matching f: drawn again on a miss; after 64 consecutive misses, the first match after the last
    /// drawn position (wrapping to the start). nullopt when no position matches.
    std::optional<std::uint64_t> draw(Filter f) {
        std::uint64_t p = draw();
        if (f == Filter::All) return p;
        const bool want = f == Filter::SetOnly;
        for (int miss = 0; miss < 64; ++miss, p = draw())
            if (TrackerAccess::exists(*space_.tracker, space_.key_at(p)) == want) return p; // one bit test
        Scanner after(space_, f, p + 1, space_.size());
        if (auto q = after.next()) return q;
        Scanner before(space_, f, 0, p + 1);
        return before.next();
    }

private:
    static constexpr std::uint64_t first_interval = 4096, max_interval = 1ull << 20;

    void find_newest() {
        const auto top = last_set(space_, 0, space_.size());
        any_ = top.has_value();
        newest_ = top.value_or(space_.size() - 1);
    }
    void follow_newest() {
        const std::uint64_t before = newest_, n = space_.size();
        if (any_ && space_.mask_at(newest_, 1, Filter::SetOnly) == 0) { // removed: search down
            const auto lower = last_set(space_, 0, newest_);
            any_ = lower.has_value();
            newest_ = lower.value_or(n - 1);
        }
        if (any_) { // keys added just above
            while (newest_ + 1 < n) {
                const std::uint64_t m = space_.mask_at(newest_ + 1, 64, Filter::SetOnly);
                if (m == 0) break;
                newest_ += 64 - static_cast<std::uint64_t>(std::countl_zero(m));
            }
        }
        if (--until_refresh_ == 0) {
            const auto top = last_set(space_, any_ ? newest_ + 1 : 0, n);
            if (top) {
                any_ = true, newest_ = *top;
                interval_ = first_interval;
            } else {
                interval_ = std::min(interval_ * 2, max_interval);
            }
            until_refresh_ = interval_;
        }
        if (newest_ != before) sampler_.set_n(newest_ + 1);
    }

    Space space_;
    bool recency_;
    bool any_ = false;
    Rng rng_;
    Sampler sampler_;
    std::uint64_t newest_ = 0;
    std::uint64_t interval_ = first_interval, until_refresh_ = first_interval;
};

/** An input range over a pull iterator: `for (auto x : it)` calls Derived::next(), which returns
 *  std::optional<Item>, until it is empty. Shared by the tracker iterators (Item = Key) and the group iterators. */
template <class Derived, class Item>
class InputRange {
public:
    class iterator {
    public:
        using value_type = Item;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;
        iterator() = default;
        explicit iterator(Derived* it) : it_(it), cur_(it->next()) {}
        const Item& operator*() const noexcept { return *cur_; }
        const Item* operator->() const noexcept { return &*cur_; }
        iterator& operator++() {
            cur_ = it_->next();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& i, std::default_sentinel_t) noexcept { return !i.cur_.has_value(); }

    private:
        Derived* it_ = nullptr;
        std::optional<Item> cur_;
    };
    iterator begin() { return iterator(static_cast<Derived*>(this)); }
    std::default_sentinel_t end() const noexcept { return {}; }
};

/** What every tracker iterator has on top of next(): next_id, next_batch, and an input range of Key. */
template <class Derived>
class IteratorBase : public InputRange<Derived, Key> {
public:
    /// The next key's ID (its sub-ID dropped), or nullopt.
    std::optional<std::uint64_t> next_id() {
        auto k = self().next();
        return k ? std::optional<std::uint64_t>(k->id) : std::nullopt;
    }
    /// Fills up to out.size() keys; returns how many.
    std::size_t next_batch(std::span<Key> out) {
        std::size_t n = 0;
        for (; n < out.size(); ++n) {
            auto k = self().next();
            if (!k) break;
            out[n] = *k;
        }
        return n;
    }

private:
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

/// Geometric skip lengths for sample(p): how many matches to pass before the next kept one.
class Thinning {
public:
    Thinning() = default;
    Thinning(std::optional<double> p, std::uint64_t seed) : rng_(seed) {
        if (p && *p < 1.0) {
            active_ = true;
            never_ = *p <= 0.0;
            if (!never_) log_q_ = std::log1p(-*p);
        }
    }
    [[nodiscard]] bool never() const noexcept { return never_; }
    KEYSPACE_ALWAYS_INLINE std::uint64_t draw() noexcept {
        if (!active_) [[likely]]
            return 0;
        return draw_skip();
    }

private:
    KEYSPACE_NOINLINE std::uint64_t draw_skip() noexcept {
        const double u = 1.0 - rng_.uniform01(); // (0, 1]
        const double k = std::floor(std::log(u) / log_q_);
        return k >= 9.2e18 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(k);
    }

    Rng rng_{0};
    bool active_ = false, never_ = false;
    double log_q_ = 0;
};

} // namespace detail

/** Sequential iterator: matching keys ascending (hierarchical: by id, then sub_id). Move-only. */
class SequentialIter : public detail::IteratorBase<SequentialIter> {
public:
    SequentialIter(SequentialIter&&) noexcept = default;
    SequentialIter& operator=(SequentialIter&&) noexcept = default;
    SequentialIter(const SequentialIter&) = delete;
    SequentialIter& operator=(const SequentialIter&) = delete;

    KEYSPACE_ALWAYS_INLINE std::optional<Key> next() noexcept {
        if (left_ == 0 || done_) [[unlikely]]
            return finish();
        for (;;) {
            auto p = scanner_.next(thin_.draw());
            if (p) {
                --left_;
                return space_.key_at(*p);
            }
            if (!next_segment()) return finish();
        }
    }
    /// Restarts at the range start after the end; when a whole pass finds nothing, next() returns nullopt
    /// (it never spins).
    SequentialIter wrap_around() && {
        wrap_ = true;
        return std::move(*this);
    }
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        if (done_) return 0;
        if (wrap_) return left_;
        std::uint64_t r = scanner_.remaining();
        if (segment_ == 0 && split_ != 0) r += split_;
        return std::min(r, left_);
    }
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }

private:
    friend class IteratorBuilder;
    // Walks [start, n) then [0, start) (start = 0 unless an overlapping partition starts mid-range).
    SequentialIter(detail::Space s, detail::Filter f, std::uint64_t start, std::uint64_t limit,
                   std::optional<double> sample, std::uint64_t seed)
        : space_(s), filter_(f), split_(start), left_(limit), thin_(sample, seed),
          scanner_(s, f, start, s.size()) {
        done_ = thin_.never();
    }
    KEYSPACE_NOINLINE bool next_segment() noexcept {
        if (segment_ == 0 && split_ != 0) {
            segment_ = 1;
            scanner_ = detail::Scanner(space_, filter_, 0, split_);
            return true;
        }
        if (!wrap_ || left_ == left_at_pass_) return false; // nothing yielded in a whole pass: stop
        left_at_pass_ = left_;
        segment_ = 0;
        scanner_ = detail::Scanner(space_, filter_, split_, space_.size());
        return true;
    }
    std::optional<Key> finish() noexcept {
        done_ = true;
        return std::nullopt;
    }

    detail::Space space_;
    detail::Filter filter_;
    std::uint64_t split_;
    std::uint64_t left_;
    detail::Thinning thin_;
    detail::Scanner scanner_;
    int segment_ = 0;
    std::uint64_t left_at_pass_ = left_; // left_ when the current pass began (wrap_around)
    bool wrap_ = false, done_ = false;
};

/** Random iterator. Without a distribution or mixed_ratio: every matching key exactly once, in a seeded
 *  pseudo-random order. The space is cut into blocks of 8 to 64 positions (sized from a sampled density so a block
 *  holds about 16 matches); blocks are visited in the order of a keyed Feistel permutation, prefetched ahead, with
 *  up to 128 blocks open at once; each output is a random match of a random open block other than the previous
 *  output's. O(1) memory (about 2 KiB); a block without a match costs one word load. With mixed_ratio(r): an
 *  endless stream with
 *  replacement; each draw is a set key with probability r, an unset key otherwise (see
 *  IteratorBuilder::mixed_ratio). With a distribution (IteratorBuilder::distribution): an endless stream of
 *  draws with replacement from it, honouring the filter (see detail::DrawStream); with both, the class is chosen
 *  first and the key drawn from the distribution inside it. Move-only. */
class RandomIter : public detail::IteratorBase<RandomIter> {
public:
    RandomIter(RandomIter&&) noexcept = default;
    RandomIter& operator=(RandomIter&&) noexcept = default;
    RandomIter(const RandomIter&) = delete;
    RandomIter& operator=(const RandomIter&) = delete;

    std::optional<Key> next() {
        if (left_ == 0 || done_) return finish();
        if (mixed_) return draw_mixed();
        if (stream_) return draw_stream();
        for (;;) {
            auto p = next_position();
            if (!p) return finish();
            if (skip_ > 0) {
                --skip_;
                continue;
            }
            skip_ = thin_.draw();
            --left_;
            return space_.key_at(*p);
        }
    }
    /// Permutation mode: after the last key, starts a new permutation (the next seed); when a whole cycle finds
    /// nothing, next() returns nullopt. Streams are endless already.
    RandomIter wrap_around() && {
        wrap_ = true;
        return std::move(*this);
    }
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        if (done_) return 0;
        if (stream_ || wrap_) return left_; // streams (mixed_ratio included) are endless
        std::uint64_t r = (blocks_ - std::min(blocks_, taken_)) * block_bits_;
        for (std::size_t i = 0; i < open_count_; ++i) r += static_cast<std::uint64_t>(std::popcount(open_[i].mask));
        return std::min(r, left_);
    }
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }

private:
    friend class IteratorBuilder;
    static constexpr std::size_t window = 128, lookahead = 8;
    struct Open {
        std::uint64_t block, mask;
    };

    RandomIter(detail::Space s, detail::Filter f, std::uint64_t limit, std::optional<double> sample,
               std::optional<double> mixed, std::uint64_t seed, const std::optional<AccessDistribution>& dist = {})
        : space_(s), filter_(f), left_(limit), seed_(seed), rng_(detail::mix_seed(seed, 1)),
          thin_(sample, detail::mix_seed(seed, 2)), mixed_(mixed.has_value()), ratio_(mixed.value_or(0)),
          block_bits_(mixed_ || dist ? 64 : choose_block_bits()), blocks_((s.size() + block_bits_ - 1) / block_bits_),
          perm_(std::max<std::uint64_t>(blocks_, 1), seed) {
        done_ = thin_.never() || s.size() == 0;
        if (done_) return;
        if (dist || mixed_) stream_.emplace(s, dist.value_or(AccessDistribution::uniform()), seed);
        if (!mixed_) skip_ = thin_.draw();
        if (!mixed_ && !stream_) start_cycle();
    }

    // A block is one random memory access (the cost that dominates), so blocks are sized to hold ~16 matches;
    // smaller blocks would turn the window over faster but pay a cache miss per few keys (at 50% density, 8-bit
    // blocks cost 23 ns per key, 32-bit ones 9-12). The density is sampled from 64 words: O(1).
    [[nodiscard]] unsigned choose_block_bits() {
        const std::uint64_t n = space_.size();
        if (n == 0) return 64;
        if (filter_ == detail::Filter::All) return 8;
        std::uint64_t hits = 0, seen = 0;
        for (int i = 0; i < 64; ++i) {
            const std::uint64_t lo = rng_.below((n + 63) / 64) * 64;
            const std::uint64_t m = space_.mask_at(lo, 64, filter_);
            hits += static_cast<std::uint64_t>(std::popcount(m));
            seen += std::min<std::uint64_t>(64, n - lo);
        }
        // ~16 matches per block: 16 bits at full density, 32 bits from 50%, 64 bits at 25% and below.
        const std::uint64_t want = hits == 0 ? 64 : (16 * seen) / hits;
        return want <= 8 ? 8 : want <= 16 ? 16 : want <= 32 ? 32 : 64;
    }

    void start_cycle() {
        taken_ = 0;
        open_count_ = 0;
        last_ = window;
        yielded_in_cycle_ = false;
        for (std::uint64_t i = 0; i < std::min<std::uint64_t>(lookahead, blocks_); ++i) {
            ahead_[i] = perm_.at(i);
            space_.prefetch(ahead_[i] * block_bits_);
        }
    }

    // Opens the next block with a match into slot i; false when the permutation is used up. The permutation is
    // evaluated `lookahead` blocks ahead of use, and each block is prefetched when it is evaluated.
    bool refill(std::size_t i) {
        while (taken_ < blocks_) {
            const std::uint64_t j = ahead_[taken_ % lookahead];
            if (taken_ + lookahead < blocks_) {
                const std::uint64_t later = perm_.at(taken_ + lookahead);
                ahead_[taken_ % lookahead] = later;
                space_.prefetch(later * block_bits_);
            }
            ++taken_;
            const std::uint64_t m = space_.mask_at(j * block_bits_, block_bits_, filter_);
            if (m != 0) {
                open_[i] = Open{j, m};
                return true;
            }
        }
        return false;
    }

    std::optional<std::uint64_t> next_position() {
        for (;;) {
            while (open_count_ < window && refill(open_count_)) ++open_count_;
            if (open_count_ == 0) {
                if (!wrap_ || !yielded_in_cycle_) return std::nullopt;
                seed_ = detail::mix_seed(seed_, 3);
                perm_ = Permutation(blocks_, seed_);
                start_cycle();
                continue;
            }
            // A different open block than the previous output's, so consecutive outputs are not neighbours.
            // One 64-bit draw picks both the slot (high half) and the bit (low half), each by a 32-bit
            // multiply-shift: a bias below 2^-26 for these small ranges, which only shapes the order.
            const std::uint64_t r = rng_();
            const auto pick = [](std::uint64_t half, std::uint64_t n) { return static_cast<std::size_t>((half * n) >> 32); };
            // Branch-free: with the previous output's slot still open, pick among the others and step over it.
            const bool avoid = last_ < open_count_ && open_count_ > 1;
            std::size_t s = pick(r >> 32, open_count_ - (avoid ? 1 : 0));
            s += (avoid && s >= last_) ? 1 : 0;
            Open& o = open_[s];
            const unsigned bit = detail::select_bit(
                o.mask, static_cast<unsigned>(pick(r & 0xffffffffull, static_cast<std::uint64_t>(std::popcount(o.mask)))));
            o.mask &= ~(1ull << bit);
            const std::uint64_t p = o.block * block_bits_ + bit;
            last_ = s;
            if (o.mask == 0 && !refill(s)) { // the slot is spent: move the last slot into it
                open_[s] = open_[--open_count_];
                last_ = window; // the previous output's block is gone
            }
            yielded_in_cycle_ = true;
            return p;
        }
    }

    // Mixed stream: choose the class first, then a position of that class from the draw stream (uniform unless a
    // distribution was given; redrawn on a miss, with its 64-miss fallback). An empty class yields the other class;
    // an empty space ends the stream.
    std::optional<Key> draw_mixed() {
        const bool want_set = rng_.uniform01() < ratio_;
        for (const bool set : {want_set, !want_set})
            if (auto p = stream_->draw(set ? detail::Filter::SetOnly : detail::Filter::UnsetOnly)) return emit(*p);
        return finish(); // unreachable for n > 0: every position is set or unset
    }
    // Distribution stream: draws matching the filter; sample(p) keeps each with probability p.
    std::optional<Key> draw_stream() {
        for (;;) {
            const auto p = stream_->draw(filter_);
            if (!p) return finish(); // nothing in the space matches the filter
            if (skip_ > 0) {
                --skip_;
                continue;
            }
            skip_ = thin_.draw();
            return emit(*p);
        }
    }
    std::optional<Key> emit(std::uint64_t p) {
        if (left_ != std::numeric_limits<std::uint64_t>::max()) --left_; // no limit: endless
        return space_.key_at(p);
    }
    std::optional<Key> finish() noexcept {
        done_ = true;
        return std::nullopt;
    }

    detail::Space space_;
    detail::Filter filter_;
    std::uint64_t left_;
    std::uint64_t seed_;
    Rng rng_;
    detail::Thinning thin_;
    bool mixed_;
    double ratio_;
    unsigned block_bits_;
    std::uint64_t blocks_;
    Permutation perm_;
    std::uint64_t taken_ = 0, skip_ = 0;
    std::optional<detail::DrawStream> stream_;
    std::array<Open, window> open_{};
    std::array<std::uint64_t, lookahead> ahead_{};
    std::size_t open_count_ = 0, last_ = window;
    bool wrap_ = false, yielded_in_cycle_ = false, done_ = false;
};

/** Write (claim) iterator: each next() atomically claims a key that was absent (unset -> set) and returns it;
 *  no key is ever handed out twice, across threads and streams. Nothing is set before it is handed out.
 *  - private (write()): this stream's own progress through the range, ascending;
 *  - shared (continue_write()): progress shared by every continue_write() stream of the tracker over the same
 *    range, taken 4096 positions (eight cache lines of words) at a time: one atomic on the shared progress per 4096 IDs,
 *    and no two streams claiming in one cache line;
 *  - seeded (write() after seed(s)): claims in the random iterator's order over the absent keys;
 *  - with a distribution (private or shared alike): each claim draws a position from it, drawn again while the
 *    key is present, falling back after 64 misses to the first absent key after the last draw (detail::DrawStream).
 *  When the progress reaches the end, the stream sweeps the range for keys freed meanwhile; it ends (nullopt)
 *  when the sweep finds none. With wrap_around() it then overwrites: each cycle hands out every key of the range
 *  once (once across the streams sharing progress), setting any absent one; with a distribution the overwrite
 *  stream is endless draws from it, each key set if absent. Move-only. */
class WriteIter : public detail::IteratorBase<WriteIter> {
public:
    WriteIter(WriteIter&&) noexcept = default;
    WriteIter& operator=(WriteIter&&) noexcept = default;
    WriteIter(const WriteIter&) = delete;
    WriteIter& operator=(const WriteIter&) = delete;

    std::optional<Key> next() {
        if (left_ == 0 || done_) return finish();
        for (;;) {
            std::optional<std::uint64_t> p;
            switch (phase_) {
            case Phase::Blocks: p = from_blocks(); break;
            case Phase::Random: p = random_candidate(); break;
            case Phase::Draw: p = stream_->draw(detail::Filter::UnsetOnly); break;
            case Phase::Sweep: p = sweeper_.next(); break;
            case Phase::Overwrite: return overwrite_next();
            }
            if (!p) {
                if (!advance_phase()) return finish();
                continue;
            }
            const Key k = space_.key_at(*p);
            if (detail::TrackerAccess::claim(*space_.tracker, k)) {
                --left_;
                return k;
            }
        }
    }
    WriteIter wrap_around() && {
        wrap_ = true;
        return std::move(*this);
    }
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        if (done_) return 0;
        if (wrap_) return left_;
        return std::min(left_, space_.size());
    }
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }

private:
    friend class IteratorBuilder;
    enum class Phase : std::uint8_t { Blocks, Random, Draw, Sweep, Overwrite };

    WriteIter(detail::Space s, std::uint64_t limit, detail::WriteCursor* shared, std::optional<RandomIter> order,
              std::optional<detail::DrawStream> stream = std::nullopt)
        : space_(s), left_(limit), shared_(shared), order_(std::move(order)), stream_(std::move(stream)) {
        phase_ = stream_ ? Phase::Draw : order_ ? Phase::Random : Phase::Blocks;
        done_ = s.size() == 0;
    }

    // Claim candidates: the absent positions of the current 64-position block (as loaded), block after block.
    std::optional<std::uint64_t> from_blocks() {
        for (;;) {
            if (mask_ != 0) {
                const auto bit = static_cast<std::uint64_t>(std::countr_zero(mask_));
                mask_ &= mask_ - 1;
                return block_ * 64 + bit;
            }
            const std::uint64_t n = space_.size(), blocks = (n + 63) / 64;
            std::uint64_t j;
            if (shared_ != nullptr) {
                // Shared progress hands out runs of run_blocks blocks (4096 positions: eight cache lines of words),
                // so two streams rarely write neighbouring lines; the rest of a run needs no atomic at all. (With
                // one-line runs, two threads alternated adjacent lines, which the L2 adjacent-line prefetcher pairs:
                // 2 threads claimed at 0.84x one thread; with eight-line runs, 1.56x.)
                if (run_left_ == 0) {
                    // Relaxed: the counter only partitions work; the claims themselves are the atomic RMWs.
                    constexpr std::uint64_t run_blocks = 64;
                    const std::uint64_t runs = (blocks + run_blocks - 1) / run_blocks;
                    if (shared_->next.load(std::memory_order_relaxed) >= runs) return std::nullopt;
                    const std::uint64_t run = shared_->next.fetch_add(1, std::memory_order_relaxed);
                    if (run >= runs) return std::nullopt;
                    run_next_ = run * run_blocks;
                    run_left_ = std::min<std::uint64_t>(run_blocks, blocks - run_next_);
                }
                j = run_next_++;
                --run_left_;
            } else {
                if (private_next_ >= blocks) return std::nullopt;
                j = private_next_++;
            }
            block_ = j;
            mask_ = space_.mask_at(j * 64, 64, detail::Filter::UnsetOnly);
        }
    }
    std::optional<std::uint64_t> random_candidate() {
        // The seeded order walks the absent keys as a permutation; a key claimed by someone else since is skipped.
        auto k = order_->next();
        if (!k) return std::nullopt;
        const std::uint64_t w = space_.width();
        return (k->id - space_.b) * w + (k->sub_id - space_.sb);
    }
    bool advance_phase() {
        if (phase_ == Phase::Blocks || phase_ == Phase::Random || phase_ == Phase::Draw) {
            phase_ = Phase::Sweep;
            sweeper_ = detail::Scanner(space_, detail::Filter::UnsetOnly, 0, space_.size());
            return true;
        }
        if (phase_ == Phase::Sweep && wrap_) {
            phase_ = Phase::Overwrite;
            return true;
        }
        return false;
    }
    // Overwrite cycles: every position once per cycle; the shared counter keeps streams disjoint within a cycle.
    std::optional<Key> overwrite_next() {
        const Key k = space_.key_at(stream_ ? stream_->draw() : next_overwrite_position());
        detail::TrackerAccess::add(*space_.tracker, k); // the existence bit stays set (idempotent)
        if (left_ != std::numeric_limits<std::uint64_t>::max()) --left_; // no limit: endless
        return k;
    }
    std::uint64_t next_overwrite_position() {
        const std::uint64_t n = space_.size(), blocks = (n + 63) / 64;
        if (ow_left_ == 0) {
            // Block j of the endless sequence is block j % blocks of cycle j / blocks.
            const std::uint64_t j = shared_ != nullptr ? shared_->overwrite.fetch_add(1, std::memory_order_relaxed)
                                                       : ow_private_++;
            ow_pos_ = (j % blocks) * 64;
            ow_left_ = std::min<std::uint64_t>(64, n - ow_pos_);
        }
        --ow_left_;
        return ow_pos_++;
    }
    std::optional<Key> finish() noexcept {
        done_ = true;
        return std::nullopt;
    }

    detail::Space space_;
    std::uint64_t left_;
    detail::WriteCursor* shared_;
    std::optional<RandomIter> order_;
    std::optional<detail::DrawStream> stream_;
    Phase phase_ = Phase::Blocks;
    std::uint64_t private_next_ = 0, block_ = 0, mask_ = 0, run_next_ = 0, run_left_ = 0;
    detail::Scanner sweeper_;
    std::uint64_t ow_private_ = 0, ow_pos_ = 0, ow_left_ = 0;
    bool wrap_ = false, done_ = false;
};

/** Erase iterator: removes present keys atomically, ascending, and yields each key it removed. At most one lives
 *  per tracker at a time (released on destruction). Move-only. */
class EraseIter : public detail::IteratorBase<EraseIter> {
public:
    EraseIter(EraseIter&& o) noexcept
        : space_(o.space_), left_(o.left_), scanner_(o.scanner_), owner_(std::exchange(o.owner_, nullptr)),
          done_(o.done_) {}
    EraseIter& operator=(EraseIter&& o) noexcept {
        if (this != &o) {
            release();
            space_ = o.space_, left_ = o.left_, scanner_ = o.scanner_, done_ = o.done_;
            owner_ = std::exchange(o.owner_, nullptr);
        }
        return *this;
    }
    EraseIter(const EraseIter&) = delete;
    EraseIter& operator=(const EraseIter&) = delete;
    ~EraseIter() { release(); }

    std::optional<Key> next() {
        if (left_ == 0 || done_) return finish();
        while (auto p = scanner_.next()) {
            const Key k = space_.key_at(*p);
            if (detail::TrackerAccess::remove(*space_.tracker, k)) {
                --left_;
                return k;
            }
        }
        return finish();
    }
    [[nodiscard]] std::uint64_t remaining() const noexcept { return done_ ? 0 : std::min(left_, scanner_.remaining()); }
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }

private:
    friend class IteratorBuilder;
    EraseIter(detail::Space s, std::uint64_t limit, std::atomic<bool>* owner)
        : space_(s), left_(limit), scanner_(s, detail::Filter::SetOnly, 0, s.size()), owner_(owner) {}
    void release() noexcept {
        // Release pairs with the acquire CAS in IteratorBuilder::erase(): the next eraser sees our removals.
        if (owner_ != nullptr) owner_->store(false, std::memory_order_release);
        owner_ = nullptr;
    }
    std::optional<Key> finish() noexcept {
        done_ = true;
        return std::nullopt;
    }

    detail::Space space_;
    std::uint64_t left_;
    detail::Scanner scanner_;
    std::atomic<bool>* owner_;
    bool done_ = false;
};

/** The composable builder returned by PrefixTracker::iter(). Every modifier returns a new builder (value
 *  semantics), so `t.iter().set_only().limit(10).sequential()` reads left to right. Invalid arguments throw
 *  std::invalid_argument from the modifier (or, for combinations, from the terminal) with a message naming them.
 *
 *  Default range: [0, max_id) for a bounded tracker; for an unbounded one, [0, capacity()) at build time for the
 *  reading terminals and [0, 2^63) for write() / continue_write(). Hierarchical sub-ID range: [0, max_sub_id), or
 *  [0, 2^32) without max_sub_id. The keys of a space must number at most 2^63 (else invalid_argument).
 *  Without seed(), each builder draws a fresh seed (distinct sequences); with it, same seed => same sequence. */
class IteratorBuilder {
public:
    explicit IteratorBuilder(const PrefixTracker& t) noexcept : tracker_(const_cast<PrefixTracker*>(&t)) {}

    [[nodiscard]] IteratorBuilder range(std::uint64_t b, std::uint64_t e) const {
        if (b > e) detail::throw_invalid_range("IteratorBuilder::range", b, e);
        auto c = *this;
        c.min_ = b, c.max_ = e;
        return c;
    }
    [[nodiscard]] IteratorBuilder min(std::uint64_t b) const {
        auto c = *this;
        c.min_ = b;
        return c;
    }
    [[nodiscard]] IteratorBuilder max(std::uint64_t e) const {
        auto c = *this;
        c.max_ = e;
        return c;
    }
    [[nodiscard]] IteratorBuilder sub_range(std::uint64_t b, std::uint64_t e) const {
        if (b > e) detail::throw_invalid_range("IteratorBuilder::sub_range", b, e);
        auto c = *this;
        c.sub_ = std::pair{b, e};
        return c;
    }
    /// Fractions [lo, hi) of the default range; 0 <= lo <= hi <= 1.
    [[nodiscard]] IteratorBuilder range_percent(double lo, double hi) const {
        if (!(lo >= 0.0 && hi <= 1.0 && lo <= hi))
            detail::throw_invalid_argument(("IteratorBuilder::range_percent: need 0 <= lo <= hi <= 1, got lo = " +
                                            std::to_string(lo) + ", hi = " + std::to_string(hi)).c_str());
        auto c = *this;
        c.pct_ = std::pair{lo, hi};
        return c;
    }
    /// The i-th of n disjoint, covering, contiguous slices of the range.
    [[nodiscard]] IteratorBuilder slice(std::uint64_t i, std::uint64_t n) const {
        check_slice("IteratorBuilder::slice", i, n);
        auto c = *this;
        c.slice_ = std::pair{i, n};
        return c;
    }
    [[nodiscard]] IteratorBuilder set_only() const { return with_filter(detail::Filter::SetOnly); }
    [[nodiscard]] IteratorBuilder unset_only() const { return with_filter(detail::Filter::UnsetOnly); }
    /// At most n keys, then stop at once.
    [[nodiscard]] IteratorBuilder limit(std::uint64_t n) const {
        auto c = *this;
        c.limit_ = n;
        return c;
    }
    /// Keeps each key with probability p, by geometric skipping.
    [[nodiscard]] IteratorBuilder sample(double p) const {
        check_probability("IteratorBuilder::sample", "p", p);
        auto c = *this;
        c.sample_ = p;
        return c;
    }
    /// With random() only: an endless stream with replacement; each draw is a set key with probability r, an unset
    /// key otherwise, whatever the density (class first, then a uniform draw inside it by rejection, falling back
    /// after 64 misses to the first key of the class after the last draw). If the chosen class is empty the draw
    /// comes from the other class. Combined with set_only()/unset_only() or another terminal: invalid_argument.
    [[nodiscard]] IteratorBuilder mixed_ratio(double r) const {
        check_probability("IteratorBuilder::mixed_ratio", "r", r);
        auto c = *this;
        c.mixed_ = r;
        return c;
    }
    [[nodiscard]] IteratorBuilder seed(std::uint64_t s) const {
        auto c = *this;
        c.seed_ = s;
        return c;
    }
    /// The access pattern of random() (an endless stream of draws with replacement) and of the write streams (each
    /// claim draws from it). Rank r is the key at position r of the range (scrambled Zipf: a keyed permutation of
    /// r); for latest and latest_zipfian, r counts down from the highest set key of the range. A draw failing the
    /// filter is drawn again; after 64 misses in a row it falls back to the first matching key after the last draw
    /// (a bias that shows only at very low density of matching keys). See detail::DrawStream.
    /// On an unbounded tracker, write streams with a distribution default to [0, capacity()), like the reading
    /// terminals, not [0, 2^63): give range() (or a bounded tracker) to draw claims over more IDs.
    [[nodiscard]] IteratorBuilder distribution(const AccessDistribution& d) const {
        auto c = *this;
        c.dist_ = d;
        return c;
    }
    /// Applies every option set in cfg as the builder call of the same name (distribution, seed, limit, sample,
    /// mixed_ratio); options not set keep the builder's value.
    [[nodiscard]] IteratorBuilder with_sampling(const SamplingConfig& cfg) const {
        auto c = *this;
        if (cfg.distribution()) c.dist_ = *cfg.distribution();
        if (cfg.seed()) c.seed_ = *cfg.seed();
        if (cfg.limit()) c.limit_ = *cfg.limit();
        if (cfg.sample()) c = c.sample(*cfg.sample());
        if (cfg.mixed_ratio()) c = c.mixed_ratio(*cfg.mixed_ratio());
        return c;
    }
    /// With partitioned(n): every partition walks the whole range, each starting at its own slice.
    [[nodiscard]] IteratorBuilder overlapping() const {
        auto c = *this;
        c.overlapping_ = true;
        return c;
    }

    // ---- terminals --------------------------------------------------------------------------------------------

    [[nodiscard]] SequentialIter sequential() const {
        ordered_only("sequential()");
        const detail::Space s = resolve(false);
        return SequentialIter(s, filter_, 0, limit(), sample_, the_seed());
    }
    [[nodiscard]] RandomIter random() const {
        if (mixed_ && filter_ != detail::Filter::All)
            detail::throw_invalid_argument("IteratorBuilder: mixed_ratio() cannot be combined with set_only() or unset_only()");
        const detail::Space s = resolve(false);
        return RandomIter(s, filter_, limit(), sample_, mixed_, the_seed(), dist_);
    }
    /// A private claim stream (see WriteIter).
    [[nodiscard]] WriteIter write() const { return make_writer(false); }
    /// A claim stream sharing progress with every continue_write() stream of the tracker over the same range.
    [[nodiscard]] WriteIter continue_write() const { return make_writer(true); }
    /// Removes and yields present keys; std::nullopt while another EraseIter of this tracker lives.
    [[nodiscard]] std::optional<EraseIter> erase() const {
        ordered_only("erase()");
        const detail::Space s = resolve(false);
        auto& flag = detail::TrackerAccess::erasing(*tracker_);
        bool expected = false;
        // Acquire pairs with the release in EraseIter::release(): we see the previous eraser's removals.
        if (!flag.compare_exchange_strong(expected, true, std::memory_order_acquire, std::memory_order_relaxed))
            return std::nullopt;
        return EraseIter(s, limit(), &flag);
    }
    /// slice(i, n).sequential()
    [[nodiscard]] SequentialIter partition(std::uint64_t i, std::uint64_t n) const { return slice(i, n).sequential(); }
    /// All n slices (with overlapping(): n full-range iterators, the i-th starting at slice i).
    [[nodiscard]] std::vector<SequentialIter> partitioned(std::uint64_t n) const {
        check_slice("IteratorBuilder::partitioned", 0, n);
        ordered_only("partitioned()");
        std::vector<SequentialIter> out;
        out.reserve(static_cast<std::size_t>(n));
        const std::uint64_t seed = the_seed();
        if (overlapping_) {
            const detail::Space s = resolve(false);
            for (std::uint64_t i = 0; i < n; ++i) {
                const std::uint64_t start = slice_bounds(0, s.size(), i, n).first;
                out.push_back(SequentialIter(s, filter_, start, limit(), sample_, detail::mix_seed(seed, i)));
            }
            return out;
        }
        for (std::uint64_t i = 0; i < n; ++i) {
            const detail::Space s = slice(i, n).resolve(false);
            out.push_back(SequentialIter(s, filter_, 0, limit(), sample_, detail::mix_seed(seed, i)));
        }
        return out;
    }

private:
    [[nodiscard]] IteratorBuilder with_filter(detail::Filter f) const {
        auto c = *this;
        c.filter_ = f;
        return c;
    }
    [[nodiscard]] std::uint64_t limit() const noexcept { return limit_.value_or(std::numeric_limits<std::uint64_t>::max()); }
    /// The builder's seed (a fresh one when none was given), made distinct per slice.
    [[nodiscard]] std::uint64_t the_seed() const noexcept {
        const std::uint64_t s = seed_ ? *seed_ : detail::fresh_seed();
        return slice_ ? detail::mix_seed(s, slice_->first ^ (slice_->second << 32)) : s;
    }

    static void check_slice(const char* fn, std::uint64_t i, std::uint64_t n) {
        if (n == 0) detail::throw_invalid_argument((std::string(fn) + ": n must be at least 1, got 0").c_str());
        if (i >= n)
            detail::throw_invalid_argument((std::string(fn) + ": i must be below n, got i = " + std::to_string(i) +
                                            ", n = " + std::to_string(n)).c_str());
    }
    static void check_probability(const char* fn, const char* name, double p) {
        if (!(p >= 0.0 && p <= 1.0)) // also rejects NaN
            detail::throw_invalid_argument((std::string(fn) + ": " + name + " must be in [0, 1], got " +
                                            std::to_string(p)).c_str());
    }
    void no_mixed(const char* terminal) const {
        if (mixed_)
            detail::throw_invalid_argument((std::string("IteratorBuilder: mixed_ratio() works only with random(), not ") +
                                            terminal).c_str());
    }
    /// The terminals that walk keys in order (sequential, partition(ed), erase) take no mixed_ratio or distribution.
    void ordered_only(const char* terminal) const {
        no_mixed(terminal);
        if (dist_)
            detail::throw_invalid_argument((std::string("IteratorBuilder: distribution() works only with random() and "
                                                        "write streams, not ") + terminal).c_str());
    }
    /// [b + floor(len * i / n), ...) without overflow for any len < 2^64.
    static std::pair<std::uint64_t, std::uint64_t> slice_bounds(std::uint64_t b, std::uint64_t e, std::uint64_t i,
                                                                std::uint64_t n) noexcept {
        const std::uint64_t len = e - b, q = len / n, r = len % n;
        const std::uint64_t lo = b + q * i + std::min(i, r);
        return {lo, lo + q + (i < r ? 1 : 0)};
    }

    [[nodiscard]] WriteIter make_writer(bool shared) const {
        no_mixed(shared ? "continue_write()" : "write()");
        if (filter_ == detail::Filter::SetOnly)
            detail::throw_invalid_argument("IteratorBuilder: write streams claim absent keys; set_only() does not apply");
        // A distribution needs a finite population to draw from: on an unbounded tracker its write streams default
        // to [0, capacity()) like the reading terminals (drawing over [0, 2^63) would commit a chunk per claim).
        const detail::Space s = resolve(!dist_);
        detail::WriteCursor* cursor = shared ? &detail::TrackerAccess::cursor(*tracker_, s.b, s.e, s.sb, s.se) : nullptr;
        if (dist_ && s.size() > 0) {
            // Each stream draws from its own generator: a fresh seed per stream unless seed() fixed it.
            return WriteIter(s, limit(), cursor, std::nullopt, detail::DrawStream(s, *dist_, the_seed()));
        }
        std::optional<RandomIter> order;
        if (seed_ && !shared)
            order.emplace(RandomIter(s, detail::Filter::UnsetOnly, std::numeric_limits<std::uint64_t>::max(),
                                     std::nullopt, std::nullopt, the_seed()));
        return WriteIter(s, limit(), cursor, std::move(order));
    }

    /// Resolves the builder to its space. writing: the default unbounded range reaches 2^63.
    [[nodiscard]] detail::Space resolve(bool writing) const {
        const PrefixTracker& t = *tracker_;
        detail::Space s;
        s.tracker = tracker_;
        s.hierarchical = t.is_hierarchical();
        const bool table = detail::TrackerAccess::table_mode(t);
        s.stride = table ? 0 : t.max_sub_id().value_or(1);
        std::uint64_t limit_id = t.max_id().value_or(max_supported_id);
        if (s.stride > 1) limit_id = std::min(limit_id, max_supported_id / s.stride);
        if (table) limit_id = std::min(limit_id, detail::max_supported_word); // table mode: IDs below 2^57
        std::uint64_t b = 0, e = t.max_id() ? limit_id : (writing ? limit_id : std::min(limit_id, t.capacity()));
        if (pct_) {
            const auto len = static_cast<long double>(e - b);
            const std::uint64_t lo = b + static_cast<std::uint64_t>(len * static_cast<long double>(pct_->first));
            const std::uint64_t hi = b + static_cast<std::uint64_t>(len * static_cast<long double>(pct_->second));
            b = lo, e = std::min(hi, e);
        }
        if (min_) b = *min_;
        if (max_) e = *max_;
        if (b > e) detail::throw_invalid_range("IteratorBuilder: min > max", b, e);
        e = std::min(e, limit_id);
        b = std::min(b, e);
        if (slice_) std::tie(b, e) = slice_bounds(b, e, slice_->first, slice_->second);
        s.b = b, s.e = e;
        if (s.hierarchical) {
            std::uint64_t sb = 0, se = t.max_sub_id().value_or(detail::max_table_sub_id);
            if (sub_) sb = sub_->first, se = sub_->second;
            se = std::min(se, t.max_sub_id().value_or(detail::max_table_sub_id));
            sb = std::min(sb, se);
            // At most 2^63 keys, so that position arithmetic ((n + 63) / 64 blocks, ...) cannot overflow.
            if (se - sb != 0 && e - b > max_supported_id / (se - sb))
                detail::throw_invalid_argument(("IteratorBuilder: " + std::to_string(e - b) + " IDs times " +
                                                std::to_string(se - sb) +
                                                " sub-IDs exceeds 2^63 keys; narrow range() or sub_range()").c_str());
            s.sb = sb, s.se = se;
        }
        return s;
    }

    PrefixTracker* tracker_;
    std::optional<std::uint64_t> min_, max_;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> sub_;
    std::optional<std::pair<double, double>> pct_;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> slice_;
    detail::Filter filter_ = detail::Filter::All;
    std::optional<std::uint64_t> limit_;
    std::optional<double> sample_;
    std::optional<double> mixed_;
    std::optional<std::uint64_t> seed_;
    std::optional<AccessDistribution> dist_;
    bool overlapping_ = false;
};

inline IteratorBuilder PrefixTracker::iter() const { return IteratorBuilder(*this); }

KEYSPACE_END_NAMESPACE
