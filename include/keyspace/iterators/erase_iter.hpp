/** @file keyspace/iterators/erase_iter.hpp
 *  EraseIter: removes present keys atomically and yields each one it removed (PrefixTracker::iter().erase()). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/input_range.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/key.hpp>
#include <keyspace/detail/draw_stream.hpp>
#include <keyspace/detail/scanner.hpp>
#include <keyspace/iteration_state.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm> // for std::min
#include <cstddef>   // for std::size_t
#include <cstdint>   // for std::uint64_t
#include <optional>  // for std::optional
#include <utility>   // for std::exchange

KEYSPACE_BEGIN_NAMESPACE

template <class Tracker>
class BasicIteratorBuilder;

/** Erase iterator: removes present keys atomically, ascending, and yields each key it removed; with sample(p),
 *  each present key it passes with probability p (the others stay). Finite: one pass. At most one lives over any
 *  key of a tracker at a time: erase streams over disjoint slices live side by side (the range is released on
 *  destruction). Move-only. */
class EraseIter : public detail::IteratorBase<EraseIter> {
public:
    /// Moves the iterator; the source is left empty (it yields nothing).
    EraseIter(EraseIter&& o) noexcept
        : tracker_(o.tracker_), space_(o.space_), left_(o.left_), thin_(o.thin_), scanner_(o.scanner_),
          owner_(std::exchange(o.owner_, nullptr)), slot_(o.slot_), done_(std::move(o.done_)) {}
    /// Move assignment, as the move constructor.
    EraseIter& operator=(EraseIter&& o) noexcept {
        if (this != &o) {
            release();
            tracker_ = o.tracker_, space_ = o.space_, left_ = o.left_, thin_ = o.thin_, scanner_ = o.scanner_;
            done_ = std::move(o.done_);
            owner_ = std::exchange(o.owner_, nullptr);
            slot_ = o.slot_;
        }
        return *this;
    }
    EraseIter(const EraseIter&) = delete;
    EraseIter& operator=(const EraseIter&) = delete;
    ~EraseIter() { release(); }

    /// The next key, or std::nullopt (see is_exhausted() and is_endless() for what a nullopt means).
    KEYSPACE_ISA_ABI
    std::optional<Key> next() {
        return next_removing([t = tracker_](Key k) { return t->remove(k); });
    }
    /** next(), with each present key taken by `take(k)` instead of the tracker's remove(k): true if the key is
     *  yielded, false to pass over it (as over a key another thread removed first). InFlight
     *  (<keyspace/in_flight.hpp>) takes keys through it: a delete in flight leaves the key present until its
     *  commit. */
    template <class Take>
    KEYSPACE_ISA_ABI std::optional<Key> next_removing(Take&& take) {
        if (left_ == 0 || done_) return finish();
        while (auto p = scanner_.next(thin_.draw())) {
            const Key k = space_.key_at(*p);
            if (take(k)) {
                --left_;
                return k;
            }
        }
        return finish();
    }
    /// An upper bound on the keys still to come (the limit for endless streams).
    [[nodiscard]] std::uint64_t remaining() const noexcept { return done_ ? 0 : std::min(left_, scanner_.remaining()); }
    /// True once the pass is done or the limit reached.
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }
    /// Always false: an erase stream makes one pass.
    [[nodiscard]] static constexpr bool is_endless() noexcept { return false; }

private:
    template <class>
    friend class BasicIteratorBuilder;
    KEYSPACE_ISA_ABI
    EraseIter(PrefixTracker& t, detail::Space s, std::uint64_t limit, std::optional<double> sample,
              std::uint64_t seed, IterationState* owner, std::size_t slot)
        : tracker_(&t), space_(s), left_(limit), thin_(sample, detail::mix_seed(seed, 2)),
          scanner_(s, detail::Filter::SetOnly, 0, s.size()), owner_(owner), slot_(slot), done_(thin_.never()) {}
    void release() noexcept {
        if (owner_ != nullptr) owner_->end_erase(slot_); // the next eraser of the range sees our removals
        owner_ = nullptr;
    }
    std::optional<Key> finish() noexcept {
        done_ = true;
        return std::nullopt;
    }

    PrefixTracker* tracker_;
    detail::Space space_;
    std::uint64_t left_;
    detail::Thinning thin_;
    detail::Scanner scanner_;
    IterationState* owner_; // holds erase exclusivity over its range while set
    std::size_t slot_ = 0;  // owner_'s erase slot
    detail::MoveFlag<true> done_ = false; // set in a moved-from iterator: it yields nothing
};

KEYSPACE_END_NAMESPACE
