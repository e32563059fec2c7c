// quickstart: the first example of the README, line for line.
#include <keyspace/keyspace.hpp>

#include <cstdio>

int main() {
    // The keys of one prefix: IDs [0, 1'000'000) of "user:".
    keyspace::PrefixTracker users("user:", 1'000'000);

    // Load: claim 1000 IDs nobody else has (any number of threads may share this stream).
    auto writer = users.iter().continue_write();
    for (int i = 0; i < 1000; ++i) writer.next();

    // Read: Zipf-distributed IDs over the loaded range; the tracker says whether each one exists.
    keyspace::Rng rng(42);
    keyspace::ZipfDistribution zipf(1000, 0.99);
    int hits = 0;
    for (int i = 0; i < 10'000; ++i) hits += users.exists(zipf(rng)) ? 1 : 0;

    // Delete: remove every present key, then count what is left.
    if (auto eraser = users.iter().erase())
        for (auto key : *eraser) (void)key;
    std::printf("hits: %d of 10000; keys left: %llu\n", hits, static_cast<unsigned long long>(users.count()));
}
