#include "dso_api.hpp"

keyspace::AtomicBitmap* maker_new_bitmap() { return new keyspace::AtomicBitmap(1 << 20); }
void maker_delete_bitmap(keyspace::AtomicBitmap* bm) { delete bm; }
std::uint64_t maker_count(const keyspace::AtomicBitmap& bm) { return bm.count(); }
bool maker_claim(keyspace::AtomicBitmap& bm, std::uint64_t id) { return bm.test_and_set(id); }
