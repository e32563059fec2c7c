/** @file keyspace/detail/thread_counter.hpp
 *  The machinery of keyspace::ThreadCounter (<keyspace/counters.hpp>): a population counter that writers update
 *  without a second atomic read-modify-write and without sharing a cache line, and that readers sum in a few
 *  nanoseconds.
 *
 *  Design. A CounterRegistry hands out columns (one per live counter) and slots (one per writing thread, up to
 *  max_threads at a time). The thread that owns a slot owns that slot's CounterBlock: pages of signed 64-bit deltas,
 *  one cell per column. A writer adds its delta to its own cell with a relaxed load and a relaxed store — only the
 *  owning thread ever stores a non-zero value there, so no RMW is needed and no other writer touches the line. A
 *  reader sums one cell per attached slot plus the counter's own `overflow` atomic, which takes the deltas of the
 *  rare threads that find no free slot, no free column or no memory for a page.
 *
 *  Which registry. A counter remembers the registry it took its column from, and a writer adds to its block *in
 *  that registry*. The thread's blocks are found through a thread_local cache (the last registry written and its
 *  block: one compare on the hot path; on a change, a short per-thread list). So a counter created in one shared
 *  library and written from another counts exactly even where each library has its own copy of the library's inline
 *  variables (built with -fvisibility=hidden, or loaded RTLD_LOCAL): there are then several registries, and each
 *  counter and each writer still meet in one. A thread writes through at most counter_max_registries_per_thread
 *  registries with private cells (one per such library); beyond, its deltas go to the overflow atomics, still exact.
 *
 *  Exactness: the sum is exact whenever no write is in flight (every writer's last store happens-before the read,
 *  e.g. after join). While writers run, it is some mix of their recent values, never torn.
 *  Recycling: a slot freed at thread exit keeps its values; the next thread to take it (under the registry lock,
 *  which orders it after the previous owner) adds to them. A column freed by a destroyed counter is zeroed in every
 *  block, under the lock, before it can be handed out again.
 *  Registries, blocks and pages are never freed: a registry is allocated on first use and stays reachable (from the
 *  library that made it and from the counters and threads that use it), so a thread may exit after the library that
 *  made a registry was unloaded; blocks are bounded by max_threads per registry. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/spin_lock.hpp>

#include <atomic>  // for std::atomic, std::atomic_flag
#include <bit>     // for std::countr_zero
#include <cstddef> // for std::size_t
#include <cstdint> // for std::int64_t, std::uint32_t
#include <new>     // for std::nothrow

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::uint32_t counter_max_threads = 256;   // slots with a private cell
inline constexpr std::uint32_t counter_page_columns = 512;  // 4 KiB pages
inline constexpr std::uint32_t counter_max_pages = 64;      // 32768 live counters with private cells
inline constexpr std::uint32_t counter_max_columns = counter_page_columns * counter_max_pages;
inline constexpr std::uint32_t counter_no_column = ~0u;
inline constexpr std::uint32_t counter_max_registries_per_thread = 8; // libraries with their own registry

struct CounterPage {
    std::atomic<std::int64_t> cell[counter_page_columns];
};

struct CounterBlock {
    // Stored only by the owning thread (release: publishes the zeroed page), read by summing threads (acquire).
    std::atomic<CounterPage*> page[counter_max_pages];
};

/// A registry of columns and per-thread blocks. Trivially destructible and never freed, so it is usable from any
/// thread at any time, including during static destruction.
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
            r_.lock_.lock();
        }
        ~Lock() { r_.lock_.unlock(); }
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

    SpinLock lock_;
    std::atomic<std::uint32_t> high_water_{0};
    bool slot_taken_[counter_max_threads] = {};
    std::uint64_t column_taken_[counter_max_columns / 64] = {};
    std::atomic<CounterBlock*> block_[counter_max_threads] = {};
};

/// The registry new counters take their columns from: one per copy of this inline function (one per program, or one
/// per shared library that keeps its own copy), allocated on first use and never freed. nullptr only when that
/// allocation fails; counters then count through their overflow atomic alone.
[[nodiscard]] KEYSPACE_NOINLINE inline CounterRegistry* default_counter_registry() noexcept {
    static constinit std::atomic<CounterRegistry*> instance{nullptr};
    CounterRegistry* r = instance.load(std::memory_order_acquire); // pairs with the release CAS below
    if (r != nullptr) return r;
    auto* fresh = new (std::nothrow) CounterRegistry{};
    if (fresh == nullptr) return nullptr;
    if (instance.compare_exchange_strong(r, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) return fresh;
    delete fresh;
    return r;
}

/// What a thread knows about its blocks. Constant-initialised and trivially destructible, so the hot path reads it
/// with one TLS access and no guard; `registry` and `block` are the hot pair (the registry last written through and
/// this thread's block in it, nullptr when it has none there).
struct ThreadCells {
    CounterRegistry* registry = nullptr;
    CounterBlock* block = nullptr;
    bool exited = false; // the thread's slots were returned: from now on its deltas go to the overflow atomics
    std::uint32_t attached = 0;
    struct Entry {
        CounterRegistry* registry;
        CounterBlock* block; // nullptr: that registry had no slot or no memory for this thread
        std::uint32_t slot;
    };
    Entry entry[counter_max_registries_per_thread] = {};
};
inline constinit thread_local ThreadCells tls_counter_cells{};

/// Returns the slots at thread exit. Touched only when a thread attaches, so the hot path never pays its TLS guard.
struct CounterSlotGuard {
    bool armed = false;
    constexpr CounterSlotGuard() noexcept = default;
    ~CounterSlotGuard() {
        ThreadCells& t = tls_counter_cells;
        t.exited = true; // a later write from another thread_local destructor uses the overflow
        t.registry = nullptr;
        t.block = nullptr;
        for (std::uint32_t i = 0; i < t.attached; ++i)
            if (t.entry[i].block != nullptr) t.entry[i].registry->detach(t.entry[i].slot);
        t.attached = 0;
    }
    CounterSlotGuard(const CounterSlotGuard&) = delete;
    CounterSlotGuard& operator=(const CounterSlotGuard&) = delete;
};
inline thread_local CounterSlotGuard tls_counter_guard;

/// The calling thread's block in registry r (attaching on first use), made the hot pair; nullptr when the thread
/// has none there (no free slot, no memory, too many registries, or the thread is exiting).
[[nodiscard]] KEYSPACE_NOINLINE inline CounterBlock* enter_registry(CounterRegistry* r) noexcept {
    ThreadCells& t = tls_counter_cells;
    CounterBlock* b = nullptr;
    if (r != nullptr && !t.exited) {
        std::uint32_t i = 0;
        while (i < t.attached && t.entry[i].registry != r) ++i;
        if (i < t.attached) {
            b = t.entry[i].block;
        } else if (t.attached < counter_max_registries_per_thread) {
            std::uint32_t slot = counter_max_threads;
            b = r->attach(slot); // remembered even when nullptr: the thread does not retry that registry
            t.entry[t.attached++] = {r, b, slot};
            if (b != nullptr) tls_counter_guard.armed = true; // first use registers the guard's destructor
        }
    }
    t.registry = r;
    t.block = b;
    return b;
}

[[nodiscard]] KEYSPACE_NOINLINE inline CounterPage* make_page(CounterBlock* b, std::uint32_t page) noexcept {
    auto* p = new (std::nothrow) CounterPage{};
    if (p != nullptr) b->page[page].store(p, std::memory_order_release); // pairs with the acquire in sum()
    return p;
}

} // namespace detail
KEYSPACE_END_NAMESPACE
