/** @file keyspace/detail/simd.hpp
 *  The read kernels over arrays of atomic words: population count, first/last word that differs from a pattern,
 *  and set-bit extraction. This is the only header that includes xsimd.
 *
 *  The instruction set is chosen at compile time from the consumer's flags (xsimd::default_arch): SSE2 by default
 *  on x86-64, AVX2 with -mavx2, AVX-512 with -mavx512bw (plus VPOPCNTDQ when -mavx512vpopcntdq is on), NEON on
 *  AArch64. Define KEYSPACE_NO_SIMD to force the scalar path. Under ThreadSanitizer the scalar path is taken too,
 *  with relaxed atomic loads, because TSan cannot see vector loads of atomic words.
 *
 *  Files built with different flags in one program each keep their own kernels: everything here is declared in an
 *  inline namespace named after the instruction set (detail/isa.hpp), and the bitmap members that call a kernel carry
 *  KEYSPACE_ISA_ABI. keyspace::simd_kernel_name() (<keyspace/atomic_bitmap.hpp>) is the public way to ask which
 *  kernels a file got.
 *
 *  Concurrency: the vector paths read the words with plain aligned vector loads. Each 64-bit lane is read
 *  atomically on every supported target (aligned 8-byte element), but a batch is not a snapshot: a kernel running
 *  beside writers sees each word at some moment during the call, like a sequence of relaxed loads. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/detail/isa.hpp>

#include <algorithm>   // for std::min
#include <atomic>      // for std::memory_order_relaxed
#include <bit>         // for std::popcount, std::countr_zero, std::countl_zero
#include <cstddef>     // for std::size_t
#include <cstdint>     // for std::uint64_t, std::uintptr_t
#include <type_traits> // for std::is_base_of_v, std::is_same_v

#if defined(KEYSPACE_DETAIL_XSIMD_ARCH) // see detail/isa.hpp
#include <xsimd/xsimd.hpp>              // for xsimd::batch, xsimd::default_arch
#if defined(KEYSPACE_DETAIL_VPOPCNTDQ)
#include <immintrin.h> // for _mm512_popcnt_epi64 (xsimd 8 has no batch popcount)
#endif
#else
#define KEYSPACE_SIMD_SCALAR 1
#endif

KEYSPACE_BEGIN_NAMESPACE
namespace detail::simd {

using atomic_word = detail::atomic_word; // the word the kernels read (detail/atomic_word.hpp)

/// Everything below depends on the instruction set (the kernels by their source, the scalar loops by what the
/// compiler makes of them under the file's flags): one inline namespace per instruction set, so that files built
/// with different -m flags never share a definition. See detail/isa.hpp.
inline namespace KEYSPACE_ISA_NAME {

[[nodiscard]] KEYSPACE_ALWAYS_INLINE std::uint64_t load(const atomic_word& w) noexcept {
    return w.load(std::memory_order_relaxed); // a read kernel orders nothing; see the file comment
}

// ---------------------------------------------------------------------------------------------------------------
// Scalar kernels: the reference, the TSan path and the tails of the vector paths.

[[nodiscard]] inline std::uint64_t popcount_scalar(const atomic_word* p, std::size_t n) noexcept {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < n; ++i) total += static_cast<std::uint64_t>(std::popcount(load(p[i])));
    return total;
}

/// Index of the first word with (word ^ flip) != 0, or n.
[[nodiscard]] inline std::size_t find_first_scalar(const atomic_word* p, std::size_t n, std::uint64_t flip) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if ((load(p[i]) ^ flip) != 0) return i;
    return n;
}

/// Index of the last non-zero word, or n when all are zero.
[[nodiscard]] inline std::size_t find_last_nonzero_scalar(const atomic_word* p, std::size_t n) noexcept {
    for (std::size_t i = n; i-- > 0;)
        if (load(p[i]) != 0) return i;
    return n;
}

#if !defined(KEYSPACE_SIMD_SCALAR)

using arch = xsimd::default_arch;
static_assert(std::is_same_v<arch, KEYSPACE_DETAIL_XSIMD_ARCH>,
              "detail/isa.hpp names another architecture than the one xsimd picks: extend its list");

template <class A>
using u64_batch = xsimd::batch<std::uint64_t, A>;

template <class A>
[[nodiscard]] KEYSPACE_ALWAYS_INLINE u64_batch<A> load_batch(const atomic_word* p) noexcept {
    // Member load_unaligned: the free function fails to compile under -march=native with xsimd 8.1.
    return u64_batch<A>::load_unaligned(reinterpret_cast<const std::uint64_t*>(p));
}

/// Per-lane popcount by SWAR (xsimd 8 has no batch popcount): each 64-bit lane ends up holding its bit count.
template <class A>
[[nodiscard]] KEYSPACE_ALWAYS_INLINE u64_batch<A> lane_popcount(u64_batch<A> x) noexcept {
    using B = u64_batch<A>;
    x = x - ((x >> 1) & B(0x5555555555555555ull));
    x = (x & B(0x3333333333333333ull)) + ((x >> 2) & B(0x3333333333333333ull));
    x = (x + (x >> 4)) & B(0x0f0f0f0f0f0f0f0full);
    x = x + (x >> 8);
    x = x + (x >> 16);
    x = x + (x >> 32);
    return x & B(0x7full);
}

/// Carry-save adder: (high, low) = a + b + c bitwise.
template <class B>
KEYSPACE_ALWAYS_INLINE void csa(B& high, B& low, B a, B b, B c) noexcept {
    const B u = a ^ b;
    high = (a & b) | (u & c);
    low = u ^ c;
}

/// Harley–Seal population count: 16 batches folded through a carry-save tree, one lane popcount per 16 batches.
template <class A>
[[nodiscard]] inline std::uint64_t popcount_harley_seal(const atomic_word* p, std::size_t n) noexcept {
    using B = u64_batch<A>;
    constexpr std::size_t w = B::size;
    B total(0), ones(0), twos(0), fours(0), eights(0);
    std::size_t i = 0;
    for (; i + 16 * w <= n; i += 16 * w) {
        B twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, sixteens;
        csa(twos_a, ones, ones, load_batch<A>(p + i + 0 * w), load_batch<A>(p + i + 1 * w));
        csa(twos_b, ones, ones, load_batch<A>(p + i + 2 * w), load_batch<A>(p + i + 3 * w));
        csa(fours_a, twos, twos, twos_a, twos_b);
        csa(twos_a, ones, ones, load_batch<A>(p + i + 4 * w), load_batch<A>(p + i + 5 * w));
        csa(twos_b, ones, ones, load_batch<A>(p + i + 6 * w), load_batch<A>(p + i + 7 * w));
        csa(fours_b, twos, twos, twos_a, twos_b);
        csa(eights_a, fours, fours, fours_a, fours_b);
        csa(twos_a, ones, ones, load_batch<A>(p + i + 8 * w), load_batch<A>(p + i + 9 * w));
        csa(twos_b, ones, ones, load_batch<A>(p + i + 10 * w), load_batch<A>(p + i + 11 * w));
        csa(fours_a, twos, twos, twos_a, twos_b);
        csa(twos_a, ones, ones, load_batch<A>(p + i + 12 * w), load_batch<A>(p + i + 13 * w));
        csa(twos_b, ones, ones, load_batch<A>(p + i + 14 * w), load_batch<A>(p + i + 15 * w));
        csa(fours_b, twos, twos, twos_a, twos_b);
        csa(eights_b, fours, fours, fours_a, fours_b);
        csa(sixteens, eights, eights, eights_a, eights_b);
        total = total + lane_popcount<A>(sixteens);
    }
    total = (total << 4) + (lane_popcount<A>(eights) << 3) + (lane_popcount<A>(fours) << 2) +
            (lane_popcount<A>(twos) << 1) + lane_popcount<A>(ones);
    for (; i + w <= n; i += w) total = total + lane_popcount<A>(load_batch<A>(p + i));
    // The lanes summed by hand: xsimd's horizontal add is hadd in 8.x and reduce_add from 9 on (hadd removed later).
    alignas(64) std::uint64_t lanes[w];
    total.store_aligned(lanes);
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < w; ++k) sum += lanes[k];
    return sum + popcount_scalar(p + i, n - i);
}

#if defined(KEYSPACE_DETAIL_VPOPCNTDQ)
/// The vector operations of the VPOPCNTDQ kernel at one width: 512 bits, or 256 (needs AVX512VL).
struct vpopcnt512 {
    using vec = __m512i;
    static constexpr std::size_t words = 8;
    static vec zero() noexcept { return _mm512_setzero_si512(); }
    static vec count(const std::uint64_t* q) noexcept { return _mm512_popcnt_epi64(_mm512_loadu_si512(q)); }
    static vec add(vec a, vec b) noexcept { return _mm512_add_epi64(a, b); }
    static void store(std::uint64_t* out, vec v) noexcept { _mm512_store_si512(out, v); }
};
#if defined(__AVX512VL__)
struct vpopcnt256 {
    using vec = __m256i;
    static constexpr std::size_t words = 4;
    static vec zero() noexcept { return _mm256_setzero_si256(); }
    static vec count(const std::uint64_t* q) noexcept {
        return _mm256_popcnt_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    }
    static vec add(vec a, vec b) noexcept { return _mm256_add_epi64(a, b); }
    static void store(std::uint64_t* out, vec v) noexcept { _mm256_store_si256(reinterpret_cast<__m256i*>(out), v); }
};
#endif

/// AVX-512 VPOPCNTDQ: a native per-lane popcount, four independent accumulators, at the width of V. In cache the
/// 512-bit loop is the faster (1 MiB: 136 vs 108 GB/s here); streaming from memory past the L2 the 256-bit loop keeps
/// pace with a plain read loop and the 512-bit one does not (256 MiB on 2 MiB pages: 17.5 vs 14 GB/s).
template <class V>
[[nodiscard]] inline std::uint64_t popcount_vpopcntdq(const atomic_word* p, std::size_t n) noexcept {
    constexpr std::size_t w = V::words;
    const auto* q = reinterpret_cast<const std::uint64_t*>(p);
    typename V::vec a0 = V::zero(), a1 = a0, a2 = a0, a3 = a0;
    std::size_t i = 0;
    for (; i + 4 * w <= n; i += 4 * w) {
        a0 = V::add(a0, V::count(q + i));
        a1 = V::add(a1, V::count(q + i + w));
        a2 = V::add(a2, V::count(q + i + 2 * w));
        a3 = V::add(a3, V::count(q + i + 3 * w));
    }
    for (; i + w <= n; i += w) a0 = V::add(a0, V::count(q + i));
    alignas(64) std::uint64_t lanes[w]; // not _mm512_reduce_add_epi64: GCC 12 warns inside it (-Wmaybe-uninitialized)
    V::store(lanes, V::add(V::add(a0, a1), V::add(a2, a3)));
    std::uint64_t total = 0;
    for (std::uint64_t lane : lanes) total += lane;
    return total + popcount_scalar(p + i, n - i);
}
#endif

template <class A>
[[nodiscard]] inline std::size_t find_first_simd(const atomic_word* p, std::size_t n, std::uint64_t flip) noexcept {
    using B = u64_batch<A>;
    constexpr std::size_t w = B::size;
    const B f(flip), zero(0);
    std::size_t i = 0;
    // One batch first: the common call finds its word at once and must not pay for a 4-batch block.
    if (w <= n && xsimd::any((load_batch<A>(p) ^ f) != zero)) return find_first_scalar(p, w, flip);
    for (i = (w <= n ? w : 0); i + 4 * w <= n; i += 4 * w) {
        const B any = (load_batch<A>(p + i) ^ f) | (load_batch<A>(p + i + w) ^ f) |
                      (load_batch<A>(p + i + 2 * w) ^ f) | (load_batch<A>(p + i + 3 * w) ^ f);
        if (xsimd::any(any != zero)) return i + find_first_scalar(p + i, 4 * w, flip);
    }
    for (; i + w <= n; i += w)
        if (xsimd::any((load_batch<A>(p + i) ^ f) != zero)) return i + find_first_scalar(p + i, w, flip);
    return i + find_first_scalar(p + i, n - i, flip);
}

template <class A>
[[nodiscard]] inline std::size_t find_last_nonzero_simd(const atomic_word* p, std::size_t n) noexcept {
    using B = u64_batch<A>;
    constexpr std::size_t w = B::size;
    const B zero(0);
    std::size_t i = n;
    for (; i >= 4 * w; i -= 4 * w) {
        const B any = load_batch<A>(p + i - w) | load_batch<A>(p + i - 2 * w) | load_batch<A>(p + i - 3 * w) |
                      load_batch<A>(p + i - 4 * w);
        if (xsimd::any(any != zero)) {
            const std::size_t j = find_last_nonzero_scalar(p + i - 4 * w, 4 * w);
            if (j != 4 * w) return i - 4 * w + j; // a writer may have cleared it since: fall through if so
        }
    }
    const std::size_t j = find_last_nonzero_scalar(p, i);
    return j == i ? n : j;
}

#endif // !KEYSPACE_SIMD_SCALAR

// ---------------------------------------------------------------------------------------------------------------
// The dispatching entry points.

/// Name of the kernel set compiled into this translation unit, for tests and benchmark reports (public:
/// keyspace::simd_kernel_name()).
[[nodiscard]] inline const char* kernel_name() noexcept {
#if defined(KEYSPACE_SIMD_SCALAR)
    return "scalar";
#else
#if defined(KEYSPACE_DETAIL_VPOPCNTDQ)
    if constexpr (std::is_base_of_v<xsimd::avx512f, arch>) return "avx512+vpopcntdq";
#endif
    return arch::name();
#endif
}

/// From this many words (2 MiB, the L2 of the reference machine) on, a range is taken to stream from memory.
inline constexpr std::size_t popcount_streaming_words = std::size_t{1} << 18;

/// How many of the n words at p come before the first cache-line boundary at or after p (0..7): vector loads from
/// there on never straddle two lines. malloc gives 16-byte alignment, so without this every 64-byte load of an
/// AVX-512 kernel would be split (1 MiB in L2: 74 vs 124 GB/s here).
[[nodiscard]] inline std::size_t words_before_line(const atomic_word* p, std::size_t n) noexcept {
    const auto past = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(p) % cache_line_size);
    return std::min(n, ((cache_line_size - past) % cache_line_size) / sizeof(atomic_word));
}

[[nodiscard]] inline std::uint64_t popcount(const atomic_word* p, std::size_t n) noexcept {
#if defined(KEYSPACE_SIMD_SCALAR)
    return popcount_scalar(p, n);
#else
    const std::size_t head = words_before_line(p, n);
#if defined(KEYSPACE_DETAIL_VPOPCNTDQ)
#if defined(__AVX512VL__)
    if (n - head >= popcount_streaming_words)
        return popcount_scalar(p, head) + popcount_vpopcntdq<vpopcnt256>(p + head, n - head);
#endif
    return popcount_scalar(p, head) + popcount_vpopcntdq<vpopcnt512>(p + head, n - head);
#else
    return popcount_scalar(p, head) + popcount_harley_seal<arch>(p + head, n - head);
#endif
#endif
}

[[nodiscard]] inline std::size_t find_first(const atomic_word* p, std::size_t n, std::uint64_t flip) noexcept {
#if defined(KEYSPACE_SIMD_SCALAR)
    return find_first_scalar(p, n, flip);
#else
    return find_first_simd<arch>(p, n, flip);
#endif
}

[[nodiscard]] inline std::size_t find_last_nonzero(const atomic_word* p, std::size_t n) noexcept {
#if defined(KEYSPACE_SIMD_SCALAR)
    return find_last_nonzero_scalar(p, n);
#else
    return find_last_nonzero_simd<arch>(p, n);
#endif
}

/// Index of the lowest set bit of w, or 63 when w == 0: defined for every input, so the compiler emits a plain
/// tzcnt/bsf with no zero branch (the decode below extracts unconditionally and ignores extra results).
[[nodiscard]] KEYSPACE_ALWAYS_INLINE std::uint64_t lowest_bit_or_63(std::uint64_t w) noexcept {
    return static_cast<std::uint64_t>(std::countr_zero(w | (1ull << 63)));
}

/// Calls f(bit_index) for each set bit of p[0..n) (bit_index = base + 64 * word + bit), with first_mask applied to
/// p[0] and last_mask to p[n - 1]. Words are decoded 16 at a time into a buffer with two unconditional extractions
/// per word (no data-dependent branch at low density), then f is called on the buffer; after a block with no set
/// bit, the next non-zero word is found with the SIMD search. f may return bool: false stops the walk, and the
/// function then returns false.
template <class F>
inline bool for_each_set_bit(const atomic_word* p, std::size_t n, std::uint64_t base, std::uint64_t first_mask,
                             std::uint64_t last_mask, F& f) {
    constexpr std::size_t block = 16;
    std::uint64_t buf[block * 64 + 2]; // +2: the unconditional extractions may write past the count
    std::size_t i = 0;
    while (i < n) {
        const std::size_t end = std::min(n, i + block);
        std::size_t k = 0;
        for (std::size_t j = i; j < end; ++j) {
            std::uint64_t w = load(p[j]);
            if (j == 0) w &= first_mask;
            if (j == n - 1) w &= last_mask;
            const std::uint64_t at = base + 64 * j;
            const auto c = static_cast<std::size_t>(std::popcount(w));
            buf[k] = at + lowest_bit_or_63(w);
            w &= w - 1;
            buf[k + 1] = at + lowest_bit_or_63(w);
            w &= w - 1;
            if (c > 2) {
                std::size_t t = k + 2;
                do {
                    buf[t++] = at + lowest_bit_or_63(w);
                    w &= w - 1;
                } while (w != 0);
            }
            k += c;
        }
        for (std::size_t t = 0; t < k; ++t) {
            if constexpr (std::is_same_v<decltype(f(buf[t])), bool>) {
                if (!f(buf[t])) return false;
            } else {
                f(buf[t]);
            }
        }
        i = end;
        if (k == 0 && i < n) i += find_first(p + i, n - i, 0); // a sparse stretch: skip its zero words at once
    }
    return true;
}

} // namespace KEYSPACE_ISA_NAME
} // namespace detail::simd
KEYSPACE_END_NAMESPACE
