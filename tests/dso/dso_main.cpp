// A bitmap made in one shared library and written from another (each built with -fvisibility=hidden, so each has
// its own copy of keyspace's inline variables): count() must be exact whichever library asks, after the writing
// threads have joined, and whichever library made the bitmap.
#include "dso_api.hpp"

#include <cstdio>
#include <thread>

namespace {

int failures = 0;

void check_eq(std::uint64_t got, std::uint64_t want, const char* what) {
    if (got != want) {
        std::printf("FAILED: %s: %llu, expected %llu\n", what, static_cast<unsigned long long>(got),
                    static_cast<unsigned long long>(want));
        ++failures;
    }
}

} // namespace

int main() {
    // Made by one library, written by the other from four threads and from this one.
    keyspace::AtomicBitmap* made = maker_new_bitmap();
    std::uint64_t expected = writer_fill(*made, 0, 100'000, 4);
    expected += writer_fill(*made, 100'000, 110'000, 1);
    check_eq(maker_count(*made), expected, "count() in the library that made it");
    check_eq(writer_count(*made), expected, "count() in the library that wrote it");
    check_eq(made->count(), expected, "count() in the program");
    check_eq(made->recount(), expected, "recount() (the bits themselves)");

    // New threads after the first ones exited (their slots returned), and the maker writing too.
    expected += writer_fill(*made, 110'000, 150'000, 3);
    for (std::uint64_t i = 150'000; i < 150'100; ++i) expected += maker_claim(*made, i) ? 1 : 0;
    check_eq(maker_count(*made), expected, "count() after more threads and the maker's own claims");

    // One thread writing bitmaps of two libraries in turn (each write switches the registry it counts in).
    keyspace::AtomicBitmap* other = writer_new_bitmap();
    std::thread t([&] { writer_alternate(*made, *other, 200'000, 210'000); });
    t.join();
    expected += 10'000;
    check_eq(maker_count(*made), expected, "count() of the maker's bitmap after alternating writes");
    check_eq(writer_count(*other), 10'000, "count() of the writer's bitmap after alternating writes");
    check_eq(maker_count(*other), 10'000, "count() of the writer's bitmap asked from the maker");

    writer_delete_bitmap(other);
    maker_delete_bitmap(made);
    std::printf(failures == 0 ? "ok\n" : "%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
