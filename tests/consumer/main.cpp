// The consumer: uses the bitmap, the tracker with its iterators, and a sampler; exits 0 only if they answer right.
#include <keyspace/keyspace.hpp>

#include <cstdio>  // for std::printf
#include <cstring> // for std::strcmp

int main() {
    if (std::strcmp(KEYSPACE_VERSION_STRING, KEYSPACE_CONSUMER_EXPECTED_VERSION) != 0) {
        std::printf("headers say %s, the CMake package says %s\n", KEYSPACE_VERSION_STRING,
                    KEYSPACE_CONSUMER_EXPECTED_VERSION);
        return 1;
    }
    keyspace::AtomicBitmap bitmap(1000);
    bitmap.set(42);
    keyspace::PrefixTracker users("user:", 1000);
    auto writer = users.iter().continue_write();
    int claimed = 0;
    while (claimed < 10 && writer.next()) ++claimed;
    keyspace::Rng rng(7);
    keyspace::ZipfDistribution zipf(1000, 0.99);
    const auto rank = zipf(rng);
    const bool ok = bitmap.test(42) && bitmap.count() == 1 && users.count() == 10 && rank < 1000;
    std::printf("keyspace %s consumer: %s\n", KEYSPACE_VERSION_STRING, ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
