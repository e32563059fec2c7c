/** @file keyspace/detail/sub_bitmap_table.hpp
 *  SubBitmapTable: the table layout of a hierarchical tracker without max_sub_id — one sub-ID bitmap per ID, found
 *  through a lock-free table — and the limits of that layout, stated once. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/counters.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/storage.hpp>

#include <atomic>  // for std::memory_order
#include <cstddef> // for std::size_t
#include <cstdint> // for std::uint64_t, std::uintptr_t
#include <memory>  // for std::unique_ptr
#include <utility> // for std::in_place

KEYSPACE_BEGIN_NAMESPACE

/** The sub-ID bitmap of one ID in the table layout: many small bitmaps, so a plain atomic count (which also answers
 *  sub_count and id_exists) instead of per-thread cells. */
using SubBitmap = BasicAtomicBitmap<GrowableStorage, SharedCounter>;

namespace detail {

/// Table layout: IDs are below 2^57 (one table slot per ID, and the table is a word storage of at most 2^57 words).
inline constexpr std::uint64_t max_table_id = max_supported_word;
/// Table layout: sub-IDs are below 2^32 (so any (id, sub_id) range of 2^31 IDs numbers at most 2^63 keys).
inline constexpr std::uint64_t max_table_sub_id = 1ull << 32;
/// Bits a sub-bitmap addresses before its first growth (128 bytes).
inline constexpr std::uint64_t sub_bitmap_initial_bits = 1024;

/** id -> SubBitmap*, lock-free: a lookup is one load of the ID's slot; the first pair of an ID publishes a new
 *  sub-bitmap with one CAS. A slot never changes once set (until clear()), so a pointer read from it stays valid
 *  for the table's lifetime. Slots live in a chunked word storage that commits memory as IDs are used.
 *  Thread safety: find() and get_or_create() from any number of threads; clear() is exclusive. */
class SubBitmapTable {
public:
    SubBitmapTable() = default;
    ~SubBitmapTable() { release_all(); }
    SubBitmapTable(const SubBitmapTable&) = delete;
    SubBitmapTable& operator=(const SubBitmapTable&) = delete;

    /// The sub-bitmap of id, or nullptr when id never had a pair (or id >= max_table_id).
    [[nodiscard]] SubBitmap* find(std::uint64_t id) const noexcept {
        if (id >= max_table_id) return nullptr;
        const atomic_word* slot = slots_.word(id);
        // Acquire pairs with the release CAS in get_or_create: the bitmap's construction is visible.
        return slot != nullptr ? to_bitmap(slot->load(std::memory_order_acquire)) : nullptr;
    }
    /// The sub-bitmap of id (id < max_table_id), created on first use. on_create() runs before a new bitmap is
    /// published (the tracker marks the ID as owning one there), so a std::bad_alloc leaves nothing published.
    template <class OnCreate>
    SubBitmap& get_or_create(std::uint64_t id, OnCreate&& on_create) {
        atomic_word& slot = slots_.word_for_write(id);
        std::uint64_t p = slot.load(std::memory_order_acquire); // pairs with the release CAS below
        if (p != 0) [[likely]]
            return *to_bitmap(p);
        // Unreserved: a table may hold millions of sub-bitmaps, one mapping each would exhaust vm.max_map_count.
        auto fresh = std::make_unique<SubBitmap>(std::in_place, unreserved, sub_bitmap_initial_bits);
        on_create();
        if (slot.compare_exchange_strong(p, to_slot(fresh.get()), std::memory_order_acq_rel, std::memory_order_acquire))
            return *fresh.release();
        return *to_bitmap(p); // another thread published first; ours is freed
    }
    /// Bytes held by the table's slots and every sub-bitmap.
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        std::size_t total = slots_.memory_bytes();
        slots_.for_each_run(0, max_table_id, [&](std::uint64_t, atomic_word* p, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i)
                if (const SubBitmap* s = to_bitmap(p[i].load(std::memory_order_acquire)))
                    total += sizeof(SubBitmap) + s->memory_bytes();
            return true;
        });
        return total;
    }
    /// Frees every sub-bitmap and returns to the initial footprint. Exclusive.
    void clear() noexcept {
        release_all();
        slots_.reset_to_initial();
    }

private:
    static SubBitmap* to_bitmap(std::uint64_t slot) noexcept {
        return reinterpret_cast<SubBitmap*>(static_cast<std::uintptr_t>(slot));
    }
    static std::uint64_t to_slot(SubBitmap* s) noexcept {
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(s));
    }
    void release_all() noexcept {
        slots_.for_each_run(0, max_table_id, [](std::uint64_t, atomic_word* p, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                delete to_bitmap(p[i].load(std::memory_order_relaxed));
                p[i].store(0, std::memory_order_relaxed);
            }
            return true;
        });
    }

    // slot id: the SubBitmap* of id as an integer, 0 while id has none. Unreserved: the slots live in heap chunks,
    // where leak checkers look for the pointers they hold.
    GrowableStorage slots_{unreserved, 0};
};

} // namespace detail

KEYSPACE_END_NAMESPACE
