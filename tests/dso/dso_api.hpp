// Two shared libraries built with -fvisibility=hidden, so each holds its own copy of keyspace's inline variables (as
// with RTLD_LOCAL): one makes and counts bitmaps, the other writes them. Only these functions are exported.
#pragma once

#include <keyspace/atomic_bitmap.hpp>

#include <cstdint>

#define DSO_API __attribute__((visibility("default")))

// libkeyspace_dso_maker
DSO_API keyspace::AtomicBitmap* maker_new_bitmap();
DSO_API void maker_delete_bitmap(keyspace::AtomicBitmap* bm);
DSO_API std::uint64_t maker_count(const keyspace::AtomicBitmap& bm);
DSO_API bool maker_claim(keyspace::AtomicBitmap& bm, std::uint64_t id);

// libkeyspace_dso_writer
/// Claims [b, e) from `threads` threads (each takes every threads-th ID) and clears every 10th of them again;
/// returns how many bits it left set.
DSO_API std::uint64_t writer_fill(keyspace::AtomicBitmap& bm, std::uint64_t b, std::uint64_t e, unsigned threads);
/// From one thread: claims id in `a` then in `b`, alternating, for ids in [lo, hi) (the bitmaps may have been made by
/// different libraries).
DSO_API void writer_alternate(keyspace::AtomicBitmap& a, keyspace::AtomicBitmap& b, std::uint64_t lo, std::uint64_t hi);
DSO_API keyspace::AtomicBitmap* writer_new_bitmap();
DSO_API void writer_delete_bitmap(keyspace::AtomicBitmap* bm);
DSO_API std::uint64_t writer_count(const keyspace::AtomicBitmap& bm);
