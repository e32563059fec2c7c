// Reference models and small helpers shared by the tests.
#pragma once

#include <cstdint>
#include <vector>

namespace keyspace_test {

/// splitmix64: a tiny deterministic generator for test data (the library's own Rng is tested elsewhere).
struct SplitMix {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, n) by rejection (exact, portable: no 128-bit multiply).
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t limit = ~0ull - (~0ull % n);
        std::uint64_t r;
        do r = next();
        while (r >= limit);
        return r % n;
    }
};

} // namespace keyspace_test
