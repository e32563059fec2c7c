// The integration guide's mixed phase (docs/integration.md): after a load, workers run reads, overwrites, inserts
// and deletes, pipelined, each over its own slice of the IDs, and check every reply against what the tracker said
// when the command was sent. Then the server must hold exactly the tracker's keys.
#include "server.hpp"

#include <keyspace/keyspace.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

namespace {

// [guide:worker]
/// Worker w of `workers` owns slice(w, workers) of the IDs: it alone reads, writes and deletes those keys, so what
/// the tracker says when it sends a command is what the server holds when the command runs, even with many
/// commands in flight.
std::uint64_t run_worker(keyspace::PrefixTracker& users, guide::Server& server, unsigned w, unsigned workers,
                         std::uint64_t ops, std::uint64_t seed) {
    const auto mine = users.iter().slice(w, workers);
    auto existing = mine.set_only().distribution(keyspace::AccessDistribution::zipfian(0.99)).seed(seed).random();
    auto inserts = mine.unset_only().write();
    const auto mix = keyspace::OpMix::parse("get:0.7,set:0.1,insert:0.1,delete:0.1");
    auto rng = keyspace::Rng::stream(seed, w);
    const auto fmt = keyspace::KeyFormatter::for_prefix(users.prefix());

    guide::Connection conn(server);
    std::vector<long long> expected; // the reply each command in flight must get, in order
    std::uint64_t wrong = 0;
    const auto read_replies = [&] {
        for (const long long e : expected) wrong += conn.reply() != e ? 1 : 0;
        expected.clear();
    };
    std::array<char, 64> key{};
    for (std::uint64_t i = 0; i < ops; ++i) {
        const keyspace::Op op = mix.choose(rng);
        const std::optional<std::uint64_t> id = op == keyspace::Op::Insert ? inserts.next_id() : existing.next_id();
        if (!id) continue; // nothing to read or delete yet, or the slice is full
        const std::size_t n = fmt.format(*id, key);
        switch (op) {
        case keyspace::Op::Read: // the tracker says whether the GET must find a value
            conn.append(guide::Command::Get, {key.data(), n});
            expected.push_back(users.exists(*id) ? 1 : 0);
            break;
        case keyspace::Op::Overwrite:
        case keyspace::Op::Insert: // the write stream marked the ID when it handed it out
            conn.append(guide::Command::Set, {key.data(), n});
            expected.push_back(1);
            break;
        case keyspace::Op::Delete: // mark it absent when the command is sent: later reads expect nil
            conn.append(guide::Command::Del, {key.data(), n});
            expected.push_back(users.remove(*id) ? 1 : 0);
            break;
        case keyspace::Op::Scan:
        case keyspace::Op::ReadModifyWrite: // not in this mix
            break;
        }
        if (expected.size() == 64) read_replies(); // a pipeline 64 deep
    }
    read_replies();
    return wrong;
}
// [/guide:worker]

} // namespace

int main() {
    guide::Server server;
    const std::uint64_t keys = 50'000;
    const unsigned workers = 3;
    keyspace::PrefixTracker users(keyspace::TrackerConfig::simple("user:").with_max_id(2 * keys));
    const auto fmt = keyspace::KeyFormatter::for_prefix(users.prefix());
    guide::Connection loader(server);
    for (std::uint64_t id = 0; id < 2 * keys; id += 2) // every other ID: each slice has keys and room to insert
        if (users.add(id)) loader.run(guide::Command::Set, fmt.to_string(id));

    std::atomic<std::uint64_t> wrong{0};
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w)
        threads.emplace_back([&, w] { wrong += run_worker(users, server, w, workers, 200'000, 42); });
    for (auto& t : threads) t.join();

    std::uint64_t disagree = 0;
    for (std::uint64_t id = 0; id < 2 * keys; id += 7)
        if (server.has(fmt.to_string(id)) != users.exists(id)) ++disagree;
    std::printf("mixed phase: %llu unexpected replies; tracker %llu keys, server %zu; %llu of a sample disagree\n",
                static_cast<unsigned long long>(wrong.load()), static_cast<unsigned long long>(users.count()),
                server.size(), static_cast<unsigned long long>(disagree));
    const bool ok = wrong == 0 && users.count() == server.size() && disagree == 0 && users.count() != keys;
    std::puts(ok ? "every reply as the tracker predicted" : "MISMATCH");
    return ok ? 0 : 1;
}
