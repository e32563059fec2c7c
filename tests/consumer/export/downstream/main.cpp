#include <bench_kit.hpp>

#include <cstdio>

int main() {
    keyspace::PrefixTracker users("user:", 1000);
    const bool ok = bench_kit::load(users, 100) == 100 && users.count() == 100 && users.exists(99);
    std::printf("bench_kit user: %s\n", ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
