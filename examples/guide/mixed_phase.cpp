// The integration guide's mixed phase (docs/integration.md): after a load, workers run reads, overwrites, inserts
// and deletes, pipelined, and check every reply against what the tracker said when the command was sent — first
// each over its own slice of the IDs, then all of them over every key with operations in flight (InFlight). After
// each, the server must hold exactly the tracker's keys.
#include "server.hpp"

#include <keyspace/keyspace.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <deque>
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

// [guide:shared_worker]
/// Workers that share every key: each command's operation is begun when the command is sent and ended when its
/// reply arrives, so the reply is predictable although other workers touch the same keys meanwhile.
std::uint64_t run_shared_worker(keyspace::InFlight& ops, guide::Server& server, unsigned w, std::uint64_t n_ops,
                                std::uint64_t seed) {
    keyspace::PrefixTracker& users = ops.tracker();
    auto existing = users.iter().set_only().distribution(keyspace::AccessDistribution::zipfian(0.99)).seed(seed + w).random();
    auto inserts = users.iter().continue_write(); // shares progress with the other workers' streams
    const auto mix = keyspace::OpMix::parse("get:0.7,set:0.1,insert:0.1,delete:0.1");
    auto rng = keyspace::Rng::stream(seed, w);
    const auto fmt = keyspace::KeyFormatter::for_prefix(users.prefix());

    guide::Connection conn(server);
    std::deque<keyspace::InFlight::Ticket> in_flight; // one ticket per command sent, in the order of the replies
    std::uint64_t wrong = 0;
    const auto read_reply = [&] {
        keyspace::InFlight::Ticket t = std::move(in_flight.front());
        in_flight.pop_front();
        const long long reply = conn.reply(); // GET: 1 (a value) or 0 (nil); SET: 1; DEL: the keys deleted
        const long long expected = t.kind() == keyspace::InFlight::Kind::Insert ? 1 : t.expect_hit() ? 1 : 0;
        wrong += reply != expected ? 1 : 0;
        t.commit(); // the server applied it (on an error reply or a lost connection: t.abort(), or drop t)
    };
    std::array<char, 64> key{};
    for (std::uint64_t i = 0; i < n_ops; ++i) {
        std::optional<keyspace::InFlight::Ticket> t;
        switch (mix.choose(rng)) {
        case keyspace::Op::Read: t = ops.begin_read(existing); break; // expect_hit(): what the GET must answer
        case keyspace::Op::Overwrite: t = ops.begin_update(existing); break;
        case keyspace::Op::Insert: t = ops.begin_insert(inserts); break;
        case keyspace::Op::Delete: t = ops.begin_delete(existing); break;
        case keyspace::Op::Scan:
        case keyspace::Op::ReadModifyWrite: break; // not in this mix
        }
        if (!t) continue; // nothing could be begun now (every key drawn was busy, or the range is full)
        const auto command = t->kind() == keyspace::InFlight::Kind::Read     ? guide::Command::Get
                             : t->kind() == keyspace::InFlight::Kind::Delete ? guide::Command::Del
                                                                             : guide::Command::Set;
        conn.append(command, {key.data(), fmt.format(t->id(), key)});
        in_flight.push_back(std::move(*t));
        if (in_flight.size() > 64) read_reply(); // a pipeline 64 deep
    }
    while (!in_flight.empty()) read_reply();
    return wrong;
}
// [/guide:shared_worker]

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
    bool ok = wrong == 0 && users.count() == server.size() && disagree == 0 && users.count() != keys;

    // The same mix with every worker over every key: operations in flight keep the replies predictable.
    keyspace::InFlight ops(users);
    std::atomic<std::uint64_t> shared_wrong{0};
    threads.clear();
    for (unsigned w = 0; w < workers; ++w)
        threads.emplace_back([&, w] { shared_wrong += run_shared_worker(ops, server, w, 200'000, 7); });
    for (auto& t : threads) t.join();
    std::uint64_t shared_disagree = 0;
    for (std::uint64_t id = 0; id < 2 * keys; id += 7)
        if (server.has(fmt.to_string(id)) != users.exists(id)) ++shared_disagree;
    std::printf("shared keys: %llu unexpected replies; tracker %llu keys, server %zu; %llu of a sample disagree\n",
                static_cast<unsigned long long>(shared_wrong.load()), static_cast<unsigned long long>(users.count()),
                server.size(), static_cast<unsigned long long>(shared_disagree));
    ok = ok && shared_wrong == 0 && users.count() == server.size() && shared_disagree == 0 && ops.idle();
    std::puts(ok ? "every reply as the tracker predicted" : "MISMATCH");
    return ok ? 0 : 1;
}
