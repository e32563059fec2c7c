/** @file keyspace/atomic_bitmap.hpp
 *  BasicAtomicBitmap: one bit per ID, lock-free test/set/clear/claim from any number of threads, growth that never
 *  loses a write, and SIMD range kernels. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/counters.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/simd.hpp>
#include <keyspace/storage.hpp>

#include <algorithm> // for std::min
#include <atomic>    // for std::atomic, std::memory_order
#include <bit>       // for std::popcount, std::countr_zero, std::countl_zero
#include <cstddef>   // for std::size_t
#include <cstdint>   // for std::uint64_t
#include <optional>  // for std::optional
#include <utility>   // for std::forward

KEYSPACE_BEGIN_NAMESPACE

/** A concurrent bitmap over IDs in [0, max_supported_id).
 *
 *  Thread safety: every member is lock-free and safe to call from any number of threads at once, except `reset()`
 *  and `clear_all()`, which are *exclusive* (no other call may run concurrently).
 *  Ordering: `set`, `clear`, `test_and_set`, `test_and_clear` and the range writes are acquire-release
 *  read-modify-writes of the word; `test` is an acquire load. So whatever a thread wrote before `set(i)` is visible to
 *  a thread whose `test(i)` returns true. Scans (`count_range`, `find_*`, `for_each_set`) read each word once,
 *  relaxed; under concurrent writes they see every word as it was at some moment during the call.
 *  Counting: `count()` is maintained by the writers through per-thread cells (no shared counter, no second atomic
 *  read-modify-write on the claim path) and is exact whenever no write is in flight. It costs one load per thread
 *  that ever wrote, no scan.
 *
 *  @tparam Storage a BitmapStorage: GrowableStorage (default; a reserved contiguous range of 2^33 bits committed page
 *  by page as it is written, then 8 KiB chunks) or
 *  FixedStorage (one array; writes beyond its capacity throw std::length_error).
 *  @tparam Counter how count() is kept (<keyspace/counters.hpp>): ThreadCounter (default; per-thread cells, no second
 *  RMW) or SharedCounter (one relaxed atomic; for many small bitmaps that see little concurrent writing).
 *
 *  Instruction sets: the members that run a SIMD kernel (count, recount, empty, count_range, find_*, for_each_set)
 *  carry KEYSPACE_ISA_ABI, so files of one program built with different -m flags each run their own kernels on the
 *  same bitmap type (see <keyspace/detail/isa.hpp>). */
template <BitmapStorage Storage = GrowableStorage, class Counter = ThreadCounter>
class BasicAtomicBitmap {
public:
    /// The storage policy.
    using storage_type = Storage;
    /// The count() policy.
    using counter_type = Counter;
    /// Bits a default-constructed bitmap addresses before it grows.
    static constexpr std::uint64_t default_capacity = 4096;

    /// A bitmap of default_capacity bits.
    BasicAtomicBitmap() : BasicAtomicBitmap(default_capacity) {}
    /// A bitmap addressing capacity_bits (rounded up to a multiple of 64) without growth.
    /// Throws std::length_error when capacity_bits > max_supported_id.
    explicit BasicAtomicBitmap(std::uint64_t capacity_bits) : storage_(capacity_bits) {}
    /// A bitmap whose storage is built from args (e.g. GrowableStorage's adopting constructor).
    template <class... Args>
        requires std::constructible_from<Storage, Args...>
    explicit BasicAtomicBitmap(std::in_place_t, Args&&... args) : storage_(std::forward<Args>(args)...) {}
    /// BasicAtomicBitmap(capacity_bits).
    [[nodiscard]] static BasicAtomicBitmap with_capacity(std::uint64_t capacity_bits) {
        return BasicAtomicBitmap(capacity_bits);
    }

    BasicAtomicBitmap(const BasicAtomicBitmap&) = delete;
    BasicAtomicBitmap& operator=(const BasicAtomicBitmap&) = delete;

    /// Bits addressable without growth.
    [[nodiscard]] std::uint64_t capacity() const noexcept { return storage_.capacity(); }

    /// Grows so that bit_index is addressable; true if this call grew the capacity.
    /// Throws std::length_error for bit_index >= max_supported_id or beyond a fixed capacity.
    bool ensure_capacity(std::uint64_t bit_index) {
        check_id("keyspace::AtomicBitmap::ensure_capacity", bit_index);
        return storage_.ensure_capacity(bit_index);
    }

    // ---- single-bit operations ----------------------------------------------------------------------------------

    /// Sets bit i; true if this call changed it from 0 to 1. Grows as needed: one fetch_or on the word.
    /// Throws std::length_error for i >= max_supported_id (or beyond a fixed capacity), std::bad_alloc on no memory.
    KEYSPACE_ALWAYS_INLINE bool set(std::uint64_t i) {
        auto& w = writable_word(i, "keyspace::AtomicBitmap::set");
        // The mask is formed after the branches of writable_word so that GCC sees a constant-shape `1 << i` at
        // the fetch_or and emits `lock bts` rather than a CAS loop.
        const std::uint64_t m = detail::bit_mask(i);
        const bool changed = (w.fetch_or(m, std::memory_order_acq_rel) & m) == 0;
        if (changed) count_.add(1);
        return changed;
    }

    /// Claims bit i: true if it was 0 and this call set it. Returns after one load when the bit is already set.
    /// Grows and throws like set().
    KEYSPACE_ALWAYS_INLINE bool test_and_set(std::uint64_t i) {
        // Already claimed: answer from one load, with no RMW and no cache-line bounce. Correct because a set bit
        // stays set until a clear, so `false` is what a fetch_or at this moment would return; and the load is
        // acquire, pairing with the acq_rel fetch_or that set the bit, so the caller sees what the winner wrote
        // before its claim, exactly as after a failed RMW.
        // The load is test() itself (the storage's one compare and load, false where nothing is committed): no id
        // check, capacity check or growth before it, so this path costs what test() costs plus the branch. A set
        // bit is committed and below 2^63, so skipping the id check here changes no answer and no exception.
        // [[likely]] lays the already-set answer out as the fall-through path: the claim that wins pays an RMW
        // (~5 ns) beside which a taken branch and a second look-up of the word (in L1 now) are nothing.
        if (storage_.test_bit(i)) [[likely]]
            return false;
        auto& w = writable_word(i, "keyspace::AtomicBitmap::test_and_set");
        const std::uint64_t m = detail::bit_mask(i); // after writable_word: see set()
        const bool won = (w.fetch_or(m, std::memory_order_acq_rel) & m) == 0;
        if (won) count_.add(1);
        return won;
    }

    /// Clears bit i; true if this call changed it from 1 to 0. Beyond the capacity: no-op, false.
    KEYSPACE_ALWAYS_INLINE bool clear(std::uint64_t i) noexcept {
        BitmapWord* w = readable_word(i);
        if (w == nullptr) return false;
        const std::uint64_t m = detail::bit_mask(i);
        const bool changed = (w->fetch_and(~m, std::memory_order_acq_rel) & m) != 0;
        if (changed) count_.add(-1);
        return changed;
    }

    /// Clears bit i if it is set: true if it was 1 and this call cleared it. One load when it is already clear.
    KEYSPACE_ALWAYS_INLINE bool test_and_clear(std::uint64_t i) noexcept {
        BitmapWord* w = readable_word(i);
        if (w == nullptr) return false;
        const std::uint64_t m = detail::bit_mask(i);
        if ((w->load(std::memory_order_acquire) & m) == 0) return false;
        const bool won = (w->fetch_and(~m, std::memory_order_acq_rel) & m) != 0;
        if (won) count_.add(-1);
        return won;
    }

    /// The 64 bits [64 * word_index, 64 * word_index + 64) as one acquire load; 0 where no memory is committed.
    /// The building block of word-at-a-time iteration.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE std::uint64_t word(std::uint64_t word_index) const noexcept {
        const BitmapWord* w = storage_.word(word_index); // nothing is committed past max_supported_word
        return w != nullptr ? w->load(std::memory_order_acquire) : 0;
    }

    /// Hints the cache to load the word holding bit i (no effect where no memory is committed).
    KEYSPACE_ALWAYS_INLINE void prefetch(std::uint64_t i) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
        if (const BitmapWord* w = readable_word(i)) __builtin_prefetch(w);
#else
        (void)i;
#endif
    }

    /// Whether bit i is set; false beyond the capacity.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool test(std::uint64_t i) const noexcept { return storage_.test_bit(i); }

    // ---- counting -----------------------------------------------------------------------------------------------

    /// Number of set bits: exact whenever no write is in flight; a few loads, no scan. Over shared storage
    /// (memory other processes write, see <keyspace/shared_region.hpp>) it is a popcount of the bits instead.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t count() const noexcept {
        if constexpr (requires { storage_.shared(); }) {
            if (storage_.shared()) [[unlikely]]
                return recount();
        }
        return count_.value();
    }
    /// Number of set bits by a popcount of every word (SIMD): exact at any quiescent moment whoever wrote them.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t recount() const noexcept { return count_range(0, capacity()); }
    KEYSPACE_ISA_ABI
    /// count() == 0.
    [[nodiscard]] bool empty() const noexcept { return count() == 0; }

    /// Number of set bits in [b, e), by the SIMD popcount kernel. Throws std::invalid_argument when b > e.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t count_range(std::uint64_t b, std::uint64_t e) const {
        check_range("keyspace::AtomicBitmap::count_range", b, e);
        e = std::min(e, capacity());
        if (b >= e) return 0;
        const std::uint64_t wb = detail::word_of(b), wl = detail::word_of(e - 1);
        std::uint64_t total = 0;
        storage_.for_each_run(wb, wl + 1, [&](std::uint64_t w0, const BitmapWord* p, std::size_t n) {
            std::size_t s = 0, t = n;
            if (w0 == wb) {
                std::uint64_t m = detail::mask_from(b);
                if (wb == wl) m &= detail::mask_below(e);
                total += static_cast<std::uint64_t>(std::popcount(detail::simd::load(p[0]) & m));
                s = 1;
            }
            if (s < t && w0 + t - 1 == wl) {
                total += static_cast<std::uint64_t>(std::popcount(detail::simd::load(p[t - 1]) & detail::mask_below(e)));
                --t;
            }
            if (s < t) total += detail::simd::popcount(p + s, t - s);
            return true;
        });
        return total;
    }

    // ---- searching ----------------------------------------------------------------------------------------------

    /// First set bit >= from, or nullopt.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<std::uint64_t> find_next_set(std::uint64_t from) const noexcept {
        return find_next_set(from, max_supported_id);
    }

    /// First set bit in [from, limit), or nullopt. Never reads a word past limit.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<std::uint64_t> find_next_set(std::uint64_t from, std::uint64_t limit) const noexcept {
        limit = std::min(limit, capacity());
        if (from >= limit) return std::nullopt;
        const std::uint64_t wb = detail::word_of(from), wl = detail::word_of(limit - 1);
        std::optional<std::uint64_t> found;
        storage_.for_each_run(wb, wl + 1, [&](std::uint64_t w0, const BitmapWord* p, std::size_t n) {
            for (std::size_t k = 0; k < n; ++k) {
                k += detail::simd::find_first(p + k, n - k, 0);
                if (k >= n) break;
                std::uint64_t w = detail::simd::load(p[k]);
                if (w0 + k == wb) w &= detail::mask_from(from);
                if (w0 + k == wl) w &= detail::mask_below(limit);
                if (w != 0) {
                    found = (w0 + k) * 64 + static_cast<std::uint64_t>(std::countr_zero(w));
                    return false;
                }
            }
            return true;
        });
        return found;
    }

    /// First clear bit in [from, limit), or nullopt. Bits beyond the capacity read as clear.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<std::uint64_t> find_next_unset(std::uint64_t from, std::uint64_t limit) const noexcept {
        limit = std::min(limit, max_supported_id);
        if (from >= limit) return std::nullopt;
        const std::uint64_t wb = detail::word_of(from), wl = detail::word_of(limit - 1);
        std::optional<std::uint64_t> found;
        std::uint64_t next_word = wb; // the first word not yet examined
        const auto gap_at = [&](std::uint64_t w) { return w == wb ? from : w * 64; };
        const bool finished = !storage_.for_each_run(
            wb, wl + 1, [&](std::uint64_t w0, const BitmapWord* p, std::size_t n) {
                if (w0 > next_word) { // an uncommitted word reads as zero
                    found = gap_at(next_word);
                    return false;
                }
                for (std::size_t k = 0; k < n; ++k) {
                    k += detail::simd::find_first(p + k, n - k, ~0ull);
                    if (k >= n) break;
                    std::uint64_t w = ~detail::simd::load(p[k]);
                    if (w0 + k == wb) w &= detail::mask_from(from);
                    if (w0 + k == wl) w &= detail::mask_below(limit);
                    if (w != 0) {
                        found = (w0 + k) * 64 + static_cast<std::uint64_t>(std::countr_zero(w));
                        return false;
                    }
                }
                next_word = w0 + n;
                return true;
            });
        if (!finished && next_word <= wl) found = gap_at(next_word);
        return found;
    }

    /// Last set bit < before, or nullopt.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<std::uint64_t> find_prev_set(std::uint64_t before) const noexcept {
        return find_prev_set(before, 0);
    }
    /// Last set bit in [lowest, before), or nullopt; reads no word below lowest's.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<std::uint64_t> find_prev_set(std::uint64_t before, std::uint64_t lowest) const noexcept {
        before = std::min(before, capacity());
        if (before <= lowest) return std::nullopt;
        const std::uint64_t wl = detail::word_of(before - 1), wf = detail::word_of(lowest);
        std::optional<std::uint64_t> found;
        storage_.for_each_run_reverse(wf, wl + 1, [&](std::uint64_t w0, const BitmapWord* p, std::size_t n) {
            for (std::size_t end = n; end > 0;) {
                const std::size_t k = detail::simd::find_last_nonzero(p, end);
                if (k == end) break;
                std::uint64_t w = detail::simd::load(p[k]);
                if (w0 + k == wl) w &= detail::mask_below(before);
                if (w0 + k == wf) w &= detail::mask_from(lowest);
                if (w != 0) {
                    found = (w0 + k) * 64 + 63 - static_cast<std::uint64_t>(std::countl_zero(w));
                    return false;
                }
                end = k;
            }
            return true;
        });
        return found;
    }

    /// Calls f(id) for each set bit in [b, e), ascending. f may return bool; false stops the walk.
    /// Throws std::invalid_argument when b > e; otherwise throws only what f throws.
    template <class F>
    KEYSPACE_ISA_ABI
    void for_each_set(std::uint64_t b, std::uint64_t e, F&& f) const {
        check_range("keyspace::AtomicBitmap::for_each_set", b, e);
        e = std::min(e, capacity());
        if (b >= e) return;
        const std::uint64_t wb = detail::word_of(b), wl = detail::word_of(e - 1);
        storage_.for_each_run(wb, wl + 1, [&](std::uint64_t w0, const BitmapWord* p, std::size_t n) {
            const std::uint64_t first = w0 == wb ? detail::mask_from(b) : ~0ull;
            const std::uint64_t last = w0 + n - 1 == wl ? detail::mask_below(e) : ~0ull;
            return detail::simd::for_each_set_bit(p, n, w0 * 64, first, last, f);
        });
    }

    // ---- range writes -------------------------------------------------------------------------------------------

    /// Sets [b, e) with one atomic fetch_or per word that is not already full; returns how many bits changed.
    /// Grows. Throws std::invalid_argument when b > e, std::length_error when e > max_supported_id (or beyond a
    /// fixed capacity; then no bit has been set), std::bad_alloc when growth fails (a prefix of the range may then
    /// be set; count() includes it).
    std::uint64_t set_range(std::uint64_t b, std::uint64_t e) {
        check_range("keyspace::AtomicBitmap::set_range", b, e);
        if (b == e) return 0;
        if (e > max_supported_id) detail::throw_id_too_large("keyspace::AtomicBitmap::set_range", e - 1);
        storage_.ensure_capacity(e - 1);
        const std::uint64_t wb = detail::word_of(b), wl = detail::word_of(e - 1);
        std::uint64_t changed = 0;
        KEYSPACE_TRY {
            for (std::uint64_t w = wb; w <= wl; ++w) {
                std::uint64_t m = ~0ull;
                if (w == wb) m &= detail::mask_from(b);
                if (w == wl) m &= detail::mask_below(e);
                auto& word = storage_.word_for_write(w);
                if ((word.load(std::memory_order_relaxed) & m) == m) continue; // already full: skip the RMW
                const std::uint64_t old = word.fetch_or(m, std::memory_order_acq_rel);
                changed += static_cast<std::uint64_t>(std::popcount(m & ~old));
            }
        } KEYSPACE_CATCH_ALL { // std::bad_alloc mid-range: the bits set so far stay set and counted
            if (changed != 0) count_.add(static_cast<std::int64_t>(changed));
            KEYSPACE_RETHROW;
        }
        if (changed != 0) count_.add(static_cast<std::int64_t>(changed));
        return changed;
    }

    /// Clears [b, e) with one atomic fetch_and per word that has a bit to clear; returns how many bits changed.
    /// Throws std::invalid_argument when b > e.
    std::uint64_t clear_range(std::uint64_t b, std::uint64_t e) {
        check_range("keyspace::AtomicBitmap::clear_range", b, e);
        e = std::min(e, capacity());
        if (b >= e) return 0;
        const std::uint64_t wb = detail::word_of(b), wl = detail::word_of(e - 1);
        std::uint64_t changed = 0;
        storage_.for_each_run(wb, wl + 1, [&](std::uint64_t w0, BitmapWord* p, std::size_t n) {
            for (std::size_t k = 0; k < n; ++k) {
                std::uint64_t m = ~0ull;
                if (w0 + k == wb) m &= detail::mask_from(b);
                if (w0 + k == wl) m &= detail::mask_below(e);
                if ((p[k].load(std::memory_order_relaxed) & m) == 0) continue; // nothing to clear: skip the RMW
                const std::uint64_t old = p[k].fetch_and(~m, std::memory_order_acq_rel);
                changed += static_cast<std::uint64_t>(std::popcount(m & old));
            }
            return true;
        });
        if (changed != 0) count_.add(-static_cast<std::int64_t>(changed));
        return changed;
    }

    // ---- memory and exclusive resets ----------------------------------------------------------------------------

    /// Bytes currently allocated for bits (and, for the growable storage, its directory nodes). For a growable
    /// storage's reserved range: the initial capacity's bytes, or once written beyond them, the pages up to the
    /// highest word written (an upper bound of what is resident; see GrowableStorage).
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return storage_.memory_bytes(); }

    /// Clears everything and returns to the initial capacity, releasing grown memory. Exclusive.
    void clear_all() noexcept {
        storage_.reset_to_initial();
        count_.reset();
    }

    /// Clears everything and keeps the capacity and memory. Exclusive.
    void reset() noexcept {
        storage_.zero_all();
        count_.reset();
    }

    /// The storage policy object (for storage-specific queries).
    [[nodiscard]] const Storage& storage() const noexcept { return storage_; }

private:
    KEYSPACE_ALWAYS_INLINE static void check_id(const char* fn, std::uint64_t i) {
        if (i >= max_supported_id) [[unlikely]]
            detail::throw_id_too_large(fn, i);
    }
    static void check_range(const char* fn, std::uint64_t b, std::uint64_t e) { detail::check_range(fn, b, e); }

    KEYSPACE_ALWAYS_INLINE BitmapWord& writable_word(std::uint64_t i, const char* fn) {
        check_id(fn, i);
        return storage_.word_for_write(detail::word_of(i));
    }
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE BitmapWord* readable_word(std::uint64_t i) const noexcept {
        // No separate i < 2^63 check: no storage ever commits a word at or beyond max_supported_word, so such an i
        // finds no memory (and the common contiguous case stays one compare and one load).
        return storage_.word(detail::word_of(i));
    }

    Storage storage_;
    Counter count_;
};

/// The default bitmap: growable, lazily committed.
using AtomicBitmap = BasicAtomicBitmap<>;
/// A bitmap whose capacity is fixed at construction; `test` is a single load.
using FixedAtomicBitmap = BasicAtomicBitmap<FixedStorage>;

/// The read kernels compiled into the calling file, e.g. "sse2", "avx2", "avx512+vpopcntdq", "arm64+neon", "scalar":
/// they follow that file's compiler flags (-mavx2, -march=native...), or are scalar with KEYSPACE_NO_SIMD.
KEYSPACE_ISA_ABI
[[nodiscard]] inline const char* simd_kernel_name() noexcept { return detail::simd::kernel_name(); }

KEYSPACE_END_NAMESPACE
