// Reference models and small helpers shared by the tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <thread>
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

/// The upper quantile of chi-square with df degrees of freedom whose standard-normal equivalent is z
/// (Wilson–Hilferty approximation).
inline double chi2_quantile(double df, double z) {
    const double a = 2.0 / (9.0 * df);
    return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

/// Threads for a stress test: every hardware thread, and at least 4 so that interleavings happen on small machines.
inline unsigned stress_threads() { return std::max(4u, std::thread::hardware_concurrency()); }

} // namespace keyspace_test
