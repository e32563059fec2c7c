/** @file keyspace/toolkit/reference_set.hpp
 *  ReferenceSet and comparisons between a tracker and another set of IDs (ground truth, a protect list, a
 *  snapshot, another tracker): intersection, difference, coverage, and erase that skips protected IDs. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/toolkit/snapshot.hpp>

#include <bit>         // for std::countr_zero, std::popcount
#include <cstdint>     // for std::uint64_t
#include <span>        // for std::span
#include <stdexcept>   // for std::invalid_argument
#include <string>      // for std::to_string
#include <type_traits> // for std::is_same_v
#include <utility>     // for std::forward

KEYSPACE_BEGIN_NAMESPACE

/** A set of reference IDs — the ground truth a benchmark checks a store against, or a protect list that erasing
 *  must spare. An AtomicBitmap underneath: every member is thread-safe and lock-free. Usable wherever a WordSource
 *  is expected (through bitmap()). Non-copyable, non-movable like the bitmap; hold it by value or unique_ptr. */
class ReferenceSet {
public:
    ReferenceSet() = default;
    /// An empty set with room for IDs below capacity_bits without growing.
    explicit ReferenceSet(std::uint64_t capacity_bits) : bits_(capacity_bits) {}
    /// The given IDs. Throws std::length_error for an ID >= max_supported_id.
    explicit ReferenceSet(std::span<const std::uint64_t> ids) {
        for (const std::uint64_t id : ids) bits_.set(id);
    }
    ReferenceSet(const ReferenceSet&) = delete;
    ReferenceSet& operator=(const ReferenceSet&) = delete;

    /// Throws std::length_error for id >= max_supported_id (like AtomicBitmap::set).
    bool add(std::uint64_t id) { return bits_.set(id); }
    /// Adds [b, e); returns how many were added. b > e throws std::invalid_argument.
    std::uint64_t add_range(std::uint64_t b, std::uint64_t e) { return bits_.set_range(b, e); }
    /// Adds every ID of a source (a tracker, a snapshot, a bitmap); returns how many were new.
    KEYSPACE_ISA_ABI
    std::uint64_t add_all(WordSource src) {
        std::uint64_t added = 0;
        const std::uint64_t n = src.word_count();
        for (std::uint64_t w = src.next_word(0); w < n; w = src.next_word(w + 1))
            for (std::uint64_t m = src.word(w); m != 0; m &= m - 1)
                added += bits_.set(w * 64 + static_cast<std::uint64_t>(std::countr_zero(m))) ? 1u : 0u;
        return added;
    }
    /// Removes id; true if it was present.
    bool remove(std::uint64_t id) noexcept { return bits_.clear(id); }
    /// Whether id is in the set.
    [[nodiscard]] bool contains(std::uint64_t id) const noexcept { return bits_.test(id); }
    /// IDs in the set.
    [[nodiscard]] std::uint64_t count() const noexcept { return bits_.count(); }
    /// Whether the set holds no ID.
    [[nodiscard]] bool empty() const noexcept { return bits_.empty(); }
    /// The set's bits.
    [[nodiscard]] const AtomicBitmap& bitmap() const noexcept { return bits_; }
    /// The set as a WordSource (for coverage, snapshots and diffs).
    operator WordSource() const noexcept { return WordSource(bits_); } // NOLINT(google-explicit-constructor)

private:
    AtomicBitmap bits_;
};

/// IDs in both a and b (lazy, word-parallel; see IdSetView). The sources must outlive the view.
[[nodiscard]] inline IdSetView intersection(WordSource a, WordSource b) noexcept {
    return IdSetView(a, b, IdSetView::Op::And);
}
/// IDs in a but not in b (lazy, word-parallel; see IdSetView). The sources must outlive the view.
[[nodiscard]] inline IdSetView difference(WordSource a, WordSource b) noexcept {
    return IdSetView(a, b, IdSetView::Op::AndNot);
}

/// How much of a reference set another set holds: `present` of the `reference` IDs.
struct Coverage {
    std::uint64_t reference = 0; ///< IDs in the reference set
    std::uint64_t present = 0;   ///< of those, how many the other set holds
    /// IDs of the reference absent from the tracker (reference - present).
    [[nodiscard]] std::uint64_t missing() const noexcept { return reference - present; }
    /// present / reference; 1 for an empty reference (nothing is missing).
    [[nodiscard]] double fraction() const noexcept {
        return reference == 0 ? 1.0 : static_cast<double>(present) / static_cast<double>(reference);
    }
    /// Whether at least `fraction` of the reference is present, e.g. at_least(0.95). Exact (integer arithmetic for
    /// the comparison where possible). Throws std::invalid_argument unless 0 <= fraction <= 1.
    [[nodiscard]] bool at_least(double f) const {
        if (!(f >= 0 && f <= 1))
            detail::fail_invalid_argument({"Coverage::at_least: fraction must be in [0, 1], got ", f});
        return static_cast<long double>(present) >= static_cast<long double>(f) * static_cast<long double>(reference);
    }
};

/// How many of reference's IDs `other` holds, in one word-parallel pass (each word of each read once; empty
/// stretches of the reference are skipped, see WordSource::next_word).
KEYSPACE_ISA_ABI
[[nodiscard]] inline Coverage coverage(WordSource reference, WordSource other) noexcept {
    Coverage c;
    const std::uint64_t n = reference.word_count();
    for (std::uint64_t w = reference.next_word(0); w < n; ++w) {
        const std::uint64_t r = reference.word(w);
        if (r == 0) {
            w = reference.next_word(w + 1) - 1;
            continue;
        }
        c.reference += static_cast<std::uint64_t>(std::popcount(r));
        c.present += static_cast<std::uint64_t>(std::popcount(r & other.word(w)));
    }
    return c;
}

/// What erase_unprotected did.
struct EraseResult {
    std::uint64_t erased = 0;    ///< IDs this call removed
    std::uint64_t spared = 0;     ///< present IDs it left because the protect list holds them
};

/** Removes up to `limit` present IDs of the simple tracker t in [b, e) that `protect` does not hold, ascending,
 *  and calls on_erased(id) for each (it may return bool; false stops). A word at a time: the candidates are
 *  `tracker word AND NOT protect word`, then each is removed with remove() and reported only if this call removed
 *  it (so concurrent erasers never report one ID twice). The protect word is read just before its IDs are
 *  removed: an ID protected after that read may still be removed. Throws std::invalid_argument for b > e or a
 *  hierarchical tracker. */
template <class F>
KEYSPACE_ISA_ABI
EraseResult erase_unprotected(PrefixTracker& t, WordSource protect, std::uint64_t b, std::uint64_t e,
                              std::uint64_t limit, F&& on_erased) {
    const WordSource live(t); // rejects hierarchical trackers
    detail::check_range("erase_unprotected", b, e);
    EraseResult r;
    const std::uint64_t words = live.word_count();
    for (std::uint64_t w = b / 64; w < words && w * 64 < e && r.erased < limit; ++w) {
        std::uint64_t m = live.word(w);
        if (w == b / 64) m &= ~0ull << (b % 64);
        if (e - w * 64 < 64) m &= (1ull << (e - w * 64)) - 1;
        if (m == 0) {
            w = live.next_word(w + 1) - 1; // skip empty stretches and uncommitted memory
            continue;
        }
        const std::uint64_t keep = m & protect.word(w);
        r.spared += static_cast<std::uint64_t>(std::popcount(keep));
        for (m &= ~keep; m != 0 && r.erased < limit; m &= m - 1) {
            const std::uint64_t id = w * 64 + static_cast<std::uint64_t>(std::countr_zero(m));
            if (!t.remove(id)) continue;
            ++r.erased;
            if constexpr (std::is_same_v<decltype(on_erased(id)), bool>) {
                if (!on_erased(id)) return r;
            } else {
                on_erased(id);
            }
        }
    }
    return r;
}

/// erase_unprotected over the tracker's whole range, without a limit.
template <class F>
EraseResult erase_unprotected(PrefixTracker& t, WordSource protect, F&& on_erased) {
    return erase_unprotected(t, protect, 0, max_supported_id, ~0ull, std::forward<F>(on_erased));
}

KEYSPACE_END_NAMESPACE
