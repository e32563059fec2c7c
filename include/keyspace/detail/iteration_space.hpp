/** @file keyspace/detail/iteration_space.hpp
 *  The iteration space of a builder and the key filters: what every tracker iterator walks.
 *
 *  Vocabulary. A builder resolves to an iteration *space*: IDs [b, e) and, for hierarchical trackers, sub-IDs
 *  [sb, se). Its keys are numbered by *position* p in [0, n), n = (e - b) * (se - sb): p -> (b + p / W, sb + p % W)
 *  with W = se - sb (simple trackers: W = 1, p -> b + p). When the positions map onto consecutive bits of the
 *  tracker's bitmap (simple trackers, and flat hierarchical ones iterating every sub-ID) the space is *linear* and
 *  every iterator works a 64-bit word at a time; otherwise it works one ID (row) at a time. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/errors.hpp> // for check_slice, used by every builder
#include <keyspace/key.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm> // for std::min
#include <bit>       // for std::countr_zero
#include <cstdint>   // for std::uint64_t, std::uint8_t

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/// Which keys an iterator yields.
enum class Filter : std::uint8_t { All, SetOnly, UnsetOnly };

/// Bits [lo, hi) of a 64-bit word relative to its start, lo < hi <= 64.
[[nodiscard]] constexpr std::uint64_t bits_between(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t upper = hi >= 64 ? ~0ull : ((1ull << hi) - 1);
    return upper & (~0ull << lo);
}

/** The resolved iteration space of a builder; see the file comment. */
struct Space {
    const PrefixTracker* tracker = nullptr;
    TrackerLayout layout = TrackerLayout::simple;
    std::uint64_t b = 0, e = 0;   // IDs
    std::uint64_t sb = 0, se = 1; // sub-IDs (simple: [0, 1))
    std::uint64_t stride = 1;     // simple and flat layouts: bitmap bits per ID (1, or max_sub_id); table: unused
    bool hierarchical = false;

    [[nodiscard]] bool table() const noexcept { return layout == TrackerLayout::table; }

    [[nodiscard]] std::uint64_t width() const noexcept { return se - sb; }
    [[nodiscard]] std::uint64_t size() const noexcept { return (e - b) * width(); } // checked when built
    [[nodiscard]] bool linear() const noexcept { return !table() && sb == 0 && se == stride; }
    /// First bitmap bit of the space when linear.
    [[nodiscard]] std::uint64_t base() const noexcept { return b * stride; }

    [[nodiscard]] Key key_at(std::uint64_t p) const noexcept {
        if (!hierarchical) return Key{b + p, 0};
        const std::uint64_t w = width();
        return Key{b + p / w, sb + p % w};
    }
    [[nodiscard]] const AtomicBitmap& bits() const noexcept { return tracker->bits(); }

    /// Matching positions among [lo, lo + count) ∩ [0, size()), count <= 64, as a mask (bit i = position lo + i).
    KEYSPACE_ISA_ABI
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
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::uint64_t exists_mask(std::uint64_t lo, std::uint64_t valid) const {
        std::uint64_t w = 0;
        for (std::uint64_t m = valid; m != 0; m &= m - 1) {
            const auto i = static_cast<unsigned>(std::countr_zero(m));
            if (tracker->exists(key_at(lo + i))) w |= 1ull << i;
        }
        return w;
    }

    void prefetch(std::uint64_t p) const noexcept {
        if (linear()) bits().prefetch(base() + p);
    }
};

/** Remembers a moment when a scan of a tracker found nothing, to answer "nothing now" again in O(1) until the
 *  tracker changes: count() and removals() both unchanged mean no key was added or removed since (count() alone
 *  misses an add and a removal that cancel). Read before the scan, so a change during it counts. Over a shared
 *  region (count() is a popcount there, removals() local) it never arms: every call scans, as without it. */
class QuietSince {
public:
    struct Stamp {
        std::uint64_t count = 0, removals = 0;
    };
    /// The tracker's state now, to arm() with if the scan that follows finds nothing.
    KEYSPACE_ISA_ABI
    [[nodiscard]] static Stamp stamp(const PrefixTracker& t) noexcept {
        if (t.is_shared()) return {}; // never armed: spare the popcount
        return {t.count(), t.removals()};
    }
    void arm(const PrefixTracker& t, Stamp s) noexcept {
        armed_ = !t.is_shared();
        at_ = s;
    }
    /// True while armed and nothing changed since the stamp; disarms on the first change.
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool quiet(const PrefixTracker& t) noexcept {
        if (!armed_) return false;
        if (t.removals() == at_.removals && t.count() == at_.count) return true;
        armed_ = false;
        return false;
    }

private:
    Stamp at_;
    bool armed_ = false;
};

} // namespace detail
KEYSPACE_END_NAMESPACE
