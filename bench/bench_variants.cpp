// Diagnostics, not targets: the single-bit paths of AtomicBitmap taken apart on a raw std::atomic<uint64_t> array,
// each variant adding one ingredient, so the gap between ours and the raw baselines can be attributed.
//   variant/claim/...  real claims on fresh bits (run_claims, same sweeps as claim/...):
//     lock_bts                 forced `lock bts` (inline asm): the floor
//     lock_bts+counter         + keyspace::ThreadCounter::add(1) (the bitmap's per-thread cell update)
//     load+lock_bts            acquire load of the word first (test_and_set's "already set?" check), then lock bts
//     load_other_line+lock_bts an acquire load of a word on another cache line, then lock bts: the cost of any load
//                              issued after the previous locked RMW, without the same-address dependency
//     load+lock_bts+counter    what test_and_set is meant to compile to
//     cas_loop                 fetch_or as a compare-exchange loop (what GCC 12 emits for set()/test_and_set()
//                              once they are inlined into a loop: see the report)
//     load+cas_loop+counter    what test_and_set actually compiles to in such loops
//     AtomicBitmap             the real test_and_set, same run
//   variant/test/...   test(i) on the ~50 % fixture:
//     raw_acquire_load         acquire load of the word, no checks
//     emulated_checks          + the checks test() makes (word < segment size, then pointer != nullptr), with the
//                              segment fields reloaded per call as the acquire load forces
//     hoisted_checks           test()'s bound check (word < segment size, then the load) with the segment size and
//                              pointer copied to locals before the loop: what test() would cost if nothing were
//                              reloaded per call
//     AtomicBitmap             the real test, same run
//   variant/popcount/<size>/offset_<k>  keyspace::detail::simd::popcount (the count_range kernel) over 1 MiB or
//                            256 MiB of words starting k bytes past a 64-byte boundary (calloc/malloc give 16: see
//                            count_range's addr_mod_64 counter), and variant/read_sum/... the plain read loop there;
//   variant/popcount/256MiB/harley_seal_copy[_prefetch]  (AVX2 build only) the header's Harley-Seal kernel copied
//                            verbatim, and the copy with one software prefetch per cache line 8 KiB ahead
//   variant/for_each_set/64M/<d>pct/...  the for_each_set_bit algorithm of detail/simd.hpp copied here with one change:
//     tzcnt_intrinsic          _tzcnt_u64/_blsr_u64 instead of std::countr_zero (whose zero test GCC 12 turns into a
//                              branch on every word), find_first kept
//     tzcnt_intrinsic_no_skip  the same, decoding every word (no find_first)
#include "common.hpp"

#include <cstdlib> // for std::aligned_alloc, std::free
#include <cstring> // for std::memcpy
#if defined(__BMI__)
#include <immintrin.h> // for _tzcnt_u64, _blsr_u64
#endif

namespace kb {
namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KB_HAVE_FORCED_BTS 1
/// `lock bts` whatever the optimiser does around it; true if the bit was 0.
KB_INLINE bool lock_bts(std::atomic<u64>& w, u64 i) noexcept {
    bool was_set;
    asm volatile("lock btsq %2, %0" : "+m"(*reinterpret_cast<u64*>(&w)), "=@ccc"(was_set) : "r"(i & 63) : "memory");
    return !was_set;
}
#endif

KB_INLINE bool cas_claim(std::atomic<u64>& w, u64 i) noexcept {
    const u64 m = 1ull << (i & 63);
    u64 old = w.load(std::memory_order_relaxed);
    while (!w.compare_exchange_weak(old, old | m, std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
    return (old & m) == 0;
}

enum Claim { bts, bts_counter, load_bts, load_other_bts, load_bts_counter, cas, load_cas_counter, ours };
constexpr const char* claim_names[] = {"lock_bts",         "lock_bts+counter",      "load+lock_bts",
                                       "load_other_line+lock_bts", "load+lock_bts+counter", "cas_loop",
                                       "load+cas_loop+counter",    "AtomicBitmap"};

/// Words that are never written, each on its own cache line (load_other_line+lock_bts reads them).
struct alignas(64) LineWord {
    std::atomic<u64> v{0};
};
LineWord other_line[8];

template <bool Random, int C>
void claim_variant(benchmark::State& st, u64 n) {
    AtomicWords& a = atomic_words(n, 0);
    static keyspace::ThreadCounter counter; // a real counter column, as a bitmap holds
    [[maybe_unused]] auto loaded_set = [&](u64 i) {
        return (a.w[i >> 6].load(std::memory_order_acquire) & (1ull << (i & 63))) != 0;
    };
    u64 wins = 0;
    if constexpr (C == ours) {
        auto& bm = *fresh(Kind::contiguous, n).growable;
        wins = run_claims<Random>(st, n, [&](u64 i) { return bm.test_and_set(i); }, [&] { bm.reset(); });
    } else if constexpr (C == cas) {
        wins = run_claims<Random>(st, n, [&](u64 i) { return cas_claim(a.w[i >> 6], i); }, [&] { a.reset(); });
    } else if constexpr (C == load_cas_counter) {
        wins = run_claims<Random>(
            st, n,
            [&](u64 i) {
                if (loaded_set(i)) return false;
                const bool won = cas_claim(a.w[i >> 6], i);
                if (won) counter.add(1);
                return won;
            },
            [&] { a.reset(); });
    } else {
#if KB_HAVE_FORCED_BTS
        wins = run_claims<Random>(
            st, n,
            [&](u64 i) {
                if constexpr (C == load_bts || C == load_bts_counter)
                    if (loaded_set(i)) return false;
                if constexpr (C == load_other_bts)
                    if ((other_line[(i >> 6) & 7].v.load(std::memory_order_acquire) >> (i & 63)) & 1) return false;
                const bool won = lock_bts(a.w[i >> 6], i);
                if constexpr (C == bts_counter || C == load_bts_counter)
                    if (won) counter.add(1);
                return won;
            },
            [&] { a.reset(); });
#else
        st.SkipWithError("needs x86-64 inline asm");
        return;
#endif
    }
    if (wins != total_ops(st)) st.SkipWithError("a claim on a fresh bit returned false");
}

/// The checks of BasicAtomicBitmap::test over GrowableStorage's contiguous segment, on a raw array.
struct EmulatedSegment {
    u64 seg_words;
    std::atomic<u64>* seg;
};

template <bool Random>
void test_variant(benchmark::State& st, u64 n, int which) {
    auto& p = populated(n);
    // an atomic copy of the fixture's words
    static std::mutex mu;
    static std::map<u64, std::unique_ptr<AtomicWords>> cache;
    AtomicWords& a = cached(cache, mu, n, [&] {
        AtomicWords c(n);
        for (u64 i = 0; i < c.w.size(); ++i) c.w[i].store(p.plain.w[i], std::memory_order_relaxed);
        return c;
    });
    // The segment fields behind a pointer the optimiser cannot see through (DoNotOptimize), as a bitmap's are.
    const EmulatedSegment seg{a.w.size(), a.w.data()};
    const EmulatedSegment* s = &seg;
    benchmark::DoNotOptimize(s);
    if (which == 0) {
        run_reads<Random>(st, n, [&](u64 i) { return a.load_test(i); });
    } else if (which == 1) {
        run_reads<Random>(st, n, [&](u64 i) {
            const std::atomic<u64>* w = nullptr;
            if ((i >> 6) < s->seg_words) w = s->seg + (i >> 6);
            return w != nullptr && (w->load(std::memory_order_acquire) & (1ull << (i & 63))) != 0;
        });
    } else if (which == 2) {
        const u64 seg_words = s->seg_words; // read once, held in registers
        const std::atomic<u64>* const base = s->seg;
        run_reads<Random>(st, n, [&](u64 i) { // GrowableStorage::test_bit's shape
            const u64 w = i >> 6;
            return w < seg_words && ((base[w].load(std::memory_order_acquire) >> (i & 63)) & 1) != 0;
        });
    } else {
        auto& bm = *p.ours[static_cast<int>(Kind::contiguous)].growable;
        run_reads<Random>(st, n, [&](u64 i) { return bm.test(i); });
    }
}

// ---- popcount kernel alignment -----------------------------------------------------------------------------------

KB_NOINLINE u64 sum_words(const u64* p, u64 n) {
    u64 total = 0;
    for (u64 i = 0; i < n; ++i) total += p[i];
    return total;
}

/// The count_range kernel (or, with read_sum, the plain read-bandwidth loop) over `bytes` of random words that start
/// `offset` bytes past a 64-byte boundary.
void popcount_offset(benchmark::State& st, u64 bytes, std::size_t offset, bool read_sum) {
    const u64 words = bytes / 8;
    auto* raw = static_cast<unsigned char*>(std::aligned_alloc(64, words * 8 + 64));
    {
        SplitMix64 r{0xa11};
        auto* q = reinterpret_cast<u64*>(raw + offset);
        for (u64 i = 0; i < words; ++i) q[i] = r.next(); // also commits every page, untimed
    }
    const auto* p = reinterpret_cast<const keyspace::detail::atomic_word*>(raw + offset);
    u64 c = 0;
    for (auto _ : st) {
        c = read_sum ? sum_words(reinterpret_cast<const u64*>(p), words) : keyspace::detail::simd::popcount(p, words);
        benchmark::DoNotOptimize(c);
    }
    std::free(raw);
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(words * 8));
}

#if !defined(KEYSPACE_SIMD_SCALAR) && !defined(__AVX512F__) // the AVX2 path (AVX-512 builds use VPOPCNTDQ)
#define KB_HARLEY_SEAL_COPY 1
/// detail::simd::popcount_harley_seal copied verbatim, with Prefetch: one prefetch per 64-word iteration, `ahead`
/// words in front (tests whether the AVX2 kernel's DRAM shortfall is a memory-level-parallelism problem).
template <bool Prefetch>
u64 harley_seal_copy(const keyspace::detail::atomic_word* p, std::size_t n) {
    namespace s = keyspace::detail::simd;
    using A = s::arch;
    using B = s::u64_batch<A>;
    constexpr std::size_t w = B::size, ahead = 1024;
    B total(0), ones(0), twos(0), fours(0), eights(0);
    std::size_t i = 0;
    for (; i + 16 * w <= n; i += 16 * w) {
        if constexpr (Prefetch)
            for (std::size_t l = 0; l < 16 * w; l += 8) __builtin_prefetch(p + i + ahead + l);
        B twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, sixteens;
        s::csa(twos_a, ones, ones, s::load_batch<A>(p + i + 0 * w), s::load_batch<A>(p + i + 1 * w));
        s::csa(twos_b, ones, ones, s::load_batch<A>(p + i + 2 * w), s::load_batch<A>(p + i + 3 * w));
        s::csa(fours_a, twos, twos, twos_a, twos_b);
        s::csa(twos_a, ones, ones, s::load_batch<A>(p + i + 4 * w), s::load_batch<A>(p + i + 5 * w));
        s::csa(twos_b, ones, ones, s::load_batch<A>(p + i + 6 * w), s::load_batch<A>(p + i + 7 * w));
        s::csa(fours_b, twos, twos, twos_a, twos_b);
        s::csa(eights_a, fours, fours, fours_a, fours_b);
        s::csa(twos_a, ones, ones, s::load_batch<A>(p + i + 8 * w), s::load_batch<A>(p + i + 9 * w));
        s::csa(twos_b, ones, ones, s::load_batch<A>(p + i + 10 * w), s::load_batch<A>(p + i + 11 * w));
        s::csa(fours_a, twos, twos, twos_a, twos_b);
        s::csa(twos_a, ones, ones, s::load_batch<A>(p + i + 12 * w), s::load_batch<A>(p + i + 13 * w));
        s::csa(twos_b, ones, ones, s::load_batch<A>(p + i + 14 * w), s::load_batch<A>(p + i + 15 * w));
        s::csa(fours_b, twos, twos, twos_a, twos_b);
        s::csa(eights_b, fours, fours, fours_a, fours_b);
        s::csa(sixteens, eights, eights, eights_a, eights_b);
        total = total + s::lane_popcount<A>(sixteens);
    }
    total = (total << 4) + (s::lane_popcount<A>(eights) << 3) + (s::lane_popcount<A>(fours) << 2) +
            (s::lane_popcount<A>(twos) << 1) + s::lane_popcount<A>(ones);
    for (; i + w <= n; i += w) total = total + s::lane_popcount<A>(s::load_batch<A>(p + i));
    return xsimd::hadd(total) + s::popcount_scalar(p + i, n - i);
}
#endif

#if KB_HARLEY_SEAL_COPY
void harley_seal_variant(benchmark::State& st, bool prefetch) {
    const u64 words = (1ull << 28) / 8;
    auto* raw = static_cast<u64*>(std::aligned_alloc(64, words * 8));
    SplitMix64 r{0xa11};
    u64 want = 0;
    for (u64 i = 0; i < words; ++i) want += static_cast<u64>(std::popcount(raw[i] = r.next()));
    const auto* p = reinterpret_cast<const keyspace::detail::atomic_word*>(raw);
    u64 c = 0;
    for (auto _ : st) {
        c = prefetch ? harley_seal_copy<true>(p, words) : harley_seal_copy<false>(p, words);
        benchmark::DoNotOptimize(c);
    }
    std::free(raw);
    if (c != want) st.SkipWithError("wrong count");
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(words * 8));
}
#endif

// ---- for_each_set decode ------------------------------------------------------------------------------------------

#if defined(__BMI__)
template <bool Skip, class F>
void decode_intrinsic(const std::atomic<u64>* p, std::size_t n, F& f) {
    constexpr std::size_t block = 16;
    u64 buf[block * 64 + 2];
    std::size_t i = 0;
    while (i < n) {
        if constexpr (Skip) {
            i += keyspace::detail::simd::find_first(reinterpret_cast<const keyspace::detail::atomic_word*>(p + i), n - i, 0);
            if (i >= n) break;
        }
        const std::size_t end = std::min(n, i + block);
        std::size_t k = 0;
        for (std::size_t j = i; j < end; ++j) {
            unsigned long long w = p[j].load(std::memory_order_relaxed);
            const u64 at = 64 * j;
            const auto c = static_cast<std::size_t>(std::popcount(w));
            buf[k] = at + _tzcnt_u64(w);
            w = _blsr_u64(w);
            buf[k + 1] = at + _tzcnt_u64(w);
            w = _blsr_u64(w);
            if (c > 2) {
                std::size_t t = k + 2;
                do {
                    buf[t++] = at + _tzcnt_u64(w);
                    w = _blsr_u64(w);
                } while (w != 0);
            }
            k += c;
        }
        for (std::size_t t = 0; t < k; ++t) f(buf[t]);
        i = end;
    }
}
#endif

void for_each_variant(benchmark::State& st, u64 percent, bool skip) {
#if defined(__BMI__)
    const std::vector<u64> words = percent == 50 ? populated(M64).plain.w : sparse_words(M64, 100 / percent, 0xd1ce);
    AtomicWords a(M64);
    u64 ones = 0, want = 0;
    for (u64 i = 0; i < words.size(); ++i) {
        a.w[i].store(words[i], std::memory_order_relaxed);
        ones += static_cast<u64>(std::popcount(words[i]));
        for (u64 w = words[i]; w != 0; w &= w - 1) want += i * 64 + static_cast<u64>(std::countr_zero(w));
    }
    u64 sum = 0;
    auto f = [&](u64 id) { sum += id; };
    for (auto _ : st) {
        sum = 0;
        skip ? decode_intrinsic<true>(a.w.data(), a.w.size(), f) : decode_intrinsic<false>(a.w.data(), a.w.size(), f);
        benchmark::DoNotOptimize(sum);
    }
    if (sum != want) st.SkipWithError("wrong set");
    const double ids = static_cast<double>(st.iterations()) * static_cast<double>(ones);
    st.SetItemsProcessed(static_cast<int64_t>(ids));
    st.counters["ns_per_op"] = benchmark::Counter(ids, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
#else
    (void)percent;
    (void)skip;
    st.SkipWithError("needs BMI");
#endif
}

template <int C>
void add_claim(const std::string& tail, u64 n, bool random) {
    add("variant/claim/" + tail + claim_names[C], [=](benchmark::State& st) {
        random ? claim_variant<true, C>(st, n) : claim_variant<false, C>(st, n);
    });
}

const int registered = [] {
    for (u64 n : {M1, G1}) {
        for (bool random : {true, false}) {
            const std::string tail = std::string(order_name(random)) + "/" + size_name(n) + "/";
            add_claim<bts>(tail, n, random);
            add_claim<bts_counter>(tail, n, random);
            add_claim<load_bts>(tail, n, random);
            add_claim<load_other_bts>(tail, n, random);
            add_claim<load_bts_counter>(tail, n, random);
            add_claim<cas>(tail, n, random);
            add_claim<load_cas_counter>(tail, n, random);
            add_claim<ours>(tail, n, random);
        }
    }
    for (u64 n : {K1, M1}) {
        for (bool random : {true, false}) {
            const std::string tail = std::string(order_name(random)) + "/" + size_name(n) + "/";
            int which = 0;
            for (const char* name : {"raw_acquire_load", "emulated_checks", "hoisted_checks", "AtomicBitmap"})
                add("variant/test/" + tail + name, [=, w = which++](benchmark::State& st) {
                    random ? test_variant<true>(st, n, w) : test_variant<false>(st, n, w);
                });
        }
    }
    for (std::size_t offset : {0, 16, 32})
        add("variant/popcount/1MiB/offset_" + std::to_string(offset),
            [=](benchmark::State& st) { popcount_offset(st, 1ull << 20, offset, false); });
    for (std::size_t offset : {0, 24}) { // 24: where count_range's kernel starts on a calloc'd segment (16 + 1 word)
        add("variant/popcount/256MiB/offset_" + std::to_string(offset),
            [=](benchmark::State& st) { popcount_offset(st, 1ull << 28, offset, false); });
        add("variant/read_sum/256MiB/offset_" + std::to_string(offset),
            [=](benchmark::State& st) { popcount_offset(st, 1ull << 28, offset, true); });
    }
#if KB_HARLEY_SEAL_COPY
    add("variant/popcount/256MiB/harley_seal_copy", [](benchmark::State& st) { harley_seal_variant(st, false); });
    add("variant/popcount/256MiB/harley_seal_copy_prefetch",
        [](benchmark::State& st) { harley_seal_variant(st, true); });
#endif
    for (u64 percent : {50ull, 1ull}) {
        const std::string prefix = "variant/for_each_set/64M/" + std::to_string(percent) + "pct/";
        add(prefix + "tzcnt_intrinsic", [=](benchmark::State& st) { for_each_variant(st, percent, true); });
        add(prefix + "tzcnt_intrinsic_no_skip", [=](benchmark::State& st) { for_each_variant(st, percent, false); });
    }
    return 0;
}();

} // namespace
} // namespace kb
