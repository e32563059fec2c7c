// Operations in flight (InFlight): each rule of the class comment, on simple and hierarchical trackers and from the
// streams that hand out keys; then a stress test where writers, readers and deleters share keys and replies arrive
// on other threads, checked against a model server.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/keyspace.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

using keyspace::AccessDistribution;
using keyspace::InFlight;
using keyspace::Key;
using keyspace::PrefixTracker;
using keyspace::TrackerConfig;
using keyspace_test::SplitMix;

namespace {

/// The three layouts, each over 4096 keys.
PrefixTracker make_tracker(keyspace::TrackerLayout layout) {
    switch (layout) {
    case keyspace::TrackerLayout::simple: return PrefixTracker(TrackerConfig::simple("s:").with_max_id(4096));
    case keyspace::TrackerLayout::flat:
        return PrefixTracker(TrackerConfig::hierarchical("f:").with_max_id(512).with_max_sub_id(8));
    case keyspace::TrackerLayout::table: break;
    }
    return PrefixTracker(TrackerConfig::hierarchical("h:").with_max_id(512));
}

/// The i-th of the 4096 keys of a tracker made by make_tracker.
Key key_at(const PrefixTracker& t, std::uint64_t i) {
    return t.is_hierarchical() ? Key{i / 8, i % 8} : Key{i, 0};
}

const char* layout_name(keyspace::TrackerLayout l) {
    return l == keyspace::TrackerLayout::simple ? "simple" : l == keyspace::TrackerLayout::flat ? "flat" : "table";
}

#define FOR_EACH_LAYOUT(layout)                                                                                    \
    const auto layout = GENERATE(keyspace::TrackerLayout::simple, keyspace::TrackerLayout::flat,                  \
                                 keyspace::TrackerLayout::table);                                                  \
    INFO("layout " << layout_name(layout))

} // namespace

TEST_CASE("an insert claims its key at begin but reads and deletes see it only after the commit", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key k = key_at(t, 42);

    auto ins = ops.begin_insert(k);
    REQUIRE(ins);
    CHECK(ins->kind() == InFlight::Kind::Insert);
    CHECK_FALSE(ins->expect_hit());
    CHECK(t.exists(k));                      // claimed: no write stream or claim takes it
    CHECK_FALSE(t.claim(k));
    CHECK_FALSE(ops.begin_insert(k));        // nor another insert
    CHECK_FALSE(ops.begin_read(k));          // invisible to reads,
    CHECK_FALSE(ops.begin_update(k));        // updates
    CHECK_FALSE(ops.begin_delete(k));        // and deletes
    CHECK(ops.busy(k));
    CHECK_FALSE(ops.visible(k));

    ins->commit();
    CHECK_FALSE(ins->active());
    CHECK(ops.visible(k));
    auto r = ops.begin_read(k);
    REQUIRE(r);
    CHECK(r->expect_hit());
    r->commit();
    CHECK(ops.idle());
}

TEST_CASE("an aborted insert frees its key for another insert", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key k = key_at(t, 7);
    auto ins = ops.begin_insert(k);
    REQUIRE(ins);
    ins->abort();
    CHECK_FALSE(t.exists(k));
    CHECK_FALSE(ops.busy(k));
    auto r = ops.begin_read(k);
    REQUIRE(r);
    CHECK_FALSE(r->expect_hit());
    r->commit();
    auto again = ops.begin_insert(k);
    REQUIRE(again);
    again->commit();
    CHECK(ops.visible(k));
    CHECK(t.count() == 1);
}

TEST_CASE("a delete hides its key from reads, updates and deletes at begin and frees it for inserts only at commit",
          "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key k = key_at(t, 100);
    t.add(k);

    auto del = ops.begin_delete(k);
    REQUIRE(del);
    CHECK(del->kind() == InFlight::Kind::Delete);
    CHECK(del->expect_hit());
    CHECK_FALSE(ops.begin_read(k));
    CHECK_FALSE(ops.begin_update(k));
    CHECK_FALSE(ops.begin_delete(k));
    CHECK_FALSE(ops.begin_insert(k)); // the server may still hold it
    CHECK(t.exists(k));               // still claimed: write streams pass over it
    CHECK_FALSE(ops.visible(k));

    del->commit();
    CHECK_FALSE(t.exists(k));
    CHECK_FALSE(ops.busy(k));
    auto ins = ops.begin_insert(k);
    REQUIRE(ins);
    ins->commit();
    CHECK(ops.visible(k));
}

TEST_CASE("an aborted delete restores its key", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key k = key_at(t, 5);
    t.add(k);
    auto del = ops.begin_delete(k);
    REQUIRE(del);
    del->abort();
    CHECK(ops.visible(k));
    auto r = ops.begin_read(k);
    REQUIRE(r);
    CHECK(r->expect_hit());
}

TEST_CASE("reads and updates of a key exclude its insert and delete but not each other", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key k = key_at(t, 9);
    t.add(k);

    auto u1 = ops.begin_update(k);
    auto u2 = ops.begin_update(k); // a hot key under constant updates ...
    auto r1 = ops.begin_read(k);   // ... stays readable
    REQUIRE(u1);
    REQUIRE(u2);
    REQUIRE(r1);
    CHECK(r1->expect_hit());
    CHECK(u1->expect_hit());
    CHECK_FALSE(ops.begin_delete(k));
    u1->commit();
    CHECK_FALSE(ops.begin_delete(k));
    u2->abort();
    CHECK_FALSE(ops.begin_delete(k));
    r1->commit();
    auto del = ops.begin_delete(k); // every shared operation ended
    REQUIRE(del);
    del->commit();
    CHECK(ops.idle());
}

TEST_CASE("a read that will miss excludes an insert of its key until it ends", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key k = key_at(t, 33);
    auto r = ops.begin_read(k);
    REQUIRE(r);
    CHECK_FALSE(r->expect_hit());
    auto r2 = ops.begin_read(k);
    REQUIRE(r2);
    CHECK_FALSE(r2->expect_hit());
    CHECK_FALSE(ops.begin_insert(k));
    r->commit();
    CHECK_FALSE(ops.begin_insert(k));
    r2->commit();
    auto ins = ops.begin_insert(k);
    REQUIRE(ins);
    ins->commit();
}

TEST_CASE("an update needs a present key, an insert an absent one, a delete a present one", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key absent = key_at(t, 1), present = key_at(t, 2);
    t.add(present);
    CHECK_FALSE(ops.begin_update(absent));
    CHECK_FALSE(ops.begin_delete(absent));
    CHECK_FALSE(ops.begin_insert(present));
    CHECK(ops.idle()); // failed begins leave nothing behind
    CHECK(ops.visible(present));
    CHECK_FALSE(ops.busy(absent));
}

TEST_CASE("keys outside the tracker's range are never begun but reads of them expect a miss", "[in_flight]") {
    PrefixTracker t("s:", 100);
    InFlight ops(t);
    CHECK_FALSE(ops.begin_insert(100));
    CHECK_FALSE(ops.begin_delete(100));
    CHECK_FALSE(ops.begin_update(100));
    auto r = ops.begin_read(100);
    REQUIRE(r);
    CHECK_FALSE(r->expect_hit());
}

TEST_CASE("a dropped ticket aborts its operation", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    const Key a = key_at(t, 1), b = key_at(t, 2), c = key_at(t, 3);
    t.add(b);
    t.add(c);
    { auto ins = ops.begin_insert(a); REQUIRE(ins); }
    { auto del = ops.begin_delete(b); REQUIRE(del); }
    { auto r = ops.begin_read(c); REQUIRE(r); }
    CHECK_FALSE(t.exists(a));
    CHECK(ops.visible(b));
    CHECK(ops.idle());
    auto del = ops.begin_delete(c); // the dropped read no longer holds it
    REQUIRE(del);
    // Overwriting an active ticket aborts the operation it held.
    auto held = ops.begin_insert(a);
    REQUIRE(held);
    held = ops.begin_insert(key_at(t, 4));
    CHECK_FALSE(t.exists(a));
}

TEST_CASE("a ticket moved to another thread is committed there", "[in_flight]") {
    PrefixTracker t("s:", 1000);
    InFlight ops(t);
    std::vector<InFlight::Ticket> tickets;
    for (std::uint64_t id = 0; id < 100; ++id) {
        auto ins = ops.begin_insert(id);
        REQUIRE(ins);
        tickets.push_back(std::move(*ins));
        CHECK_FALSE(ins->active()); // moved from
    }
    std::thread replies([&] {
        for (auto& tk : tickets)
            if (tk.id() % 2 == 0) tk.commit();
            else tk.abort();
    });
    replies.join();
    CHECK(t.count() == 50);
    CHECK(ops.idle());
    for (std::uint64_t id = 0; id < 100; ++id) CHECK(ops.visible(id) == (id % 2 == 0));
}

TEST_CASE("inserts begun from write streams are claimed once and stay invisible until committed", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    auto b = t.iter();
    if (t.is_hierarchical()) b = b.sub_range(0, 8);
    auto shared = b.continue_write();
    auto drawn = b.distribution(AccessDistribution::zipfian(0.99)).seed(3).write();
    std::vector<InFlight::Ticket> tickets;
    for (int i = 0; i < 200; ++i) {
        auto tk = ops.begin_insert(i % 2 == 0 ? shared : drawn);
        REQUIRE(tk);
        CHECK(t.exists(tk->key()));
        CHECK_FALSE(ops.visible(tk->key()));
        CHECK_FALSE(ops.begin_read(tk->key()));
        tickets.push_back(std::move(*tk));
    }
    std::vector<Key> keys;
    for (auto& tk : tickets) keys.push_back(tk.key());
    std::sort(keys.begin(), keys.end());
    CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end()); // each key once
    // A plain stream over the same tracker passes over the claimed keys as well.
    auto plain = b.continue_write();
    while (auto k = plain.next()) CHECK_FALSE(std::binary_search(keys.begin(), keys.end(), *k));
    for (auto& tk : tickets) tk.commit();
    for (const Key k : keys) CHECK(ops.visible(k));
    CHECK(t.count() == 4096);
    CHECK(ops.idle());
}

TEST_CASE("a write stream that passes over a key which cannot be begun claims it later", "[in_flight]") {
    PrefixTracker t("s:", 64);
    InFlight ops(t);
    auto miss = ops.begin_read(0); // holds off inserts of key 0 (and of the keys of its stripe)
    REQUIRE(miss);
    auto w = t.iter().continue_write();
    std::vector<InFlight::Ticket> tickets;
    while (auto tk = ops.begin_insert(w)) {
        CHECK(tk->id() != 0);
        tickets.push_back(std::move(*tk));
    }
    CHECK_FALSE(t.exists(0));
    miss->commit();
    // Nothing was removed, so the stream only looks again on its idle schedule; a removal makes it look at once.
    tickets.front().abort();
    std::vector<std::uint64_t> later;
    while (auto tk = ops.begin_insert(w)) {
        later.push_back(tk->id());
        tk->commit();
    }
    CHECK(std::find(later.begin(), later.end(), 0) != later.end());
    for (auto& tk : tickets) tk.commit();
    CHECK(t.count() == 64);
}

TEST_CASE("a write stream in overwrite cycles begins no insert", "[in_flight]") {
    PrefixTracker t("s:", 128);
    t.add_range(0, 128);
    InFlight ops(t);
    auto w = t.iter().continue_write().wrap_around();
    CHECK_FALSE(ops.begin_insert(w));
    CHECK(t.count() == 128);
    CHECK(ops.idle());
}

TEST_CASE("reads drawn from a distribution stream skip keys with an insert or delete in flight", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    for (std::uint64_t i = 0; i < 4096; i += 2) t.add(key_at(t, i));
    std::vector<InFlight::Ticket> held;
    for (std::uint64_t i = 0; i < 64; i += 2) held.push_back(std::move(*ops.begin_delete(key_at(t, i))));
    for (std::uint64_t i = 1; i < 64; i += 2) held.push_back(std::move(*ops.begin_insert(key_at(t, i))));
    auto b = t.iter();
    if (t.is_hierarchical()) b = b.sub_range(0, 8);
    auto reads = b.set_only().distribution(AccessDistribution::zipfian(0.99)).seed(1).random();
    std::uint64_t low = 0;
    for (int i = 0; i < 2000; ++i) {
        auto r = ops.begin_read(reads);
        REQUIRE(r);
        CHECK(r->expect_hit());
        const std::uint64_t index = t.is_hierarchical() ? r->id() * 8 + r->key().sub_id : r->id();
        CHECK(index >= 64); // the hottest keys are busy: drawn again
        if (index < 128) ++low;
    }
    CHECK(low > 0);
    // Updates and deletes from the same kind of stream skip them too.
    auto u = ops.begin_update(reads);
    REQUIRE(u);
    auto d = ops.begin_delete(reads);
    REQUIRE(d);
    CHECK(d->key() != u->key()); // the update holds its key
}

TEST_CASE("reads and updates in flight never reject a draw: a 50/50 read/update Zipf workload reads exactly the "
          "stream's distribution",
          "[in_flight]") {
    // YCSB workload A: reads and updates of one Zipf(0.99) stream, with many updates in flight on the hot keys. Since
    // shared operations never exclude each other, every begin takes the first key drawn: the tickets' keys are the
    // very sequence of a twin stream with the same seed, so the read distribution is not distorted at all.
    PrefixTracker t("a:", 10'000);
    t.add_range(0, 10'000);
    InFlight ops(t);
    const auto b = t.iter().set_only().distribution(AccessDistribution::zipfian(0.99)).seed(11);
    auto stream = b.random(), twin = b.random();
    std::deque<InFlight::Ticket> updates;
    for (int i = 0; i < 20'000; ++i) {
        auto tk = i % 2 == 0 ? ops.begin_read(stream) : ops.begin_update(stream);
        REQUIRE(tk);
        REQUIRE(tk->key() == *twin.next());
        if (tk->kind() == InFlight::Kind::Update) updates.push_back(std::move(*tk));
        if (updates.size() > 1000) { // a thousand updates in flight, ending in order
            updates.front().commit();
            updates.pop_front();
        }
    }
}

TEST_CASE("reads drawn from a mixed_ratio stream expect what the tracker holds", "[in_flight]") {
    PrefixTracker t("s:", 4096);
    for (std::uint64_t i = 0; i < 4096; i += 3) t.add(i);
    InFlight ops(t);
    auto mixed = t.iter().mixed_ratio(0.5).seed(5).random();
    int hits = 0;
    for (int i = 0; i < 1000; ++i) {
        auto r = ops.begin_read(mixed);
        REQUIRE(r);
        CHECK(r->expect_hit() == (r->id() % 3 == 0));
        hits += r->expect_hit() ? 1 : 0;
    }
    CHECK(hits > 350);
    CHECK(hits < 650);
    // An unset_only stream draws the keys inserts begin on.
    auto fresh = t.iter().unset_only().seed(6).random();
    auto ins = ops.begin_insert(fresh);
    REQUIRE(ins);
    CHECK(ins->id() % 3 != 0);
}

TEST_CASE("deletes begun from an erase stream keep their keys present until committed", "[in_flight]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    for (std::uint64_t i = 0; i < 100; ++i) t.add(key_at(t, i));
    auto busy_read = ops.begin_read(key_at(t, 0)); // key 0 is read: passed over
    REQUIRE(busy_read);
    auto b = t.iter();
    if (t.is_hierarchical()) b = b.sub_range(0, 8);
    auto e = b.erase();
    REQUIRE(e);
    std::vector<InFlight::Ticket> dels;
    while (auto d = ops.begin_delete(*e)) {
        CHECK(t.exists(d->key()));
        CHECK_FALSE(ops.visible(d->key()));
        dels.push_back(std::move(*d));
    }
    CHECK(dels.size() >= 90); // all but key 0 and a few sharing stripes with it (false conflicts)
    CHECK(dels.size() <= 99);
    CHECK(t.exists(key_at(t, 0)));
    for (std::size_t i = 0; i < dels.size(); ++i)
        if (i % 2 == 0) dels[i].commit();
        else dels[i].abort();
    CHECK(t.count() == 100 - (dels.size() + 1) / 2);
}

TEST_CASE("hierarchical trackers: fields of one ID are separate keys and sub_count follows the commits",
          "[in_flight]") {
    const auto layout = GENERATE(keyspace::TrackerLayout::flat, keyspace::TrackerLayout::table);
    INFO("layout " << layout_name(layout));
    PrefixTracker t = make_tracker(layout);
    InFlight ops(t);
    auto f1 = ops.begin_insert(Key{3, 1});
    auto f2 = ops.begin_insert(Key{3, 2});
    REQUIRE(f1);
    REQUIRE(f2);
    auto r = ops.begin_read(Key{3, 5}); // another field of the same ID: not busy
    REQUIRE(r);
    CHECK_FALSE(r->expect_hit());
    f1->commit();
    f2->abort();
    CHECK(t.sub_count(3) == 1);
    auto del = ops.begin_delete(Key{3, 1});
    REQUIRE(del);
    CHECK_FALSE(ops.begin_read(Key{3, 1}));
    del->commit();
    CHECK(t.sub_count(3) == 0);
    r->commit();
    CHECK(ops.idle());
}

// ---- stress ----------------------------------------------------------------------------------------------------

namespace {

#if defined(KEYSPACE_TSAN)
constexpr std::uint64_t stress_scale = 8;
#else
constexpr std::uint64_t stress_scale = 1;
#endif

/// A queue of tickets between a worker (which sends) and a reply thread (which ends them, in any order).
struct ReplyQueue {
    std::mutex m;
    std::condition_variable cv;
    std::deque<InFlight::Ticket> q;
    bool closed = false;
    void push(InFlight::Ticket t) {
        {
            std::lock_guard<std::mutex> lock(m);
            q.push_back(std::move(t));
        }
        cv.notify_one();
    }
    void close() {
        {
            std::lock_guard<std::mutex> lock(m);
            closed = true;
        }
        cv.notify_all();
    }
    /// Takes a random one of the waiting tickets (replies come back out of order); nullopt once closed and empty.
    std::optional<InFlight::Ticket> pop(SplitMix& rng) {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return closed || !q.empty(); });
        if (q.empty()) return std::nullopt;
        const std::size_t i = static_cast<std::size_t>(rng.below(std::min<std::uint64_t>(q.size(), 64)));
        std::swap(q[i], q.front());
        InFlight::Ticket t = std::move(q.front());
        q.pop_front();
        return t;
    }
    std::size_t size() {
        std::lock_guard<std::mutex> lock(m);
        return q.size();
    }
};

/// Workers begin operations on shared keys from streams and single draws and hand the tickets to reply threads,
/// which play the server: they apply each operation to a model (an atomic flag per key) before committing, check
/// every read's expectation and every write's precondition against it, and abort or drop some. At the end the
/// tracker must hold exactly the model's keys.
void run_stress(PrefixTracker& t) {
    constexpr std::uint64_t n = 4096;
    InFlight ops(t);
    std::vector<std::atomic<int>> server(n);
    for (std::uint64_t i = 0; i < n; i += 2) {
        t.add(key_at(t, i));
        server[i].store(1);
    }
    const auto index = [&](Key k) { return t.is_hierarchical() ? k.id * 8 + k.sub_id : k.id; };
    const unsigned workers = 2, repliers = 2;
    const std::uint64_t per_worker = 200'000 / stress_scale;
    std::vector<ReplyQueue> queues(repliers);
    std::atomic<std::uint64_t> violations{0}, hits{0}, misses{0}, commits{0}, aborts{0}, not_begun{0};

    std::vector<std::thread> replies;
    for (unsigned r = 0; r < repliers; ++r)
        replies.emplace_back([&, r] {
            SplitMix rng{1000 + r};
            while (auto tk = queues[r].pop(rng)) {
                const std::uint64_t i = index(tk->key());
                const std::uint64_t fate = rng.below(100); // < 80 commit, < 92 abort, else drop
                bool ok = true;
                switch (tk->kind()) {
                case InFlight::Kind::Read:
                    ok = (server[i].load() == 1) == tk->expect_hit();
                    (tk->expect_hit() ? hits : misses).fetch_add(1);
                    break;
                case InFlight::Kind::Update: ok = server[i].load() == 1; break;
                case InFlight::Kind::Insert:
                    if (fate < 80) {
                        int expected = 0;
                        ok = server[i].compare_exchange_strong(expected, 1); // the server applies the SET
                    } else {
                        ok = server[i].load() == 0;
                    }
                    break;
                case InFlight::Kind::Delete:
                    if (fate < 80) {
                        int expected = 1;
                        ok = server[i].compare_exchange_strong(expected, 0); // the server applies the DEL
                    } else {
                        ok = server[i].load() == 1;
                    }
                    break;
                }
                if (!ok) violations.fetch_add(1);
                if (fate < 80) {
                    tk->commit();
                    commits.fetch_add(1);
                } else if (fate < 92) {
                    tk->abort();
                    aborts.fetch_add(1);
                } // else dropped: the destructor aborts
            }
        });

    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w)
        threads.emplace_back([&, w] {
            SplitMix rng{w + 1};
            auto b = t.iter();
            if (t.is_hierarchical()) b = b.sub_range(0, 8);
            auto writes = b.continue_write();
            auto reads = b.set_only().distribution(AccessDistribution::zipfian(0.99)).seed(w).random();
            auto mixed = b.mixed_ratio(0.7).seed(w + 10).random();
            std::optional<keyspace::EraseIter> eraser;
            for (std::uint64_t op = 0; op < per_worker; ++op) {
                const std::uint64_t dice = rng.below(100);
                std::optional<InFlight::Ticket> tk;
                if (dice < 35) tk = ops.begin_read(reads);
                else if (dice < 45) tk = ops.begin_read(mixed);
                else if (dice < 55) tk = ops.begin_update(reads);
                else if (dice < 65) tk = ops.begin_read(key_at(t, rng.below(n)));
                else if (dice < 75) tk = ops.begin_insert(writes);
                else if (dice < 82) tk = ops.begin_insert(key_at(t, rng.below(n)));
                else if (dice < 92) tk = ops.begin_delete(reads);
                else if (dice < 96) tk = ops.begin_delete(key_at(t, rng.below(n)));
                else {
                    if (!eraser) eraser = b.limit(64).erase(); // one at a time per tracker: may be refused
                    if (eraser) {
                        tk = ops.begin_delete(*eraser);
                        if (eraser->is_exhausted()) eraser.reset();
                    }
                }
                if (!tk) {
                    not_begun.fetch_add(1);
                    continue;
                }
                queues[rng.below(repliers)].push(std::move(*tk));
                // Keep the pipelines bounded (a few thousand in flight), as a load generator's depth does.
                while (queues[w % repliers].size() > 2000) std::this_thread::yield();
            }
        });
    for (auto& th : threads) th.join();
    for (auto& q : queues) q.close();
    for (auto& th : replies) th.join();

    INFO("commits " << commits << ", aborts " << aborts << ", not begun " << not_begun << ", read hits " << hits
                    << ", misses " << misses);
    CHECK(violations.load() == 0);
    CHECK(ops.idle());
    std::uint64_t mismatched = 0, present = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const bool s = server[i].load() == 1;
        if (t.exists(key_at(t, i)) != s) ++mismatched;
        present += s ? 1 : 0;
    }
    CHECK(mismatched == 0);
    CHECK(t.count() == present);
    CHECK(hits.load() > 0);
    CHECK(misses.load() > 0);
    CHECK(commits.load() > per_worker / 2);
}

} // namespace

TEST_CASE("in-flight stress: writers, readers and deleters share keys, replies end tickets on other threads, and "
          "every read and the final state agree with the server",
          "[in_flight][stress]") {
    FOR_EACH_LAYOUT(layout);
    PrefixTracker t = make_tracker(layout);
    run_stress(t);
}
