/** @file keyspace/counters.hpp
 *  The two ways a bitmap keeps count() (the Counter parameter of BasicAtomicBitmap):
 *  - ThreadCounter (the default): per-thread cells, so a claim pays no second atomic read-modify-write and no
 *    cache line shared between writers; count() sums one cell per writing thread. Exact whenever no write is in
 *    flight, also when the bitmap is written from other shared libraries than the one that created it.
 *  - SharedCounter: one relaxed atomic, 8 bytes, for bitmaps that are many and small and rarely written by several
 *    threads at once.
 *  Both are neither copyable nor movable; `add` is thread-safe and lock-free, `reset` is exclusive. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/thread_counter.hpp>

#include <atomic>  // for std::atomic
#include <cstdint> // for std::int64_t, std::uint32_t, std::uint64_t

KEYSPACE_BEGIN_NAMESPACE

/** A population counter written through per-thread cells (see <keyspace/detail/thread_counter.hpp> for the design).
 *  24 bytes: the registry it counts in, its column there, and an overflow atomic. The hot path of add() is one TLS
 *  access, one compare, one load and one store of the thread's own cell: no allocation, no lock, no shared line. */
class ThreadCounter {
public:
    ThreadCounter() noexcept
        : registry_(detail::default_counter_registry()),
          column_(registry_ != nullptr ? registry_->acquire_column() : detail::counter_no_column) {}
    ~ThreadCounter() {
        if (registry_ != nullptr) registry_->release_column(column_);
    }
    ThreadCounter(const ThreadCounter&) = delete;
    ThreadCounter& operator=(const ThreadCounter&) = delete;

    /// Adds delta; thread-safe, lock-free, never throws.
    KEYSPACE_ALWAYS_INLINE void add(std::int64_t delta) noexcept {
        detail::ThreadCells& t = detail::tls_counter_cells;
        detail::CounterBlock* b = t.block;
        if (t.registry != registry_) [[unlikely]] // first write of this thread, or a counter of another registry
            b = detail::enter_registry(registry_);
        if (b != nullptr && column_ != detail::counter_no_column) [[likely]] {
            const std::uint32_t page = column_ / detail::counter_page_columns;
            // Relaxed: this thread is the only one that stores the page pointer of its own block.
            detail::CounterPage* p = b->page[page].load(std::memory_order_relaxed);
            if (p == nullptr) [[unlikely]]
                p = detail::make_page(b, page);
            if (p != nullptr) [[likely]] {
                auto& cell = p->cell[column_ % detail::counter_page_columns];
                // Owner-only store: relaxed load + relaxed store, no RMW. Readers sum relaxed loads.
                cell.store(cell.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
                return;
            }
        }
        overflow_.fetch_add(delta, std::memory_order_relaxed);
    }

    /// Sum of all deltas; exact whenever no add is in flight. Clamped at zero while writers race.
    [[nodiscard]] std::uint64_t value() const noexcept {
        std::int64_t total = overflow_.load(std::memory_order_relaxed);
        if (column_ != detail::counter_no_column) total += registry_->sum(column_);
        return total > 0 ? static_cast<std::uint64_t>(total) : 0;
    }

    /// Sets the value to zero. Exclusive: no add may run concurrently.
    void reset() noexcept {
        if (registry_ != nullptr) registry_->zero_column(column_);
        overflow_.store(0, std::memory_order_relaxed);
    }

private:
    detail::CounterRegistry* const registry_; // where this counter's cells are, whichever library writes it
    const std::uint32_t column_;
    std::atomic<std::int64_t> overflow_{0};
};

/** A single relaxed atomic: 8 bytes, no registry column. For bitmaps that are many and small (one per
 *  hierarchical ID), where a per-thread cell would cost more than the contention it saves. */
class SharedCounter {
public:
    SharedCounter() noexcept = default;
    SharedCounter(const SharedCounter&) = delete;
    SharedCounter& operator=(const SharedCounter&) = delete;
    /// Adds delta (negative for removals).
    void add(std::int64_t delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
    /// The count (never below 0).
    [[nodiscard]] std::uint64_t value() const noexcept {
        const std::int64_t v = value_.load(std::memory_order_relaxed);
        return v > 0 ? static_cast<std::uint64_t>(v) : 0;
    }
    /// Back to 0. Exclusive.
    void reset() noexcept { value_.store(0, std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

KEYSPACE_END_NAMESPACE
