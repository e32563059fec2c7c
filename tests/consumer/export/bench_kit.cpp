#include "bench_kit.hpp"

namespace bench_kit {
std::uint64_t load(keyspace::PrefixTracker& tracker, std::uint64_t n) { return tracker.add_range(0, n); }
} // namespace bench_kit
