/** @file keyspace/detail/storage.hpp
 *  The machinery under the storage policies of <keyspace/storage.hpp> (FixedStorage, GrowableStorage, the
 *  BitmapStorage concept): zeroed word arrays (calloc, or 2 MiB-aligned mappings advised for huge pages), the tag of
 *  the adopting constructor, and the growth test hook. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/detail/bits.hpp>

#include <atomic>    // for std::atomic
#include <cstddef>   // for std::size_t
#include <cstdint>   // for std::uint64_t, std::uintptr_t
#include <cstdlib>   // for std::calloc, std::free
#include <new>       // for std::bad_alloc

#if defined(__linux__) && !defined(KEYSPACE_NO_HUGE_PAGES)
#include <sys/mman.h> // for mmap, munmap, madvise
#include <unistd.h>   // for sysconf
#define KEYSPACE_DETAIL_MAP_HUGE_PAGES 1
#endif

KEYSPACE_BEGIN_NAMESPACE

namespace detail {

/// Contiguous word arrays of at least this many bytes are mapped on 2 MiB boundaries and advised MADV_HUGEPAGE
/// (Linux; define KEYSPACE_NO_HUGE_PAGES to opt out). Where transparent huge pages are enabled ("always" or
/// "madvise"), the kernel then backs them with 2 MiB pages: one TLB entry covers 16M IDs instead of 32K, which on the
/// reference machine lifts a 256 MiB count_range with the AVX2 kernel from ~9 to ~13 GB/s (random access at 10^9 IDs
/// is bound by DRAM latency and does not change). The cost: memory is committed 2 MiB at a time as words are first
/// written (never more than the array itself), and the first write into a fresh 2 MiB page zeroes it in one fault.
inline constexpr std::size_t huge_page_bytes = std::size_t{1} << 21;
inline constexpr std::size_t huge_page_min_bytes = std::size_t{4} << 20;

/// Whether an array of `words` words takes the mapped path (it must then be released by free_zeroed_words with the
/// same count, which allocate/free pairs below do).
[[nodiscard]] constexpr bool maps_huge_pages(std::uint64_t words) noexcept {
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    return words >= huge_page_min_bytes / sizeof(atomic_word);
#else
    (void)words;
    return false;
#endif
}

#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
/// Bytes kept mapped for `words` words on the huge-page path: a whole number of 2 MiB pages.
[[nodiscard]] constexpr std::size_t mapped_bytes(std::uint64_t words) noexcept {
    const auto bytes = static_cast<std::size_t>(words) * sizeof(atomic_word);
    return (bytes + huge_page_bytes - 1) & ~(huge_page_bytes - 1);
}
#endif

/// Zero-filled words, committed by the OS page by page as they are first written: from calloc (large blocks come
/// straight from the OS as untouched zero pages), or for arrays of huge_page_min_bytes and more, a private
/// anonymous mapping aligned to 2 MiB and advised MADV_HUGEPAGE (advice only: where it is refused, 4 KiB pages).
/// Throws std::bad_alloc. Release with free_zeroed_words(p, words).
[[nodiscard]] inline atomic_word* allocate_zeroed_words(std::uint64_t words) {
    if (words == 0) return nullptr;
    // atomic_word is an implicit-lifetime type the size of a std::uint64_t (asserted in detail/atomic_word.hpp):
    // calloc creates the array of words implicitly, and zero bytes are zero words. A fresh anonymous mapping is
    // zero-filled memory obtained from the OS, used the same way.
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    if (maps_huge_pages(words)) {
        if (words > (~std::size_t{0} - 2 * huge_page_bytes) / sizeof(atomic_word)) fail_bad_alloc();
        const std::size_t keep = mapped_bytes(words), total = keep + huge_page_bytes;
        void* m = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) fail_bad_alloc();
        // Keep the 2 MiB-aligned part; give back the slack on both sides (whole pages: the mapping is page aligned).
        const auto base = reinterpret_cast<std::uintptr_t>(m);
        const std::uintptr_t aligned = (base + huge_page_bytes - 1) & ~std::uintptr_t{huge_page_bytes - 1};
        const std::size_t head = aligned - base, tail = total - head - keep;
        if (head != 0) ::munmap(m, head);
        if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + keep), tail);
        ::madvise(reinterpret_cast<void*>(aligned), keep, MADV_HUGEPAGE); // best effort
        return reinterpret_cast<atomic_word*>(aligned);
    }
#endif
    void* p = std::calloc(static_cast<std::size_t>(words), sizeof(atomic_word));
    if (p == nullptr) fail_bad_alloc();
    return static_cast<atomic_word*>(p);
}

/// Releases what allocate_zeroed_words(words) returned.
inline void free_zeroed_words(atomic_word* p, std::uint64_t words) noexcept {
    if (p == nullptr) return;
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    if (maps_huge_pages(words)) {
        ::munmap(static_cast<void*>(p), mapped_bytes(words));
        return;
    }
#else
    (void)words;
#endif
    std::free(p);
}

// ---- the reserved contiguous range of GrowableStorage --------------------------------------------------------------

/// Bytes of address space a growable storage reserves for its contiguous segment: 1 GiB, 2^33 bits (8.6 * 10^9
/// IDs) reached by one compare and one load; IDs beyond it go through the radix tree. Only address space: pages are
/// committed by the OS as words are first written (MAP_NORESERVE), and a reservation is one mapping. 1 GiB because
/// a process may hold thousands of trackers: with the cap below on live reservations, all of them together take at
/// most 16 TiB of the 128 TiB of x86-64 user space and 16384 of the 65530 mappings vm.max_map_count allows by
/// default. Read at construction only; 0 disables the reservation (the small first segment and the tree, as on
/// systems without mmap). Tuning and test knob: set it while no storage is being constructed. Lower it under
/// emulators that track every guest page of a mapping (qemu-user up to 7.2: ~4 MiB of host memory per reserved GiB).
inline std::atomic<std::size_t> growable_reservation_bytes{std::size_t{1} << 30};

/// Live reservations allowed at once in the process (see growable_reservation_bytes); a storage constructed beyond
/// it falls back to the small segment and the tree. Tuning and test knob.
inline std::atomic<std::size_t> growable_reservation_limit{16384};

/// Live reservations now (constructions minus destructions of reserving storages).
inline std::atomic<std::size_t> growable_reservations_live{0};

/// The OS page size (4096 where it cannot be asked).
[[nodiscard]] inline std::size_t os_page_bytes() noexcept {
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    static const std::size_t page = [] {
        const long p = ::sysconf(_SC_PAGESIZE);
        return p > 0 ? static_cast<std::size_t>(p) : std::size_t{4096};
    }();
    return page;
#else
    return 4096;
#endif
}

/// Reserves `bytes` (a multiple of 2 MiB) of zero-filled address space on a 2 MiB boundary, committed page by page
/// on first write (MAP_NORESERVE). nullptr, never an exception, when it cannot: no mmap on this platform, the
/// process-wide cap reached, or mmap refused (vm.overcommit_memory=2 charging the whole range, RLIMIT_AS, address
/// space exhausted, a sanitizer's restricted layout). Release with release_reservation(p, bytes).
[[nodiscard]] inline atomic_word* reserve_words(std::size_t bytes) noexcept {
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    if (bytes == 0 || bytes > (std::size_t{1} << 46)) return nullptr;
    if (growable_reservations_live.fetch_add(1, std::memory_order_relaxed) >=
        growable_reservation_limit.load(std::memory_order_relaxed)) {
        growable_reservations_live.fetch_sub(1, std::memory_order_relaxed);
        return nullptr;
    }
    const std::size_t total = bytes + huge_page_bytes;
    void* m = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        growable_reservations_live.fetch_sub(1, std::memory_order_relaxed);
        return nullptr;
    }
    // As allocate_zeroed_words: keep the 2 MiB-aligned part, one mapping.
    const auto base = reinterpret_cast<std::uintptr_t>(m);
    const std::uintptr_t aligned = (base + huge_page_bytes - 1) & ~std::uintptr_t{huge_page_bytes - 1};
    const std::size_t head = aligned - base, tail = total - head - bytes;
    if (head != 0) ::munmap(m, head);
    if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + bytes), tail);
    return reinterpret_cast<atomic_word*>(aligned);
#else
    (void)bytes;
    return nullptr;
#endif
}

/// Releases what reserve_words(bytes) returned.
inline void release_reservation(atomic_word* p, std::size_t bytes) noexcept {
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    ::munmap(static_cast<void*>(p), bytes);
    growable_reservations_live.fetch_sub(1, std::memory_order_relaxed);
#else
    (void)p;
    (void)bytes;
#endif
}

/// Advises a reservation for transparent huge pages (best effort).
inline void advise_huge_pages(atomic_word* p, std::size_t bytes) noexcept {
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    ::madvise(static_cast<void*>(p), bytes, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
/// Whether MADV_DONTNEED gives pages of a private anonymous mapping back as zero pages here (it does on Linux;
/// some emulators, e.g. older qemu-user, accept the call and do nothing). Probed once per process.
[[nodiscard]] inline bool dontneed_zeroes() noexcept {
    static const bool ok = [] {
        const std::size_t page = os_page_bytes();
        void* m = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return false;
        auto* w = static_cast<atomic_word*>(m);
        w->store(1, std::memory_order_relaxed);
        const bool zeroed = ::madvise(m, page, MADV_DONTNEED) == 0 && w->load(std::memory_order_relaxed) == 0;
        ::munmap(m, page);
        return zeroed;
    }();
    return ok;
}
#endif

/// Sets words [0, n) of a reservation to zero: whole pages are given back to the OS (MADV_DONTNEED: they read as
/// zero and are committed again on the next write), the rest is stored. Exclusive.
inline void zero_reserved_words(atomic_word* p, std::uint64_t n) noexcept {
    std::uint64_t from = 0;
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    const std::size_t page_words = os_page_bytes() / sizeof(atomic_word);
    const std::uint64_t whole = n / page_words * page_words;
    if (whole * sizeof(atomic_word) >= huge_page_bytes && dontneed_zeroes() &&
        ::madvise(static_cast<void*>(p), static_cast<std::size_t>(whole) * sizeof(atomic_word), MADV_DONTNEED) == 0)
        from = whole;
#endif
    for (std::uint64_t i = from; i < n; ++i) p[i].store(0, std::memory_order_relaxed);
}

/// Zeroes words [p, p + n) of a reservation, giving the whole pages among them back to the OS (MADV_DONTNEED) and
/// storing zeros on the rest: the pages a storage committed beyond its written prefix. Exclusive.
inline void discard_reserved_words(atomic_word* p, std::uint64_t n) noexcept {
    std::uint64_t lo = n, hi = n; // [lo, hi): the words handed back
#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
    const std::uint64_t page_words = os_page_bytes() / sizeof(atomic_word);
    const std::uint64_t first = reinterpret_cast<std::uintptr_t>(p) / sizeof(atomic_word);
    const std::uint64_t a = (first + page_words - 1) / page_words * page_words - first;
    const std::uint64_t b = (first + n) / page_words * page_words - first;
    if (a < b && b <= n && dontneed_zeroes() &&
        ::madvise(static_cast<void*>(p + a), static_cast<std::size_t>(b - a) * sizeof(atomic_word), MADV_DONTNEED) == 0) {
        lo = a;
        hi = b;
    }
#endif
    for (std::uint64_t i = 0; i < lo; ++i) p[i].store(0, std::memory_order_relaxed);
    for (std::uint64_t i = hi; i < n; ++i) p[i].store(0, std::memory_order_relaxed);
}

/// Tag of GrowableStorage's constructor without a reservation (small first segment and the radix tree): for
/// storages made by the million (a hierarchical tracker's sub-ID bitmaps) and for words that hold pointers.
struct unreserved_t {
    explicit unreserved_t() = default;
};
inline constexpr unreserved_t unreserved{};

/// Tag of GrowableStorage's adopting constructor.
struct adopt_words_t {
    explicit adopt_words_t() = default;
};
inline constexpr adopt_words_t adopt_words{};

/// Test hook for allocation failure during growth: when set, GrowableStorage calls it before each chunk or node it
/// allocates (the cold path, once per 8 KiB chunk or 4 KiB node; nothing else reads it), and the hook may throw
/// std::bad_alloc to simulate exhaustion. Whatever growth throws, nothing half-built is published: the bitmap stays
/// consistent and usable. Not for production use; set and cleared by tests while no other thread grows a bitmap.
inline std::atomic<void (*)(std::size_t bytes)> growth_allocation_hook{nullptr};

/// A zeroed T for GrowableStorage's tree (operator new, std::bad_alloc on failure), after the test hook.
template <class T>
[[nodiscard]] T* allocate_growth_node() {
    if (auto hook = growth_allocation_hook.load(std::memory_order_relaxed)) [[unlikely]]
        hook(sizeof(T));
    return new T{};
}

[[nodiscard]] inline std::uint64_t checked_capacity_words(std::uint64_t capacity_bits) {
    if (capacity_bits > max_supported_id) throw_id_too_large("keyspace storage capacity", capacity_bits);
    return round_up_to_word(capacity_bits) / word_bits;
}

} // namespace detail

KEYSPACE_END_NAMESPACE
