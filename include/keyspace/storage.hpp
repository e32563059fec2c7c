/** @file keyspace/storage.hpp
 *  The storage policies for BasicAtomicBitmap: where the words live and how they grow. Published memory never moves,
 *  so a write can never be lost to a copy. The bitmap keeps the semantics (return values, counts, masks); a
 *  storage only answers "where is word w".
 *
 *  The BitmapStorage concept (keyspace::BitmapStorage) asks for:
 *  - `explicit S(std::uint64_t capacity_bits)` — capacity already rounded to a multiple of 64;
 *  - `capacity()` — bits addressable without growth; `ensure_capacity(bit)` — true if it grew, std::length_error if
 *    it cannot;
 *  - `word(w)` — pointer to word w, or nullptr when it holds no memory (then the word reads as zero);
 *  - `test_bit(i)` — bit i with acquire ordering, false where no memory is held (the hot read path);
 *  - `word_for_write(w)` — the word, committing memory for it (std::bad_alloc, or std::length_error beyond a fixed
 *    capacity);
 *  - `for_each_run(wb, we, f)` / `for_each_run_reverse(wb, we, f)` — calls f(first_word, pointer, count) for each
 *    committed run of words inside [wb, we), ascending or descending, skipping uncommitted regions; f returns false
 *    to stop; the call returns false when stopped;
 *  - `memory_bytes()` (bytes this storage allocated: 0 for memory it adopted), `zero_all()` and
 *    `reset_to_initial()` (both exclusive).
 *  The words are keyspace::BitmapWord: plain 64-bit words accessed through std::atomic_ref, with std::atomic's
 *  interface. The allocation machinery is in <keyspace/detail/storage.hpp>. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/storage.hpp>

#include <algorithm> // for std::min, std::max
#include <atomic>    // for std::atomic
#include <bit>       // for std::countr_zero, std::countl_zero
#include <concepts>  // for std::same_as, std::convertible_to, std::constructible_from
#include <cstddef>   // for std::size_t
#include <cstdint>   // for std::uint64_t, std::uintptr_t

KEYSPACE_BEGIN_NAMESPACE

/** The word a bitmap storage holds and hands out (`word(w)`, `word_for_write(w)`, the runs of `for_each_run`): 64
 *  bits, accessed atomically with std::atomic<std::uint64_t>'s interface (load, store, exchange, fetch_*,
 *  compare_exchange_*, same memory_order defaults) through std::atomic_ref. Unlike std::atomic it is an
 *  implicit-lifetime type: an array of them may live in calloc'd, mapped or shared memory nobody constructed objects
 *  in (value-initialise for zero). Not copyable or assignable, so no access is ever non-atomic by accident. */
using BitmapWord = detail::atomic_word;

/** Storage with a fixed capacity: one contiguous zeroed array (2 MiB aligned and advised for huge pages from 4 MiB
 *  on, see allocate_zeroed_words), `test` is a single load. Writes beyond the capacity throw std::length_error. */
class FixedStorage {
public:
    /// capacity_bits rounded up to a multiple of 64, all zero. std::length_error beyond 2^63, std::bad_alloc.
    explicit FixedStorage(std::uint64_t capacity_bits)
        : words_(detail::checked_capacity_words(capacity_bits)), data_(detail::allocate_zeroed_words(words_)) {}
    ~FixedStorage() { detail::free_zeroed_words(data_, words_); }
    FixedStorage(const FixedStorage&) = delete;
    FixedStorage& operator=(const FixedStorage&) = delete;

    /// Bits addressable: fixed at construction.
    [[nodiscard]] std::uint64_t capacity() const noexcept { return words_ * detail::word_bits; }
    /// Never grows: false for a bit below capacity(), std::length_error otherwise.
    bool ensure_capacity(std::uint64_t bit) const {
        if (bit >= capacity()) detail::throw_beyond_fixed_capacity(bit, capacity());
        return false;
    }
    /// Word w, or nullptr beyond the capacity.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE BitmapWord* word(std::uint64_t w) const noexcept {
        return w < words_ ? data_ + w : nullptr;
    }
    /// Bit i as one acquire load; false beyond the capacity.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool test_bit(std::uint64_t i) const noexcept {
        const std::uint64_t w = i >> 6;
        if (w < words_) [[likely]] // the in-range load as the fall-through path
            return ((data_[w].load(std::memory_order_acquire) >> (i & 63)) & 1) != 0;
        return false;
    }
    /// Word w for a write; std::length_error beyond the capacity.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE BitmapWord& word_for_write(std::uint64_t w) const {
        if (w >= words_) [[unlikely]]
            detail::throw_beyond_fixed_capacity(w * detail::word_bits, capacity());
        return data_[w];
    }
    /// Calls f(first_word, pointer, count) for the words of [wb, we) that exist (one run); false if f stopped.
    template <class F>
    bool for_each_run(std::uint64_t wb, std::uint64_t we, F&& f) const {
        we = std::min(we, words_);
        return wb >= we || f(wb, data_ + wb, static_cast<std::size_t>(we - wb));
    }
    /// for_each_run, highest run first (one run here).
    template <class F>
    bool for_each_run_reverse(std::uint64_t wb, std::uint64_t we, F&& f) const {
        return for_each_run(wb, we, f);
    }
    /// Bytes of the word array.
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return static_cast<std::size_t>(words_) * sizeof(BitmapWord);
    }
    /// Clears every word. Exclusive.
    void zero_all() noexcept {
        for (std::uint64_t i = 0; i < words_; ++i) data_[i].store(0, std::memory_order_relaxed);
    }
    /// As after construction: every word zero. Exclusive.
    void reset_to_initial() noexcept { zero_all(); }

private:
    std::uint64_t words_;
    BitmapWord* data_;
};

/** The growable default. Its first segment is contiguous, so `test` there is one compare and one load as in
 *  FixedStorage; beyond it, words live in 8 KiB chunks (65536 bits) reached through a radix tree of 512-way nodes
 *  whose height grows with the highest chunk touched (at most 6 levels for 2^63 bits).
 *
 *  The first segment is a reservation of address space (detail::growable_reservation_bytes, 1 GiB: the first 2^33
 *  bits, or the initial capacity if larger), 2 MiB aligned, mapped MAP_NORESERVE: the OS commits a page when a word
 *  in it is first written, and an untouched page reads as zero. A bitmap grown there by writes is therefore laid out
 *  as one given its size up front. The initial capacity's words (up to `max_eager_bits`) count as allocated, as in
 *  FixedStorage; beyond them a high-water mark, raised once per page by the write that first reaches it (never by a
 *  reader), ends the written prefix: writes below it are inline, and scans visit it as one run. A write further
 *  beyond the mark than max(prefix_gap_bytes, the prefix itself) does not move it: its page is marked in a summary
 *  of one bit per page (32 KiB per GiB of 4 KiB pages, allocated on the first such write), and `word()`, scans and
 *  `memory_bytes()` cover the prefix plus the marked pages only, so IDs written far apart (0, 2^32) cost a few
 *  pages, not the reservation up to the highest. A nearer write moves the mark over the gap (so by at most the
 *  prefix's own length, or 256 KiB), and a range filled in any order soon lies under the mark, laid out, written
 *  and scanned as a sized bitmap's. Once the prefix
 *  reaches detail::huge_page_min_bytes (4 MiB) the reservation is advised for transparent huge pages, as
 *  allocate_zeroed_words advises sized arrays: one TLB entry per 2 MiB, at the price of 2 MiB committed per page
 *  first written there. Where the reservation cannot be made (no mmap, vm.overcommit_memory=2, RLIMIT_AS, address
 *  space or the process-wide cap of detail::growable_reservation_limit exhausted) the first segment is the initial
 *  capacity alone, allocated as FixedStorage's is, and everything beyond it goes through the tree: construction
 *  never fails for want of a reservation. The `detail::unreserved` constructor asks for that layout.
 *
 *  Chunks and nodes are allocated on first write and published with a CAS; nothing published ever moves or is freed
 *  before `reset_to_initial()` or destruction, so growth never loses a concurrent write and never blocks readers.
 *  Capacity is a logical bound raised by `ensure_capacity`; memory follows the words written (`set(10^12)` alone
 *  commits one chunk and six nodes). */
class GrowableStorage {
public:
    /// log2 of chunk_words.
    static constexpr std::uint64_t chunk_words_log = 10; // 1024 words = 8 KiB = 65536 bits per chunk
    /// Words per chunk: 1024 (8 KiB, 65536 bits), the unit of growth beyond the first segment.
    static constexpr std::uint64_t chunk_words = 1ull << chunk_words_log;
    /// log2 of fanout.
    static constexpr std::uint64_t fanout_log = 9; // 512 children = 4 KiB per node
    /// Children per radix-tree node: 512 (4 KiB per node).
    static constexpr std::uint64_t fanout = 1ull << fanout_log;
    /// The initial capacity counted as allocated (and, without a reservation, allocated now) is capped here; a
    /// larger requested capacity is logical only.
    static constexpr std::uint64_t max_eager_bits = 1ull << 31;
    /// A write into the reservation beyond the written prefix moves the prefix's end (the high-water mark) over
    /// the unwritten gap when the gap is at most this many bytes (2^21 bits) or at most the prefix itself; further
    /// away, its page is recorded in the sparse-page summary and scans skip the gap. See the class comment.
    static constexpr std::uint64_t prefix_gap_bytes = 256 << 10;

    /// capacity_bits (rounded up to a multiple of 64) addressable at once, the first max_eager_bits of them counted
    /// as allocated now, the first segment reserved (see the class comment); std::length_error beyond 2^63,
    /// std::bad_alloc.
    explicit GrowableStorage(std::uint64_t capacity_bits) : GrowableStorage(capacity_bits, true) {}
    /// As GrowableStorage(capacity_bits) without a reservation: the first segment is the initial capacity (up to
    /// max_eager_bits), the rest goes through the tree. For storages made in large numbers or holding pointers.
    GrowableStorage(detail::unreserved_t, std::uint64_t capacity_bits) : GrowableStorage(capacity_bits, false) {}
    /// Adopts `word_count` words of memory that outlives the storage and may be shared with other processes (a
    /// mapped region, see <keyspace/shared_region.hpp>): the contiguous segment is that memory, as it is; nothing
    /// is freed; the capacity is fixed (writes beyond it throw std::length_error); shared() is true.
    GrowableStorage(detail::adopt_words_t, BitmapWord* words, std::uint64_t word_count) noexcept
        : initial_bits_(word_count * detail::word_bits), initial_words_(word_count), seg_(words),
          seg_words_(word_count), limit_(word_count), capacity_(initial_bits_),
          owned_(false) {}
    ~GrowableStorage() {
        free_tree(root_.load(std::memory_order_relaxed));
        if (!owned_) return;
        if (BitmapWord* sp = sparse_pages_.load(std::memory_order_relaxed)) detail::free_zeroed_words(sp, sparse_words());
        if (reserved_bytes_ != 0)
            detail::release_reservation(seg_, reserved_bytes_);
        else
            detail::free_zeroed_words(seg_, seg_words_);
    }
    GrowableStorage(const GrowableStorage&) = delete;
    GrowableStorage& operator=(const GrowableStorage&) = delete;

    /// Bits addressable without growth (a logical bound: memory follows the words written).
    [[nodiscard]] std::uint64_t capacity() const noexcept {
        return capacity_.load(std::memory_order_relaxed); // a bound only: no memory is reached through it
    }
    /// True for adopted memory: other processes may write it, so counts must be taken from the bits.
    [[nodiscard]] bool shared() const noexcept { return !owned_; }
    /// Words of the contiguous first segment (reached by one compare and one load): the reservation's when one was
    /// made, otherwise the initial capacity's (or the adopted memory's).
    [[nodiscard]] std::uint64_t contiguous_words() const noexcept { return seg_words_; }
    /// Whether the first segment is a reservation of address space (see the class comment).
    [[nodiscard]] bool reserved() const noexcept { return reserved_bytes_ != 0; }

    /// Raises capacity() to cover bit; true if it grew. std::length_error at or beyond 2^63 or over adopted memory.
    bool ensure_capacity(std::uint64_t bit) {
        std::uint64_t cap = capacity_.load(std::memory_order_relaxed);
        if (bit < cap) [[likely]]
            return false;
        if (!owned_) detail::throw_beyond_fixed_capacity(bit, cap);
        const std::uint64_t want = detail::round_up_to_word(bit + 1); // bit < 2^63: no overflow
        while (cap < want)
            if (capacity_.compare_exchange_weak(cap, want, std::memory_order_relaxed)) return true;
        return false;
    }

    /// Word w, or nullptr while no write has committed its memory (in the reservation: beyond the prefix and on no
    /// page written beyond it).
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE BitmapWord* word(std::uint64_t w) const noexcept {
        if (w < limit_.load(std::memory_order_relaxed)) [[likely]]
            return seg_ + w;
        if (w < seg_words_) return sparse_page(w) ? seg_ + w : nullptr; // reserved: only written pages
        Chunk* c = find_chunk(w >> chunk_words_log);
        return c != nullptr ? &c->words[w & (chunk_words - 1)] : nullptr;
    }

    /// Bit i as one acquire load in the contiguous segment (a reserved word never written reads as zero without
    /// committing memory); otherwise through the tree. False where nothing is committed.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool test_bit(std::uint64_t i) const noexcept {
        const std::uint64_t w = i >> 6;
        if (w < seg_words_) [[likely]]
            return ((seg_[w].load(std::memory_order_acquire) >> (i & 63)) & 1) != 0;
        return test_bit_in_tree(i);
    }

    /// Word w, committing its page of the reservation, or its chunk (and tree nodes), on first use: std::bad_alloc,
    /// or std::length_error beyond adopted memory.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE BitmapWord& word_for_write(std::uint64_t w) {
        // The in-segment word as the fall-through path (the already-set claim is a few uops: layout counts).
        if (!below_limit(w)) [[unlikely]]
            return word_for_write_beyond(w);
        return seg_[w];
    }

    /// Calls f(first_word, pointer, count) for each committed run of words in [wb, we), ascending; stops (false)
    /// when f returns false. The first segment's runs are its prefix, ending at the high-water mark, then the pages
    /// written beyond it (never the whole reservation).
    template <class F>
    bool for_each_run(std::uint64_t wb, std::uint64_t we, F&& f) const {
        if (wb >= we) return true;
        if (wb < seg_words_) {
            const std::uint64_t lim = limit_.load(std::memory_order_acquire);
            const std::uint64_t e = std::min(we, lim);
            if (wb < e && !f(wb, seg_ + wb, static_cast<std::size_t>(e - wb))) return false;
            const std::uint64_t se = std::min(we, seg_words_);
            if (!for_each_sparse_run<false>(std::max(wb, lim), se, f)) return false;
            wb = se;
        }
        if (wb >= we) return true;
        const std::uintptr_t r = root_.load(std::memory_order_acquire); // pairs with the release in grow_root
        if (r == 0) return true;
        return visit<false>(node_of(r), height_of(r), 0, wb, we, f);
    }

    /// for_each_run, descending.
    template <class F>
    bool for_each_run_reverse(std::uint64_t wb, std::uint64_t we, F&& f) const {
        if (wb >= we) return true;
        if (we > seg_words_) {
            const std::uintptr_t r = root_.load(std::memory_order_acquire); // pairs with the release in grow_root
            if (r != 0 && !visit<true>(node_of(r), height_of(r), 0, std::max(wb, seg_words_), we, f)) return false;
        }
        if (wb >= seg_words_) return true;
        const std::uint64_t lim = limit_.load(std::memory_order_acquire);
        if (!for_each_sparse_run<true>(std::max(wb, lim), std::min(we, seg_words_), f)) return false;
        const std::uint64_t e = std::min(we, lim);
        return wb >= e || f(wb, seg_ + wb, static_cast<std::size_t>(e - wb));
    }

    /// Bytes this storage allocated (none for adopted memory): the initial capacity's words (up to
    /// max_eager_bits), or, once writes have gone beyond them into the reservation, the reservation up to its
    /// high-water mark rounded up to whole pages (2 MiB pages once advised for huge pages), plus each page written
    /// beyond the mark and the summary that records them: an upper bound of what the segment holds resident. Plus
    /// the tree's chunks and nodes.
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return memory_.load(std::memory_order_relaxed) + segment_bytes() + sparse_bytes();
    }

    /// Clears every committed word, keeping the capacity and the memory (stores: the pages stay committed, so the
    /// writes that follow pay no fault, as with FixedStorage). Exclusive.
    void zero_all() noexcept {
        const std::uint64_t lim = limit_.load(std::memory_order_relaxed);
        for (std::uint64_t i = 0; i < lim; ++i) seg_[i].store(0, std::memory_order_relaxed);
        // The pages written beyond the prefix, then the tree.
        for_each_run(lim, detail::max_supported_word, [](std::uint64_t, BitmapWord* p, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) p[i].store(0, std::memory_order_relaxed);
            return true;
        });
    }

    /// Frees the chunks and tree, clears the first segment (giving a reservation's pages back, the prefix's and
    /// those written beyond it, and dropping the summary): as after construction. Exclusive.
    void reset_to_initial() noexcept {
        free_tree(root_.exchange(0, std::memory_order_acq_rel));
        memory_.store(0, std::memory_order_relaxed);
        release_sparse_pages();
        release_segment();
        limit_.store(initial_words_, std::memory_order_relaxed);
        capacity_.store(initial_bits_, std::memory_order_relaxed);
    }

private:
    /// word_for_write at or beyond the high-water mark: a page of the reservation, or the tree.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE BitmapWord& word_for_write_beyond(std::uint64_t w) {
        if (w < seg_words_) {
            // A page already written beyond the prefix, within the capacity: one summary bit test, no call.
            if (sparse_page(w) && w < capacity_.load(std::memory_order_relaxed) / detail::word_bits) return seg_[w];
            return commit_word(w);
        }
        // An existing chunk below the capacity needs neither growth nor creation: stay inline.
        if (w < capacity_.load(std::memory_order_relaxed) / detail::word_bits)
            if (Chunk* c = find_chunk(w >> chunk_words_log)) return c->words[w & (chunk_words - 1)];
        return grow_to_word(w);
    }

    struct alignas(cache_line_size) Chunk {
        BitmapWord words[chunk_words];
    };
    struct alignas(cache_line_size) Node { // children are Nodes above level 1, Chunks at level 1
        std::atomic<void*> child[fanout];
    };
    // The root word packs the node pointer (64-byte aligned) with the tree height (1..6) in its low bits.
    static Node* node_of(std::uintptr_t r) noexcept { return reinterpret_cast<Node*>(r & ~std::uintptr_t{7}); }
    static unsigned height_of(std::uintptr_t r) noexcept { return static_cast<unsigned>(r & 7); }
    static constexpr std::uint64_t span_log(unsigned height) noexcept { return fanout_log * height; }

    /// The first segment: a reservation, or the initial capacity's words.
    struct Segment {
        BitmapWord* words;
        std::uint64_t count;
        std::size_t reserved_bytes; // 0: allocated by allocate_zeroed_words
    };

    GrowableStorage(std::uint64_t capacity_bits, bool reserve)
        : GrowableStorage(detail::checked_capacity_words(capacity_bits), reserve, 0) {}
    GrowableStorage(std::uint64_t words, bool reserve, int)
        : GrowableStorage(words, eager_words_of(words), make_segment(eager_words_of(words), reserve)) {}
    /// The initial capacity's words counted as allocated: at most max_eager_bits of them.
    static constexpr std::uint64_t eager_words_of(std::uint64_t words) noexcept {
        return std::min(words * detail::word_bits, max_eager_bits) / detail::word_bits;
    }
    GrowableStorage(std::uint64_t words, std::uint64_t eager_words, Segment seg)
        : initial_bits_(words * detail::word_bits), initial_words_(eager_words), seg_(seg.words),
          seg_words_(seg.count), limit_(eager_words), capacity_(initial_bits_),
          reserved_bytes_(seg.reserved_bytes) {
        if (reserved_bytes_ != 0 && eager_words * sizeof(BitmapWord) >= detail::huge_page_min_bytes) advise_huge();
    }

    static Segment make_segment(std::uint64_t eager_words, bool reserve) {
        if (reserve) {
            const std::size_t want = detail::growable_reservation_bytes.load(std::memory_order_relaxed);
            if (want != 0) {
                const std::size_t eager_bytes = static_cast<std::size_t>(eager_words) * sizeof(BitmapWord);
                const std::size_t bytes =
                    (std::max(want, eager_bytes) + detail::huge_page_bytes - 1) & ~(detail::huge_page_bytes - 1);
                if (BitmapWord* p = detail::reserve_words(bytes)) return {p, bytes / sizeof(BitmapWord), bytes};
            }
        }
        return {detail::allocate_zeroed_words(eager_words), eager_words, 0};
    }

    /// w < limit_. On x86-64 one compare with the mark as its memory operand: g++ 12 does not fold an atomic load
    /// into a compare, and the extra uop cost the sequential already-set claim 0.1 ns (15 %). The hardware load is
    /// the same single aligned 8-byte load as limit_.load(relaxed); a stale (lower) mark only sends a write to
    /// word_for_write_beyond, which reads it again atomically. TSan builds and other targets use the atomic load.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool below_limit(std::uint64_t w) const noexcept {
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__) && !defined(KEYSPACE_TSAN)
        static_assert(sizeof(limit_) == sizeof(std::uint64_t) && std::atomic<std::uint64_t>::is_always_lock_free);
        bool below;
        asm("cmpq %[lim], %[w]" : "=@ccb"(below) : [lim] "m"(limit_), [w] "r"(w));
        return below;
#else
        return w < limit_.load(std::memory_order_relaxed);
#endif
    }

    /// The first segment's part of memory_bytes().
    [[nodiscard]] std::size_t segment_bytes() const noexcept {
        if (!owned_) return 0;
        const std::uint64_t lim = limit_.load(std::memory_order_relaxed);
        const std::size_t initial = static_cast<std::size_t>(initial_words_) * sizeof(BitmapWord);
        if (reserved_bytes_ == 0 || lim <= initial_words_) return initial;
        const std::size_t granule =
            huge_advised_.load(std::memory_order_relaxed) ? detail::huge_page_bytes : detail::os_page_bytes();
        const std::size_t bytes = (static_cast<std::size_t>(lim) * sizeof(BitmapWord) + granule - 1) & ~(granule - 1);
        return std::max(initial, std::min(bytes, reserved_bytes_));
    }

    /// The slow write path inside a reservation: word w is at or beyond the high-water mark. Raises the capacity
    /// to cover w. A word on a page already written beyond the prefix costs one summary bit test. Otherwise, when
    /// the unwritten gap from the mark to w's page is at most max(prefix_gap_bytes, the prefix itself), the mark
    /// moves to the end of w's page (within the capacity), taking the gap in: the next writes to that page take
    /// the inline path, and a range filled in any order soon lies under the mark. A page further away is marked in
    /// the sparse-page summary instead, so scans and memory_bytes() skip the gap. Readers never write either.
    KEYSPACE_NOINLINE BitmapWord& commit_word(std::uint64_t w) {
        ensure_capacity(w * detail::word_bits + (detail::word_bits - 1));
        std::uint64_t cur = limit_.load(std::memory_order_relaxed);
        if (w < cur || sparse_page(w)) return seg_[w];
        const std::uint64_t page_words = page_words_of();
        const std::uint64_t page = w >> page_words_log();
        if (page * page_words > cur && page * page_words - cur > std::max(prefix_gap_bytes / sizeof(BitmapWord), cur)) {
            mark_sparse_page(page);
            return seg_[w];
        }
        const std::uint64_t cap_words = capacity_.load(std::memory_order_relaxed) / detail::word_bits;
        const std::uint64_t want = std::min({(page + 1) * page_words, cap_words, seg_words_});
        while (cur < want && !limit_.compare_exchange_weak(cur, want, std::memory_order_relaxed)) {
        }
        if (want * sizeof(BitmapWord) >= detail::huge_page_min_bytes && !huge_advised_.load(std::memory_order_relaxed))
            advise_huge();
        return seg_[w];
    }

    /// Words per OS page: the summary's unit.
    [[nodiscard]] static std::uint64_t page_words_of() noexcept { return detail::os_page_bytes() / sizeof(BitmapWord); }
    /// log2 of page_words_of() (a page is a power of two): the page of word w is w >> page_words_log(), no division.
    [[nodiscard]] static unsigned page_words_log() noexcept { return static_cast<unsigned>(std::countr_zero(page_words_of())); }
    /// Words of the summary's page bits: one bit per page of the reservation (32 KiB per GiB of 4 KiB pages).
    [[nodiscard]] std::uint64_t page_bit_words() const noexcept {
        return (seg_words_ / page_words_of() + detail::word_bits - 1) / detail::word_bits;
    }
    /// Words of the summary: the page bits, then one bit per word of them that has a bit set (512 bytes per GiB),
    /// so a walk skips 64 unwritten words of page bits (256 MiB of the reservation) per load.
    [[nodiscard]] std::uint64_t sparse_words() const noexcept {
        return page_bit_words() + (page_bit_words() + detail::word_bits - 1) / detail::word_bits;
    }

    /// Whether word w's page of the reservation was written beyond the prefix (its summary bit). Acquire, as the
    /// summary is published and marked with release.
    [[nodiscard]] bool sparse_page(std::uint64_t w) const noexcept {
        const BitmapWord* s = sparse_pages_.load(std::memory_order_acquire);
        if (s == nullptr) [[likely]]
            return false;
        const std::uint64_t page = w >> page_words_log();
        return ((s[page >> 6].load(std::memory_order_acquire) >> (page & 63)) & 1) != 0;
    }

    /// Marks a page of the reservation beyond the prefix as written, allocating the summary on first use. The mark
    /// is made before the caller's store to the word, so a scan that happens after that store finds the page.
    void mark_sparse_page(std::uint64_t page) {
        BitmapWord* s = sparse_pages_.load(std::memory_order_acquire);
        if (s == nullptr) {
            BitmapWord* fresh = detail::allocate_zeroed_words(sparse_words());
            // Release on success publishes the zero-fill; acquire on failure sees the winner's.
            if (sparse_pages_.compare_exchange_strong(s, fresh, std::memory_order_acq_rel, std::memory_order_acquire))
                s = fresh;
            else
                detail::free_zeroed_words(fresh, sparse_words());
        }
        // The upper level's bit first, then the page's, both release: whoever sees the page bit (the writers that
        // then store without marking, the inline test in word_for_write_beyond included) sees the upper bit too,
        // and so does a scan that happens after their store.
        BitmapWord& upper = s[page_bit_words() + (page >> 12)];
        const std::uint64_t upper_bit = std::uint64_t{1} << ((page >> 6) & 63);
        if ((upper.load(std::memory_order_acquire) & upper_bit) == 0) upper.fetch_or(upper_bit, std::memory_order_release);
        const std::uint64_t bit = std::uint64_t{1} << (page & 63);
        if ((s[page >> 6].fetch_or(bit, std::memory_order_release) & bit) != 0) return;
        // The pages written beyond the prefix count toward the written extent that advises the reservation for
        // huge pages, as the prefix does: a large cluster far from it gets the same TLB reach. Once per page.
        const std::uint64_t pages = sparse_count_.fetch_add(1, std::memory_order_relaxed) + 1;
        if ((pages * page_words_of() + limit_.load(std::memory_order_relaxed)) * sizeof(BitmapWord) >=
                detail::huge_page_min_bytes &&
            !huge_advised_.load(std::memory_order_relaxed))
            advise_huge();
    }

    /// The first page in [p, pe) whose summary bit equals `set`, or pe. p < pe. Looking for a set bit, words of
    /// page bits that are zero are skipped through the upper level.
    std::uint64_t next_page(const BitmapWord* s, std::uint64_t p, std::uint64_t pe, bool set) const noexcept {
        const std::uint64_t flip = set ? 0 : ~std::uint64_t{0};
        const std::uint64_t iend = (pe + detail::word_bits - 1) / detail::word_bits; // words of page bits to look at
        std::uint64_t i = p >> 6;
        std::uint64_t m = (s[i].load(std::memory_order_acquire) ^ flip) & (~std::uint64_t{0} << (p & 63));
        while (m == 0) {
            i = set ? next_nonzero_word(s, i + 1, iend) : i + 1;
            if (i >= iend) return pe;
            m = s[i].load(std::memory_order_acquire) ^ flip;
        }
        return std::min(pe, i * detail::word_bits + static_cast<std::uint64_t>(std::countr_zero(m)));
    }

    /// One past the last page in [pb, pe) whose summary bit equals `set`, or pb. pb < pe.
    std::uint64_t prev_page_end(const BitmapWord* s, std::uint64_t pb, std::uint64_t pe, bool set) const noexcept {
        const std::uint64_t flip = set ? 0 : ~std::uint64_t{0};
        const std::uint64_t ib = pb >> 6;
        std::uint64_t i = (pe - 1) >> 6;
        std::uint64_t m = (s[i].load(std::memory_order_acquire) ^ flip) & (~std::uint64_t{0} >> (63 - ((pe - 1) & 63)));
        while (m == 0) {
            if (i <= ib) return pb;
            i = set ? prev_nonzero_word(s, ib, i) : i - 1;
            if (i == ~std::uint64_t{0}) return pb;
            m = s[i].load(std::memory_order_acquire) ^ flip;
        }
        const std::uint64_t last = i * detail::word_bits + 63 - static_cast<std::uint64_t>(std::countl_zero(m));
        return last >= pb ? last + 1 : pb;
    }

    /// The first word of page bits in [i, iend) that the upper level marks as holding a set bit, or iend.
    std::uint64_t next_nonzero_word(const BitmapWord* s, std::uint64_t i, std::uint64_t iend) const noexcept {
        if (i >= iend) return iend;
        const BitmapWord* up = s + page_bit_words();
        std::uint64_t k = i >> 6;
        std::uint64_t m = up[k].load(std::memory_order_acquire) & (~std::uint64_t{0} << (i & 63));
        while (m == 0) {
            if (++k * detail::word_bits >= iend) return iend;
            m = up[k].load(std::memory_order_acquire);
        }
        return std::min(iend, k * detail::word_bits + static_cast<std::uint64_t>(std::countr_zero(m)));
    }

    /// The last word of page bits in [ib, i) that the upper level marks as holding a set bit, or ~0 if none.
    std::uint64_t prev_nonzero_word(const BitmapWord* s, std::uint64_t ib, std::uint64_t i) const noexcept {
        if (i <= ib) return ~std::uint64_t{0};
        const BitmapWord* up = s + page_bit_words();
        const std::uint64_t j = i - 1; // the highest candidate
        std::uint64_t k = j >> 6;
        std::uint64_t m = up[k].load(std::memory_order_acquire) & (~std::uint64_t{0} >> (63 - (j & 63)));
        while (m == 0) {
            if (k * detail::word_bits <= ib) return ~std::uint64_t{0};
            m = up[--k].load(std::memory_order_acquire);
        }
        const std::uint64_t last = k * detail::word_bits + 63 - static_cast<std::uint64_t>(std::countl_zero(m));
        return last >= ib ? last : ~std::uint64_t{0};
    }

    /// Calls f(first_word, pointer, count) for the runs of summarised pages inside the words [b, e) of the
    /// reservation (b at or beyond the mark), ascending or descending; false when f stopped.
    template <bool Reverse, class F>
    bool for_each_sparse_run(std::uint64_t b, std::uint64_t e, F& f) const {
        if (b >= e) return true;
        const BitmapWord* s = sparse_pages_.load(std::memory_order_acquire); // pairs with mark_sparse_page
        if (s == nullptr) [[likely]]
            return true;
        const std::uint64_t page_words = page_words_of();
        const std::uint64_t pb = b / page_words, pe = (e - 1) / page_words + 1;
        const auto run = [&](std::uint64_t p, std::uint64_t q) { // pages [p, q)
            const std::uint64_t lo = std::max(b, p * page_words), hi = std::min(e, q * page_words);
            return f(lo, seg_ + lo, static_cast<std::size_t>(hi - lo));
        };
        if constexpr (!Reverse) {
            for (std::uint64_t p = pb; p < pe;) {
                p = next_page(s, p, pe, true);
                if (p == pe) break;
                const std::uint64_t q = next_page(s, p, pe, false);
                if (!run(p, q)) return false;
                p = q;
            }
        } else {
            for (std::uint64_t q = pe; q > pb;) {
                q = prev_page_end(s, pb, q, true);
                if (q == pb) break;
                const std::uint64_t p = prev_page_end(s, pb, q, false);
                if (!run(p, q)) return false;
                q = p;
            }
        }
        return true;
    }

    /// The summarised pages' part of memory_bytes(): each page (2 MiB page once advised for huge pages) beyond
    /// those the prefix's count covers, and the summary itself.
    [[nodiscard]] std::size_t sparse_bytes() const noexcept {
        const BitmapWord* s = sparse_pages_.load(std::memory_order_acquire);
        if (s == nullptr) return 0;
        const std::uint64_t page_words = page_words_of(), pages = seg_words_ / page_words;
        const std::size_t granule =
            huge_advised_.load(std::memory_order_relaxed) ? detail::huge_page_bytes : detail::os_page_bytes();
        const std::uint64_t per_granule = std::max<std::uint64_t>(1, granule / (page_words * sizeof(BitmapWord)));
        const std::uint64_t lim = std::max(limit_.load(std::memory_order_relaxed), initial_words_);
        std::size_t bytes = static_cast<std::size_t>(sparse_words()) * sizeof(BitmapWord);
        for (std::uint64_t p = (lim * sizeof(BitmapWord) + granule - 1) / granule * per_granule; p < pages;) {
            p = next_page(s, p, pages, true);
            if (p == pages) break;
            bytes += granule;
            p = (p / per_granule + 1) * per_granule;
        }
        return bytes;
    }

    /// Gives the pages written beyond the prefix back to the OS and drops the summary. Exclusive.
    void release_sparse_pages() noexcept {
        BitmapWord* s = sparse_pages_.load(std::memory_order_relaxed);
        if (s == nullptr) return;
        auto discard = [](std::uint64_t, BitmapWord* p, std::size_t n) {
            detail::discard_reserved_words(p, n);
            return true;
        };
        for_each_sparse_run<false>(limit_.load(std::memory_order_relaxed), seg_words_, discard);
        sparse_pages_.store(nullptr, std::memory_order_relaxed);
        sparse_count_.store(0, std::memory_order_relaxed);
        detail::free_zeroed_words(s, sparse_words());
    }

    void advise_huge() noexcept {
        if (!huge_advised_.exchange(true, std::memory_order_relaxed)) detail::advise_huge_pages(seg_, reserved_bytes_);
    }

    /// Zeroes the first segment's words below the high-water mark, giving a reservation's whole pages back to the
    /// OS. Exclusive.
    void release_segment() noexcept {
        const std::uint64_t lim = limit_.load(std::memory_order_relaxed);
        if (reserved_bytes_ != 0)
            detail::zero_reserved_words(seg_, lim);
        else
            for (std::uint64_t i = 0; i < lim; ++i) seg_[i].store(0, std::memory_order_relaxed);
    }

    /// test_bit past the first segment. Out of line so that the tree walk is not inlined into every caller's loop:
    /// the inline test_bit stays a compare and a load, which leaves the caller's registers and layout alone (an
    /// already-set claim in a loop measured 0.15-0.2 ns faster, random, 1M bits).
    [[nodiscard]] KEYSPACE_NOINLINE bool test_bit_in_tree(std::uint64_t i) const noexcept {
        const std::uint64_t w = i >> 6;
        const Chunk* c = find_chunk(w >> chunk_words_log);
        return c != nullptr && ((c->words[w & (chunk_words - 1)].load(std::memory_order_acquire) >> (i & 63)) & 1) != 0;
    }

    [[nodiscard]] Chunk* find_chunk(std::uint64_t c) const noexcept {
        const std::uintptr_t r = root_.load(std::memory_order_acquire); // pairs with the release in grow_root
        const unsigned h = height_of(r);
        if (h == 0 || (c >> span_log(h)) != 0) return nullptr;
        const Node* n = node_of(r);
        for (unsigned level = h - 1; level > 0; --level) {
            // Acquire pairs with the release CAS in get_or_create: the child's zero-fill is visible.
            n = static_cast<const Node*>(n->child[(c >> span_log(level)) & (fanout - 1)].load(std::memory_order_acquire));
            if (n == nullptr) return nullptr;
        }
        return static_cast<Chunk*>(n->child[c & (fanout - 1)].load(std::memory_order_acquire));
    }

    /// The slow write path: raise the logical capacity to cover word w, then find or create its chunk.
    KEYSPACE_NOINLINE BitmapWord& grow_to_word(std::uint64_t w) {
        if (!owned_) detail::throw_beyond_fixed_capacity(w * detail::word_bits, capacity());
        ensure_capacity(w * detail::word_bits + (detail::word_bits - 1));
        return make_chunk(w >> chunk_words_log)->words[w & (chunk_words - 1)];
    }

    Chunk* make_chunk(std::uint64_t c) {
        std::uintptr_t r = root_.load(std::memory_order_acquire); // pairs with the release in grow_root
        while (height_of(r) == 0 || (c >> span_log(height_of(r))) != 0) r = grow_root(r);
        Node* n = node_of(r);
        for (unsigned level = height_of(r) - 1; level > 0; --level)
            n = get_or_create<Node>(n->child[(c >> span_log(level)) & (fanout - 1)]);
        return get_or_create<Chunk>(n->child[c & (fanout - 1)]);
    }

    template <class T>
    T* get_or_create(std::atomic<void*>& slot) {
        void* p = slot.load(std::memory_order_acquire); // pairs with the release CAS below (another thread's)
        if (p != nullptr) return static_cast<T*>(p);
        T* fresh = detail::allocate_growth_node<T>();
        // Release on success publishes the zero-fill; acquire on failure sees the winner's zero-fill.
        if (slot.compare_exchange_strong(p, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
            memory_.fetch_add(sizeof(T), std::memory_order_relaxed); // rare: once per chunk or node
            return fresh;
        }
        delete fresh;
        return static_cast<T*>(p);
    }

    /// Adds a level above the root: the new root's first child is the old root, which never moves.
    std::uintptr_t grow_root(std::uintptr_t r) {
        Node* fresh = detail::allocate_growth_node<Node>();
        if (r != 0) fresh->child[0].store(node_of(r), std::memory_order_relaxed); // published by the CAS below
        const std::uintptr_t next = reinterpret_cast<std::uintptr_t>(fresh) | (height_of(r) + 1);
        // Release publishes the node and its first child; acquire on failure sees the winner's root.
        if (root_.compare_exchange_strong(r, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
            memory_.fetch_add(sizeof(Node), std::memory_order_relaxed);
            return next;
        }
        delete fresh;
        return r;
    }

    template <bool Reverse, class F>
    bool visit(Node* n, unsigned h, std::uint64_t base_chunk, std::uint64_t wb, std::uint64_t we, F& f) const {
        // Children of n at height h each span 2^span_log(h-1) chunks.
        const std::uint64_t child_log = span_log(h - 1);
        const std::uint64_t cb = wb >> chunk_words_log, ce = (we - 1) >> chunk_words_log; // inclusive chunk range
        const std::uint64_t node_end = base_chunk + (fanout << child_log) - 1;             // inclusive
        if (cb > node_end || ce < base_chunk) return true;
        const std::uint64_t first = (std::max(cb, base_chunk) - base_chunk) >> child_log;
        const std::uint64_t last = (std::min(ce, node_end) - base_chunk) >> child_log;
        for (std::uint64_t k = 0; k <= last - first; ++k) {
            const std::uint64_t i = Reverse ? last - k : first + k;
            void* child = n->child[i].load(std::memory_order_acquire); // pairs with the release CAS in get_or_create
            if (child == nullptr) continue;
            const std::uint64_t child_base = base_chunk + (i << child_log);
            if (h > 1) {
                if (!visit<Reverse>(static_cast<Node*>(child), h - 1, child_base, wb, we, f)) return false;
            } else {
                const std::uint64_t cw = child_base << chunk_words_log;
                const std::uint64_t lo = std::max(wb, cw), hi = std::min(we, cw + chunk_words);
                if (lo < hi && !f(lo, &static_cast<Chunk*>(child)->words[lo - cw], static_cast<std::size_t>(hi - lo)))
                    return false;
            }
        }
        return true;
    }

    static void free_tree(std::uintptr_t r) noexcept {
        if (r != 0) free_node(node_of(r), height_of(r));
    }
    static void free_node(Node* n, unsigned h) noexcept {
        for (auto& c : n->child) {
            void* p = c.load(std::memory_order_relaxed);
            if (p == nullptr) continue;
            if (h > 1)
                free_node(static_cast<Node*>(p), h - 1);
            else
                delete static_cast<Chunk*>(p);
        }
        delete n;
    }

    const std::uint64_t initial_bits_;
    const std::uint64_t initial_words_; // the initial capacity's words counted as allocated (<= max_eager_bits); limit_ starts and resets here
    // The hot members, together: test_bit reads seg_ and seg_words_, word_for_write seg_ and limit_.
    BitmapWord* const seg_;
    const std::uint64_t seg_words_; // the contiguous first segment: the reservation, or the initial words
    // Words [0, limit_) of the first segment may have been written (the high-water mark, page-rounded, within the
    // capacity): the written prefix. Writes below it are inline, writes at or beyond it in the reservation go
    // through commit_word, which raises it or marks the page in sparse_pages_.
    // Raised only by writers (a CAS), reset only by the exclusive resets; equal to seg_words_ without a reservation.
    std::atomic<std::uint64_t> limit_;
    std::atomic<std::uint64_t> capacity_;
    // One bit per page of the reservation written beyond the prefix (commit_word): allocated on the first such
    // write, marked with release before the word's store, cleared only by reset_to_initial. Null without one.
    std::atomic<BitmapWord*> sparse_pages_{nullptr};
    std::atomic<std::uint64_t> sparse_count_{0}; // pages marked in sparse_pages_
    std::atomic<std::uintptr_t> root_{0};
    const std::size_t reserved_bytes_ = 0; // bytes of the reservation, 0 without one
    const bool owned_ = true;
    std::atomic<bool> huge_advised_{false};
    std::atomic<std::size_t> memory_{0}; // the tree's chunks and nodes
};

/// What BasicAtomicBitmap needs from its Storage parameter (see the file comment).
template <class S>
concept BitmapStorage =
    std::constructible_from<S, std::uint64_t> &&
    requires(S& s, const S& cs, std::uint64_t w, bool (*f)(std::uint64_t, BitmapWord*, std::size_t)) {
        { cs.capacity() } -> std::same_as<std::uint64_t>;
        { s.ensure_capacity(w) } -> std::same_as<bool>;
        { cs.word(w) } -> std::convertible_to<const BitmapWord*>;
        { cs.test_bit(w) } -> std::same_as<bool>;
        { s.word_for_write(w) } -> std::same_as<BitmapWord&>;
        { cs.for_each_run(w, w, f) } -> std::same_as<bool>;
        { cs.for_each_run_reverse(w, w, f) } -> std::same_as<bool>;
        { cs.memory_bytes() } -> std::convertible_to<std::size_t>;
        s.zero_all();
        s.reset_to_initial();
    };

static_assert(BitmapStorage<FixedStorage>);
static_assert(BitmapStorage<GrowableStorage>);

KEYSPACE_END_NAMESPACE
