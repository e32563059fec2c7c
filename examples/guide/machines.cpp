// The integration guide's several machines (docs/integration.md): n load generators that never talk to each other
// each take slice(i, n) of the IDs, and a fixed seed makes the pre-population every one of them computes identical.
// Checks: the slices' claims are disjoint and cover the range, and every machine's copy of the shape is the same.
#include <keyspace/keyspace.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

// [guide:machine]
/// What load generator `i` of `n` runs (a tool takes i, n and the seed from its command line). No coordination:
/// the slices are disjoint and cover the IDs, and the seed makes the same keyspace shape on every machine.
std::vector<std::uint64_t> run_machine(std::uint64_t i, std::uint64_t n, std::uint64_t seed) {
    const std::uint64_t keys = 1'000'000;
    keyspace::PrefixTracker users(keyspace::TrackerConfig::simple("user:").with_max_id(keys));
    keyspace::Shape::aged(0.2, 0.9).apply(users, 0, keys, seed); // the same bits on every machine
    const auto mine = users.iter().slice(i, n);

    std::vector<std::uint64_t> written;
    for (auto key : mine.set_only().sequential()) written.push_back(key.id); // load: SET user:<id>, own slice only
    auto reads = mine.set_only().seed(seed).random(); // mixed phase: reads of its own keys, reproducible
    (void)reads.next();
    for (auto key : mine.unset_only().write()) written.push_back(key.id);     // inserts: free IDs of its slice
    return written;
}
// [/guide:machine]

} // namespace

int main() {
    const std::uint64_t n = 4, seed = 7;
    const std::uint64_t keys = 1'000'000;
    keyspace::PrefixTracker shape(keyspace::TrackerConfig::simple("user:").with_max_id(keys)); // a fifth machine's
    keyspace::Shape::aged(0.2, 0.9).apply(shape, 0, keys, seed);
    keyspace::PrefixTracker all(keyspace::TrackerConfig::simple("user:").with_max_id(keys));
    std::uint64_t twice = 0, loaded = 0;
    bool ordered = true; // each machine loads exactly the shape's keys of its slice, before its inserts
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto mine = run_machine(i, n, seed);
        std::uint64_t k = 0;
        for (; k < mine.size() && shape.exists(mine[k]); ++k) ++loaded;
        for (std::uint64_t j = k; j < mine.size(); ++j) ordered = ordered && !shape.exists(mine[j]);
        for (const std::uint64_t id : mine)
            if (!all.add(id)) ++twice; // another machine's key
    }
    std::printf("%llu machines loaded %llu keys (the shape has %llu) and wrote %llu of %llu IDs; %llu overlaps\n",
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(loaded),
                static_cast<unsigned long long>(shape.count()), static_cast<unsigned long long>(all.count()),
                static_cast<unsigned long long>(keys), static_cast<unsigned long long>(twice));
    const bool ok = twice == 0 && ordered && loaded == shape.count() && all.count() == keys;
    std::puts(ok ? "the slices are disjoint and cover the keyspace; the shape is the same everywhere" : "MISMATCH");
    return ok ? 0 : 1;
}
