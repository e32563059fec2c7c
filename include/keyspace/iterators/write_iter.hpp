/** @file keyspace/iterators/write_iter.hpp
 *  WriteIter: claims absent keys atomically, privately or with progress shared across streams
 *  (PrefixTracker::iter().write() / continue_write()). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
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
 *    key is present; after 64 misses in a row, the claim comes from the resumable sweep below (the next absent key
 *    after the sweep's position), and the next claim draws again.
 *  - with sample(p): each absent key the stream reaches is claimed with probability p and passed over otherwise.
 *
 *  Live (is_endless()): when the progress reaches the end of the range, the stream keeps finding keys freed since
 *  (remove(), erase streams, clear()): next() returns std::nullopt while nothing is free ("nothing now", not the
 *  end: is_exhausted() stays false) and a later call claims what was freed meanwhile, without rebuilding the
 *  stream. It does so with a resumable sweep of the range, at most sweep_budget positions per call, that runs only
 *  when something may have been freed: the tracker's removal count (PrefixTracker::removals(), a per-thread
 *  counter, no shared cache line) differs from the one at the start of the last empty sweep; frees the count does
 *  not see (other processes writing a shared region) are found by a sweep every 1024 to 2^20 idle calls (the
 *  interval doubling while sweeps find nothing).
 *  - with sample(p) and no distribution the stream is finite: one pass over the range, then it ends
 *    (is_exhausted()).
 *  - wrap_around(): once a full sweep finds the range full, it overwrites: each cycle hands out every key of the
 *    range once (once across the streams sharing progress; with sample(p), each with probability p), setting any
 *    absent one; with a distribution the overwrite stream is endless draws from it, each key set if absent.
 *  Move-only. */
class WriteIter : public detail::IteratorBase<WriteIter> {
public:
    /// Positions a sweep for freed keys examines per call at most.
    static constexpr std::uint64_t sweep_budget = 1ull << 16;

    /// Moves the iterator; the source is left empty (it yields nothing).
    WriteIter(WriteIter&&) noexcept = default;
    /// Move assignment, as the move constructor.
    WriteIter& operator=(WriteIter&&) noexcept = default;
    WriteIter(const WriteIter&) = delete;
    WriteIter& operator=(const WriteIter&) = delete;

    /// The next key, or std::nullopt (see is_exhausted() and is_endless() for what a nullopt means).
    KEYSPACE_ISA_ABI
    std::optional<Key> next() {
        auto claim = [t = tracker_](Key k) { return t->claim(k); };
        return next_impl<true>(claim);
    }
    /** next(), with each absent key claimed by `claim(k)` instead of the tracker's claim(k): `claim` must set the
     *  key's existence bit exactly when it returns true (false: the stream passes over the key, as over a key
     *  another thread claimed first). InFlight (<keyspace/in_flight.hpp>) claims through it, so that a key is
     *  marked in flight before it is marked present. Overwrite cycles (wrap_around()) claim nothing: from them this
     *  returns std::nullopt. */
    template <class Claim>
    KEYSPACE_ISA_ABI std::optional<Key> next_claiming(Claim&& claim) {
        return next_impl<false>(claim);
    }

private:
    // Overwrite: whether overwrite cycles hand out keys (next()) or end the call (next_claiming()). Not forced
    // inline: next() then compiles to the instructions it had before it took a claim policy (counted with
    // callgrind: the same per claim; always_inline added two per claim and cost ~15% in time).
    template <bool Overwrite, class Claim>
    KEYSPACE_ISA_ABI std::optional<Key> next_impl(Claim& claim) {
        if (left_ == 0 || done_) return finish();
        for (;;) {
            std::optional<std::uint64_t> p;
            switch (phase_) {
            case Phase::Blocks: p = from_blocks(); break;
            case Phase::Random: p = random_candidate(); break;
            case Phase::Draw: p = stream_->draw(detail::Filter::UnsetOnly, false); break; // misses: the sweep
            case Phase::Sweep:
                p = sweep();
                if (!p) {
                    if (swept_ < space_.size()) return std::nullopt; // budget spent: nothing now, more next call
                    if (wrap_) {
                        phase_ = Phase::Overwrite;
                        continue;
                    }
                    go_idle();
                    return std::nullopt;
                }
                break;
            case Phase::Idle:
                if (!may_have_freed()) return std::nullopt; // one counter read: nothing freed since the last sweep
                if (stream_) phase_ = Phase::Draw;
                else begin_sweep();
                continue;
            case Phase::Overwrite:
                if constexpr (!Overwrite) return std::nullopt;
                if (auto k = overwrite_next()) return k;
                continue;
            }
            if (!p) { // the progress (or the draws) found nothing
                if (one_pass_) {
                    if (!wrap_) return finish();
                    phase_ = Phase::Overwrite;
                } else {
                    begin_sweep();
                }
                continue;
            }
            if (skip_ > 0) [[unlikely]] { // sample(p): passed over
                --skip_;
                continue;
            }
            const Key k = space_.key_at(*p);
            if (claim(k)) {
                skip_ = thin_.draw();
                --left_;
                if (phase_ == Phase::Sweep) [[unlikely]]
                    found_in_sweep();
                return k;
            }
        }
    }

public:
    /// Once the range is full, continue as an overwrite stream (see the class comment); returns the iterator by value.
    WriteIter wrap_around() && {
        wrap_ = true;
        return std::move(*this);
    }
    /// An upper bound on the keys still to come: the limit for a live or wrapping stream (keys freed later are
    /// claimed too), else the range's size.
    /// An upper bound on the keys still to come (the limit for endless streams).
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        if (done_) return 0;
        if (is_endless()) return left_;
        return std::min(left_, space_.size());
    }
    /// True once the stream has ended for good: its limit reached, or a finite stream (sample(p), one pass)
    /// finished. A live stream that returned nullopt because nothing is free is not exhausted.
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }
    /// True unless the stream makes one pass and ends (sample(p) without a distribution or wrap_around()): its
    /// nullopt means "nothing free now".
    [[nodiscard]] bool is_endless() const noexcept { return wrap_ || !one_pass_; }

private:
    template <class>
    friend class BasicIteratorBuilder;
    enum class Phase : std::uint8_t { Blocks, Random, Draw, Sweep, Idle, Overwrite };
    static constexpr std::uint64_t first_idle_interval = 1024, max_idle_interval = 1ull << 20;

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

    // ---- sweeps for freed keys ----
    void begin_sweep() noexcept {
        phase_ = Phase::Sweep;
        swept_ = 0;
        seen_removals_ = tracker_->removals(); // before the pass: a key freed during it changes the count
    }
    void found_in_sweep() noexcept {
        swept_ = 0;
        idle_interval_ = first_idle_interval;
        if (stream_) phase_ = Phase::Draw; // back to the distribution
    }
    void go_idle() noexcept {
        phase_ = Phase::Idle;
        idle_countdown_ = idle_interval_;
        idle_interval_ = std::min(idle_interval_ * 2, max_idle_interval);
    }
    [[nodiscard]] bool may_have_freed() noexcept {
        if (tracker_->removals() != seen_removals_) return true;
        return --idle_countdown_ == 0;
    }
    // The next absent position of the resumable sweep, examining at most sweep_budget positions (a whole pass when
    // wrapping: the overwrite cycles wait for it); nullopt when the budget or the pass is spent.
    KEYSPACE_ISA_ABI
    std::optional<std::uint64_t> sweep() noexcept {
        const std::uint64_t n = space_.size();
        std::uint64_t budget = wrap_ ? n : sweep_budget;
        while (budget > 0 && swept_ < n) {
            const std::uint64_t from = sweep_pos_;
            const std::uint64_t to = from + std::min({budget, n - from, n - swept_});
            detail::Scanner scan(space_, detail::Filter::UnsetOnly, from, to);
            if (const auto q = scan.next()) {
                swept_ += *q + 1 - from;
                sweep_pos_ = *q + 1 == n ? 0 : *q + 1;
                return q;
            }
            swept_ += to - from;
            budget -= to - from;
            sweep_pos_ = to == n ? 0 : to;
        }
        return std::nullopt;
    }

    // Claim candidates: the absent positions of the current 64-position block (as loaded), block after block.
    KEYSPACE_ISA_ABI
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
    KEYSPACE_ISA_ABI
    std::optional<std::uint64_t> random_candidate() {
        // The seeded order walks the absent keys as a permutation; a key claimed by someone else since is skipped.
        auto k = order_->next();
        if (!k) return std::nullopt;
        const std::uint64_t w = space_.width();
        return (k->id - space_.b) * w + (k->sub_id - space_.sb);
    }
    // Overwrite cycles: every position once per cycle; the shared counter keeps streams disjoint within a cycle.
    // nullopt: passed over by sample(p).
    KEYSPACE_ISA_ABI
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
    std::uint64_t sweep_pos_ = 0, swept_ = 0;       // the resumable sweep: next position; positions since a claim
    std::uint64_t seen_removals_ = 0;               // tracker removals when the current or last sweep began
    std::uint64_t idle_interval_ = first_idle_interval, idle_countdown_ = 0;
    std::uint64_t ow_private_ = 0, ow_pos_ = 0, ow_left_ = 0;
    bool wrap_ = false, one_pass_ = false;
    detail::MoveFlag<true> done_ = false; // set in a moved-from iterator: it yields nothing
};

KEYSPACE_END_NAMESPACE
