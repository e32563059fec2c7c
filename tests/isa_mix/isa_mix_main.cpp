// One program, two files built for different instruction sets (baseline x86-64, and -mavx2 -mbmi2): each file must
// report its own kernels and call its own bodies of the bitmap members that run them. Were the instruction-set-
// dependent inline functions one symbol in both files, the linker would keep one body for both, and the two reports
// would agree. Exit 77 (skipped) on a CPU without AVX2 and BMI2.
#include "isa_mix.hpp"

#include <cstdio>
#include <cstring>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::printf("FAILED: %s\n", what);
        ++failures;
    }
}

} // namespace

int main() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2")) {
        std::printf("skipped: this CPU has no AVX2/BMI2\n");
        return 77;
    }
    const isa_mix::Report base = isa_mix::report_baseline(), wide = isa_mix::report_avx2();
    std::printf("baseline file: kernels %s (%s), isa %s\n", base.kernel_name, base.detail_name, base.isa_name);
    std::printf("avx2 file:     kernels %s (%s), isa %s\n", wide.kernel_name, wide.detail_name, wide.isa_name);

    // Each file names its own kernels.
    check(std::strcmp(wide.kernel_name, "avx2") == 0, "the -mavx2 file reports the avx2 kernels");
    check(std::strstr(base.kernel_name, "avx") == nullptr, "the baseline file reports no AVX kernel");
    check(std::strcmp(base.kernel_name, base.detail_name) == 0 && std::strcmp(wide.kernel_name, wide.detail_name) == 0,
          "the public and the detail kernel names agree within a file");
    check(std::strcmp(base.isa_name, wide.isa_name) != 0, "the instruction-set names differ");
    // Each file calls its own instruction-set-dependent entities: distinct functions, not one merged symbol.
    check(base.popcount != wide.popcount, "the popcount kernels are distinct functions");
    check(base.select_bit != wide.select_bit, "the select_bit bodies are distinct functions");
    check(base.count_range != wide.count_range, "AtomicBitmap::count_range is distinct per file");
    check(base.find_next_set != wide.find_next_set, "AtomicBitmap::find_next_set is distinct per file");
    check(base.find_prev_set != wide.find_prev_set, "AtomicBitmap::find_prev_set is distinct per file");
    check(base.recount != wide.recount, "AtomicBitmap::recount is distinct per file");
    check(base.count != wide.count, "AtomicBitmap::count is distinct per file");
    check(base.empty != wide.empty, "AtomicBitmap::empty is distinct per file");
    check(base.find_next_set_from != wide.find_next_set_from,
          "AtomicBitmap::find_next_set(from) is distinct per file");
    check(base.find_next_unset != wide.find_next_unset, "AtomicBitmap::find_next_unset is distinct per file");
    check(base.find_prev_set_before != wide.find_prev_set_before,
          "AtomicBitmap::find_prev_set(before) is distinct per file");
    check(base.for_each_set != wide.for_each_set, "AtomicBitmap::for_each_set is distinct per file");
    check(base.simd_kernel_name != wide.simd_kernel_name, "keyspace::simd_kernel_name is distinct per file");
    check(base.sequential_next != wide.sequential_next, "SequentialIter::next is distinct per file");
    check(base.random_next != wide.random_next, "RandomIter::next is distinct per file");
    check(base.range_increment != wide.range_increment, "range-for's operator++ is distinct per file");

    // One bitmap type for both files: made here, counted by each file's own members, with the same results.
    keyspace::AtomicBitmap bm(1 << 20);
    std::uint64_t expected = 0;
    for (std::uint64_t i = 3; i < (1 << 20); i += 7) expected += bm.set(i) ? 1 : 0;
    check((bm.*base.count_range)(0, 1 << 20) == expected, "baseline count_range counts");
    check((bm.*wide.count_range)(0, 1 << 20) == expected, "avx2 count_range counts");
    check(base.count_here(bm, 5, 900'001) == wide.count_here(bm, 5, 900'001), "both files count a range alike");
    check((bm.*base.find_next_set)(4, 1 << 20) == std::optional<std::uint64_t>(10), "baseline find_next_set");
    check((bm.*wide.find_next_set)(4, 1 << 20) == std::optional<std::uint64_t>(10), "avx2 find_next_set");
    std::uint64_t sum_base = 0, sum_wide = 0;
    (bm.*base.for_each_set)(0, 1000, isa_mix::Visit{&sum_base});
    (bm.*wide.for_each_set)(0, 1000, isa_mix::Visit{&sum_wide});
    check(sum_base == sum_wide && sum_base != 0, "both files visit the same set bits");
    check((bm.*base.count)() == expected && (bm.*wide.count)() == expected, "count() in both files");
    check(base.select_bit(0b101100, 2) == 5 && wide.select_bit(0b101100, 2) == 5, "select_bit in both files");

    // One tracker, iterated by a range-for loop in each file: the same keys.
    keyspace::PrefixTracker t("isa:");
    std::uint64_t expected_sum = 0;
    for (std::uint64_t i = 11; i < 200'000; i += 13) expected_sum += t.add(i) ? i : 0;
    check(base.sum_sequential(t) == expected_sum, "a range-for loop in the baseline file visits every key");
    check(wide.sum_sequential(t) == expected_sum, "a range-for loop in the avx2 file visits every key");

    std::printf(failures == 0 ? "ok\n" : "%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
