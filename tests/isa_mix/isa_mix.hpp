// What one translation unit reports about the instruction-set-dependent code it uses. The same source,
// isa_mix_report.cpp, is compiled twice into one program: once with the baseline flags, once with AVX2 and BMI2.
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/iterators.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/detail/select_bit.hpp>

#include <cstdint>
#include <optional>

namespace isa_mix {

using keyspace::AtomicBitmap;

/// One callback type for both files, so for_each_set<const Visit&> is the same instantiation unless tagged.
struct Visit {
    std::uint64_t* sum;
    void operator()(std::uint64_t id) const { *sum += id; }
};

struct Report {
    const char* kernel_name;     // keyspace::simd_kernel_name() as this file sees it
    const char* detail_name;     // keyspace::detail::simd::kernel_name()
    const char* isa_name;        // KEYSPACE_ISA_NAME_STRING
    std::uint64_t (*popcount)(const keyspace::detail::atomic_word*, std::size_t) noexcept;
    unsigned (*select_bit)(std::uint64_t, unsigned) noexcept;
    std::uint64_t (AtomicBitmap::*count_range)(std::uint64_t, std::uint64_t) const;
    std::optional<std::uint64_t> (AtomicBitmap::*find_next_set)(std::uint64_t, std::uint64_t) const noexcept;
    std::optional<std::uint64_t> (AtomicBitmap::*find_prev_set)(std::uint64_t, std::uint64_t) const noexcept;
    std::uint64_t (AtomicBitmap::*recount)() const noexcept;
    std::uint64_t (AtomicBitmap::*count)() const noexcept;
    bool (AtomicBitmap::*empty)() const noexcept;
    std::optional<std::uint64_t> (AtomicBitmap::*find_next_set_from)(std::uint64_t) const noexcept;
    std::optional<std::uint64_t> (AtomicBitmap::*find_next_unset)(std::uint64_t, std::uint64_t) const noexcept;
    std::optional<std::uint64_t> (AtomicBitmap::*find_prev_set_before)(std::uint64_t) const noexcept;
    void (AtomicBitmap::*for_each_set)(std::uint64_t, std::uint64_t, const Visit&) const;
    const char* (*simd_kernel_name)() noexcept;
    /// Counts [b, e) of a bitmap made elsewhere, calling count_range from this file.
    std::uint64_t (*count_here)(const AtomicBitmap&, std::uint64_t, std::uint64_t);
    // The iterators: the pull call, range-for's increment, and a whole loop run from this file.
    std::optional<keyspace::Key> (keyspace::SequentialIter::*sequential_next)() noexcept;
    std::optional<keyspace::Key> (keyspace::RandomIter::*random_next)();
    keyspace::detail::InputRange<keyspace::SequentialIter, keyspace::Key>::iterator& (
        keyspace::detail::InputRange<keyspace::SequentialIter, keyspace::Key>::iterator::*range_increment)();
    /// Sums the IDs of t's keys with a range-for over a sequential stream, from this file.
    std::uint64_t (*sum_sequential)(const keyspace::PrefixTracker&);
};

Report report_baseline();
Report report_avx2();

} // namespace isa_mix
