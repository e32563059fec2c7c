/** @file keyspace/iterators/random_iter.hpp
 *  RandomIter: every matching key once in a seeded random order (a true permutation), or an endless stream drawn
 *  from a distribution or a mixed ratio (PrefixTracker::iter().random()). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/input_range.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/key.hpp>
#include <keyspace/detail/draw_stream.hpp>
#include <keyspace/detail/select_bit.hpp>
#include <keyspace/sampling/access_distribution.hpp>
#include <keyspace/sampling/permutation.hpp>
#include <keyspace/sampling/rng.hpp>

#include <algorithm> // for std::min, std::max
#include <array>     // for std::array
#include <bit>       // for std::popcount
#include <cmath>     // for std::ceil
#include <cstddef>   // for std::size_t
#include <cstdint>   // for std::uint64_t
#include <limits>    // for std::numeric_limits
#include <optional>  // for std::optional
#include <utility>   // for std::move
#include <vector>    // for std::vector

KEYSPACE_BEGIN_NAMESPACE

template <class Tracker>
class BasicIteratorBuilder;
class WriteIter;

/** Random iterator. Without a distribution or mixed_ratio: every matching key exactly once, in a seeded
 *  pseudo-random order. The space is cut into blocks of 8 to 64 positions (sized from a sampled density so a block
 *  holds about 16 matches); blocks are visited in the order of a keyed Feistel permutation, prefetched ahead, with
 *  up to 128 blocks open at once; each output is a random match of a random open block other than the previous
 *  output's. O(1) memory (about 3.5 KiB); a block without a match costs one word load. With mixed_ratio(r): an
 *  endless stream with replacement; each draw is a set key with probability r, an unset key otherwise (see
 *  IteratorBuilder::mixed_ratio; the stream also holds 4 bytes per 16 chunks of 512 positions of the range). With
 *  a distribution (IteratorBuilder::distribution): an endless stream of draws with replacement from it, honouring
 *  the filter (see detail::DrawStream); with both, the class is chosen first and the key drawn from the
 *  distribution inside it. Move-only. */
class RandomIter : public detail::IteratorBase<RandomIter> {
public:
    /// Moves the iterator; the source is left empty (it yields nothing).
    RandomIter(RandomIter&&) noexcept = default;
    /// Move assignment, as the move constructor.
    RandomIter& operator=(RandomIter&&) noexcept = default;
    RandomIter(const RandomIter&) = delete;
    RandomIter& operator=(const RandomIter&) = delete;

    /// The next key, or std::nullopt (see is_exhausted() and is_endless() for what a nullopt means).
    KEYSPACE_ISA_ABI
    std::optional<Key> next() {
        if (plain_mixed_) [[likely]] // mixed_ratio without limit or sample: nothing to count between draws
            return draw_mixed_plain();
        if (left_ == 0 || done_) return finish();
        if (space_.size() == 0) [[unlikely]] // as for a cycle that found nothing (see wrap_around())
            return wrap_ ? std::nullopt : finish();
        if (mixed_) return draw_mixed();
        if (stream_) return draw_stream();
        for (;;) {
            auto p = next_position();
            if (!p) return wrap_ ? std::nullopt : finish(); // wrapping: a cycle found nothing now
            if (skip_ > 0) {
                --skip_;
                continue;
            }
            skip_ = thin_.draw();
            --left_;
            return space_.key_at(*p);
        }
    }
    /// Permutation mode: after the last key, starts a new permutation (the next seed): an endless stream. When a
    /// whole cycle finds nothing, that call returns nullopt ("nothing now") and the next call starts a new cycle.
    /// Distribution and mixed_ratio streams are endless already.
    RandomIter wrap_around() && {
        wrap_ = true;
        return std::move(*this);
    }
    /// An upper bound on the keys still to come (the limit for endless streams).
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        if (done_) return 0;
        if (stream_ || wrap_) return left_; // streams (mixed_ratio included) are endless
        std::uint64_t r = (blocks_ - std::min(blocks_, taken_)) * block_bits_;
        for (std::size_t i = 0; i < open_count_; ++i) r += static_cast<std::uint64_t>(std::popcount(open_[i].mask));
        return std::min(r, left_);
    }
    /// True once the stream has ended for good (a permutation done, its limit reached, or an empty space); then
    /// next() returns nullopt forever.
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }
    /// True for distribution and mixed_ratio streams and with wrap_around(): a nullopt from next() means "nothing
    /// matches now" and a later call may yield keys added since.
    [[nodiscard]] bool is_endless() const noexcept { return stream_.has_value() || wrap_; }

private:
    template <class>
    friend class BasicIteratorBuilder;
    friend class WriteIter;
    static constexpr std::size_t window = 128, lookahead = 8;
    struct Open {
        std::uint64_t block, mask;
    };

    KEYSPACE_ISA_ABI
    RandomIter(detail::Space s, detail::Filter f, std::uint64_t limit, std::optional<double> sample,
               std::optional<double> mixed, std::uint64_t seed, const std::optional<AccessDistribution>& dist = {})
        : space_(s), filter_(f), left_(limit), seed_(seed), rng_(detail::mix_seed(seed, 1)),
          thin_(sample, detail::mix_seed(seed, 2)), mixed_(mixed.has_value()),
          set_below_(set_threshold(mixed.value_or(0))),
          block_bits_(mixed_ || dist ? 64 : choose_block_bits()), blocks_((s.size() + block_bits_ - 1) / block_bits_),
          perm_(std::max<std::uint64_t>(blocks_, 1), seed), class_rng_(detail::mix_seed(seed, 7)) {
        done_ = thin_.never();
        if (done_ || s.size() == 0) return; // an empty range: next() ends, or with wrap_around() finds nothing now
        // Built here and moved in: the scanning constructor stays in this (instruction-set-tagged) constructor
        // rather than in std::optional::emplace, whose name does not carry the tag.
        if (dist || mixed_) stream_ = detail::DrawStream(s, dist.value_or(AccessDistribution::uniform()), seed);
        if (mixed_) stream_->use_chunks(heavy_); // uniform within each class: whole-chunk draws (see draw_class)
        skip_ = thin_.draw();
        if (!mixed_ && !stream_) start_cycle();
        plain_mixed_ = mixed_ && !sample && limit == std::numeric_limits<std::uint64_t>::max();
    }
    // The class choice of mixed_ratio(r): set when 53 random bits m give m * 2^-53 < r, i.e. m < ceil(r * 2^53)
    // (exact: r * 2^53 is r with its exponent raised), the same probability as Rng::uniform01() < r, from the
    // engine's faster generator.
    static std::uint64_t set_threshold(double r) noexcept {
        if (!(r > 0)) return 0;
        if (r >= 1) return 1ull << 53;
        return static_cast<std::uint64_t>(std::ceil(r * 0x1.0p53));
    }
    KEYSPACE_ALWAYS_INLINE bool choose_set() noexcept { return (class_rng_() >> 11) < set_below_; }

    // A block is one random memory access (the cost that dominates), so blocks are sized to hold ~16 matches;
    // smaller blocks would turn the window over faster but pay a cache miss per few keys (at 50% density, 8-bit
    // blocks cost 23 ns per key, 32-bit ones 9-12). The density is sampled from 64 words: O(1).
    KEYSPACE_ISA_ABI
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
    KEYSPACE_ISA_ABI
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

    // Forced inline: next() grew by the mixed fast path, and g++ 12 then left this out of line (random_set at 50 %:
    // 8.9 -> 14 ns per key).
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::optional<std::uint64_t> next_position() {
        for (;;) {
            while (open_count_ < window && refill(open_count_)) ++open_count_;
            if (open_count_ == 0) {
                if (!wrap_) return std::nullopt;
                const bool empty_cycle = !yielded_in_cycle_;
                seed_ = detail::mix_seed(seed_, 3);
                perm_ = Permutation(blocks_, seed_);
                start_cycle();
                if (empty_cycle) return std::nullopt; // nothing now; the next call walks the new cycle
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
    // distribution was given: from whole chunks, see DrawStream::draw_class; else redrawn on a miss, with its
    // 64-miss fallback). An empty class yields the other class.
    // sample(p) keeps each draw with probability p.
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::optional<Key> draw_mixed() {
        for (;;) {
            const std::uint64_t p = mixed_position();
            if (p == no_position) [[unlikely]] // neither class found now (the tracker is changing under the scans)
                return std::nullopt;
            if (skip_ > 0) [[unlikely]] {
                --skip_;
                continue;
            }
            skip_ = thin_.draw();
            return emit(p);
        }
    }
    // draw_mixed with neither a limit nor a sample (plain_mixed_): the keys are not counted. Inline: its usual
    // path is a queued position and one bit test (DrawStream::draw_class), the rest is out of line; draw_mixed stays
    // out of line so that next() keeps the permutation path small.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::optional<Key> draw_mixed_plain() {
        const std::uint64_t p = mixed_position();
        if (p == no_position) [[unlikely]] // neither class found now (the tracker is changing under the scans)
            return std::nullopt;
        return space_.key_at(p);
    }
    // One draw of a mixed stream: the class first, then a position of it; an empty class yields the other one.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t mixed_position() {
        const bool want_set = choose_set();
        const std::uint64_t p = stream_->draw_class(want_set);
        if (p == no_position) [[unlikely]] // the class is empty: the other one
            return other_class(want_set);
        return p;
    }
    static constexpr std::uint64_t no_position = detail::DrawStream::no_position;
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::uint64_t other_class(bool want_set) {
        return stream_->draw_position(want_set ? detail::Filter::UnsetOnly : detail::Filter::SetOnly);
    }
    // Distribution stream: draws matching the filter; sample(p) keeps each with probability p.
    KEYSPACE_ISA_ABI
    std::optional<Key> draw_stream() {
        for (;;) {
            const auto p = stream_->draw(filter_);
            if (!p) return std::nullopt; // nothing matches now; a later call finds keys added since
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
    std::uint64_t set_below_;    // mixed_ratio: a set key when the top 53 bits of class_rng_() are below it
    unsigned block_bits_;
    std::uint64_t blocks_;
    Permutation perm_;
    std::uint64_t taken_ = 0, skip_ = 0;
    std::optional<detail::DrawStream> stream_;
    std::vector<std::uint32_t> heavy_; // mixed_ratio: the room for stream_'s heavy chunks (see DrawStream::use_chunks)
    std::array<Open, window> open_{};
    std::array<std::uint64_t, lookahead> ahead_{};
    std::size_t open_count_ = 0, last_ = window;
    bool wrap_ = false, yielded_in_cycle_ = false;
    detail::MoveFlag<true> done_ = false; // set in a moved-from iterator: it yields nothing
    // A mixed stream without limit or sample: next() goes straight to the draw. Cleared in a moved-from iterator,
    // which then reaches done_.
    detail::MoveFlag<false> plain_mixed_ = false;
    detail::WyRand class_rng_;   // mixed_ratio: the class choice
};

KEYSPACE_END_NAMESPACE
