// CRoaring (32-bit roaring_bitmap_t) beside ours on the same random index stream (run_reads / run_writes):
//   roaring/contains/<size>  roaring_bitmap_contains vs AtomicBitmap::test on the same ~50 % set at 1M and 64M
//                            bits, and on the 1 % set at 64M;
//   roaring/add/<size>/new   real adds: every call inserts an id that is absent (run_claims: a scattered sweep of
//                            [0, size) from empty, then an untimed reset), roaring_bitmap_add_checked vs
//                            AtomicBitmap::set; each checks that every call reported an insertion;
//   roaring/add/<size>       random ids with replacement from empty, roaring_bitmap_add vs AtomicBitmap::set: after
//                            the first ~size adds nearly every id is already present, so this is the re-add path
//                            (set is one `lock or` whatever the bit holds; test_and_set returns after a load there,
//                            shown as AtomicBitmap_test_and_set).
// CRoaring is single-threaded; ours pays for its atomics here.
#include "common.hpp"

#include <roaring/roaring.h>

namespace kb {
namespace {

struct RoaringDeleter {
    void operator()(roaring_bitmap_t* r) const noexcept { roaring_bitmap_free(r); }
};
using Roaring = std::unique_ptr<roaring_bitmap_t, RoaringDeleter>;

struct ContainsFixture {
    PlainBitset plain;
    std::unique_ptr<keyspace::AtomicBitmap> ours;
    Roaring roaring;
};

/// The same bits in both: 50 % = the test fixture's words; 1 % = iid sparse words.
ContainsFixture& contains_fixture(u64 bits, u64 percent) {
    static std::mutex mu;
    static std::map<std::pair<u64, u64>, std::unique_ptr<ContainsFixture>> cache;
    return cached(cache, mu, std::pair<u64, u64>(bits, percent), [&] {
        ContainsFixture f;
        f.plain.w = percent == 50 ? populated(bits).plain.w : sparse_words(bits, 100 / percent, 0xd1ce);
        f.ours = std::make_unique<keyspace::AtomicBitmap>(bits);
        load_words(*f.ours, f.plain.w);
        std::vector<std::uint32_t> ids;
        for (u64 i = 0; i < f.plain.w.size(); ++i)
            for (u64 w = f.plain.w[i]; w != 0; w &= w - 1)
                ids.push_back(static_cast<std::uint32_t>(i * 64 + static_cast<u64>(std::countr_zero(w))));
        f.roaring.reset(roaring_bitmap_create());
        roaring_bitmap_add_many(f.roaring.get(), ids.size(), ids.data());
        if (roaring_bitmap_get_cardinality(f.roaring.get()) != f.ours->count())
            throw std::logic_error("roaring fixture: cardinality mismatch");
        return f;
    });
}

void contains(benchmark::State& st, u64 bits, u64 percent, bool ours) {
    auto& f = contains_fixture(bits, percent);
    const u64 hits = ours ? run_reads<true>(st, bits, [&](u64 i) { return f.ours->test(i); })
                          : run_reads<true>(st, bits, [&](u64 i) {
                                return roaring_bitmap_contains(f.roaring.get(), static_cast<std::uint32_t>(i));
                            });
    st.counters["hit_rate"] = static_cast<double>(hits) / static_cast<double>(total_ops(st));
}

/// Who adds: ours (contiguous or grown) through set or test_and_set, or CRoaring.
enum class Adder { set, grown_set, test_and_set, roaring };

/// Random ids with replacement (mostly re-adds, see the file comment); CRoaring through roaring_bitmap_add.
void add_ids(benchmark::State& st, u64 bits, Adder by) {
    if (by == Adder::roaring) {
        Roaring r(roaring_bitmap_create()); // allocated before the timed loop; grows as roaring does
        run_writes<true>(st, bits, [&](u64 i) { roaring_bitmap_add(r.get(), static_cast<std::uint32_t>(i)); });
        return;
    }
    visit(fresh(by == Adder::grown_set ? Kind::grown : Kind::contiguous, bits), [&](auto& bm) {
        bm.reset();
        if (by == Adder::test_and_set)
            run_writes<true>(st, bits, [&](u64 i) { (void)bm.test_and_set(i); });
        else
            run_writes<true>(st, bits, [&](u64 i) { (void)bm.set(i); });
    });
}

/// Real adds (every id absent before the call) through set; CRoaring through roaring_bitmap_add_checked on a bitmap
/// emptied at the end of each sweep (its containers are rebuilt).
void add_new_ids(benchmark::State& st, u64 bits, Adder by) {
    u64 inserted = 0;
    if (by == Adder::roaring) {
        Roaring r(roaring_bitmap_create());
        inserted = run_claims<true>(
            st, bits, [&](u64 i) { return roaring_bitmap_add_checked(r.get(), static_cast<std::uint32_t>(i)); },
            [&] { roaring_bitmap_clear(r.get()); });
    } else {
        visit(fresh(by == Adder::grown_set ? Kind::grown : Kind::contiguous, bits), [&](auto& bm) {
            inserted = run_claims<true>(st, bits, [&](u64 i) { return bm.set(i); }, [&] { bm.reset(); });
        });
    }
    if (inserted != total_ops(st)) st.SkipWithError("an add of an absent id reported no insertion");
}

const int registered = [] {
    for (auto [bits, percent] : {std::pair<u64, u64>{M1, 50}, {M64, 50}, {M64, 1}}) {
        const std::string prefix = "roaring/contains/random/" + size_name(bits) + "/" + std::to_string(percent) + "pct/";
        add(prefix + "AtomicBitmap_test", [=](benchmark::State& st) { contains(st, bits, percent, true); });
        add(prefix + "base_roaring_contains", [=](benchmark::State& st) { contains(st, bits, percent, false); });
    }
    for (u64 bits : {M1, M64}) {
        const std::string prefix = "roaring/add/random/" + size_name(bits) + "/";
        add(prefix + "AtomicBitmap_set", [=](benchmark::State& st) { add_ids(st, bits, Adder::set); });
        add(prefix + "AtomicBitmap_grown_set", [=](benchmark::State& st) { add_ids(st, bits, Adder::grown_set); });
        add(prefix + "AtomicBitmap_test_and_set", [=](benchmark::State& st) { add_ids(st, bits, Adder::test_and_set); });
        add(prefix + "base_roaring_add", [=](benchmark::State& st) { add_ids(st, bits, Adder::roaring); });
    }
    for (u64 bits : {M1, M64}) {
        const std::string prefix = "roaring/add/random/" + size_name(bits) + "/new/";
        add(prefix + "AtomicBitmap_set", [=](benchmark::State& st) { add_new_ids(st, bits, Adder::set); });
        add(prefix + "AtomicBitmap_grown_set", [=](benchmark::State& st) { add_new_ids(st, bits, Adder::grown_set); });
        add(prefix + "base_roaring_add_checked", [=](benchmark::State& st) { add_new_ids(st, bits, Adder::roaring); });
    }
    return 0;
}();

} // namespace
} // namespace kb
