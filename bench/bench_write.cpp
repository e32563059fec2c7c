// Single-bit writes at 1K, 1M, 64M and 1G bits, random and sequential, ours in its three layouts beside the raw
// atomic baselines on a std::vector<std::atomic<uint64_t>> and a plain store, all on the same index stream:
//   set/...        set(i), the bit may already be set (the bitmap starts empty and fills as the run goes).
//                  Baselines: fetch_or with the result unused (lock or), fetch_or as test-and-set (lock bts), and
//                  the plain non-atomic store.
//   claim/...      a real claim: test_and_set(i) on a bit that is 0, every call (a sweep over [0, n) in order or
//                  through a bijective scramble; the range is reset when a sweep ends, see run_claims). Checked: the
//                  run fails unless every call returned true. Baselines on the same fresh bits: fetch_or (lock or),
//                  fetch_or as test-and-set (lock bts, checked the same way).
//   claim_set/...  test_and_set(i) on a bit that is already 1 (every bit set; checked: every call returned false).
//                  Baselines: fetch_or as test-and-set on the set bit, and an acquire load (the floor of a
//                  load-first claim).
#include "common.hpp"

namespace kb {
namespace {

// ---- set ---------------------------------------------------------------------------------------------------------

template <bool Random>
void set_ours(benchmark::State& st, u64 n, Kind k) {
    visit(fresh(k, n), [&](auto& bm) {
        bm.reset(); // untimed
        run_writes<Random>(st, n, [&](u64 i) { (void)bm.set(i); });
    });
}

template <bool Random>
void set_base(benchmark::State& st, u64 n, int which) {
    if (which == 2) {
        PlainBitset& b = plain_scratch(n);
        b.reset();
        run_writes<Random>(st, n, [&](u64 i) { b.set(i); });
        return;
    }
    AtomicWords& a = atomic_words(n, 0);
    a.reset();
    if (which == 0)
        run_writes<Random>(st, n, [&](u64 i) { a.fetch_or(i); });
    else
        benchmark::DoNotOptimize(run_reads<Random>(st, n, [&](u64 i) { return a.fetch_or_claim(i); }));
}

// ---- claim: every call hits a 0 bit ----------------------------------------------------------------------------------

void check_all(benchmark::State& st, u64 got, u64 want, const char* what) {
    if (got != want) st.SkipWithError((std::string(what) + ": " + std::to_string(got) + " of " + std::to_string(want)).c_str());
}

template <bool Random>
void claim_ours(benchmark::State& st, u64 n, Kind k) {
    visit(fresh(k, n), [&](auto& bm) {
        const u64 wins = run_claims<Random>(st, n, [&](u64 i) { return bm.test_and_set(i); }, [&] { bm.reset(); });
        check_all(st, wins, total_ops(st), "test_and_set on a fresh bit returned true");
    });
}

template <bool Random>
void claim_base(benchmark::State& st, u64 n, int which) {
    AtomicWords& a = atomic_words(n, 0);
    if (which == 0) {
        run_claims<Random>(st, n, [&](u64 i) { a.fetch_or(i); return 1; }, [&] { a.reset(); });
    } else {
        const u64 wins = run_claims<Random>(st, n, [&](u64 i) { return a.fetch_or_claim(i); }, [&] { a.reset(); });
        check_all(st, wins, total_ops(st), "fetch_or test-and-set on a fresh bit returned true");
    }
}

// ---- claim_set: every call hits a 1 bit --------------------------------------------------------------------------

template <bool Random>
void claim_set_ours(benchmark::State& st, u64 n, Kind k) {
    visit(full(k, n), [&](auto& bm) {
        const u64 wins = run_reads<Random>(st, n, [&](u64 i) { return bm.test_and_set(i); });
        check_all(st, total_ops(st) - wins, total_ops(st), "test_and_set on a set bit returned false");
    });
}

template <bool Random>
void claim_set_base(benchmark::State& st, u64 n, int which) {
    AtomicWords& a = atomic_words(n, 1);
    if (which == 0) {
        const u64 wins = run_reads<Random>(st, n, [&](u64 i) { return a.fetch_or_claim(i); });
        check_all(st, total_ops(st) - wins, total_ops(st), "fetch_or test-and-set on a set bit returned false");
    } else {
        const u64 ones = run_reads<Random>(st, n, [&](u64 i) { return a.load_test(i); });
        check_all(st, ones, total_ops(st), "load test on a set bit returned true");
    }
}

const Kind kinds[] = {Kind::contiguous, Kind::fixed, Kind::grown};

const int registered = [] {
    for (u64 n : {K1, M1, M64, G1}) {
        for (bool random : {true, false}) {
            const std::string tail = std::string(order_name(random)) + "/" + size_name(n) + "/";
            for (Kind k : kinds)
                add("set/" + tail + kind_name(k), [=](benchmark::State& st) {
                    random ? set_ours<true>(st, n, k) : set_ours<false>(st, n, k);
                });
            int which = 0;
            for (const char* base : {"base_fetch_or", "base_fetch_or_tas", "base_plain_store"})
                add("set/" + tail + base, [=, w = which++](benchmark::State& st) {
                    random ? set_base<true>(st, n, w) : set_base<false>(st, n, w);
                });
        }
    }
    for (u64 n : {K1, M1, M64, G1}) {
        for (bool random : {true, false}) {
            const std::string tail = std::string(order_name(random)) + "/" + size_name(n) + "/";
            for (Kind k : kinds)
                add("claim/" + tail + kind_name(k), [=](benchmark::State& st) {
                    random ? claim_ours<true>(st, n, k) : claim_ours<false>(st, n, k);
                });
            int which = 0;
            for (const char* base : {"base_fetch_or", "base_fetch_or_tas"})
                add("claim/" + tail + base, [=, w = which++](benchmark::State& st) {
                    random ? claim_base<true>(st, n, w) : claim_base<false>(st, n, w);
                });
        }
    }
    for (u64 n : {K1, M1, M64, G1}) {
        for (bool random : {true, false}) {
            const std::string tail = std::string(order_name(random)) + "/" + size_name(n) + "/";
            for (Kind k : kinds)
                add("claim_set/" + tail + kind_name(k), [=](benchmark::State& st) {
                    random ? claim_set_ours<true>(st, n, k) : claim_set_ours<false>(st, n, k);
                });
            int which = 0;
            for (const char* base : {"base_fetch_or_tas", "base_load"})
                add("claim_set/" + tail + base, [=, w = which++](benchmark::State& st) {
                    random ? claim_set_base<true>(st, n, w) : claim_set_base<false>(st, n, w);
                });
        }
    }
    return 0;
}();

} // namespace
} // namespace kb
