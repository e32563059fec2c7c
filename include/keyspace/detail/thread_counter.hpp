/** @file keyspace/detail/thread_counter.hpp
 *  The machinery of keyspace::ThreadCounter (<keyspace/counters.hpp>): a population counter that writers update without a second atomic read-modify-write and without sharing a
 *  cache line, and that readers sum in a few nanoseconds.
 *
 *  Design. Every thread that writes to any bitmap attaches once to a process-wide slot (up to max_threads live at
 *  a time) and owns that slot's CounterBlock: pages of signed 64-bit deltas, one column per live counter. A counter
 *  (one per bitmap) holds a column number. A writer adds its delta to its own cell with a relaxed load and a relaxed
 *  store — only the owning thread ever stores a non-zero value there, so no RMW is needed and no other writer touches
 *  the line. A reader sums one cell per attached slot plus the counter's own `overflow` atomic, which takes the
 *  deltas of the rare threads that find no free slot, no free column or no memory for a page.
 *
 *  Exactness: the sum is exact whenever no write is in flight (every writer's last store happens-before the read,
 *  e.g. after join). While writers run, it is some mix of their recent values, never torn.
 *  Recycling: a slot freed at thread exit keeps its values; the next thread to take it (under the registry lock,
 *  which orders it after the previous owner) adds to them. A column freed by a destroyed counter is zeroed in every
 *  block, under the lock, before it can be handed out again.
 *  Blocks and pages are never freed: they stay reachable from the registry, bounded by max_threads. */
#pragma once

#include <keyspace/config.hpp>

#include <atomic>  // for std::atomic, std::atomic_flag
#include <bit>     // for std::countr_zero
#include <cstddef> // for std::size_t
#include <cstdint> // for std::int64_t, std::uint32_t
#include <new>     // for std::nothrow
#include <thread>  // for std::this_thread::yield

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::uint32_t counter_max_threads = 256;   // slots with a private cell
inline constexpr std::uint32_t counter_page_columns = 512;  // 4 KiB pages
inline constexpr std::uint32_t counter_max_pages = 64;      // 32768 live counters with private cells
inline constexpr std::uint32_t counter_max_columns = counter_page_columns * counter_max_pages;
inline constexpr std::uint32_t counter_no_column = ~0u;

struct CounterPage {
    std::atomic<std::int64_t> cell[counter_page_columns];
};

struct CounterBlock {
    // Stored only by the owning thread (release: publishes the zeroed page), read by summing threads (acquire).
    std::atomic<CounterPage*> page[counter_max_pages];
};

/// Process-wide registry: constant-initialised and trivially destructible, so it is usable from any thread at any
/// time, including during static destruction.
class CounterRegistry {
public:
    constexpr CounterRegistry() noexcept = default;

    /// Attaches the calling thread to a free slot; nullptr when all max_threads slots are taken or on no memory.
    CounterBlock* attach(std::uint32_t& slot_out) noexcept {
        Lock lock(*this);
        for (std::uint32_t i = 0; i < counter_max_threads; ++i) {
            if (slot_taken_[i]) continue;
            CounterBlock* b = block_[i].load(std::memory_order_relaxed); // written only under the lock
            if (b == nullptr) {
                b = new (std::nothrow) CounterBlock{};
                if (b == nullptr) return nullptr;
                // Release: a summing thread that sees the block (acquire in sum) sees its null pages.
                block_[i].store(b, std::memory_order_release);
                if (i >= high_water_.load(std::memory_order_relaxed))
                    high_water_.store(i + 1, std::memory_order_release); // pairs with the acquire in sum()
            }
            slot_taken_[i] = true;
            slot_out = i;
            return b;
        }
        return nullptr;
    }

    void detach(std::uint32_t slot) noexcept {
        Lock lock(*this);
        slot_taken_[slot] = false;
    }

    std::uint32_t acquire_column() noexcept {
        Lock lock(*this);
        for (std::uint32_t i = 0; i < counter_max_columns / 64; ++i) {
            if (~column_taken_[i] == 0) continue;
            const auto bit = static_cast<std::uint32_t>(std::countr_zero(~column_taken_[i]));
            column_taken_[i] |= 1ull << bit;
            return i * 64 + bit;
        }
        return counter_no_column;
    }

    void release_column(std::uint32_t column) noexcept {
        if (column == counter_no_column) return;
        Lock lock(*this);
        zero_column_locked(column);
        column_taken_[column / 64] &= ~(1ull << (column % 64));
    }

    /// Zeroes a column in every block; the caller guarantees no thread adds to it meanwhile.
    void zero_column(std::uint32_t column) noexcept {
        if (column == counter_no_column) return;
        Lock lock(*this);
        zero_column_locked(column);
    }

    [[nodiscard]] std::int64_t sum(std::uint32_t column) const noexcept {
        std::int64_t total = 0;
        const std::uint32_t n = high_water_.load(std::memory_order_acquire); // pairs with the release in attach
        const std::uint32_t page = column / counter_page_columns, cell = column % counter_page_columns;
        for (std::uint32_t i = 0; i < n; ++i) {
            const CounterBlock* b = block_[i].load(std::memory_order_acquire); // pairs with attach's release
            if (b == nullptr) continue;
            const CounterPage* p = b->page[page].load(std::memory_order_acquire); // pairs with make_page
            if (p != nullptr) total += p->cell[cell].load(std::memory_order_relaxed);
        }
        return total;
    }

private:
    struct Lock { // a spin lock keeps the registry constant-initialised; it guards only cold paths
        explicit Lock(CounterRegistry& r) noexcept : r_(r) {
            while (r_.lock_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
        }
        ~Lock() { r_.lock_.clear(std::memory_order_release); }
        Lock(const Lock&) = delete;
        Lock& operator=(const Lock&) = delete;
        CounterRegistry& r_;
    };

    void zero_column_locked(std::uint32_t column) noexcept {
        const std::uint32_t n = high_water_.load(std::memory_order_relaxed);
        const std::uint32_t page = column / counter_page_columns, cell = column % counter_page_columns;
        for (std::uint32_t i = 0; i < n; ++i) {
            CounterBlock* b = block_[i].load(std::memory_order_relaxed);
            if (b == nullptr) continue;
            CounterPage* p = b->page[page].load(std::memory_order_acquire); // pairs with make_page's release
            if (p != nullptr) p->cell[cell].store(0, std::memory_order_relaxed);
        }
    }

    std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
    std::atomic<std::uint32_t> high_water_{0};
    bool slot_taken_[counter_max_threads] = {};
    std::uint64_t column_taken_[counter_max_columns / 64] = {};
    std::atomic<CounterBlock*> block_[counter_max_threads] = {};
};

inline constinit CounterRegistry counter_registry{};

/// The calling thread's block; constant-initialised so the hot path reads it with one TLS load and no guard.
inline constinit thread_local CounterBlock* tls_counter_block = nullptr;
/// Set once the thread cannot (or can no longer) own a slot: its deltas go to the overflow atomics.
inline constinit thread_local bool tls_counter_unattached = false;

/// Returns the slot at thread exit. Touched only when a thread attaches, so the hot path never pays its TLS guard.
struct CounterSlotGuard {
    std::uint32_t slot = counter_max_threads;
    constexpr CounterSlotGuard() noexcept = default;
    ~CounterSlotGuard() {
        tls_counter_block = nullptr;
        tls_counter_unattached = true; // a later write from another thread_local destructor uses the overflow
        if (slot < counter_max_threads) counter_registry.detach(slot);
    }
    CounterSlotGuard(const CounterSlotGuard&) = delete;
    CounterSlotGuard& operator=(const CounterSlotGuard&) = delete;
};
inline thread_local CounterSlotGuard tls_counter_guard;

[[nodiscard]] KEYSPACE_NOINLINE inline CounterBlock* attach_this_thread() noexcept {
    if (tls_counter_unattached) return nullptr;
    std::uint32_t slot = 0;
    CounterBlock* b = counter_registry.attach(slot);
    if (b == nullptr) {
        tls_counter_unattached = true;
        return nullptr;
    }
    tls_counter_guard.slot = slot;
    tls_counter_block = b;
    return b;
}

[[nodiscard]] KEYSPACE_NOINLINE inline CounterPage* make_page(CounterBlock* b, std::uint32_t page) noexcept {
    auto* p = new (std::nothrow) CounterPage{};
    if (p != nullptr) b->page[page].store(p, std::memory_order_release); // pairs with the acquire in sum()
    return p;
}

} // namespace detail
KEYSPACE_END_NAMESPACE
