/** @file keyspace/iterators/write_iter.hpp
 *  WriteIter: claims absent keys atomically, privately or with progress shared across streams
 *  (PrefixTracker::iter().write() / continue_write()). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/input_range.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/key.hpp>
#include <keyspace/detail/draw_stream.hpp>
#include <keyspace/detail/scanner.hpp>
#include <keyspace/iteration_state.hpp>
#include <keyspace/iterators/random_iter.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm> // for std::min
#include <atomic>    // for std::memory_order
#include <bit>       // for std::countr_zero
#include <cstdint>   // for std::uint64_t, std::uint8_t
#include <limits>    // for std::numeric_limits
#include <memory>    // for std::shared_ptr
#include <optional>  // for std::optional
#include <utility>   // for std::move

KEYSPACE_BEGIN_NAMESPACE

template <class Tracker>
class BasicIteratorBuilder;

/** Write (claim) iterator: each next() atomically claims a key that was absent (unset -> set) and returns it;
 *  no key is ever handed out twice, across threads and streams. Nothing is set before it is handed out.
 *  - private (write()): this stream's own progress through the range, ascending;
 *  - shared (continue_write()): progress shared by every continue_write() stream of the tracker over the same
 *    range, taken 4096 positions (eight cache lines of words) at a time: one atomic on the shared progress per 4096 IDs,
 *    and no two streams claiming in one cache line;
 *  - seeded (write() after seed(s)): claims in the random iterator's order over the absent keys;
 *  - with a distribution (private or shared alike): each claim draws a position from it, drawn again while the
 *    key is present, falling back after 64 misses to the first absent key after the last draw (detail::DrawStream).
 *  - with sample(p): each absent key the stream reaches is claimed with probability p and passed over otherwise;
 *    without a distribution the stream makes one pass over the range and ends (no sweep; with wrap_around(), the
 *    overwrite cycles follow, each key handed out with probability p).
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
            case Phase::Overwrite:
                if (auto k = overwrite_next()) return k;
                continue;
            }
            if (!p) {
                if (!advance_phase()) return finish();
                continue;
            }
            if (skip_ > 0) [[unlikely]] { // sample(p): passed over
                --skip_;
                continue;
            }
            const Key k = space_.key_at(*p);
            if (tracker_->claim(k)) {
                skip_ = thin_.draw();
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
    template <class>
    friend class BasicIteratorBuilder;
    enum class Phase : std::uint8_t { Blocks, Random, Draw, Sweep, Overwrite };

    WriteIter(PrefixTracker& t, detail::Space s, std::uint64_t limit, std::shared_ptr<WriteCursor> shared,
              std::optional<RandomIter> order, std::optional<double> sample, std::uint64_t seed,
              std::optional<detail::DrawStream> stream = std::nullopt)
        : tracker_(&t), space_(s), left_(limit), shared_(std::move(shared)), order_(std::move(order)),
          stream_(std::move(stream)), thin_(sample, detail::mix_seed(seed, 6)) {
        phase_ = stream_ ? Phase::Draw : order_ ? Phase::Random : Phase::Blocks;
        one_pass_ = sample.has_value() && *sample < 1.0 && !stream_;
        done_ = s.size() == 0 || thin_.never();
        skip_ = thin_.draw();
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
                    constexpr std::uint64_t run_blocks = WriteCursor::run_positions / 64;
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
        if (one_pass_ && phase_ != Phase::Overwrite) { // sample(p): one pass, then the end or the overwrites
            if (!wrap_) return false;
            phase_ = Phase::Overwrite;
            return true;
        }
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
    // nullopt: passed over by sample(p).
    std::optional<Key> overwrite_next() {
        const Key k = space_.key_at(stream_ ? stream_->draw() : next_overwrite_position());
        if (skip_ > 0) [[unlikely]] {
            --skip_;
            return std::nullopt;
        }
        skip_ = thin_.draw();
        tracker_->add(k); // the existence bit stays set (idempotent)
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

    PrefixTracker* tracker_;
    detail::Space space_;
    std::uint64_t left_;
    std::shared_ptr<WriteCursor> shared_; // continue_write(): the range's shared progress
    std::optional<RandomIter> order_;
    std::optional<detail::DrawStream> stream_;
    detail::Thinning thin_;
    Phase phase_ = Phase::Blocks;
    std::uint64_t private_next_ = 0, block_ = 0, mask_ = 0, run_next_ = 0, run_left_ = 0, skip_ = 0;
    detail::Scanner sweeper_;
    std::uint64_t ow_private_ = 0, ow_pos_ = 0, ow_left_ = 0;
    bool wrap_ = false, one_pass_ = false, done_ = false;
};

KEYSPACE_END_NAMESPACE
