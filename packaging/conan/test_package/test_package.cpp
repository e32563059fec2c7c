#include <keyspace/keyspace.hpp>

#include <cstdio>

int main() {
    keyspace::PrefixTracker users("user:", 1000);
    auto writer = users.iter().continue_write();
    for (int i = 0; i < 10; ++i) writer.next();
    keyspace::Rng rng(1);
    keyspace::ZipfDistribution zipf(1000, 0.99);
    const bool ok = users.count() == 10 && zipf(rng) < 1000;
    std::printf("keyspace %s: %s\n", KEYSPACE_VERSION_STRING, ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
