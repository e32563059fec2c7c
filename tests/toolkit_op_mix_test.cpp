// OpMix (parsing, exact choice probabilities) and OpStream (routing to the right iterator).
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/toolkit/op_mix.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using keyspace::Op;
using keyspace::OpMix;
using keyspace::OpStream;
using keyspace::PrefixTracker;

TEST_CASE("OpMix parses names, aliases and relative weights", "[toolkit][op_mix]") {
    const OpMix m = OpMix::parse("get:0.8,set:0.2");
    CHECK(m.probability(Op::Read) == Approx(0.8));
    CHECK(m.probability(Op::Overwrite) == Approx(0.2));
    CHECK(m.probability(Op::Insert) == 0.0);
    CHECK(m.probability(Op::Delete) == 0.0);
    const OpMix p = OpMix::parse(" READ : 80 , update:10,add:5, del:5 ");
    CHECK(p.probability(Op::Read) == Approx(0.8));
    CHECK(p.probability(Op::Overwrite) == Approx(0.1));
    CHECK(p.probability(Op::Insert) == Approx(0.05));
    CHECK(p.probability(Op::Delete) == Approx(0.05));
    const OpMix back = OpMix::parse(p.to_string());
    for (Op op : {Op::Read, Op::Overwrite, Op::Insert, Op::Delete})
        CHECK(back.probability(op) == Approx(p.probability(op)));
    CHECK(OpMix::parse("insert:1").to_string() == "insert:1");
    // YCSB's scan and read-modify-write.
    const OpMix y = OpMix::parse("read:0.5,scan:0.3,rmw:0.2");
    CHECK(y.probability(Op::Scan) == Approx(0.3));
    CHECK(y.probability(Op::ReadModifyWrite) == Approx(0.2));
    CHECK(OpMix::parse(y.to_string()).probability(Op::ReadModifyWrite) == Approx(0.2));
    for (const char* name : {"rmw", "ReadModifyWrite", "read-modify-write", "READ_MODIFY_WRITE"})
        CHECK(OpMix::op_from_name(name) == std::optional<Op>(Op::ReadModifyWrite));
    CHECK(OpMix::op_from_name("Scan") == std::optional<Op>(Op::Scan));
    CHECK(keyspace::op_name(Op::Scan) == "scan");
    CHECK(keyspace::op_name(Op::ReadModifyWrite) == "rmw");
}

TEST_CASE("OpMix rejects bad mixes with a message naming the item", "[toolkit][op_mix]") {
    CHECK_THROWS_WITH(OpMix::parse("get:0.8,fly:0.2"), Catch::Contains("'fly:0.2'") && Catch::Contains("names no operation"));
    CHECK_THROWS_WITH(OpMix::parse("get"), Catch::Contains("lacks ':weight'"));
    CHECK_THROWS_WITH(OpMix::parse("get:x"), Catch::Contains("not a finite number"));
    CHECK_THROWS_WITH(OpMix::parse("get:0.5x"), Catch::Contains("not a finite number"));
    CHECK_THROWS_WITH(OpMix::parse("get:inf"), Catch::Contains("not a finite number"));
    CHECK_THROWS_WITH(OpMix::parse("get:nan"), Catch::Contains("not a finite number"));
    CHECK_THROWS_WITH(OpMix::parse("get:-1,set:2"), Catch::Contains("negative"));
    CHECK_THROWS_WITH(OpMix::parse("get:1,read:1"), Catch::Contains("repeats"));
    CHECK_THROWS_WITH(OpMix::parse("get:1,,set:1"), Catch::Contains("is empty"));
    CHECK_THROWS_WITH(OpMix::parse(""), Catch::Contains("is empty"));
    CHECK_THROWS_WITH(OpMix::parse("get:0,set:0"), Catch::Contains("sum to 0"));
    CHECK_THROWS_AS(OpMix(1, -1, 0, 0), std::invalid_argument);
    CHECK_THROWS_AS(OpMix(0, 0, 0, 0), std::invalid_argument);
}

TEST_CASE("OpMix chooses each operation with its probability", "[toolkit][op_mix]") {
    const OpMix m(0.4, 0.2, 0.15, 0.10, 0.1, 0.05);
    keyspace::Rng rng(7);
    const int n = 2'000'000;
    std::array<int, keyspace::op_count> seen{};
    for (int i = 0; i < n; ++i) ++seen[static_cast<std::size_t>(m.choose(rng))];
    double chi2 = 0;
    for (std::size_t k = 0; k < keyspace::op_count; ++k) {
        const double e = n * m.probability(static_cast<Op>(k));
        chi2 += (seen[k] - e) * (seen[k] - e) / e;
    }
    CHECK(chi2 < keyspace_test::chi2_quantile(5, 4.0));
}

TEST_CASE("OpMix never chooses an operation of weight 0, at either end of the threshold table", "[toolkit][op_mix]") {
    const OpMix only_middle(0, 1, 0, 0);
    CHECK(only_middle.choose_bits(0) == Op::Overwrite);
    CHECK(only_middle.choose_bits(~0ull) == Op::Overwrite);
    const OpMix ends(1, 0, 0, 1);
    CHECK(ends.choose_bits(0) == Op::Read);
    CHECK(ends.choose_bits(~0ull) == Op::Delete);
    CHECK(ends.choose_bits((1ull << 63) - 1) == Op::Read);
    CHECK(ends.choose_bits(1ull << 63) == Op::Delete);
    const OpMix only_last(0, 0, 0, 0, 0, 1);
    CHECK(only_last.choose_bits(0) == Op::ReadModifyWrite);
    CHECK(only_last.choose_bits(~0ull) == Op::ReadModifyWrite);
    const OpMix no_delete(1, 1, 1, 0);
    CHECK(no_delete.choose_bits(~0ull) == Op::Insert);
    keyspace::Rng rng(1);
    for (int i = 0; i < 100000; ++i) REQUIRE(no_delete.choose(rng) != Op::Delete);
}

TEST_CASE("OpStream routes reads to existing keys, inserts to claims and deletes to removals", "[toolkit][op_mix]") {
    const std::uint64_t n = 20000;
    PrefixTracker t("user:", n);
    t.add_range(0, n / 2);
    std::vector<bool> model(n, false);
    for (std::uint64_t i = 0; i < n / 2; ++i) model[i] = true;
    OpStream s(t, OpMix::parse("get:0.3,set:0.15,insert:0.25,delete:0.15,scan:0.05,rmw:0.1"), 42);
    std::array<int, keyspace::op_count> done{};
    for (int i = 0; i < 30000; ++i) {
        const keyspace::Operation op = s.next();
        if (!op.id) continue;
        const std::uint64_t id = *op.id;
        REQUIRE(id < n);
        REQUIRE(op.sub_id == 0);
        REQUIRE(op.key() == std::optional<keyspace::Key>(keyspace::Key{id, 0}));
        ++done[static_cast<std::size_t>(op.op)];
        REQUIRE((op.scan_length != 0) == (op.op == Op::Scan));
        switch (op.op) {
        case Op::Read:
        case Op::Overwrite:
        case Op::ReadModifyWrite: REQUIRE(model[id]); break;
        case Op::Scan:
            REQUIRE(model[id]);
            REQUIRE(op.scan_length >= 1);
            REQUIRE(op.scan_length <= OpStream::default_max_scan_length);
            break;
        case Op::Insert: REQUIRE_FALSE(model[id]); model[id] = true; break;
        case Op::Delete: REQUIRE(model[id]); model[id] = false; break;
        }
        REQUIRE(t.exists(id) == model[id]);
    }
    std::uint64_t expect = 0;
    for (const bool b : model) expect += b ? 1 : 0;
    CHECK(t.count() == expect);
    for (const int d : done) CHECK(d > 500);
}

TEST_CASE("every OpStream on a tracker deletes alike: random existing keys, never ascending from ID 0",
          "[toolkit][op_mix]") {
    // Deletes used to walk the tracker's one erase iterator from ID 0 up in the first stream only (the hottest keys
    // of a Zipf read distribution), while later streams removed random keys.
    const std::uint64_t n = 100'000;
    PrefixTracker t("d:", n);
    t.add_range(0, n);
    OpStream first(t, OpMix::parse("delete:1"), 1), second(t, OpMix::parse("delete:1"), 2);
    std::uint64_t total = 0;
    for (OpStream* s : {&first, &second}) {
        std::uint64_t below_1000 = 0, deleted = 0, max_id = 0;
        for (int i = 0; i < 1000; ++i)
            if (const auto op = s->next(); op.id) {
                ++deleted;
                below_1000 += *op.id < 1000 ? 1 : 0;
                max_id = std::max(max_id, *op.id);
            }
        CHECK(deleted > 950);
        CHECK(below_1000 < 60); // uniform over 100,000 IDs: about 10
        CHECK(max_id > n / 2);  // spread over the whole range
        total += deleted;
    }
    CHECK(t.count() == n - total);
}

TEST_CASE("OpStream deletes follow the read stream's slice, or a delete stream of their own", "[toolkit][op_mix]") {
    const std::uint64_t n = 10'000;
    PrefixTracker t("s:", n);
    t.add_range(0, n);
    // Worker 1 of 2: reads, inserts and deletes stay in its half.
    OpStream mine(t, OpMix::parse("get:0.5,delete:0.5"), 7, t.iter().slice(1, 2).mixed_ratio(1.0).seed(7).random(),
                  t.iter().slice(1, 2).continue_write());
    for (int i = 0; i < 4000; ++i)
        if (const auto op = mine.next(); op.id) REQUIRE(*op.id >= n / 2);
    CHECK(t.bits().count_range(0, n / 2) == n / 2);
    // A delete stream of its own: reads over everything, deletes only below 100.
    OpStream split(t, OpMix::parse("get:0.5,delete:0.5"), 8, t.iter().mixed_ratio(1.0).seed(8).random(),
                   t.iter().continue_write(), t.iter().range(0, 100).mixed_ratio(1.0).seed(9).random());
    bool read_high = false;
    for (int i = 0; i < 4000; ++i) {
        const auto op = split.next();
        if (!op.id) continue;
        if (op.op == Op::Delete) REQUIRE(*op.id < 100);
        if (op.op == Op::Read && *op.id >= 100) read_high = true;
    }
    CHECK(read_high);
    CHECK(t.bits().count_range(0, 100) == 0);
}

TEST_CASE("OpStream over a hierarchical tracker hands out (id, field) keys", "[toolkit][op_mix]") {
    auto t = PrefixTracker(keyspace::TrackerConfig::hierarchical("h:").with_max_id(100).with_max_sub_id(16));
    for (std::uint64_t id = 0; id < 100; ++id)
        for (std::uint64_t f = 0; f < 8; ++f) t.add_pair(id, f);
    std::set<std::pair<std::uint64_t, std::uint64_t>> model;
    for (std::uint64_t id = 0; id < 100; ++id)
        for (std::uint64_t f = 0; f < 8; ++f) model.emplace(id, f);
    OpStream s(t, OpMix::parse("get:0.4,insert:0.3,delete:0.3"), 3);
    std::array<int, keyspace::op_count> done{};
    for (int i = 0; i < 5000; ++i) {
        const auto op = s.next();
        if (!op.id) continue;
        ++done[static_cast<std::size_t>(op.op)];
        const std::pair<std::uint64_t, std::uint64_t> key{*op.id, op.sub_id};
        REQUIRE(op.sub_id < 16);
        switch (op.op) {
        case Op::Read: REQUIRE(model.count(key) == 1); break;
        case Op::Insert: REQUIRE(model.insert(key).second); break;
        case Op::Delete: REQUIRE(model.erase(key) == 1); break;
        default: FAIL("not in the mix");
        }
        REQUIRE(t.exists_pair(key.first, key.second) == (model.count(key) == 1));
    }
    CHECK(t.count() == model.size());
    CHECK(done[static_cast<std::size_t>(Op::Insert)] > 500);
    CHECK(done[static_cast<std::size_t>(Op::Delete)] > 500);
    // The default streams of an unbounded hierarchical tracker cannot be built: the error says what to narrow.
    auto unbounded = PrefixTracker::hierarchical("u:");
    CHECK_THROWS_AS(OpStream(unbounded, OpMix::parse("get:1"), 1), std::invalid_argument);
}

TEST_CASE("OpStream scan lengths are uniform from 1 to max_scan_length", "[toolkit][op_mix]") {
    PrefixTracker t("c:", 1000);
    t.add_range(0, 1000);
    OpStream s(t, OpMix::parse("scan:1"), 5);
    s.max_scan_length(10);
    CHECK(s.max_scan_length() == 10);
    std::array<int, 11> seen{};
    const int n = 100'000;
    for (int i = 0; i < n; ++i) {
        const auto op = s.next();
        REQUIRE(op.op == Op::Scan);
        REQUIRE(op.id);
        REQUIRE(op.scan_length >= 1);
        REQUIRE(op.scan_length <= 10);
        ++seen[op.scan_length];
    }
    double chi2 = 0;
    for (std::size_t k = 1; k <= 10; ++k) chi2 += (seen[k] - n / 10.0) * (seen[k] - n / 10.0) / (n / 10.0);
    CHECK(chi2 < keyspace_test::chi2_quantile(9, 4.0));
    CHECK_THROWS_WITH(s.max_scan_length(0), Catch::Contains("max_scan_length"));
}

TEST_CASE("OpStream reports no ID when nothing is available", "[toolkit][op_mix]") {
    PrefixTracker empty("e:", 1000);
    OpStream reads(empty, OpMix::parse("get:1"), 1);
    for (int i = 0; i < 100; ++i) CHECK_FALSE(reads.next().id.has_value());
    OpStream deletes(empty, OpMix::parse("delete:1"), 1);
    for (int i = 0; i < 100; ++i) CHECK_FALSE(deletes.next().id.has_value());
    PrefixTracker full("f:", 64);
    full.add_range(0, 64);
    OpStream inserts(full, OpMix::parse("insert:1"), 1);
    CHECK_FALSE(inserts.next().id.has_value());
    full.remove(17); // freed: the next insert takes it
    CHECK(inserts.next().id == std::optional<std::uint64_t>(17));
}

TEST_CASE("OpStreams on several threads keep every ID's inserts and deletes consistent with the tracker",
          "[toolkit][op_mix][stress]") {
    const std::uint64_t n = 1 << 20, initial = 100000;
    PrefixTracker t("s:", n);
    t.add_range(0, initial);
    const int threads = 4;
    std::vector<std::vector<std::uint64_t>> inserted(threads), deleted(threads);
    std::vector<std::thread> pool;
    for (int w = 0; w < threads; ++w)
        pool.emplace_back([&, w] {
            OpStream s(t, OpMix::parse("get:0.5,insert:0.3,delete:0.2"), static_cast<std::uint64_t>(w));
            for (int i = 0; i < 200000; ++i) {
                const auto op = s.next();
                if (!op.id) continue;
                if (op.op == Op::Insert) inserted[static_cast<std::size_t>(w)].push_back(*op.id);
                if (op.op == Op::Delete) deleted[static_cast<std::size_t>(w)].push_back(*op.id);
            }
        });
    for (auto& th : pool) th.join();
    // Each reported insert was a 0 -> 1 claim and each reported delete a 1 -> 0 removal by that call, so per ID:
    // initial + inserts - deletes is the final state (0 or 1), and the totals give the count exactly.
    std::vector<std::int64_t> net(n, 0);
    for (std::uint64_t id = 0; id < initial; ++id) net[id] = 1;
    std::uint64_t ins = 0, del = 0;
    for (const auto& v : inserted)
        for (const std::uint64_t id : v) ++net[id], ++ins;
    for (const auto& v : deleted)
        for (const std::uint64_t id : v) --net[id], ++del;
    for (std::uint64_t id = 0; id < n; ++id) {
        REQUIRE(net[id] >= 0);
        REQUIRE(net[id] <= 1);
        REQUIRE(t.exists(id) == (net[id] == 1));
    }
    CHECK(ins > 0u);
    CHECK(del > 0u);
    CHECK(t.count() == initial + ins - del);
}

TEST_CASE("OpStream::next lets the claim's std::bad_alloc through instead of terminating", "[toolkit][op_mix]") {
    // An insert claims through WriteIter::next(), which grows the tracker and can throw std::bad_alloc; a noexcept
    // next() would turn that into std::terminate.
    static_assert(!noexcept(std::declval<keyspace::OpStream&>().next()));
    static_assert(!noexcept(std::declval<keyspace::WriteIter&>().next()));
    keyspace::PrefixTracker t("o:", 100);
    keyspace::OpStream s(t, keyspace::OpMix::parse("insert:1"), 1);
    CHECK(s.next().id == std::optional<std::uint64_t>(0));
}

TEST_CASE("OpStream begins its operations in flight: every reply is predicted and the tracker ends equal to the server",
          "[toolkit][op_mix][in_flight]") {
    for (const bool hierarchical : {false, true}) {
        CAPTURE(hierarchical);
        const auto config = hierarchical
                                ? keyspace::TrackerConfig::hierarchical("h:").with_max_id(64).with_max_sub_id(8)
                                : keyspace::TrackerConfig::simple("s:").with_max_id(512);
        PrefixTracker t(config);
        std::set<std::pair<std::uint64_t, std::uint64_t>> server; // what a server has applied
        for (std::uint64_t i = 0; i < 200; ++i) {
            const keyspace::Key k = hierarchical ? keyspace::Key{i / 8, i % 8} : keyspace::Key{i, 0};
            t.add(k);
            server.emplace(k.id, k.sub_id);
        }
        keyspace::InFlight ops(t);
        // Two workers share every key; their commands stay in flight 16 deep and are applied in send order per
        // worker, the two workers' replies interleaved. 1 in 8 is refused by the "server" (aborted), 1 in 16 dropped.
        OpStream a(t, OpMix::parse("get:0.3,set:0.1,insert:0.2,delete:0.2,scan:0.1,rmw:0.1"), 1);
        OpStream b(t, OpMix::parse("get:0.3,set:0.1,insert:0.2,delete:0.2,scan:0.1,rmw:0.1"), 2);
        std::deque<keyspace::TrackedOperation> pipes[2];
        keyspace::Rng rng(9);
        std::uint64_t applied = 0, begun[keyspace::op_count] = {};
        const auto apply = [&](std::deque<keyspace::TrackedOperation>& pipe) {
            keyspace::InFlight::Ticket& tk = *pipe.front().ticket;
            struct PopFront { // the reply is handled: the operation leaves the pipeline (a dropped ticket aborts)
                std::deque<keyspace::TrackedOperation>& p;
                ~PopFront() { p.pop_front(); }
            } pop{pipe};
            const std::pair<std::uint64_t, std::uint64_t> key{tk.key().id, tk.key().sub_id};
            const bool present = server.count(key) == 1;
            switch (tk.kind()) {
            case keyspace::InFlight::Kind::Read: REQUIRE(present == tk.expect_hit()); break;
            case keyspace::InFlight::Kind::Update: REQUIRE(present); break;
            case keyspace::InFlight::Kind::Insert: REQUIRE_FALSE(present); break;
            case keyspace::InFlight::Kind::Delete: REQUIRE(present); break;
            }
            const std::uint64_t r = rng.below(16);
            if (r == 0) return; // dropped: aborted by the ticket's destructor
            if (r < 3) {
                tk.abort();
                return;
            }
            if (tk.kind() == keyspace::InFlight::Kind::Insert) server.insert(key);
            if (tk.kind() == keyspace::InFlight::Kind::Delete) server.erase(key);
            tk.commit();
            ++applied;
        };
        for (int i = 0; i < 20000; ++i) {
            const int w = static_cast<int>(rng.below(2));
            auto op = (w == 0 ? a : b).next(ops);
            if (op.ticket) {
                ++begun[static_cast<std::size_t>(op.op)];
                REQUIRE((op.scan_length != 0) == (op.op == Op::Scan));
                pipes[w].push_back(std::move(op));
            }
            if (pipes[w].size() > 16) apply(pipes[w]);
        }
        for (auto& pipe : pipes)
            while (!pipe.empty()) apply(pipe);
        CHECK(ops.idle());
        CHECK(t.count() == server.size());
        for (const auto& [id, sub] : server) CHECK(t.exists(keyspace::Key{id, sub}));
        CHECK(applied > 10000);
        for (const std::uint64_t n : begun) CHECK(n > 500);
        // Another tracker's InFlight is refused.
        PrefixTracker other("o:", 10);
        keyspace::InFlight wrong(other);
        CHECK_THROWS_AS(a.next(wrong), std::invalid_argument);
    }
}
