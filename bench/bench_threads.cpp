// Scaling of real claims: one thread vs two threads claiming fresh bits in disjoint regions of one shared bitmap
// (thread t owns [t * 2^28, (t + 1) * 2^28): different 64K-bit chunks, different cache lines, nothing shared but the
// read-only bitmap header). ->Threads(1)->Threads(2) with UseRealTime: items_per_second is the total throughput of all
// threads, so threads:2 / threads:1 is the scaling. Claims are in order or scrambled inside the region; every call
// must return true. Ours (contiguous and grown) beside the raw fetch_or baselines on a shared atomic word array.
#include "common.hpp"

namespace kb {
namespace {

constexpr u64 region_bits = 1ull << 28;
constexpr int max_threads = 2;
constexpr u64 shared_bits = region_bits * max_threads;

enum Impl { ours_contiguous, ours_grown, base_fetch_or, base_fetch_or_tas };
const char* impl_name(int i) {
    constexpr const char* names[] = {"AtomicBitmap", "AtomicBitmap_grown", "base_fetch_or", "base_fetch_or_tas"};
    return names[i];
}

struct alignas(keyspace::cache_line_size) Cursor {
    u64 pos = 0; // next index (within the thread's region) to claim; survives between runs until the Setup hook
};

struct Shared {
    AnyBitmap contiguous = make_bitmap(Kind::contiguous, shared_bits);
    AnyBitmap grown = make_bitmap(Kind::grown, shared_bits);
    AtomicWords raw{shared_bits};
    Cursor cursor[max_threads];
};

Shared& shared() {
    static Shared s;
    return s;
}

/// Runs single-threaded before the threads start: a clean bitmap and cursors at 0.
template <int I>
void setup(const benchmark::State&) {
    Shared& s = shared();
    if constexpr (I == ours_contiguous) s.contiguous.growable->reset();
    if constexpr (I == ours_grown) s.grown.growable->reset();
    if constexpr (I == base_fetch_or || I == base_fetch_or_tas) s.raw.reset();
    for (auto& c : s.cursor) c.pos = 0;
}

template <int I, bool Random>
void claim_mt(benchmark::State& st) {
    Shared& s = shared();
    const auto t = static_cast<u64>(st.thread_index());
    const u64 base = t * region_bits;
    const Scramble perm(region_bits);
    u64 pos = s.cursor[t].pos, wins = 0;
    auto run = [&](auto&& claim, auto&& clear_region) {
        for (auto _ : st) {
            for (u64 k = 0; k < batch; ++k) wins += static_cast<u64>(claim(base + (Random ? perm(pos + k) : pos + k)));
            pos += batch;
            if (pos == region_bits) [[unlikely]] { // region exhausted: clear it, untimed (only this thread uses it)
                st.PauseTiming();
                clear_region();
                pos = 0;
                st.ResumeTiming();
            }
        }
    };
    if constexpr (I == ours_contiguous || I == ours_grown) {
        keyspace::AtomicBitmap& bm = I == ours_contiguous ? *s.contiguous.growable : *s.grown.growable;
        run([&](u64 i) { return bm.test_and_set(i); }, [&] { bm.clear_range(base, base + region_bits); });
    } else {
        auto clear = [&] {
            for (u64 w = base / 64; w < (base + region_bits) / 64; ++w) s.raw.w[w].store(0, std::memory_order_relaxed);
        };
        if constexpr (I == base_fetch_or)
            run([&](u64 i) { s.raw.fetch_or(i); return 1; }, clear);
        else
            run([&](u64 i) { return s.raw.fetch_or_claim(i); }, clear);
    }
    s.cursor[t].pos = pos;
    const u64 want = static_cast<u64>(st.iterations()) * batch;
    if (wins != want) st.SkipWithError("a claim on a fresh bit returned false");
    report_ops(st, batch);
}

template <int I>
void register_impl() {
    for (bool random : {false, true}) {
        const std::string name = std::string("claim_mt/") + order_name(random) + "/disjoint_2^28/" + impl_name(I);
        auto* b = random ? add(name, claim_mt<I, true>) : add(name, claim_mt<I, false>);
        b->Setup(setup<I>)->Threads(1)->Threads(2)->UseRealTime();
    }
}

const int registered = [] {
    register_impl<ours_contiguous>();
    register_impl<ours_grown>();
    register_impl<base_fetch_or>();
    register_impl<base_fetch_or_tas>();
    return 0;
}();

} // namespace
} // namespace kb
