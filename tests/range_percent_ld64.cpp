// range_percent where long double is a 64-bit double (built with -mlong-double-64): the bounds of a range of
// 2^63 - 1 IDs must come out exact, so range_percent(1.0, 1.0) is an empty range rather than "min > max".
#include <keyspace/iterators.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>

int main() {
    static_assert(sizeof(long double) == sizeof(double), "build this test with -mlong-double-64");
    const std::uint64_t big = (1ull << 63) - 1;
    keyspace::PrefixTracker t("p:", big);
    t.add(big - 1);
    try {
        auto empty = t.iter().set_only().range_percent(1.0, 1.0).sequential();
        auto upper = t.iter().set_only().range_percent(0.5, 1.0).sequential();
        const auto k = upper.next_id();
        if (empty.next_id() || !k || *k != big - 1) {
            std::puts("range_percent: wrong keys");
            return 1;
        }
    } catch (const std::exception& e) {
        std::printf("range_percent threw: %s\n", e.what());
        return 1;
    }
    std::puts("range_percent: exact with a 64-bit long double");
    return 0;
}
