// Shared pieces of the keyspace benchmark suite: the index streams that ours and every baseline consume identically
// (splitmix64 + multiply-shift for random access, a bijective scramble for "every claim hits a fresh bit"), the plain
// and atomic baseline bitsets, the pre-populated fixtures (built once per process, outside every timed region), and
// the per-operation counters every benchmark reports.
#pragma once

#include <keyspace/atomic_bitmap.hpp>

#include <benchmark/benchmark.h>

#include <algorithm> // for std::min
#include <atomic>    // for std::atomic
#include <bit>       // for std::popcount, std::countr_zero, std::bit_width
#include <cstdint>   // for std::uint64_t
#include <map>       // for std::map (fixture caches)
#include <memory>    // for std::unique_ptr
#include <mutex>     // for std::mutex (fixture caches)
#include <stdexcept> // for std::logic_error
#include <string>    // for std::string
#include <utility>   // for std::pair
#include <vector>    // for std::vector

#if defined(__GNUC__) || defined(__clang__)
#define KB_INLINE inline __attribute__((always_inline))
#define KB_NOINLINE __attribute__((noinline))
#else
#define KB_INLINE inline
#define KB_NOINLINE
#endif

// A loop the compiler must not auto-vectorize (the "scalar" baselines). GCC 12 has no loop pragma for it, so the
// loop lives in a leaf function with optimize("no-tree-vectorize"); leaves call nothing that needs inlining.
#if defined(__clang__)
#define KB_NO_VECTORIZE
#define KB_NO_VECTORIZE_LOOP _Pragma("clang loop vectorize(disable) interleave(disable)")
#elif defined(__GNUC__)
#define KB_NO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#define KB_NO_VECTORIZE_LOOP
#else
#define KB_NO_VECTORIZE
#define KB_NO_VECTORIZE_LOOP
#endif

namespace kb {

using u64 = std::uint64_t;

inline constexpr u64 K1 = 1ull << 10;
inline constexpr u64 M1 = 1ull << 20;
inline constexpr u64 M64 = 1ull << 26;
inline constexpr u64 G1 = 1ull << 30;

inline std::string size_name(u64 bits) {
    if (bits >= G1 && bits % G1 == 0) return std::to_string(bits / G1) + "G";
    if (bits >= M1 && bits % M1 == 0) return std::to_string(bits / M1) + "M";
    if (bits >= K1 && bits % K1 == 0) return std::to_string(bits / K1) + "K";
    return std::to_string(bits);
}

// ---- index streams ---------------------------------------------------------------------------------------------

/// splitmix64: ~0.7 ns per value here; the random-access stream of every benchmark.
struct SplitMix64 {
    u64 s;
    KB_INLINE u64 next() noexcept {
        u64 z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
};

/// Lemire's multiply-shift reduction of a 64-bit random value to [0, n).
KB_INLINE u64 reduce(u64 r, u64 n) noexcept { return static_cast<u64>((static_cast<unsigned __int128>(r) * n) >> 64); }

/// A bijection on [0, 2^k): sweeping i = 0 .. 2^k - 1 visits every index exactly once in a scattered order (each
/// step is invertible mod 2^k: add, multiply by an odd constant, xor-shift right). Costs about as much as splitmix64.
struct Scramble {
    u64 mask;
    unsigned half;
    explicit Scramble(u64 n) : mask(n - 1), half(static_cast<unsigned>(std::bit_width(n - 1) + 1) / 2) {}
    KB_INLINE u64 operator()(u64 i) const noexcept {
        u64 x = (i * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) & mask;
        x ^= x >> half;
        x = (x * 0xbf58476d1ce4e5b9ull) & mask;
        x ^= x >> half;
        return (x * 0x94d049bb133111ebull) & mask;
    }
};

// ---- baselines ---------------------------------------------------------------------------------------------------

/// A plain bitset: non-atomic test and store.
struct PlainBitset {
    std::vector<u64> w;
    PlainBitset() = default;
    explicit PlainBitset(u64 bits) : w((bits + 63) / 64, 0) {}
    [[nodiscard]] KB_INLINE bool test(u64 i) const noexcept { return (w[i >> 6] >> (i & 63)) & 1; }
    /// With the bound check test() makes (false past the end) and nothing else.
    [[nodiscard]] KB_INLINE bool test_checked(u64 i) const noexcept {
        return (i >> 6) < w.size() && ((w[i >> 6] >> (i & 63)) & 1) != 0;
    }
    KB_INLINE void set(u64 i) noexcept { w[i >> 6] |= 1ull << (i & 63); }
    void reset() noexcept { std::fill(w.begin(), w.end(), 0); }
    [[nodiscard]] u64 count() const noexcept {
        u64 c = 0;
        for (u64 x : w) c += static_cast<u64>(std::popcount(x));
        return c;
    }
};

/// Raw std::atomic<uint64_t> words: the floor for any concurrent bitmap write.
struct AtomicWords {
    std::vector<std::atomic<u64>> w;
    explicit AtomicWords(u64 bits) : w((bits + 63) / 64) {} // value-initialised (zeroed, pages touched)
    /// `lock or`: fetch_or whose result is unused.
    KB_INLINE void fetch_or(u64 i) noexcept { w[i >> 6].fetch_or(1ull << (i & 63), std::memory_order_acq_rel); }
    /// `lock bts`: fetch_or used as test-and-set.
    KB_INLINE bool fetch_or_claim(u64 i) noexcept {
        const u64 m = 1ull << (i & 63);
        return (w[i >> 6].fetch_or(m, std::memory_order_acq_rel) & m) == 0;
    }
    [[nodiscard]] KB_INLINE bool load_test(u64 i) const noexcept {
        return (w[i >> 6].load(std::memory_order_acquire) >> (i & 63)) & 1;
    }
    void reset() noexcept {
        for (auto& x : w) x.store(0, std::memory_order_relaxed);
    }
    void fill() noexcept {
        for (auto& x : w) x.store(~0ull, std::memory_order_relaxed);
    }
};

// ---- populating ours through the public API ------------------------------------------------------------------------

/// Sets the bits of `word` at word index wi with one set_range per run of ones (about 16 calls per random word).
template <class Bitmap>
void set_word_runs(Bitmap& bm, u64 wi, u64 word) {
    const u64 base = wi * 64;
    while (word != 0) {
        const auto s = static_cast<unsigned>(std::countr_zero(word));
        const auto len = static_cast<unsigned>(std::countr_one(word >> s)); // <= 64 - s
        bm.set_range(base + s, base + s + len);
        word = s + len == 64 ? 0 : word & ~(((1ull << len) - 1) << s);
    }
}

/// Random words at ~50 % density, identical for a given (bits, seed): word i is the i-th splitmix64 output.
inline std::vector<u64> random_words(u64 bits, u64 seed) {
    std::vector<u64> w((bits + 63) / 64);
    SplitMix64 r{seed};
    for (auto& x : w) x = r.next();
    if (bits % 64 != 0) w.back() &= (1ull << (bits % 64)) - 1;
    return w;
}

/// Words with each bit set with probability 1 / one_in (iid Bernoulli), identical for a given (bits, seed).
inline std::vector<u64> sparse_words(u64 bits, u64 one_in, u64 seed) {
    std::vector<u64> w((bits + 63) / 64, 0);
    SplitMix64 r{seed};
    for (u64 i = 0; i < bits; ++i)
        if (reduce(r.next(), one_in) == 0) w[i >> 6] |= 1ull << (i & 63);
    return w;
}

/// Copies `words` into bm through set_range (so the bitmap's counts and growth are exercised as a user would).
template <class Bitmap>
void load_words(Bitmap& bm, const std::vector<u64>& words) {
    for (u64 i = 0; i < words.size(); ++i)
        if (words[i] != 0) set_word_runs(bm, i, words[i]);
}

// ---- cached fixtures ---------------------------------------------------------------------------------------------
// Built on first use, inside the benchmark function but before its timed loop, and kept for the whole process so
// repetitions and the random/sequential variants share them. Nothing here is ever built inside a timed region.

enum class Kind {
    contiguous, ///< keyspace::AtomicBitmap bm(size): one contiguous initial segment
    fixed,      ///< keyspace::FixedAtomicBitmap bm(size)
    grown,      ///< keyspace::AtomicBitmap bm (default capacity, 4096 bits), grown to size by writes: radix-tree chunks
};

inline const char* kind_name(Kind k) {
    switch (k) {
    case Kind::contiguous: return "AtomicBitmap";
    case Kind::fixed: return "FixedAtomicBitmap";
    case Kind::grown: return "AtomicBitmap_grown";
    }
    return "?";
}

/// Either bitmap type behind one handle, so a benchmark can be written once per operation.
struct AnyBitmap {
    std::unique_ptr<keyspace::AtomicBitmap> growable;
    std::unique_ptr<keyspace::FixedAtomicBitmap> fixed;
};

inline AnyBitmap make_bitmap(Kind k, u64 bits) {
    AnyBitmap b;
    switch (k) {
    case Kind::contiguous: b.growable = std::make_unique<keyspace::AtomicBitmap>(bits); break;
    case Kind::fixed: b.fixed = std::make_unique<keyspace::FixedAtomicBitmap>(bits); break;
    case Kind::grown:
        b.growable = std::make_unique<keyspace::AtomicBitmap>();
        b.growable->set_range(0, bits); // grows chunk by chunk up to `bits`, committing every chunk
        b.growable->reset();            // then back to all-zero, memory kept
        break;
    }
    return b;
}

/// Calls f(bitmap&) with the concrete type.
template <class F>
decltype(auto) visit(AnyBitmap& b, F&& f) {
    if (b.fixed) return f(*b.fixed);
    return f(*b.growable);
}

template <class Key, class T, class Make>
T& cached(std::map<Key, std::unique_ptr<T>>& cache, std::mutex& mu, const Key& key, Make&& make) {
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = cache[key];
    if (!slot) slot = std::make_unique<T>(make());
    return *slot;
}

/// The ~50 % random fixture at `bits`: the words (for the plain baseline and for CRoaring) and each kind of ours.
struct Populated {
    PlainBitset plain;
    AnyBitmap ours[3];
    u64 ones = 0;
};

inline Populated& populated(u64 bits) {
    static std::mutex mu;
    static std::map<u64, std::unique_ptr<Populated>> cache;
    return cached(cache, mu, bits, [&] {
        Populated p{PlainBitset(bits), {}, 0};
        p.plain.w = random_words(bits, 0x5eed0000 + bits);
        p.ones = p.plain.count();
        for (Kind k : {Kind::contiguous, Kind::fixed, Kind::grown}) {
            auto& b = p.ours[static_cast<int>(k)];
            if (k == Kind::grown) {
                b.growable = std::make_unique<keyspace::AtomicBitmap>();
                load_words(*b.growable, p.plain.w);
            } else {
                b = make_bitmap(k, bits);
                visit(b, [&](auto& bm) { load_words(bm, p.plain.w); });
            }
            if (visit(b, [](auto& bm) { return bm.count(); }) != p.ones) throw std::logic_error("populated: count mismatch");
        }
        return p;
    });
}

/// An all-zero bitmap of each kind at `bits`, shared by the write benchmarks (each resets it before its loop).
inline AnyBitmap& fresh(Kind k, u64 bits) {
    static std::mutex mu;
    static std::map<std::pair<int, u64>, std::unique_ptr<AnyBitmap>> cache;
    return cached(cache, mu, std::pair<int, u64>(static_cast<int>(k), bits), [&] { return make_bitmap(k, bits); });
}

/// A bitmap of each kind with every bit in [0, bits) set (the already-claimed path); never written afterwards.
inline AnyBitmap& full(Kind k, u64 bits) {
    static std::mutex mu;
    static std::map<std::pair<int, u64>, std::unique_ptr<AnyBitmap>> cache;
    return cached(cache, mu, std::pair<int, u64>(static_cast<int>(k), bits), [&] {
        AnyBitmap b = make_bitmap(k, bits);
        visit(b, [&](auto& bm) { bm.set_range(0, bits); });
        return b;
    });
}

inline AtomicWords& atomic_words(u64 bits, int which) { // which: 0 = scratch, 1 = all ones
    static std::mutex mu;
    static std::map<std::pair<int, u64>, std::unique_ptr<AtomicWords>> cache;
    return cached(cache, mu, std::pair<int, u64>(which, bits), [&] {
        AtomicWords a(bits);
        if (which == 1) a.fill();
        return a;
    });
}

inline PlainBitset& plain_scratch(u64 bits) {
    static std::mutex mu;
    static std::map<u64, std::unique_ptr<PlainBitset>> cache;
    return cached(cache, mu, bits, [&] { return PlainBitset(bits); });
}

// ---- reporting ---------------------------------------------------------------------------------------------------

/// items_per_second plus ns_per_op (time / operations; with UseRealTime, wall time over all threads' operations).
inline void report_ops(benchmark::State& st, u64 ops_per_iteration) {
    const double ops = static_cast<double>(st.iterations()) * static_cast<double>(ops_per_iteration);
    st.SetItemsProcessed(static_cast<int64_t>(ops));
    st.counters["ns_per_op"] = benchmark::Counter(ops, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Operations per benchmark iteration in the single-bit benchmarks: amortises the framework's loop overhead.
inline constexpr u64 batch = 1024;

/// Registers a benchmark under `name` (registration order is run order: ours and its baselines sit side by side).
template <class F>
benchmark::internal::Benchmark* add(const std::string& name, F fn) {
    return benchmark::RegisterBenchmark(name.c_str(), std::move(fn));
}

inline const char* order_name(bool random) { return random ? "random" : "seq"; }

// ---- the timed loops, shared by ours and every baseline so that both pay for the same index stream ----------------

/// Keeps v in a register at this point without touching memory: one call per operation keeps the compiler from
/// vectorising a batch of plain tests (gathers) while leaving every load free to be hoisted or scheduled, so a batch
/// of N calls costs N separate calls, for ours and for the baselines alike.
template <class T>
KB_INLINE void per_call(T& v) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    asm volatile("" : "+r"(v));
#else
    benchmark::DoNotOptimize(v);
#endif
}

/// Reads: acc += op(i), `batch` calls per iteration. Random: splitmix64 reduced to [0, n) by multiply-shift;
/// sequential: 0, 1, 2, ... wrapping at n (a power of two >= batch). Returns the accumulated results.
/// PerCall = false lets the compiler vectorise the batch (reported only as an informational baseline).
template <bool Random, class Op, bool PerCall = true>
KB_INLINE u64 run_reads(benchmark::State& st, u64 n, Op&& op) {
    SplitMix64 rng{0x9e3779b97f4a7c15ull};
    u64 pos = 0, acc = 0;
    for (auto _ : st) {
        if constexpr (Random) {
            for (u64 k = 0; k < batch; ++k) {
                acc += static_cast<u64>(op(reduce(rng.next(), n)));
                if constexpr (PerCall) per_call(acc);
            }
        } else {
            for (u64 k = 0; k < batch; ++k) {
                acc += static_cast<u64>(op(pos + k));
                if constexpr (PerCall) per_call(acc);
            }
            pos = (pos + batch) & (n - 1);
        }
        benchmark::DoNotOptimize(acc);
    }
    report_ops(st, batch);
    return acc;
}

/// Writes whose result is unused: op(i), same index streams as run_reads.
template <bool Random, class Op>
KB_INLINE void run_writes(benchmark::State& st, u64 n, Op&& op) {
    SplitMix64 rng{0x9e3779b97f4a7c15ull};
    u64 pos = 0;
    for (auto _ : st) {
        if constexpr (Random) {
            for (u64 k = 0; k < batch; ++k) op(reduce(rng.next(), n));
        } else {
            for (u64 k = 0; k < batch; ++k) op(pos + k);
            pos = (pos + batch) & (n - 1);
        }
        benchmark::ClobberMemory();
    }
    report_ops(st, batch);
}

/// Below this many bits a sweep is too short for PauseTiming (~250 ns here) to be negligible: the reset at the end
/// of a sweep then stays inside the timed region (n / 64 word stores per n claims, < 0.05 ns per claim).
inline constexpr u64 pause_reset_from_bits = 1ull << 16;

/// Real claims: every call hits a bit that is 0. Each iteration claims the next `batch` indices of a sweep over
/// [0, n) (in order, or through the Scramble bijection); when the sweep ends the range is reset (PauseTiming above
/// pause_reset_from_bits). reset() runs once before the loop, untimed. Returns the number of calls that returned
/// true (claim returns 1 for an unchecked baseline).
template <bool Random, class Claim, class Reset>
KB_INLINE u64 run_claims(benchmark::State& st, u64 n, Claim&& claim, Reset&& reset) {
    reset();
    const Scramble perm(n);
    u64 pos = 0, wins = 0;
    for (auto _ : st) {
        if constexpr (Random) {
            for (u64 k = 0; k < batch; ++k) wins += static_cast<u64>(claim(perm(pos + k)));
        } else {
            for (u64 k = 0; k < batch; ++k) wins += static_cast<u64>(claim(pos + k));
        }
        pos += batch;
        if (pos == n) [[unlikely]] {
            pos = 0;
            if (n >= pause_reset_from_bits) {
                st.PauseTiming();
                reset();
                st.ResumeTiming();
            } else {
                reset();
            }
        }
    }
    report_ops(st, batch);
    return wins;
}

inline u64 total_ops(const benchmark::State& st) { return static_cast<u64>(st.iterations()) * batch; }

} // namespace kb
