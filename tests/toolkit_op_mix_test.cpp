// OpMix (parsing, exact choice probabilities) and OpStream (routing to the right iterator).
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/toolkit/op_mix.hpp>

#include <array>
#include <atomic>
#include <cstdint>
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
    const OpMix m(0.5, 0.25, 0.15, 0.10);
    keyspace::Rng rng(7);
    const int n = 2'000'000;
    std::array<int, 4> seen{};
    for (int i = 0; i < n; ++i) ++seen[static_cast<std::size_t>(m.choose(rng))];
    double chi2 = 0;
    for (std::size_t k = 0; k < 4; ++k) {
        const double e = n * m.probability(static_cast<Op>(k));
        chi2 += (seen[k] - e) * (seen[k] - e) / e;
    }
    CHECK(chi2 < keyspace_test::chi2_quantile(3, 4.0));
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
    const OpMix no_delete(1, 1, 1, 0);
    CHECK(no_delete.choose_bits(~0ull) == Op::Insert);
    keyspace::Rng rng(1);
    for (int i = 0; i < 100000; ++i) REQUIRE(no_delete.choose(rng) != Op::Delete);
}

TEST_CASE("OpStream routes reads to existing keys, inserts to claims and deletes to erase", "[toolkit][op_mix]") {
    const std::uint64_t n = 20000;
    PrefixTracker t("user:", n);
    t.add_range(0, n / 2);
    std::vector<bool> model(n, false);
    for (std::uint64_t i = 0; i < n / 2; ++i) model[i] = true;
    OpStream s(t, OpMix::parse("get:0.4,set:0.2,insert:0.25,delete:0.15"), 42);
    CHECK(s.holds_eraser());
    std::array<int, 4> done{};
    for (int i = 0; i < 30000; ++i) {
        const keyspace::Operation op = s.next();
        if (!op.id) continue;
        const std::uint64_t id = *op.id;
        REQUIRE(id < n);
        ++done[static_cast<std::size_t>(op.op)];
        switch (op.op) {
        case Op::Read:
        case Op::Overwrite: REQUIRE(model[id]); break;
        case Op::Insert: REQUIRE_FALSE(model[id]); model[id] = true; break;
        case Op::Delete: REQUIRE(model[id]); model[id] = false; break;
        }
        REQUIRE(t.exists(id) == model[id]);
    }
    std::uint64_t expect = 0;
    for (const bool b : model) expect += b ? 1 : 0;
    CHECK(t.count() == expect);
    for (const int d : done) CHECK(d > 1000);
    // a second stream cannot take the eraser while the first lives: it removes random existing keys
    OpStream s2(t, OpMix::parse("delete:1"), 43);
    CHECK_FALSE(s2.holds_eraser());
    for (int i = 0; i < 100; ++i)
        if (const auto op = s2.next(); op.id) {
            REQUIRE(model[*op.id]);
            model[*op.id] = false;
            REQUIRE_FALSE(t.exists(*op.id));
        }
}

TEST_CASE("OpStream reports no ID when nothing is available", "[toolkit][op_mix]") {
    PrefixTracker empty("e:", 1000);
    OpStream reads(empty, OpMix::parse("get:1"), 1);
    for (int i = 0; i < 100; ++i) CHECK_FALSE(reads.next().id.has_value());
    PrefixTracker full("f:", 64);
    full.add_range(0, 64);
    OpStream inserts(full, OpMix::parse("insert:1"), 1);
    CHECK_FALSE(inserts.next().id.has_value());
    auto hier = PrefixTracker::hierarchical("h:");
    CHECK_THROWS_AS(OpStream(hier, OpMix::parse("get:1"), 1), std::invalid_argument);
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
