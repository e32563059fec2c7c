/** @file keyspace/detail/draw_stream.hpp
 *  DrawStream: positions of a space drawn from an AccessDistribution (random() with a distribution or mixed_ratio,
 *  and the write streams with a distribution); Thinning: the geometric skips of sample(p). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/detail/scanner.hpp>
#include <keyspace/sampling/access_distribution.hpp>
#include <keyspace/sampling/rng.hpp>

#include <algorithm> // for std::min
#include <atomic>    // for std::memory_order
#include <bit>       // for std::countl_zero, std::countr_zero
#include <cstddef>   // for std::size_t
#include <cmath>     // for std::log, std::log1p, std::floor
#include <cstdint>   // for std::uint64_t
#include <limits>    // for std::numeric_limits
#include <optional>  // for std::optional
#include <variant>   // for std::holds_alternative

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

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
    KEYSPACE_ISA_ABI
    DrawStream(const Space& s, const AccessDistribution& d, std::uint64_t seed)
        : space_(s), recency_(d.is_recency()), linear_(s.linear()), base_(s.base()), rng_(mix_seed(seed, 5)) {
        if (recency_) {
            find_newest();
            sampler_ = d.make_sampler(newest_ + 1, mix_seed(seed, 4));
        } else {
            sampler_ = d.make_sampler(s.size(), mix_seed(seed, 4));
            uniform_ = std::holds_alternative<UniformDistribution>(sampler_.distribution());
            n_ = s.size();
            blocks_ = uniform_ && linear_ && n_ != 0 && find_contiguous_words();
            if (blocks_)
                for (auto& b : ahead_) refill(b);
        }
    }

    /// One position, whatever its state.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t draw() {
        if (uniform_) [[likely]] // the sampler's own draw, without the visit over its variant
            return detail::uniform_below(rng_, n_);
        return draw_sampled();
    }
    /// One position matching f: drawn again on a miss; after 64 consecutive misses, the first match after the last
    /// drawn position (wrapping to the start), unless scan is false (the caller has its own fallback). nullopt when
    /// no position matches now: a later call finds keys changed since. After a scan that found nothing, calls
    /// answer nullopt in O(1) until the tracker changes (QuietSince), so an empty stream never rescans in vain.
    /// Uniform draws over a linear space are probed `width` at a time (see probe()); the misses are out of line.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::optional<std::uint64_t> draw(Filter f, bool scan = true) {
        if (f == Filter::All) return draw();
        const bool want = f == Filter::SetOnly;
        if (blocks_) [[likely]] {
            if (const auto p = probe(want)) [[likely]]
                return p;
            return draw_after_miss(f, scan, last_probe_, width);
        }
        const std::uint64_t p = draw();
        if (is_set(p) == want) [[likely]] // one bit test
            return p;
        return draw_after_miss(f, scan, p, 1);
    }

private:
    // Uniform draws over a linear space come in blocks of `width` positions, drawn `depth` blocks ahead of use with
    // their words prefetched, so that random probes of a large bitmap overlap their cache misses; the bits are
    // tested when a block is used, so a key's state is read as late as before. A block is tested whole,
    // branch-free, and its first match taken: the first success of a sequence of independent uniform draws, i.e.
    // a uniform match exactly as one draw at a time gives (the block's later draws are dropped, unseen by the
    // output). A block without a match counts `width` misses.
    static constexpr unsigned width = 4, depth = 8;

    KEYSPACE_ALWAYS_INLINE std::optional<std::uint64_t> probe(bool want) noexcept {
        // Locals: each acquire load would otherwise make the compiler reload the members.
        std::uint64_t* b = ahead_[head_];
        const atomic_word* words = words_;
        const std::uint64_t base = run_base_;
        unsigned hit = 0;
        for (unsigned j = 0; j < width; ++j) {
            const std::uint64_t x = base + b[j];
            // Acquire, as bitmap.test(): a key returned as set shows what its writer wrote before setting it.
            const bool set = ((words[x >> 6].load(std::memory_order_acquire) >> (x & 63)) & 1) != 0;
            hit |= static_cast<unsigned>(set == want) << j;
        }
        const std::uint64_t first = b[std::countr_zero(hit | (1u << (width - 1)))];
        last_probe_ = b[width - 1];
        refill(b);
        head_ = (head_ + 1) % depth;
        return hit != 0 ? std::optional<std::uint64_t>(first) : std::nullopt;
    }
    KEYSPACE_ALWAYS_INLINE void refill(std::uint64_t* b) noexcept {
        const atomic_word* words = words_;
        const std::uint64_t base = run_base_, n = n_;
        WyRand g = rng_;
        for (unsigned j = 0; j < width; ++j) {
            b[j] = detail::uniform_below(g, n);
#if defined(__GNUC__) || defined(__clang__)
            __builtin_prefetch(words + ((base + b[j]) >> 6));
#endif
        }
        rng_ = g;
    }
    // Finds the words of a linear space when one committed run holds them all (a sized bitmap's contiguous
    // segment, or a fixed one: memory that never moves and is never released while the tracker lives): words_ is
    // then the space's first word and position p is bit run_base_ + p from it. False otherwise.
    bool find_contiguous_words() noexcept {
        const std::uint64_t wb = base_ >> 6, we = ((base_ + n_ - 1) >> 6) + 1;
        space_.bits().storage().for_each_run(wb, we, [&](std::uint64_t w0, const atomic_word* p, std::size_t n) {
            if (w0 == wb && n == we - wb) words_ = p;
            return false;
        });
        run_base_ = base_ & 63;
        return words_ != nullptr;
    }

    // Whether position p is set: one bit test of the tracker's bitmap when the space is linear.
    KEYSPACE_ISA_ABI
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool is_set(std::uint64_t p) const noexcept {
        if (linear_) [[likely]]
            return space_.bits().test(base_ + p);
        return space_.tracker->exists(space_.key_at(p));
    }

    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::uint64_t draw_sampled() {
        if (!recency_) return sampler_(rng_);
        follow_newest();
        return newest_ - sampler_(rng_);
    }

    // draw(f) after its first `misses` draws missed, the last of them at p.
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::optional<std::uint64_t> draw_after_miss(Filter f, bool scan, std::uint64_t p, unsigned misses) {
        const bool want = f == Filter::SetOnly;
        if (quiet_[want ? 0 : 1].quiet(*space_.tracker)) [[unlikely]] // nothing matched at the last scan
            return std::nullopt;
        for (unsigned miss = misses; miss < 64;) {
            if (blocks_) {
                if (const auto q = probe(want)) return q;
                p = last_probe_;
                miss += width;
            } else {
                p = draw();
                if (is_set(p) == want) return p;
                ++miss;
            }
        }
        if (!scan) return std::nullopt;
        return fallback(f, p);
    }

    static constexpr std::uint64_t first_interval = 4096, max_interval = 1ull << 20;

    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::optional<std::uint64_t> fallback(Filter f, std::uint64_t p) {
        const QuietSince::Stamp before_scan = QuietSince::stamp(*space_.tracker);
        Scanner after(space_, f, p + 1, space_.size());
        if (auto q = after.next()) return q;
        Scanner before(space_, f, 0, p + 1);
        if (auto q = before.next()) return q;
        quiet_[f == Filter::SetOnly ? 0 : 1].arm(*space_.tracker, before_scan);
        return std::nullopt;
    }

    KEYSPACE_ISA_ABI
    void find_newest() {
        const auto top = last_set(space_, 0, space_.size());
        any_ = top.has_value();
        newest_ = top.value_or(space_.size() - 1);
    }
    KEYSPACE_ISA_ABI
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
    bool linear_;         // positions are bits base_ + p of the tracker's bitmap
    bool uniform_ = false; // a uniform sampler over n_ positions: draw() draws it inline (the same values)
    bool any_ = false;
    std::uint64_t base_, n_ = 0;
    bool blocks_ = false;                    // uniform over a linear space: draw(f) probes blocks of words_
    const atomic_word* words_ = nullptr;     // blocks_: the space's first word (see find_contiguous_words)
    std::uint64_t run_base_ = 0;             // blocks_: position p is bit run_base_ + p from words_
    std::uint64_t ahead_[depth][width] = {}; // the next blocks, ahead_[head_] first
    unsigned head_ = 0;
    std::uint64_t last_probe_ = 0;           // the last position of the last block probed
    WyRand rng_; // the engine's own generator (detail/random_bits.hpp): several draws go into one key
    Sampler sampler_;
    std::uint64_t newest_ = 0;
    std::uint64_t interval_ = first_interval, until_refresh_ = first_interval;
    QuietSince quiet_[2]; // set-only and unset-only draws: nothing matched at the last scan
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
        if (never_) return std::numeric_limits<std::uint64_t>::max(); // p = 0: keep nothing (log_q_ is unset)
        const double u = 1.0 - rng_.uniform01(); // (0, 1]
        const double k = std::floor(std::log(u) / log_q_);
        return k >= 9.2e18 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(k);
    }

    Rng rng_{0};
    bool active_ = false, never_ = false;
    double log_q_ = 0;
};

} // namespace detail
KEYSPACE_END_NAMESPACE
