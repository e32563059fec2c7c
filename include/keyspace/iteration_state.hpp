/** @file keyspace/iteration_state.hpp
 *  IterationState: what the iterators of one tracker share beyond its keys — the progress of continue_write()
 *  streams, per range, and the exclusivity of erase(), per range. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/spin_lock.hpp>

#include <array>   // for std::array
#include <atomic>  // for std::atomic
#include <cstddef> // for std::size_t
#include <cstdint> // for std::uint64_t
#include <map>     // for std::map
#include <memory>  // for std::shared_ptr
#include <utility> // for std::move

KEYSPACE_BEGIN_NAMESPACE

/** Progress shared by the continue_write() streams over one range: positions are handed out in runs of 4096.
 *  Standard layout, so a shared region can hold one for every process mapping it. */
struct WriteCursor {
    /// Positions handed out per step of `next` (64 words: eight cache lines, so two streams rarely share a line).
    static constexpr std::uint64_t run_positions = 4096;
    std::uint64_t b = 0;  ///< first ID of the range it serves (informational: a shared region records its range)
    std::uint64_t e = 0;  ///< end of its IDs
    std::uint64_t sb = 0; ///< first sub-ID
    std::uint64_t se = 0; ///< end of its sub-IDs
    alignas(cache_line_size) std::atomic<std::uint64_t> next{0};      ///< first 4096-position run not yet handed out
    alignas(cache_line_size) std::atomic<std::uint64_t> overwrite{0}; ///< wrap_around(): blocks handed out in cycles

    /// Back to the start of the range.
    void rewind() noexcept {
        next.store(0, std::memory_order_relaxed);
        overwrite.store(0, std::memory_order_relaxed);
    }
};

/** The iteration state of one PrefixTracker (PrefixTracker::iteration_state()).
 *
 *  - Write progress: continue_write() streams over the same range (IDs [b, e), sub-IDs [sb, se)) share one
 *    WriteCursor. A range's cursor lives while a stream over it lives, and after that while it is among the
 *    `retained_ranges` most recently used ranges: a tool that opens a stream per request over ever new ranges keeps
 *    a bounded number of cursors (older ranges start over, which costs a re-scan of their claimed keys, never a
 *    key handed out twice: claims are atomic test-and-sets). A tracker over a shared region keeps the progress of
 *    its default range in the region, for every process.
 *  - Erase exclusivity: at most one EraseIter at a time over any key: erase streams over disjoint ranges (slices,
 *    sub-ID ranges) live side by side, one over an overlapping range waits its turn (erase() gives nullopt).
 *  Thread safety: every member is thread-safe; write_cursor() takes a lock (once per stream built, never per key). */
class IterationState {
public:
    using Range = std::array<std::uint64_t, 4>; ///< {b, e, sb, se}
    /// Ranges whose progress is kept after their last stream ends.
    static constexpr std::size_t retained_ranges = 64;

    IterationState() = default;
    /// With the progress of `shared_range` kept in `shared` (a shared region's cursor; `keep_alive` owns it).
    IterationState(Range shared_range, std::shared_ptr<WriteCursor> shared)
        : shared_range_(shared_range), shared_(std::move(shared)) {}
    IterationState(const IterationState&) = delete;
    IterationState& operator=(const IterationState&) = delete;

    /// The cursor of range r, created on first use. The stream holds it for its lifetime.
    [[nodiscard]] std::shared_ptr<WriteCursor> write_cursor(const Range& r) {
        if (shared_ && r == shared_range_) return shared_;
        detail::SpinGuard lock(mutex_);
        auto [it, fresh] = cursors_.try_emplace(r);
        it->second.last_use = ++clock_;
        if (!fresh) return it->second.cursor;
        it->second.cursor = std::make_shared<WriteCursor>();
        std::shared_ptr<WriteCursor> held = it->second.cursor; // held: eviction passes over it
        evict_unused();
        return held;
    }
    /// Ranges whose progress is held now (at most retained_ranges plus those with a live stream).
    [[nodiscard]] std::size_t cursor_count() const {
        detail::SpinGuard lock(mutex_);
        return cursors_.size();
    }
    /// Rewinds every range's progress. Streams already running keep the run they hold, then continue from the start.
    void rewind_all() noexcept {
        if (shared_) shared_->rewind();
        detail::SpinGuard lock(mutex_);
        for (auto& [range, entry] : cursors_) entry.cursor->rewind();
    }

    /// Erase streams that may live at once over pairwise disjoint ranges.
    static constexpr std::size_t max_erasers = 64;
    /// No erase slot (try_begin_erase failed).
    static constexpr std::size_t no_eraser = max_erasers;

    /// Takes erase exclusivity over range r ({b, e, sb, se}): the slot to give back to end_erase(), or no_eraser
    /// while a live eraser's range overlaps r (or max_erasers erasers live). Disjoint ranges (slices of one
    /// tracker, different sub-ID ranges) are erased concurrently.
    [[nodiscard]] std::size_t try_begin_erase(const Range& r) noexcept {
        // The lock orders this eraser after the previous one of an overlapping range: it sees that one's removals.
        detail::SpinGuard lock(mutex_);
        const bool empty = r[0] >= r[1] || r[2] >= r[3]; // holds no key: overlaps nothing
        std::size_t free = no_eraser;
        for (std::size_t i = 0; i < max_erasers; ++i) {
            if (!erase_live_[i]) {
                if (free == no_eraser) free = i;
                continue;
            }
            if (empty) continue;
            const Range& o = erase_ranges_[i];
            const bool ids = r[0] < o[1] && o[0] < r[1], subs = r[2] < o[3] && o[2] < r[3];
            if (ids && subs) return no_eraser;
        }
        if (free != no_eraser) {
            erase_ranges_[free] = r;
            erase_live_[free] = true;
        }
        return free;
    }
    /// Gives the erase slot back (try_begin_erase's result).
    void end_erase(std::size_t slot) noexcept {
        if (slot >= max_erasers) return;
        detail::SpinGuard lock(mutex_);
        erase_live_[slot] = false;
    }

private:
    struct Entry {
        std::shared_ptr<WriteCursor> cursor;
        std::uint64_t last_use = 0;
    };
    // Called with mutex_ held: drops the least recently used ranges that no stream holds, down to retained_ranges.
    void evict_unused() {
        while (cursors_.size() > retained_ranges) {
            auto oldest = cursors_.end();
            for (auto it = cursors_.begin(); it != cursors_.end(); ++it)
                if (it->second.cursor.use_count() == 1 && (oldest == cursors_.end() || it->second.last_use < oldest->second.last_use))
                    oldest = it;
            if (oldest == cursors_.end()) return; // every range has a live stream
            cursors_.erase(oldest);
        }
    }

    Range shared_range_{};
    std::shared_ptr<WriteCursor> shared_;
    mutable detail::SpinLock mutex_;
    std::map<Range, Entry> cursors_;
    std::uint64_t clock_ = 0;
    std::array<Range, max_erasers> erase_ranges_{}; // under mutex_
    std::array<bool, max_erasers> erase_live_{};    // under mutex_
};

KEYSPACE_END_NAMESPACE
