#include "dso_api.hpp"

#include <atomic>
#include <thread>
#include <vector>

std::uint64_t writer_fill(keyspace::AtomicBitmap& bm, std::uint64_t b, std::uint64_t e, unsigned threads) {
    std::atomic<std::uint64_t> left{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            std::uint64_t mine = 0;
            for (std::uint64_t i = b + t; i < e; i += threads) {
                if (bm.test_and_set(i)) ++mine;
                if (i % 10 == 0 && bm.clear(i)) --mine;
            }
            left.fetch_add(mine);
        });
    for (auto& th : pool) th.join();
    return left.load();
}

void writer_alternate(keyspace::AtomicBitmap& a, keyspace::AtomicBitmap& b, std::uint64_t lo, std::uint64_t hi) {
    for (std::uint64_t i = lo; i < hi; ++i) {
        a.set(i);
        b.set(i);
    }
}

keyspace::AtomicBitmap* writer_new_bitmap() { return new keyspace::AtomicBitmap(1 << 20); }
void writer_delete_bitmap(keyspace::AtomicBitmap* bm) { delete bm; }
std::uint64_t writer_count(const keyspace::AtomicBitmap& bm) { return bm.count(); }
