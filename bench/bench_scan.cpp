// Range kernels.
//   count_range/...   count_range over a 1 MiB (2^23-bit) and a 256 MiB (2^31-bit) range, bytes_per_second, beside a
//                     plain scalar std::popcount loop (auto-vectorisation off), the compiler's auto-vectorised popcount
//                     loop, and a plain read-bandwidth loop (sum of the words) over a std::vector<uint64_t> of the
//                     same words; and, for each contiguous layout, that read loop over the bitmap's own words
//                     (<layout>_base_read_same_words): same memory, so the ratio is free of where each 256 MiB
//                     block happened to land (placement alone moves DRAM bandwidth here by up to ~30 %, in either
//                     direction, between allocations of the same size). The 256 MiB bitmap holds one random run
//                     per word (~33 %; the kernels are data-independent, and this keeps the set-up at one set_range
//                     per word).
//   for_each_set/...  for_each_set over 64M bits at 50 % and 1 % density (iid bits), ns per set bit
//                     (items = set bits), each id summed by the callback; beside a plain tzcnt loop over a
//                     std::vector<uint64_t> and CRoaring's roaring_iterate (callback) and
//                     roaring_bitmap_to_uint32_array (bulk, into a preallocated buffer) over the same set.
#include "common.hpp"

#if KEYSPACE_BENCH_HAVE_ROARING
#include <roaring/roaring.h>
#endif

namespace kb {
namespace {

// ---- baselines (leaf functions) ------------------------------------------------------------------------------------

KB_NOINLINE KB_NO_VECTORIZE u64 popcount_scalar(const u64* p, u64 n) {
    u64 total = 0;
    KB_NO_VECTORIZE_LOOP
    for (u64 i = 0; i < n; ++i) total += static_cast<u64>(std::popcount(p[i]));
    return total;
}

KB_NOINLINE u64 popcount_autovec(const u64* p, u64 n) {
    u64 total = 0;
    for (u64 i = 0; i < n; ++i) total += static_cast<u64>(std::popcount(p[i]));
    return total;
}

KB_NOINLINE u64 read_sum(const u64* p, u64 n) {
    u64 total = 0;
    for (u64 i = 0; i < n; ++i) total += p[i];
    return total;
}

// ---- count_range ------------------------------------------------------------------------------------------------

struct RangeFixture {
    PlainBitset plain;
    AnyBitmap ours[3];
    u64 ones = 0;
};

/// One random run [a, b) per word.
std::vector<u64> run_words(u64 bits, u64 seed) {
    std::vector<u64> w(bits / 64);
    SplitMix64 r{seed};
    for (auto& x : w) {
        const u64 v = r.next();
        const unsigned a = static_cast<unsigned>(v & 63), b = static_cast<unsigned>((v >> 8) & 63);
        const unsigned lo = std::min(a, b), hi = std::max(a, b) + 1; // [lo, hi), 1..64 bits
        x = (hi - lo == 64 ? ~0ull : ((1ull << (hi - lo)) - 1)) << lo;
    }
    return w;
}

RangeFixture& range_fixture(u64 bits) {
    static std::mutex mu;
    static std::map<u64, std::unique_ptr<RangeFixture>> cache;
    return cached(cache, mu, bits, [&] {
        RangeFixture f;
        f.plain.w = bits <= (1ull << 26) ? random_words(bits, 0xc0ffee) : run_words(bits, 0xc0ffee);
        f.ones = f.plain.count();
        const bool small = bits <= (1ull << 26);
        for (Kind k : {Kind::contiguous, Kind::fixed, Kind::grown}) {
            if (!small && k == Kind::grown) continue; // 256 MiB: contiguous and fixed only (memory, set-up time)
            auto& b = f.ours[static_cast<int>(k)];
            if (k == Kind::grown)
                b.growable = std::make_unique<keyspace::AtomicBitmap>();
            else
                b = make_bitmap(k, bits);
            visit(b, [&](auto& bm) { load_words(bm, f.plain.w); });
        }
        return f;
    });
}

void count_range_ours(benchmark::State& st, u64 bits, Kind k) {
    auto& f = range_fixture(bits);
    visit(f.ours[static_cast<int>(k)], [&](auto& bm) {
        u64 c = 0;
        for (auto _ : st) {
            c = bm.count_range(0, bits);
            benchmark::DoNotOptimize(c);
        }
        if (c != f.ones) st.SkipWithError("count_range returned a wrong count");
        // alignment of the first word: the vector kernels load 32/64 bytes at a time from here
        st.counters["addr_mod_64"] = static_cast<double>(reinterpret_cast<std::uintptr_t>(bm.storage().word(0)) % 64);
    });
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(bits / 8));
}

/// read_sum over the words of one of our contiguous bitmaps (no writer runs: the plain reads race with nothing).
void read_same_words(benchmark::State& st, u64 bits, Kind k) {
    auto& f = range_fixture(bits);
    visit(f.ours[static_cast<int>(k)], [&](auto& bm) {
        const auto* p = reinterpret_cast<const u64*>(bm.storage().word(0)); // atomic_word: the layout of u64
        u64 c = 0;
        for (auto _ : st) {
            c = read_sum(p, bits / 64);
            benchmark::DoNotOptimize(c);
        }
    });
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(bits / 8));
}

void count_range_base(benchmark::State& st, u64 bits, int which) {
    auto& f = range_fixture(bits);
    const u64* p = f.plain.w.data();
    const u64 n = f.plain.w.size();
    u64 c = 0;
    for (auto _ : st) {
        c = which == 0 ? popcount_scalar(p, n) : which == 1 ? popcount_autovec(p, n) : read_sum(p, n);
        benchmark::DoNotOptimize(c);
    }
    if (which < 2 && c != f.ones) st.SkipWithError("popcount baseline returned a wrong count");
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(bits / 8));
}

// ---- for_each_set -------------------------------------------------------------------------------------------------

#if KEYSPACE_BENCH_HAVE_ROARING
struct RoaringDeleter {
    void operator()(roaring_bitmap_t* r) const noexcept { roaring_bitmap_free(r); }
};
using Roaring = std::unique_ptr<roaring_bitmap_t, RoaringDeleter>;

Roaring roaring_from(const std::vector<u64>& words) {
    std::vector<std::uint32_t> ids;
    for (u64 i = 0; i < words.size(); ++i)
        for (u64 w = words[i]; w != 0; w &= w - 1) ids.push_back(static_cast<std::uint32_t>(i * 64 + std::countr_zero(w)));
    Roaring r(roaring_bitmap_create());
    roaring_bitmap_add_many(r.get(), ids.size(), ids.data());
    return r;
}
#endif

struct SetFixture {
    PlainBitset plain;
    AnyBitmap ours[3];
    u64 ones = 0, id_sum = 0;
#if KEYSPACE_BENCH_HAVE_ROARING
    Roaring roaring;
#endif
};

/// 64M bits at `percent` density: 50 % reuses the test fixture's words and bitmaps; 1 % is built here.
SetFixture& set_fixture(u64 percent) {
    static std::mutex mu;
    static std::map<u64, std::unique_ptr<SetFixture>> cache;
    return cached(cache, mu, percent, [&] {
        SetFixture f;
        if (percent == 50) {
            f.plain.w = populated(M64).plain.w;
        } else {
            f.plain.w = sparse_words(M64, 100 / percent, 0xd1ce);
        }
        f.ones = f.plain.count();
        for (u64 i = 0; i < f.plain.w.size(); ++i)
            for (u64 w = f.plain.w[i]; w != 0; w &= w - 1) f.id_sum += i * 64 + static_cast<u64>(std::countr_zero(w));
        for (Kind k : {Kind::contiguous, Kind::grown}) {
            auto& b = f.ours[static_cast<int>(k)];
            if (k == Kind::grown)
                b.growable = std::make_unique<keyspace::AtomicBitmap>();
            else
                b = make_bitmap(k, M64);
            visit(b, [&](auto& bm) { load_words(bm, f.plain.w); });
        }
#if KEYSPACE_BENCH_HAVE_ROARING
        f.roaring = roaring_from(f.plain.w);
#endif
        return f;
    });
}

void finish_for_each(benchmark::State& st, const SetFixture& f, u64 sum) {
    if (sum != f.id_sum) st.SkipWithError("for_each_set visited a wrong set");
    const double ids = static_cast<double>(st.iterations()) * static_cast<double>(f.ones);
    st.SetItemsProcessed(static_cast<int64_t>(ids));
    st.counters["ns_per_op"] = benchmark::Counter(ids, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void for_each_ours(benchmark::State& st, u64 percent, Kind k) {
    auto& f = set_fixture(percent);
    u64 sum = 0;
    visit(f.ours[static_cast<int>(k)], [&](auto& bm) {
        for (auto _ : st) {
            sum = 0;
            bm.for_each_set(0, M64, [&](u64 id) { sum += id; });
            benchmark::DoNotOptimize(sum);
        }
    });
    finish_for_each(st, f, sum);
}

KB_NOINLINE u64 tzcnt_walk(const u64* p, u64 n) {
    u64 sum = 0;
    for (u64 i = 0; i < n; ++i) {
        const u64 base = i * 64;
        for (u64 w = p[i]; w != 0; w &= w - 1) sum += base + static_cast<u64>(std::countr_zero(w));
    }
    return sum;
}

void for_each_plain(benchmark::State& st, u64 percent) {
    auto& f = set_fixture(percent);
    u64 sum = 0;
    for (auto _ : st) {
        sum = tzcnt_walk(f.plain.w.data(), f.plain.w.size());
        benchmark::DoNotOptimize(sum);
    }
    finish_for_each(st, f, sum);
}

#if KEYSPACE_BENCH_HAVE_ROARING
bool roaring_sum(std::uint32_t v, void* param) {
    *static_cast<u64*>(param) += v;
    return true;
}

void for_each_roaring(benchmark::State& st, u64 percent, bool bulk) {
    auto& f = set_fixture(percent);
    std::vector<std::uint32_t> buf(bulk ? f.ones : 0); // allocated before the timed loop
    u64 sum = 0;
    for (auto _ : st) {
        if (bulk) {
            roaring_bitmap_to_uint32_array(f.roaring.get(), buf.data());
            benchmark::ClobberMemory();
        } else {
            sum = 0;
            roaring_iterate(f.roaring.get(), roaring_sum, &sum);
            benchmark::DoNotOptimize(sum);
        }
    }
    if (bulk) {
        sum = 0;
        for (std::uint32_t v : buf) sum += v;
    }
    finish_for_each(st, f, sum);
}
#endif

const int registered = [] {
    for (u64 bits : {1ull << 23, 1ull << 31}) {
        const std::string prefix = std::string("count_range/") + (bits == (1ull << 23) ? "1MiB" : "256MiB") + "/";
        for (Kind k : {Kind::contiguous, Kind::fixed, Kind::grown}) {
            if (bits > (1ull << 26) && k == Kind::grown) continue;
            add(prefix + kind_name(k), [=](benchmark::State& st) { count_range_ours(st, bits, k); });
            if (k != Kind::grown)
                add(prefix + kind_name(k) + "_base_read_same_words",
                    [=](benchmark::State& st) { read_same_words(st, bits, k); });
        }
        int which = 0;
        for (const char* base : {"base_popcount_scalar", "base_popcount_autovec", "base_read_bandwidth"})
            add(prefix + base, [=, w = which++](benchmark::State& st) { count_range_base(st, bits, w); });
    }
    for (u64 percent : {50ull, 1ull}) {
        const std::string prefix = "for_each_set/64M/" + std::to_string(percent) + "pct/";
        for (Kind k : {Kind::contiguous, Kind::grown})
            add(prefix + kind_name(k), [=](benchmark::State& st) { for_each_ours(st, percent, k); });
        add(prefix + "base_tzcnt_loop", [=](benchmark::State& st) { for_each_plain(st, percent); });
#if KEYSPACE_BENCH_HAVE_ROARING
        add(prefix + "base_roaring_iterate", [=](benchmark::State& st) { for_each_roaring(st, percent, false); });
        add(prefix + "base_roaring_to_uint32_array",
            [=](benchmark::State& st) { for_each_roaring(st, percent, true); });
#endif
    }
    return 0;
}();

} // namespace
} // namespace kb
