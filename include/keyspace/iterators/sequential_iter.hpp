/** @file keyspace/iterators/sequential_iter.hpp
 *  SequentialIter: the matching keys of a range, ascending (PrefixTracker::iter().sequential()). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/input_range.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/key.hpp>
#include <keyspace/detail/draw_stream.hpp>
#include <keyspace/detail/scanner.hpp>

#include <algorithm> // for std::min
#include <cstdint>   // for std::uint64_t
#include <optional>  // for std::optional
#include <utility>   // for std::move

KEYSPACE_BEGIN_NAMESPACE

template <class Tracker>
class BasicIteratorBuilder;

/** Sequential iterator: matching keys ascending (hierarchical: by id, then sub_id); finite (one pass), or endless
 *  with wrap_around(). Move-only. */
class SequentialIter : public detail::IteratorBase<SequentialIter> {
public:
    /// Moves the iterator; the source is left empty (it yields nothing).
    SequentialIter(SequentialIter&&) noexcept = default;
    /// Move assignment, as the move constructor.
    SequentialIter& operator=(SequentialIter&&) noexcept = default;
    SequentialIter(const SequentialIter&) = delete;
    SequentialIter& operator=(const SequentialIter&) = delete;

    /// The next key, or std::nullopt (see is_exhausted() and is_endless() for what a nullopt means).
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::optional<Key> next() noexcept {
        if (left_ == 0 || done_) [[unlikely]]
            return finish();
        for (;;) {
            auto p = scanner_.next(thin_.draw());
            if (p) {
                --left_;
                return space_.key_at(*p);
            }
            if (!next_segment()) return wrap_ ? std::nullopt : finish();
        }
    }
    /// Restarts at the range start after the end: an endless stream. When a whole pass finds nothing, that call
    /// returns nullopt ("nothing now": it never spins, and does at most about two passes of work); the next call
    /// starts a new pass and finds keys added since. Only limit() ends it.
    SequentialIter wrap_around() && {
        wrap_ = true;
        return std::move(*this);
    }
    /// An upper bound on the keys still to come (the limit for endless streams).
    [[nodiscard]] std::uint64_t remaining() const noexcept {
        if (done_) return 0;
        if (wrap_) return left_;
        std::uint64_t r = scanner_.remaining();
        if (segment_ == 0 && split_ != 0) r += split_;
        return std::min(r, left_);
    }
    /// True once the stream has ended for good (its pass is done, or its limit reached); then next() returns
    /// nullopt forever.
    [[nodiscard]] bool is_exhausted() const noexcept { return done_ || left_ == 0; }
    /// True with wrap_around(): a nullopt from next() means "nothing matches now", and a later call may yield.
    [[nodiscard]] bool is_endless() const noexcept { return wrap_; }

private:
    template <class>
    friend class BasicIteratorBuilder;
    // Walks [start, n) then [0, start) (start = 0 unless an overlapping partition starts mid-range).
    KEYSPACE_ISA_ABI
    SequentialIter(detail::Space s, detail::Filter f, std::uint64_t start, std::uint64_t limit,
                   std::optional<double> sample, std::uint64_t seed)
        : space_(s), filter_(f), split_(start), left_(limit), thin_(sample, seed),
          scanner_(s, f, start, s.size()) {
        done_ = thin_.never();
    }
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE bool next_segment() noexcept {
        if (segment_ == 0 && split_ != 0) {
            segment_ = 1;
            scanner_ = detail::Scanner(space_, filter_, 0, split_);
            return true;
        }
        if (!wrap_) return false;
        const bool empty_pass = left_ == left_at_pass_; // nothing yielded in a whole pass: nothing now
        left_at_pass_ = left_;
        segment_ = 0;
        scanner_ = detail::Scanner(space_, filter_, split_, space_.size());
        return !empty_pass;
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
    bool wrap_ = false;
    detail::MoveFlag<true> done_ = false; // set in a moved-from iterator: it yields nothing
};

KEYSPACE_END_NAMESPACE
