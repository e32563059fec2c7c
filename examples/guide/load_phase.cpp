// The integration guide's load phase (docs/integration.md): worker threads claim every ID of a bounded tracker
// through continue_write() streams and SET each key. Checks that the server holds exactly the tracker's keys.
#include "server.hpp"

#include <keyspace/keyspace.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

int main() {
    guide::Server server;
    const std::uint64_t keys = 100'000;
    const unsigned threads = 3;
    std::uint64_t failed = 0;
    // [guide:load]
    keyspace::PrefixTracker users(keyspace::TrackerConfig::simple("user:").with_max_id(keys));
    const auto fmt = keyspace::KeyFormatter::for_prefix(users.prefix()); // "user:000000000042"

    std::vector<std::thread> workers;
    for (unsigned w = 0; w < threads; ++w)
        workers.emplace_back([&] {
            guide::Connection conn(server);                // one connection per worker
            auto claims = users.iter().continue_write();   // shares progress with the other workers' streams
            std::array<char, 64> key{};
            while (auto id = claims.next_id()) {           // every ID to exactly one worker, marked present
                const std::size_t n = fmt.format(*id, key); // no allocation per key
                if (conn.run(guide::Command::Set, {key.data(), n}) != 1) users.remove(*id); // not written after all
            }
        });
    for (auto& t : workers) t.join();
    // [/guide:load]
    std::array<char, 64> key{};
    for (std::uint64_t id = 0; id < keys; id += 997)
        if (!server.has({key.data(), fmt.format(id, key)})) ++failed;
    std::printf("load phase: tracker %llu keys, server %zu keys, %llu missing\n",
                static_cast<unsigned long long>(users.count()), server.size(), static_cast<unsigned long long>(failed));
    const bool ok = users.count() == keys && server.size() == keys && failed == 0;
    std::puts(ok ? "the server holds exactly the tracker's keys" : "MISMATCH");
    return ok ? 0 : 1;
}
