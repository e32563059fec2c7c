// test(i) at 1K, 1M, 64M and 1G bits, random and sequential, on a ~50 % populated bitmap. Ours in its three layouts
// (AtomicBitmap(size): one contiguous segment; FixedAtomicBitmap; AtomicBitmap grown from the default 4096 bits by
// writes, i.e. through the radix-tree chunks) beside a plain std::vector<uint64_t> bitset with a non-atomic test.
// Every variant consumes the same index stream and the same loop (run_reads: one accumulate per call, kept scalar, so
// the plain loop is not turned into vector gathers; the vectorised plain loop is shown apart as info_, and so is the
// plain bitset with test()'s bound check, info_plain_bitset_bound_checked). ns_per_op.
#include "common.hpp"

namespace kb {
namespace {

template <bool Random>
void test_ours(benchmark::State& st, u64 n, Kind k) {
    auto& p = populated(n); // built on first use, before the timed loop
    visit(p.ours[static_cast<int>(k)], [&](auto& bm) { run_reads<Random>(st, n, [&](u64 i) { return bm.test(i); }); });
}

template <bool Random>
void test_plain(benchmark::State& st, u64 n, bool checked) {
    const PlainBitset& b = populated(n).plain;
    if (checked)
        run_reads<Random>(st, n, [&](u64 i) { return b.test_checked(i); });
    else
        run_reads<Random>(st, n, [&](u64 i) { return b.test(i); });
}

/// Informational: the same sequential loop with the compiler free to vectorise it (AVX2/AVX-512 gathers), which no
/// atomic load allows; not a per-call figure.
void test_plain_autovec(benchmark::State& st, u64 n) {
    const PlainBitset& b = populated(n).plain;
    auto op = [&](u64 i) { return b.test(i); };
    run_reads<false, decltype(op)&, false>(st, n, op);
}

const int registered = [] {
    for (u64 n : {K1, M1, M64, G1}) {
        for (bool random : {true, false}) {
            const std::string prefix = std::string("test/") + order_name(random) + "/" + size_name(n) + "/";
            for (Kind k : {Kind::contiguous, Kind::fixed, Kind::grown})
                add(prefix + kind_name(k), [=](benchmark::State& st) {
                    random ? test_ours<true>(st, n, k) : test_ours<false>(st, n, k);
                });
            add(prefix + "base_plain_bitset", [=](benchmark::State& st) {
                random ? test_plain<true>(st, n, false) : test_plain<false>(st, n, false);
            });
            add(prefix + "info_plain_bitset_bound_checked", [=](benchmark::State& st) {
                random ? test_plain<true>(st, n, true) : test_plain<false>(st, n, true);
            });
            if (!random) add(prefix + "info_plain_bitset_autovec", [=](benchmark::State& st) { test_plain_autovec(st, n); });
        }
    }
    return 0;
}();

} // namespace
} // namespace kb
