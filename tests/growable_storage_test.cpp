// GrowableStorage's first segment as a reservation of address space: values across the reservation's end and the
// tree beyond it, memory_bytes() bounds, the fallback when no reservation can be made, many bitmaps in one process,
// and concurrent writers growing into the reservation.
#include "catch.hpp"

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>
#include <set>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using keyspace::AtomicBitmap;
namespace d = keyspace::detail;

namespace {

/// Sets the reservation knobs for a scope (tests construct their storages inside it), restoring them after.
struct ReservationKnobs {
    std::size_t bytes = d::growable_reservation_bytes.load();
    std::size_t limit = d::growable_reservation_limit.load();
    ReservationKnobs(std::size_t b, std::size_t l) {
        d::growable_reservation_bytes.store(b);
        d::growable_reservation_limit.store(l);
    }
    ~ReservationKnobs() {
        d::growable_reservation_bytes.store(bytes);
        d::growable_reservation_limit.store(limit);
    }
};

#if defined(KEYSPACE_TEST_EMULATED)
// qemu-user up to 7.2 keeps flags for every guest page of a mapping, reserved or not: each 1 GiB reservation costs
// the emulator ~4 MiB of host memory, and 10,000 live bitmaps exhausted the machine. Under an emulator every test of
// this binary reserves 8 MiB instead (2^26 bits: still a reservation, and crossed into the tree more often).
const bool emulated_reservation_size = [] {
    d::growable_reservation_bytes.store(std::size_t{8} << 20);
    return true;
}();
#endif

#if defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES)
constexpr bool can_reserve = true;
#else
constexpr bool can_reserve = false;
#endif

std::uint64_t splitmix(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// Writes ids into bm and a model, clears some, and checks every read path against the model.
void check_against_model(AtomicBitmap& bm, const std::vector<std::uint64_t>& ids) {
    std::set<std::uint64_t> model;
    for (std::uint64_t id : ids) CHECK(bm.set(id) == model.insert(id).second);
    std::uint64_t k = 0;
    for (std::uint64_t id : ids)
        if (++k % 3 == 0) CHECK(bm.clear(id) == (model.erase(id) == 1));
    CHECK(bm.count() == model.size());
    for (std::uint64_t id : ids) {
        CHECK(bm.test(id) == (model.count(id) == 1));
        CHECK(bm.test_and_set(id) == (model.count(id) == 0));
        model.insert(id);
        if (id > 0) CHECK(bm.test(id - 1) == (model.count(id - 1) == 1));
        CHECK(bm.test(id + 1) == (model.count(id + 1) == 1));
    }
    std::vector<std::uint64_t> seen;
    bm.for_each_set(0, bm.capacity(), [&](std::uint64_t id) { seen.push_back(id); });
    CHECK(seen == std::vector<std::uint64_t>(model.begin(), model.end()));
    CHECK(bm.count_range(0, bm.capacity()) == model.size());
    CHECK(bm.find_next_set(0) == *model.begin());
    CHECK(bm.find_prev_set(bm.capacity()) == *model.rbegin());
    bm.reset();
    CHECK(bm.count() == 0);
    for (std::uint64_t id : ids) CHECK_FALSE(bm.test(id));
    CHECK_FALSE(bm.find_next_set(0));
}

std::vector<std::uint64_t> sparse_and_dense_ids(std::uint64_t top) {
    std::vector<std::uint64_t> ids;
    std::uint64_t s = 42;
    for (int i = 0; i < 2000; ++i) ids.push_back(splitmix(s) % top);
    for (std::uint64_t i = 0; i < 5000; ++i) ids.push_back(100'000 + i);   // a dense run
    for (std::uint64_t i = 1; i < top; i = i * 5 + 3) ids.push_back(i);      // one per scale
    ids.push_back(top - 1);
    return ids;
}

} // namespace

TEST_CASE("a grown default bitmap lays its words out contiguously in the reservation", "[storage][reservation]") {
    AtomicBitmap bm;
    if (!can_reserve) {
        CHECK_FALSE(bm.storage().reserved());
        return;
    }
    if (!bm.storage().reserved()) {
        WARN("no reservation could be made here (sanitizer or memory limits): the fallback layout is in use");
        return;
    }
    const std::uint64_t words = bm.storage().contiguous_words();
    CHECK(words * 8 == std::max<std::size_t>(d::growable_reservation_bytes.load(), 512));
    CHECK(reinterpret_cast<std::uintptr_t>(bm.storage().word(0)) % d::huge_page_bytes == 0);
    CHECK(bm.memory_bytes() == 512); // the default capacity's 4096 bits, as before any growth
    // A word never written reads as zero (no memory handed out by word()), at any place in the reservation.
    CHECK(bm.storage().word(words - 1) == nullptr);
    CHECK_FALSE(bm.test(words * 64 - 1));
    CHECK(bm.word(words / 2) == 0);
    CHECK(bm.set(words * 64 - 1)); // the last bit of the reservation
    CHECK(bm.set(5'000'000));
    CHECK(bm.storage().word(5'000'000 / 64) == bm.storage().word(0) + 5'000'000 / 64); // same array
    CHECK(bm.storage().word(words - 1) == bm.storage().word(0) + (words - 1));
    CHECK(bm.test(words * 64 - 1));
    CHECK(bm.count() == 2);
    CHECK(bm.set(words * 64)); // the first bit past it: the tree
    CHECK(bm.test(words * 64));
    CHECK(bm.find_next_set(5'000'001) == words * 64 - 1);
    CHECK(bm.find_prev_set(words * 64 - 1) == 5'000'000);
}

TEST_CASE("values across the reservation's end and the tree beyond it", "[storage][reservation]") {
    SECTION("default reservation") {
        AtomicBitmap bm;
        check_against_model(bm, sparse_and_dense_ids(std::uint64_t{1} << 35));
    }
    SECTION("a 4 MiB reservation (2^25 bits), crossed often") {
        ReservationKnobs knobs(std::size_t{4} << 20, 16384);
        AtomicBitmap bm;
        if (can_reserve && bm.storage().reserved()) CHECK(bm.storage().contiguous_words() == (std::uint64_t{1} << 19));
        check_against_model(bm, sparse_and_dense_ids(std::uint64_t{1} << 27));
    }
    SECTION("no reservation: the small segment and the tree") {
        ReservationKnobs knobs(0, 16384);
        AtomicBitmap bm;
        CHECK_FALSE(bm.storage().reserved());
        CHECK(bm.storage().contiguous_words() == 64);
        check_against_model(bm, sparse_and_dense_ids(std::uint64_t{1} << 35));
    }
    SECTION("a sized bitmap, beyond its capacity") {
        AtomicBitmap bm(1'000'000);
        check_against_model(bm, sparse_and_dense_ids(std::uint64_t{1} << 34));
    }
}

TEST_CASE("memory_bytes() of a reservation: the initial words, then the written prefix and pages beyond it",
          "[storage][reservation][memory]") {
    AtomicBitmap bm;
    if (!bm.storage().reserved()) return; // the fallback's figures are the tree's (atomic_bitmap_test)
    const std::size_t page = d::os_page_bytes();
    CHECK(bm.memory_bytes() == 512);
    CHECK(bm.set(4095));
    CHECK(bm.memory_bytes() == 512); // inside the initial capacity
    CHECK(bm.set(100'000));           // word 1562, byte 12,496
    CHECK(bm.memory_bytes() == (12'504 + page - 1) / page * page);
    CHECK(bm.ensure_capacity(50'000'000)); // capacity is logical: no memory
    CHECK(bm.memory_bytes() == (12'504 + page - 1) / page * page);
    CHECK(bm.set(1'000'000'000'000ull)); // far beyond the reservation: one chunk and the tree's nodes
    CHECK(bm.memory_bytes() < (1u << 20));
    CHECK(bm.set(40'000'000)); // 5 MB into the reservation, far beyond the rest: its page alone, and the summary
    CHECK(bm.memory_bytes() < (1u << 20));
    // Every page up to it: the prefix reaches 5 MB, advised for huge pages, counted in 2 MiB pages.
    std::uint64_t added = 0;
    for (std::uint64_t id = 0; id < 40'000'000; id += 8 * page) added += bm.set(id) ? 1 : 0;
    CHECK(added == (40'000'000 + 8 * page - 1) / (8 * page));
    const std::size_t grown = bm.memory_bytes();
    CHECK(grown >= 5'000'000);
    CHECK(grown <= (6u << 20) + (1u << 20));
    bm.reset(); // keeps the memory
    CHECK(bm.memory_bytes() == grown);
    CHECK(bm.count() == 0);
    CHECK_FALSE(bm.test(40'000'000));
    CHECK(bm.word(40'000'000 / 64) == 0);
    CHECK(bm.set(39'999'999));
    CHECK(bm.count_range(0, bm.capacity()) == 1);
    bm.clear_all(); // gives the reservation's pages back: they read as zero again
    CHECK(bm.memory_bytes() == 512);
    CHECK(bm.word(39'999'999 / 64) == 0);
    CHECK(bm.capacity() == 4096);
    CHECK_FALSE(bm.test(39'999'999));
    CHECK(bm.storage().word(100'000 / 64) == nullptr);
    // A sized bitmap reports its initial words, as an allocation of that size would.
    AtomicBitmap sized(1u << 24);
    CHECK(sized.memory_bytes() == (1u << 21));
    CHECK(sized.set((1u << 24) - 1));
    CHECK(sized.memory_bytes() == (1u << 21));
}

TEST_CASE("without a reservation (the knob, the process-wide cap) a bitmap falls back to the segment and the tree",
          "[storage][reservation]") {
    SECTION("reservations disabled") {
        ReservationKnobs knobs(0, 16384);
        AtomicBitmap bm;
        CHECK_FALSE(bm.storage().reserved());
        CHECK(bm.set(10'000'000));
        CHECK(bm.memory_bytes() > 512 + 8192);
        CHECK(bm.memory_bytes() <= 512 + 8192 + 3 * 4096);
    }
    SECTION("the cap on live reservations") {
        const std::size_t live = d::growable_reservations_live.load();
        ReservationKnobs knobs(std::size_t{2} << 20, live + 2);
        std::vector<std::unique_ptr<AtomicBitmap>> bms;
        for (int i = 0; i < 5; ++i) bms.push_back(std::make_unique<AtomicBitmap>());
        int reserved = 0;
        for (auto& b : bms) reserved += b->storage().reserved() ? 1 : 0;
        CHECK(reserved == (can_reserve ? 2 : 0));
        for (std::size_t i = 0; i < bms.size(); ++i) {
            CHECK(bms[i]->set(1'000'000 + i));
            CHECK(bms[i]->set(50'000'000 + i));
        }
        for (std::size_t i = 0; i < bms.size(); ++i) {
            CHECK(bms[i]->count() == 2);
            CHECK(bms[i]->find_next_set(0) == 1'000'000 + i);
        }
        bms.clear();
        CHECK(d::growable_reservations_live.load() == live);
    }
}

#if defined(__linux__) && defined(KEYSPACE_DETAIL_MAP_HUGE_PAGES) && !defined(__SANITIZE_ADDRESS__) &&              \
    !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define KEYSPACE_TEST_NO_RLIMIT_CHILD 1
#endif
#endif
#if !defined(KEYSPACE_TEST_NO_RLIMIT_CHILD)
TEST_CASE("when mmap refuses the reservation (RLIMIT_AS) construction falls back and the bitmap works",
          "[storage][reservation]") {
    // In a child process: the address-space limit is the current size plus 256 MiB, so the 1 GiB reservation's
    // mmap fails for real. Not under sanitizers, whose shadow mappings make RLIMIT_AS unusable; the knob tests above
    // cover the same fallback there.
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        long pages = 0;
        if (FILE* f = std::fopen("/proc/self/statm", "r")) {
            if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
            std::fclose(f);
        }
        if (pages <= 0) ::_exit(3);
        const rlim_t cap = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (256u << 20);
        const rlimit lim{cap, cap};
        if (::setrlimit(RLIMIT_AS, &lim) != 0) ::_exit(4);
        // Where the limit is not enforced on new mappings (an emulator that reserved the guest's address space up
        // front), there is nothing to test: report it.
        const std::size_t probe = std::size_t{1} << 30;
        void* m = ::mmap(nullptr, probe, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m != MAP_FAILED) {
            ::munmap(m, probe);
            ::_exit(10);
        }
        int code = 0;
        try {
            AtomicBitmap bm;
            if (bm.storage().reserved()) code = 5;
            for (std::uint64_t i = 0; i < 1000; ++i)
                if (!bm.set(i * 100'003)) code = 6;
            if (bm.count() != 1000 || !bm.test(999 * 100'003) || bm.test(1)) code = 7;
        } catch (...) {
            code = 8;
        }
        ::_exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 10) {
        WARN("RLIMIT_AS does not limit new mappings here (emulator?): the fallback is covered by the knob tests");
        return;
    }
    CHECK(WEXITSTATUS(status) == 0);
}
#endif
#endif

TEST_CASE("10,000 default bitmaps and 10,000 trackers in one process, each used", "[storage][reservation]") {
    const std::size_t live = d::growable_reservations_live.load();
    {
        std::vector<std::unique_ptr<AtomicBitmap>> bms;
        bms.reserve(10'000);
        for (int i = 0; i < 10'000; ++i) bms.push_back(std::make_unique<AtomicBitmap>());
        std::size_t reserved = 0;
        for (std::size_t i = 0; i < bms.size(); ++i) {
            reserved += bms[i]->storage().reserved() ? 1 : 0;
            CHECK(bms[i]->set(i));
            CHECK(bms[i]->set(1'000'000 + i));
        }
        for (std::size_t i = 0; i < bms.size(); ++i) {
            CHECK(bms[i]->count() == 2);
            CHECK(bms[i]->test(1'000'000 + i));
            CHECK_FALSE(bms[i]->test(1'000'001 + i));
            CHECK(bms[i]->find_next_set(i + 1) == 1'000'000 + i);
        }
        INFO("reserved: " << reserved);
        CHECK(reserved <= d::growable_reservation_limit.load());
        if (can_reserve) CHECK(reserved > 0);
    }
    CHECK(d::growable_reservations_live.load() == live);
    std::vector<std::unique_ptr<keyspace::PrefixTracker>> trackers;
    trackers.reserve(10'000);
    for (int i = 0; i < 10'000; ++i) trackers.push_back(std::make_unique<keyspace::PrefixTracker>("t:"));
    for (std::size_t i = 0; i < trackers.size(); ++i) {
        CHECK(trackers[i]->add(3 * i));
        CHECK(trackers[i]->add(200'000 + i));
    }
    for (std::size_t i = 0; i < trackers.size(); ++i) {
        CHECK(trackers[i]->count() == 2);
        CHECK(trackers[i]->exists(200'000 + i));
        CHECK_FALSE(trackers[i]->exists(200'001 + i));
    }
}

TEST_CASE("concurrent writers growing into the reservation: every claim is won exactly once", "[storage][reservation]") {
    // 3 threads claim every ID of [0, n) in different orders, from a default bitmap: the writes raise the
    // high-water mark page by page (and, with the small reservation, cross into the tree) while the others write.
    for (std::size_t reservation : {d::growable_reservation_bytes.load(), std::size_t{128} << 10}) {
        ReservationKnobs knobs(reservation, d::growable_reservation_limit.load());
        constexpr std::uint64_t n = std::uint64_t{1} << 21;
        AtomicBitmap bm;
        std::atomic<std::uint64_t> wins{0};
        std::vector<std::thread> threads;
        for (std::uint64_t t = 0; t < 3; ++t)
            threads.emplace_back([&, t] {
                std::uint64_t mine = 0;
                for (std::uint64_t k = 0; k < n; ++k) {
                    // t = 0 ascending, 1 descending, 2 strided (an odd stride is a bijection mod 2^21).
                    const std::uint64_t id = t == 0 ? k : t == 1 ? n - 1 - k : (k * 40'503) & (n - 1);
                    mine += bm.test_and_set(id) ? 1 : 0;
                }
                wins.fetch_add(mine);
            });
        for (auto& th : threads) th.join();
        CHECK(wins.load() == n);
        CHECK(bm.count() == n);
        CHECK(bm.count_range(0, n) == n);
        CHECK_FALSE(bm.find_next_unset(0, n));
    }
}

namespace {

/// Words handed to for_each_run over everything, and how many runs: what a scan of bm visits.
std::pair<std::uint64_t, std::uint64_t> words_and_runs(const AtomicBitmap& bm) {
    std::uint64_t words = 0, runs = 0;
    bm.storage().for_each_run(0, d::max_supported_word, [&](std::uint64_t, const keyspace::BitmapWord*, std::size_t n) {
        words += n;
        ++runs;
        return true;
    });
    return {words, runs};
}

} // namespace

TEST_CASE("IDs written far beyond everything else cost neither scans nor memory_bytes()",
          "[storage][reservation][sparse]") {
    // IDs 0, 2^32 and 2^40 alone (2^32: the middle of the reservation, whatever its size): the scans visit a few
    // pages and memory_bytes() counts them, not the reservation up to the highest ID written.
    AtomicBitmap bm;
    if (!bm.storage().reserved()) return; // the fallback is the tree's layout
    const std::uint64_t words = bm.storage().contiguous_words();
    const std::uint64_t mid = words * 64 / 2, far = std::max(std::uint64_t{1} << 40, words * 64 * 2);
    CHECK(bm.set(0));
    CHECK(bm.set(mid));
    CHECK(bm.set(far));
    CHECK(bm.memory_bytes() < (std::size_t{1} << 20));
    const auto [visited, runs] = words_and_runs(bm);
    INFO("words visited: " << visited << " in " << runs << " runs");
    CHECK(visited <= 3 * keyspace::GrowableStorage::chunk_words);
    std::vector<std::uint64_t> seen;
    bm.for_each_set(0, bm.capacity(), [&](std::uint64_t id) { seen.push_back(id); });
    CHECK(seen == std::vector<std::uint64_t>{0, mid, far});
    CHECK(bm.count() == 3);
    CHECK(bm.count_range(1, far) == 1);
    CHECK(bm.find_next_set(1) == mid);
    CHECK(bm.find_prev_set(far) == mid);
    CHECK(bm.find_prev_set(mid) == 0);
    CHECK(bm.storage().word(mid / 64) == bm.storage().word(0) + mid / 64); // the reservation's own word
    CHECK(bm.storage().word(mid / 64 - words / 4) == nullptr);              // a page nobody wrote
    // More IDs on the same page, and far from it, in both directions.
    CHECK(bm.set(mid + 1));
    CHECK(bm.set(mid - 64 * 1000));
    CHECK(bm.set(words * 64 - 1));
    CHECK(bm.set(words * 64 / 4 * 3));
    CHECK(bm.memory_bytes() < (std::size_t{1} << 20));
    seen.clear();
    bm.for_each_set(0, bm.capacity(), [&](std::uint64_t id) { seen.push_back(id); });
    CHECK(seen == std::vector<std::uint64_t>{0, mid - 64 * 1000, mid, mid + 1, words * 64 / 4 * 3, words * 64 - 1, far});
    std::vector<std::uint64_t> back;
    for (auto p = bm.find_prev_set(bm.capacity()); p; p = *p == 0 ? std::nullopt : bm.find_prev_set(*p))
        back.push_back(*p);
    CHECK(std::vector<std::uint64_t>(back.rbegin(), back.rend()) == seen);
    // Searches from anywhere agree with the IDs: from inside the gaps, the pages and the tree.
    std::uint64_t s = 99;
    for (int i = 0; i < 300; ++i) {
        const std::uint64_t x = splitmix(s) % (far + 2);
        const auto up = std::lower_bound(seen.begin(), seen.end(), x);
        const auto next = bm.find_next_set(x);
        CHECK(next.has_value() == (up != seen.end()));
        if (next && up != seen.end()) CHECK(*next == *up);
        const auto prev = bm.find_prev_set(x); // the highest set ID below x
        CHECK(prev.has_value() == (up != seen.begin()));
        if (prev && up != seen.begin()) CHECK(*prev == *std::prev(up));
    }
    // reset() keeps the memory, clear_all() gives it back.
    const std::size_t kept = bm.memory_bytes();
    bm.reset();
    CHECK(bm.count() == 0);
    CHECK(bm.memory_bytes() == kept);
    CHECK(bm.set(mid));
    CHECK(bm.find_next_set(1) == mid);
    bm.clear_all();
    CHECK(bm.memory_bytes() == 512);
    CHECK_FALSE(bm.test(mid));
    CHECK(bm.storage().word(mid / 64) == nullptr);
    CHECK(words_and_runs(bm).first == 64);
    CHECK(bm.set(mid + 5));
    CHECK(bm.count() == 1);
    CHECK(bm.find_next_set(0) == mid + 5);
}

TEST_CASE("IDs written at random over a dense range still end in one contiguous run", "[storage][reservation][sparse]") {
    // Random writes over 2^24 bits (2 MiB of words): the first land far beyond the written prefix, but the prefix
    // takes them in as it grows, and the bitmap ends laid out as one given its size up front.
    AtomicBitmap bm;
    if (!bm.storage().reserved()) return;
    constexpr std::uint64_t n = std::uint64_t{1} << 24;
    std::uint64_t s = 7;
    std::set<std::uint64_t> model;
    for (int i = 0; i < 20'000; ++i) {
        const std::uint64_t id = splitmix(s) % n;
        CHECK(bm.set(id) == model.insert(id).second);
    }
    CHECK(bm.set(n - 1) == model.insert(n - 1).second);
    const auto [visited, runs] = words_and_runs(bm);
    CHECK(runs == 1);
    CHECK(visited >= n / 64);
    CHECK(visited <= n / 64 + 512);
    CHECK(bm.count() == model.size());
    CHECK(bm.memory_bytes() <= (std::size_t{4} << 20));
}

TEST_CASE("writers far apart and a concurrent scan: every ID set before the scan began is found",
          "[storage][reservation][sparse]") {
    // 3 writers set random IDs spread over the reservation and past it (most on pages of their own, beyond the
    // written prefix), publishing how many they have set; a reader scans over and over and must find every ID
    // published before its scan began. With the default reservation and a 64 MiB one (where a sanitizer's layout
    // may refuse the larger).
    for (std::size_t reservation : {d::growable_reservation_bytes.load(), std::size_t{64} << 20}) {
        ReservationKnobs knobs(reservation, d::growable_reservation_limit.load());
        AtomicBitmap bm;
        INFO("reserved: " << bm.storage().reserved() << ", contiguous words: " << bm.storage().contiguous_words());
        const std::uint64_t top = bm.storage().contiguous_words() * 64 * 5 / 4; // a quarter beyond: the tree
        constexpr int writers = 3, per = 1500;
        std::vector<std::vector<std::uint64_t>> ids(writers);
        for (int t = 0; t < writers; ++t) {
            std::uint64_t s = 1000 + t;
            for (int i = 0; i < per; ++i) ids[t].push_back(splitmix(s) % top);
        }
        std::atomic<int> done[writers] = {};
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> missing{0}, scans{0};
        std::thread reader([&] {
            while (!stop.load()) {
                int seen_done[writers];
                for (int t = 0; t < writers; ++t) seen_done[t] = done[t].load(std::memory_order_acquire);
                std::set<std::uint64_t> found;
                bm.for_each_set(0, top, [&](std::uint64_t id) { found.insert(id); });
                for (int t = 0; t < writers; ++t)
                    for (int i = 0; i < seen_done[t]; ++i) missing += found.count(ids[t][i]) == 0 ? 1 : 0;
                ++scans;
            }
        });
        std::vector<std::thread> threads;
        for (int t = 0; t < writers; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < per; ++i) {
                    bm.set(ids[t][i]);
                    done[t].store(i + 1, std::memory_order_release);
                }
            });
        for (auto& th : threads) th.join();
        while (scans.load() < 3) std::this_thread::yield();
        stop = true;
        reader.join();
        CHECK(missing.load() == 0);
        std::set<std::uint64_t> all;
        for (auto& v : ids) all.insert(v.begin(), v.end());
        CHECK(bm.count() == all.size());
        std::vector<std::uint64_t> seen;
        bm.for_each_set(0, top, [&](std::uint64_t id) { seen.push_back(id); });
        CHECK(seen == std::vector<std::uint64_t>(all.begin(), all.end()));
    }
}
