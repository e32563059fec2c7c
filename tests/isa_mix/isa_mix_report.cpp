// Compiled twice, with ISA_MIX_REPORT naming the function: each copy reports the entities its own flags select.
#include "isa_mix.hpp"

namespace isa_mix {

namespace {
std::uint64_t count_here(const AtomicBitmap& bm, std::uint64_t b, std::uint64_t e) { return bm.count_range(b, e); }
std::uint64_t sum_sequential(const keyspace::PrefixTracker& t) {
    std::uint64_t sum = 0;
    for (const keyspace::Key& k : t.iter().set_only().sequential()) sum += k.id;
    return sum;
}
} // namespace

Report ISA_MIX_REPORT() {
    Report r{};
    r.kernel_name = keyspace::simd_kernel_name();
    r.detail_name = keyspace::detail::simd::kernel_name();
    r.isa_name = KEYSPACE_ISA_NAME_STRING;
    r.popcount = &keyspace::detail::simd::popcount;
    r.select_bit = &keyspace::detail::select_bit;
    r.count_range = &AtomicBitmap::count_range;
    r.find_next_set = &AtomicBitmap::find_next_set;
    r.find_prev_set = &AtomicBitmap::find_prev_set;
    r.recount = &AtomicBitmap::recount;
    r.count = &AtomicBitmap::count;
    r.empty = &AtomicBitmap::empty;
    r.find_next_set_from = &AtomicBitmap::find_next_set;
    r.find_next_unset = &AtomicBitmap::find_next_unset;
    r.find_prev_set_before = &AtomicBitmap::find_prev_set;
    r.for_each_set = &AtomicBitmap::for_each_set<const Visit&>;
    r.simd_kernel_name = &keyspace::simd_kernel_name;
    r.count_here = &count_here;
    r.sequential_next = &keyspace::SequentialIter::next;
    r.random_next = &keyspace::RandomIter::next;
    r.range_increment = &keyspace::detail::InputRange<keyspace::SequentialIter, keyspace::Key>::iterator::operator++;
    r.sum_sequential = &sum_sequential;
    return r;
}

} // namespace isa_mix
