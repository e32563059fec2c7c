// PrefixGroupsTracker: the registry (lock-free get, ownership, registration order), the group iterators and claim
// policies, bad input, the README's examples, and a registration/iteration stress test.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/prefix_groups_tracker.hpp>
#include <keyspace/shared_region.hpp>
#include <keyspace/toolkit/persistence.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

using keyspace::AccessDistribution;
using keyspace::AddResult;
using keyspace::ClaimPolicy;
using keyspace::GroupItem;
using keyspace::PrefixGroupsTracker;
using keyspace::PrefixTracker;
using keyspace::PrefixWeight;
using keyspace::TrackerConfig;

namespace {

using Item = std::pair<std::string, std::uint64_t>;

/// stem + i + ':' (by appends: GCC 12 at -O3 warns falsely about `"literal" + std::to_string(i)`).
std::string key_name(const char* stem, long long i) {
    std::string s = stem;
    s += std::to_string(i);
    s += ':';
    return s;
}

template <class It>
std::vector<Item> drain(It&& it) {
    std::vector<Item> out;
    while (auto i = it.next()) out.emplace_back(std::string(i->prefix), i->id);
    return out;
}

template <class It>
std::vector<Item> take(It& it, std::size_t n) {
    std::vector<Item> out;
    for (std::size_t k = 0; k < n; ++k) {
        auto i = it.next();
        if (!i) break;
        out.emplace_back(std::string(i->prefix), i->id);
    }
    return out;
}

} // namespace

// ---- registry and group basics ------------------------------------------------------------------------------------

TEST_CASE("a registry holds bounded trackers by prefix and get returns the one added", "[groups]") {
    PrefixGroupsTracker groups;
    groups.add(TrackerConfig::simple("user:").with_max_id(1'000'000));
    groups.add(TrackerConfig::simple("session:").with_max_id(100'000));
    auto users = groups.get("user:");
    REQUIRE(users);
    users->add(42);
    users->add(1337);
    CHECK(users->exists(42));
    CHECK_FALSE(users->exists(999));
    std::vector<std::uint64_t> ids;
    for (auto [id, sub] : users->iter().set_only().sequential()) ids.push_back(id);
    CHECK(ids == std::vector<std::uint64_t>{42, 1337});
    CHECK(groups.get("session:")->max_id() == 100'000u);
}

TEST_CASE("horizontal set_only lists each prefix's keys and a round-robin writer claims across prefixes", "[groups]") {
    PrefixGroupsTracker groups;
    groups.add(TrackerConfig::simple("a:"));
    groups.add(TrackerConfig::simple("b:"));
    groups.add(TrackerConfig::simple("c:"));
    groups.get("a:")->add(1);
    groups.get("b:")->add(2);

    std::vector<Item> seen;
    for (const auto& item : groups.iter().set_only().horizontal().build())
        seen.emplace_back(std::string(item.prefix), item.id);
    CHECK(seen == std::vector<Item>{{"a:", 1}, {"b:", 2}});

    // Claim IDs round-robin across prefixes until an ID above 100 comes out.
    auto writer = groups.iter().write(ClaimPolicy::RoundRobin);
    std::map<std::string, std::vector<std::uint64_t>> claimed;
    std::vector<std::string> order;
    while (auto item = writer.next()) {
        claimed[std::string(item->prefix)].push_back(item->id);
        order.emplace_back(item->prefix);
        if (item->id > 100) break;
    }
    for (std::size_t i = 0; i < order.size(); ++i) CHECK(order[i] == std::vector<std::string>{"a:", "b:", "c:"}[i % 3]);
    for (auto& [prefix, ids] : claimed) {
        std::set<std::uint64_t> unique(ids.begin(), ids.end());
        CHECK(unique.size() == ids.size());
        for (auto id : ids) CHECK(groups.get(prefix)->exists(id));
    }
    CHECK(std::find(claimed["a:"].begin(), claimed["a:"].end(), 1u) == claimed["a:"].end()); // was set already
    CHECK(std::find(claimed["b:"].begin(), claimed["b:"].end(), 2u) == claimed["b:"].end());
}

TEST_CASE("horizontal, vertical and random orders visit every key in their order", "[groups]") {
    PrefixGroupsTracker groups;
    for (const char* p : {"p0:", "p1:"}) groups.add(TrackerConfig::simple(p).with_max_id(10));
    groups.get("p0:")->add(1), groups.get("p0:")->add(3);
    groups.get("p1:")->add(0), groups.get("p1:")->add(3);
    // All IDs of prefix 0, then prefix 1.
    CHECK(drain(groups.iter().horizontal().set_only().build()) ==
          std::vector<Item>{{"p0:", 1}, {"p0:", 3}, {"p1:", 0}, {"p1:", 3}});
    // ID 0 across all prefixes, then ID 1, ...
    CHECK(drain(groups.iter().vertical().set_only().build()) ==
          std::vector<Item>{{"p1:", 0}, {"p0:", 1}, {"p0:", 3}, {"p1:", 3}});
    // Random sampling across all prefixes: take(1000) of a 4-key group gets each key once.
    auto r = groups.iter().random().set_only().build();
    auto got = take(r, 1000);
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<Item>{{"p0:", 1}, {"p0:", 3}, {"p1:", 0}, {"p1:", 3}});
}

TEST_CASE("get_or_create makes one tracker per prefix, bounded by the default max_id", "[groups]") {
    auto groups = PrefixGroupsTracker::with_default_max_id(1'000'000);
    auto tracker = groups.get_or_create("vec:");
    tracker->add(0), tracker->add(100), tracker->add(999);
    CHECK(tracker->exists(100));
    CHECK_FALSE(tracker->exists(50));
    CHECK(tracker->count() == 3);
    CHECK(tracker->max_id() == 1'000'000u);
    CHECK(groups.get_or_create("vec:") == tracker);
}

TEST_CASE("the README's PrefixGroupsTracker example compiles and holds", "[groups][readme]") {
    // Copied from README.md, section "PrefixGroupsTracker".
    keyspace::PrefixGroupsTracker groups;
    groups.add(keyspace::TrackerConfig::simple("user:").with_max_id(1'000'000));
    groups.add(keyspace::TrackerConfig::simple("session:").with_max_id(100'000));

    auto users = groups.get("user:"); // no lock; keep the shared_ptr in the worker
    users->add(42);
    groups.get("session:")->add(7);

    std::vector<std::string> seen;
    for (const auto& item : groups.iter().set_only().vertical().build())
        seen.push_back(std::string(item.prefix) + std::to_string(item.id));
    // seen == {"session:7", "user:42"}

    auto writer = groups.iter().write(keyspace::ClaimPolicy::LeastLoaded);
    auto claimed = writer.next(); // a key of the least-filled prefix, claimed atomically

    auto hot = groups.iter().set_only().random().seed(1)
                   .distribution(keyspace::AccessDistribution::zipfian(0.99))
                   .limit(1000)
                   .build(); // 1000 draws over the present keys, low IDs hottest
    // End of the README excerpt.
    CHECK(seen == std::vector<std::string>{"session:7", "user:42"});
    REQUIRE(claimed);
    CHECK(std::string(claimed->prefix) == "user:"); // 1 of 10^6 used, against session's 1 of 10^5
    std::size_t n = 0;
    while (auto i = hot.next()) {
        ++n;
        CHECK(groups.get(i->prefix)->exists(i->id));
    }
    CHECK(n == 1000);
}

// ---- registry -----------------------------------------------------------------------------------------------------

TEST_CASE("prefixes() keeps registration order across removals and re-adds", "[groups]") {
    PrefixGroupsTracker groups;
    for (const char* p : {"zeta:", "alpha:", "mid:", "beta:"}) groups.add(TrackerConfig::simple(p));
    CHECK(groups.prefixes() == std::vector<std::string>{"zeta:", "alpha:", "mid:", "beta:"});
    groups.remove("alpha:");
    groups.add(TrackerConfig::simple("alpha:"));
    CHECK(groups.prefixes() == std::vector<std::string>{"zeta:", "mid:", "beta:", "alpha:"});
    CHECK(groups.size() == 4);
    // Many more than the initial table: rehashes keep every entry and the order.
    std::vector<std::string> want = groups.prefixes();
    for (int i = 0; i < 500; ++i) {
        want.push_back(key_name("k", i));
        groups.add(TrackerConfig::simple(want.back()));
    }
    CHECK(groups.prefixes() == want);
    for (const auto& p : want) {
        auto t = groups.get(p);
        REQUIRE(t);
        CHECK(t->prefix() == p);
    }
    CHECK_FALSE(groups.get("k500:"));
}

TEST_CASE("try_add says whether it inserted, found the same config or a different one", "[groups]") {
    PrefixGroupsTracker groups;
    auto [a, r1] = groups.try_add(TrackerConfig::simple("a:").with_max_id(100));
    CHECK(r1 == AddResult::Inserted);
    auto [b, r2] = groups.try_add(TrackerConfig::simple("a:").with_max_id(100));
    CHECK(r2 == AddResult::Existing);
    CHECK(b == a);
    auto [c, r3] = groups.try_add(TrackerConfig::simple("a:").with_max_id(200));
    CHECK(r3 == AddResult::ConfigMismatch);
    CHECK(c == a);
    CHECK(c->max_id() == 100u);
    CHECK(groups.add(TrackerConfig::hierarchical("a:")) == a); // add returns the existing tracker
    CHECK(groups.size() == 1);
}

TEST_CASE("adopt registers an existing tracker under its own prefix and get returns that object", "[groups][adopt]") {
    PrefixGroupsTracker groups;
    auto mine = std::make_shared<PrefixTracker>(TrackerConfig::simple("a:").with_max_id(100));
    mine->add_range(0, 10);
    auto [a, r1] = groups.try_adopt(mine);
    CHECK(r1 == AddResult::Inserted);
    CHECK(a == mine);
    CHECK(groups.get("a:") == mine); // the lock-free lookup finds the very object
    CHECK(groups.prefixes() == std::vector<std::string>{"a:"});
    CHECK(groups.total_count() == 10);
    groups.get("a:")->add(50); // a worker's writes through the registry reach the adopter's pointer
    CHECK(mine->exists(50));

    // The same object again: Existing. Another object for the prefix, even with an equal config: OtherTracker, the
    // registered one is returned and the new one is not registered.
    auto [b, r2] = groups.try_adopt(mine);
    CHECK(r2 == AddResult::Existing);
    CHECK(b == mine);
    auto twin = std::make_shared<PrefixTracker>(TrackerConfig::simple("a:").with_max_id(100));
    auto [c, r3] = groups.try_adopt(twin);
    CHECK(r3 == AddResult::OtherTracker);
    CHECK(c == mine);
    CHECK(groups.adopt(twin) == mine);
    CHECK(twin.use_count() == 1); // the registry kept no reference to the refused tracker
    // add() with an equal config finds the adopted tracker (Existing), a different one is a mismatch.
    CHECK(groups.try_add(TrackerConfig::simple("a:").with_max_id(100)) == std::pair{mine, AddResult::Existing});
    CHECK(groups.try_add(TrackerConfig::simple("a:")).second == AddResult::ConfigMismatch);
    // An adopted prefix that was added first: the added tracker stays.
    auto added = groups.add(TrackerConfig::simple("b:"));
    CHECK(groups.try_adopt(std::make_shared<PrefixTracker>("b:")) == std::pair{added, AddResult::OtherTracker});
    CHECK(groups.size() == 2);

    // Adopted trackers iterate like added ones, in registration order.
    std::vector<Item> keys;
    for (const auto& item : groups.iter().set_only().range(45, 55).build())
        keys.emplace_back(std::string(item.prefix), item.id);
    CHECK(keys == std::vector<Item>{{"a:", 50}});

    // remove() hands the reference back; once the holders let go the tracker is destroyed (the registry holds none).
    std::weak_ptr<PrefixTracker> watch = mine;
    CHECK(groups.remove("a:") == mine);
    CHECK_FALSE(groups.get("a:"));
    mine.reset(), a.reset(), b.reset(), c.reset();
    CHECK(watch.expired());
    // The freed prefix takes the other tracker now.
    CHECK(groups.try_adopt(twin) == std::pair{twin, AddResult::Inserted});
    CHECK(groups.get("a:") == twin);
    // A std::unique_ptr converts (what load_tracker returns).
    CHECK(groups.adopt(std::make_unique<PrefixTracker>("u:"))->prefix() == "u:");
    CHECK(groups.prefixes() == std::vector<std::string>{"b:", "a:", "u:"});
}

TEST_CASE("adopt refuses a null tracker and an empty prefix, registering nothing", "[groups][adopt][bad-input]") {
    PrefixGroupsTracker groups;
    CHECK_THROWS_WITH(groups.adopt(nullptr), Catch::Contains("adopt") && Catch::Contains("null"));
    CHECK_THROWS_WITH(groups.try_adopt(std::make_shared<PrefixTracker>("")),
                      Catch::Contains("adopt") && Catch::Contains("empty"));
    CHECK(groups.empty());
}

#if KEYSPACE_HAS_SHARED_REGION
TEST_CASE("a tracker over a SharedKeyspace region file is adopted: the group writes into the region",
          "[groups][adopt][shared-region]") {
    const std::string path = "/tmp/keyspace-groups-adopt-" + std::to_string(::getpid());
    keyspace::SharedKeyspace::remove(path);
    const auto cfg = TrackerConfig::simple("region:").with_max_id(1000);
    {
        auto region = keyspace::SharedKeyspace::create(path, cfg);
        region->add_range(0, 3);
        PrefixGroupsTracker groups;
        groups.add(TrackerConfig::simple("local:").with_max_id(1000));
        CHECK(groups.try_adopt(region) == std::pair{region, AddResult::Inserted});
        CHECK(groups.get("region:") == region);
        region.reset(); // the registry keeps the mapping alive
        // Claims across the group land in the region as in the local tracker.
        auto writer = groups.iter().prefixes({"region:"}).write(keyspace::ClaimPolicy::RoundRobin);
        for (int i = 0; i < 5; ++i) REQUIRE(writer.next());
        CHECK(groups.get("region:")->count() == 8);
        // Another mapping of the same file (another process would open it the same way) sees every key.
        auto other = keyspace::SharedKeyspace::open(path, cfg);
        CHECK(other->count() == 8);
        for (std::uint64_t id = 0; id < 8; ++id) CHECK(other->exists(id));
        other->add(900);
        CHECK(groups.get("region:")->exists(900));
    }
    CHECK(keyspace::SharedKeyspace::remove(path));
}
#endif

TEST_CASE("a tracker read back by load_tracker is adopted with its keys", "[groups][adopt][persistence]") {
    PrefixTracker saved(TrackerConfig::simple("saved:").with_max_id(100000));
    for (std::uint64_t id = 0; id < 100000; id += 7) saved.add(id);
    std::stringstream file;
    keyspace::save_tracker(saved, file);

    PrefixGroupsTracker groups;
    auto [t, r] = groups.try_adopt(keyspace::load_tracker(file, "saved"));
    CHECK(r == AddResult::Inserted);
    CHECK(t->prefix() == "saved:");
    CHECK(t->max_id() == 100000u);
    CHECK(groups.get("saved:") == t);
    CHECK(groups.total_count() == saved.count());
    std::uint64_t seen = 0;
    for (const auto& item : groups.iter().set_only().build()) {
        CHECK(item.id % 7 == 0);
        ++seen;
    }
    CHECK(seen == saved.count());
}

TEST_CASE("trackers adopted while readers call get are found as the very objects adopted", "[groups][adopt]") {
    PrefixGroupsTracker groups;
    constexpr int n = 200; // enough to rehash the table several times under the readers
    std::vector<std::shared_ptr<PrefixTracker>> made;
    for (int i = 0; i < n; ++i) made.push_back(std::make_shared<PrefixTracker>(key_name("t", i)));
    std::atomic<bool> done{false};
    std::atomic<int> wrong{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r)
        readers.emplace_back([&] {
            while (!done.load(std::memory_order_acquire))
                for (int i = 0; i < n; ++i)
                    if (auto t = groups.get(made[static_cast<std::size_t>(i)]->prefix());
                        t && t != made[static_cast<std::size_t>(i)])
                        wrong.fetch_add(1);
        });
    for (const auto& t : made) groups.adopt(t);
    done.store(true, std::memory_order_release);
    for (auto& th : readers) th.join();
    CHECK(wrong.load() == 0);
    CHECK(groups.size() == static_cast<std::size_t>(n));
    for (const auto& t : made) CHECK(groups.get(t->prefix()) == t);
}

TEST_CASE("remove drops the registry's reference and holders keep the tracker alive", "[groups]") {
    PrefixGroupsTracker groups;
    auto holder = groups.add(TrackerConfig::simple("a:"));
    holder->add(5);
    std::weak_ptr<PrefixTracker> watch = holder;
    auto it = groups.iter().set_only().build(); // an iterator holds it too
    auto removed = groups.remove("a:");
    CHECK(removed == holder);
    CHECK_FALSE(groups.get("a:"));
    CHECK(groups.empty());
    CHECK_FALSE(groups.remove("a:"));
    removed.reset();
    CHECK(holder->exists(5)); // still alive for its holder
    holder.reset();
    CHECK_FALSE(watch.expired()); // the iterator still holds it
    auto first = it.next();
    REQUIRE(first);
    CHECK(std::string(first->prefix) == "a:");
    CHECK(first->id == 5);
    it = groups.iter().build(); // the old iterator is gone
    CHECK(watch.expired());     // nobody holds it: the registry kept no reference

    // The same through clear().
    auto h2 = groups.add(TrackerConfig::simple("b:"));
    std::weak_ptr<PrefixTracker> w2 = h2;
    groups.clear();
    CHECK(groups.empty());
    CHECK(groups.prefixes().empty());
    CHECK_FALSE(w2.expired());
    h2.reset();
    CHECK(w2.expired());
    // A re-added prefix is a new tracker.
    auto again = groups.add(TrackerConfig::simple("b:"));
    CHECK(again->empty());
}

TEST_CASE("size, empty, total_count and get_or_create with a default config", "[groups]") {
    auto groups = PrefixGroupsTracker::with_default_config(TrackerConfig::hierarchical("ignored").with_max_sub_id(8));
    CHECK(groups.empty());
    auto h = groups.get_or_create("h:");
    CHECK(h->is_hierarchical());
    CHECK(h->max_sub_id() == 8u);
    CHECK(h->prefix() == "h:");
    h->add_pair(1, 2), h->add_pair(1, 3);
    groups.add(TrackerConfig::simple("s:"))->add_range(0, 10);
    CHECK(groups.size() == 2);
    CHECK(groups.total_count() == 12);
    CHECK(PrefixGroupsTracker().get_or_create("x:")->max_id() == std::nullopt);
}

TEST_CASE("bad input throws std::invalid_argument with a message", "[groups][bad-input]") {
    PrefixGroupsTracker groups;
    groups.add(TrackerConfig::simple("a:"));
    CHECK_THROWS_AS(groups.add(TrackerConfig::simple("")), std::invalid_argument);
    CHECK_THROWS_AS(groups.try_add(TrackerConfig::simple("")), std::invalid_argument);
    CHECK_THROWS_WITH(groups.get_or_create(""), Catch::Contains("empty"));
    CHECK_FALSE(groups.get(""));
    CHECK_FALSE(groups.remove(""));
    CHECK_THROWS_WITH(groups.iter().prefixes({"a:", "nope:"}), Catch::Contains("nope:"));
    CHECK_THROWS_AS(groups.iter().prefixes({""}), std::invalid_argument);
    CHECK_THROWS_WITH(groups.iter().partition(0, 0), Catch::Contains("n must be at least 1"));
    CHECK_THROWS_WITH(groups.iter().partition(3, 3), Catch::Contains("i must be below n"));
    CHECK_THROWS_AS(groups.iter().partitioned(0), std::invalid_argument);
    CHECK_THROWS_AS(groups.iter().range(5, 4), std::invalid_argument);
    CHECK_THROWS_AS(groups.iter().set_only().write(ClaimPolicy::RoundRobin), std::invalid_argument);
    CHECK_THROWS_AS(groups.iter().distribution(AccessDistribution::uniform()).build(), std::invalid_argument);
    CHECK_THROWS_AS(groups.iter().random().distribution(AccessDistribution::uniform()).write(ClaimPolicy::Random),
                    std::invalid_argument);
    CHECK_THROWS_AS(PrefixGroupsTracker::with_default_max_id(0), std::invalid_argument);
    // An unbounded hierarchical tracker without max_sub_id needs a range to write in (2^63 * 2^32 keys otherwise).
    groups.add(TrackerConfig::hierarchical("h:"));
    CHECK_THROWS_AS(groups.iter().write(ClaimPolicy::RoundRobin), std::invalid_argument);
    auto w = groups.iter().prefixes({"h:"}).range(0, 1000).write(ClaimPolicy::RoundRobin);
    CHECK(w.next() == GroupItem{"h:", 0, 0});
    groups.remove("h:");
    CHECK(groups.size() == 1);
}

// ---- group iteration ----------------------------------------------------------------------------------------------

TEST_CASE("vertical order visits every pair of hierarchical trackers", "[groups][hierarchical]") {
    PrefixGroupsTracker groups;
    auto h = groups.add(TrackerConfig::hierarchical("h:"));
    auto f = groups.add(TrackerConfig::hierarchical("f:").with_max_id(100).with_max_sub_id(4));
    auto s = groups.add(TrackerConfig::simple("s:").with_max_id(100));
    h->add_pair(2, 7), h->add_pair(2, 1), h->add_pair(5, 0);
    f->add_pair(2, 3), f->add_pair(1, 0);
    s->add(2), s->add(9);
    std::vector<GroupItem> got;
    auto it = groups.iter().set_only().vertical().build();
    while (auto i = it.next()) got.push_back(*i);
    const std::vector<GroupItem> want{{"f:", 1, 0}, {"h:", 2, 1}, {"h:", 2, 7}, {"f:", 2, 3},
                                      {"s:", 2, 0}, {"h:", 5, 0}, {"s:", 9, 0}};
    CHECK(got == want);
}

TEST_CASE("random() reaches all 100 keys of a sparse tracker among 10^6, each once", "[groups][random]") {
    PrefixGroupsTracker groups;
    auto sparse = groups.add(TrackerConfig::simple("sparse:").with_max_id(1'000'000));
    auto dense = groups.add(TrackerConfig::simple("dense:").with_max_id(1000));
    keyspace_test::SplitMix rng{7};
    std::set<Item> want;
    while (want.size() < 100) {
        const auto id = rng.below(1'000'000);
        sparse->add(id);
        want.emplace("sparse:", id);
    }
    dense->add_range(0, 1000);
    for (std::uint64_t i = 0; i < 1000; ++i) want.emplace("dense:", i);
    auto it = groups.iter().set_only().random().seed(3).build();
    auto got = drain(it);
    CHECK(got.size() == want.size());
    CHECK(std::set<Item>(got.begin(), got.end()) == want);
    // Interleaved, not prefix by prefix: the sparse keys are not all at one end.
    std::size_t first_sparse = got.size();
    for (std::size_t i = 0; i < got.size(); ++i)
        if (got[i].first == "sparse:") {
            first_sparse = i;
            break;
        }
    CHECK(first_sparse < 50);
}

TEST_CASE("the same seed gives the same group sequence", "[groups][random]") {
    PrefixGroupsTracker groups;
    for (int p = 0; p < 4; ++p) {
        auto t = groups.add(TrackerConfig::simple(key_name("p", p)).with_max_id(5000));
        for (std::uint64_t i = static_cast<std::uint64_t>(p); i < 5000; i += 3) t->add(i);
    }
    auto seq = [&](std::uint64_t seed) {
        auto it = groups.iter().set_only().random().seed(seed).limit(2000).build();
        return drain(it);
    };
    CHECK(seq(11) == seq(11));
    CHECK(seq(11) != seq(12));
    auto stream = [&](std::uint64_t seed) {
        auto it = groups.iter().set_only().random().weighted(PrefixWeight::ByCount).seed(seed).limit(2000)
                      .distribution(AccessDistribution::zipfian(1.2)).build();
        return drain(it);
    };
    CHECK(stream(5) == stream(5));
    CHECK(stream(5) != stream(6));
    auto claims = [](std::uint64_t seed) {
        PrefixGroupsTracker g;
        for (int p = 0; p < 3; ++p) g.add(TrackerConfig::simple(key_name("w", p)));
        auto w = g.iter().seed(seed).limit(300).write(ClaimPolicy::Random);
        return drain(w);
    };
    CHECK(claims(9) == claims(9));
    CHECK(claims(9) != claims(10));
}

TEST_CASE("a zipfian group stream yields present keys, low IDs hottest", "[groups][distribution]") {
    PrefixGroupsTracker groups;
    auto t = groups.add(TrackerConfig::simple("z:").with_max_id(1000));
    t->add_range(0, 1000);
    t->remove(1); // a filtered hole: never drawn
    auto sparse = groups.add(TrackerConfig::simple("sp:").with_max_id(1'000'000));
    sparse->add(123'456), sparse->add(999'999);
    const std::uint64_t n = 200'000;
    auto it = groups.iter().set_only().random().seed(4).limit(n).distribution(AccessDistribution::zipfian(0.99)).build();
    std::map<Item, std::uint64_t> freq;
    std::uint64_t draws = 0, zdraws = 0;
    while (auto i = it.next()) {
        ++draws;
        if (i->prefix == "z:") ++zdraws;
        ++freq[{std::string(i->prefix), i->id}];
    }
    CHECK(draws == n);
    CHECK(freq.count({"z:", 1}) == 0);
    for (auto& [k, c] : freq) {
        if (k.first == "z:") CHECK(t->exists(k.second));
        else CHECK(sparse->exists(k.second));
    }
    // Uniform over the two prefixes: about half the draws each (binomial, 6 sigma).
    CHECK(std::abs(static_cast<double>(zdraws) - static_cast<double>(n) / 2) < 6 * std::sqrt(static_cast<double>(n) / 4));
    // Rank 0 of a Zipf(0.99) over 1000 ranks has probability 1 / H ≈ 0.1337; rank 1's draws are redrawn.
    double h = 0;
    for (int r = 1; r <= 1000; ++r) h += std::pow(r, -0.99);
    const double p0 = (1 / h) / (1 - std::pow(2, -0.99) / h);
    const double z = static_cast<double>(zdraws);
    CHECK(std::abs(static_cast<double>(freq[{"z:", 0}]) - z * p0) < 6 * std::sqrt(z * p0 * (1 - p0)));
    CHECK(freq[{"z:", 0}] > freq[{"z:", 2}]);
    CHECK(freq[{"sp:", 123'456}] > 0);
    CHECK(freq[{"sp:", 999'999}] > 0);
}

TEST_CASE("a latest group stream counts back from the newest present ID", "[groups][distribution]") {
    PrefixGroupsTracker groups;
    auto t = groups.add(TrackerConfig::simple("l:").with_max_id(1'000'000));
    t->add_range(0, 1000); // the newest ID is 999, far below max_id
    auto it = groups.iter().set_only().random().seed(8).limit(5000).distribution(AccessDistribution::latest(0.01, 1.0)).build();
    std::uint64_t n = 0;
    while (auto i = it.next()) {
        ++n;
        CHECK(i->id >= 990); // the most recent 1 % of [0, 1000)
        CHECK(i->id <= 999);
    }
    CHECK(n == 5000);
}

TEST_CASE("group streams and random order end when nothing matches", "[groups][distribution]") {
    PrefixGroupsTracker groups;
    groups.add(TrackerConfig::simple("e1:").with_max_id(1000));
    groups.add(TrackerConfig::simple("e2:")); // unbounded, empty
    auto stream = groups.iter().set_only().random().distribution(AccessDistribution::zipfian(0.5)).build();
    CHECK_FALSE(stream.next());
    CHECK_FALSE(groups.iter().set_only().random().build().next());
    CHECK_FALSE(groups.iter().set_only().vertical().build().next());
    // A weighted random order still reaches a tracker whose weight is zero once the others are exhausted.
    groups.get("e1:")->add(5);
    auto w = groups.iter().random().weighted(PrefixWeight::ByCount).prefixes({"e1:", "e2:"}).range(0, 10).build();
    auto got = drain(w);
    CHECK(got.size() == 20);
    CHECK(std::set<Item>(got.begin(), got.end()).size() == 20);
}

TEST_CASE("limit bounds a group iteration in total", "[groups]") {
    PrefixGroupsTracker groups;
    for (const char* p : {"a:", "b:"}) groups.add(TrackerConfig::simple(p).with_max_id(100))->add_range(0, 100);
    CHECK(drain(groups.iter().set_only().limit(150).build()).size() == 150);
    CHECK(drain(groups.iter().set_only().vertical().limit(3).build()) == std::vector<Item>{{"a:", 0}, {"b:", 0}, {"a:", 1}});
    CHECK(drain(groups.iter().limit(0).build()).empty());
    CHECK(drain(groups.iter().prefixes({"b:"}).range(10, 13).build()) == std::vector<Item>{{"b:", 10}, {"b:", 11}, {"b:", 12}});
}

TEST_CASE("partitions over the default unbounded range cover every set key once", "[groups][partition]") {
    PrefixGroupsTracker groups;
    std::set<Item> want;
    keyspace_test::SplitMix rng{99};
    for (const char* p : {"u1:", "u2:", "u3:"}) {
        auto t = groups.add(TrackerConfig::simple(p)); // unbounded
        for (int i = 0; i < 300; ++i) {
            const auto id = rng.below(5'000'000);
            t->add(id);
            want.emplace(p, id);
        }
    }
    for (std::uint64_t n : {1u, 2u, 7u, 64u}) {
        std::vector<Item> all;
        for (auto& part : groups.iter().set_only().partitioned(n)) {
            auto got = drain(part);
            all.insert(all.end(), got.begin(), got.end());
        }
        CHECK(all.size() == want.size());
        CHECK(std::set<Item>(all.begin(), all.end()) == want);
        // The widest explicit range does not overflow either.
        std::vector<Item> wide;
        for (std::uint64_t i = 0; i < n; ++i) {
            auto got = drain(groups.iter().set_only().range(0, std::numeric_limits<std::uint64_t>::max()).partition(i, n));
            wide.insert(wide.end(), got.begin(), got.end());
        }
        CHECK(std::set<Item>(wide.begin(), wide.end()) == want);
        CHECK(wide.size() == want.size());
    }
}

TEST_CASE("group erase removes and yields every present key, one eraser at a time", "[groups][erase]") {
    PrefixGroupsTracker groups;
    auto a = groups.add(TrackerConfig::simple("a:").with_max_id(100));
    auto b = groups.add(TrackerConfig::simple("b:").with_max_id(100));
    a->add(3), a->add(50), b->add(7);
    {
        auto e = groups.iter().erase();
        REQUIRE(e);
        CHECK_FALSE(groups.iter().erase());
        CHECK_FALSE(b->iter().erase()); // each tracker's slot is held
        CHECK(drain(*e) == std::vector<Item>{{"a:", 3}, {"a:", 50}, {"b:", 7}});
    }
    CHECK(groups.total_count() == 0);
    CHECK(groups.iter().erase()); // released
    a->add(1), a->add(2);
    auto e = groups.iter().limit(1).erase();
    REQUIRE(e);
    CHECK(drain(*e).size() == 1);
    CHECK(a->count() == 1);
}

// ---- claim policies -----------------------------------------------------------------------------------------------

TEST_CASE("group writers end only when every tracker is full", "[groups][write]") {
    for (auto policy : {ClaimPolicy::RoundRobin, ClaimPolicy::Random, ClaimPolicy::WeightedRandom,
                        ClaimPolicy::LeastLoaded, ClaimPolicy::MostLoaded}) {
        PrefixGroupsTracker groups;
        auto a = groups.add(TrackerConfig::simple("a:").with_max_id(130));
        auto b = groups.add(TrackerConfig::simple("b:").with_max_id(1000));
        auto c = groups.add(TrackerConfig::hierarchical("c:").with_max_id(10).with_max_sub_id(5));
        a->add_range(0, 100);
        std::set<Item> seen;
        auto w = groups.iter().seed(1).write(policy);
        while (auto i = w.next()) CHECK(seen.emplace(std::string(i->prefix) + std::to_string(i->sub_id), i->id).second);
        CHECK(seen.size() == 30 + 1000 + 50);
        CHECK(a->count() == 130);
        CHECK(b->count() == 1000);
        CHECK(c->count() == 50);
        CHECK_FALSE(w.next());
    }
}

TEST_CASE("RoundRobin alternates, Least/MostLoaded weigh used slots against max_id", "[groups][write]") {
    PrefixGroupsTracker groups;
    // a: 60 of 65 (92%; its bitmap is rounded to 128 bits, where it would look 47% full); b: 100 of 128 (78%).
    auto a = groups.add(TrackerConfig::simple("a:").with_max_id(65));
    auto b = groups.add(TrackerConfig::simple("b:").with_max_id(128));
    a->add_range(0, 60);
    b->add_range(0, 100);
    {
        auto w = groups.iter().write(ClaimPolicy::MostLoaded);
        for (int i = 0; i < 5; ++i) CHECK(std::string(w.next()->prefix) == "a:"); // a fills up first
        CHECK(std::string(w.next()->prefix) == "b:");
        CHECK(a->count() == 65);
    }
    {
        PrefixGroupsTracker g2;
        auto x = g2.add(TrackerConfig::simple("x:").with_max_id(100));
        auto y = g2.add(TrackerConfig::simple("y:").with_max_id(1000));
        x->add_range(0, 10); // 10%
        y->add_range(0, 50); // 5%
        auto w = g2.iter().write(ClaimPolicy::LeastLoaded);
        for (int i = 0; i < 50; ++i) CHECK(std::string(w.next()->prefix) == "y:"); // y reaches 10% (100 of 1000)
        CHECK(std::string(w.next()->prefix) == "x:");                              // tie: registration order
        // Then the fill ratios stay within one claim of each other.
        for (int i = 0; i < 1000; ++i) {
            w.next();
            const double fx = static_cast<double>(x->count()) / 100, fy = static_cast<double>(y->count()) / 1000;
            CHECK(std::abs(fx - fy) <= 0.0101);
        }
        auto rr2 = g2.iter().write(ClaimPolicy::RoundRobin);
        auto got = take(rr2, 6);
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].first == (i % 2 == 0 ? "x:" : "y:"));
    }
}

TEST_CASE("WeightedRandom claims in proportion to the weight", "[groups][write]") {
    PrefixGroupsTracker groups;
    groups.add(TrackerConfig::simple("small:").with_max_id(100'000));
    groups.add(TrackerConfig::simple("big:").with_max_id(300'000));
    const int n = 4000;
    auto count_small = [&](keyspace::GroupIteratorBuilder b) {
        auto w = b.seed(21).limit(n).write(ClaimPolicy::WeightedRandom);
        int small = 0;
        while (auto i = w.next()) small += i->prefix == "small:" ? 1 : 0;
        return small;
    };
    // ByUnsetCount (default): about 1/4 to small (the counts barely move at this scale). 6 sigma.
    const double sd = std::sqrt(n * 0.25 * 0.75);
    CHECK(std::abs(count_small(groups.iter()) - n * 0.25) < 6 * sd);
    // Uniform: about half.
    CHECK(std::abs(count_small(groups.iter().weighted(PrefixWeight::Uniform)) - n * 0.5) < 6 * std::sqrt(n * 0.25));
    // Random policy: about half as well, and both prefixes are used.
    auto w = groups.iter().seed(3).limit(n).write(ClaimPolicy::Random);
    int small = 0;
    while (auto i = w.next()) small += i->prefix == "small:" ? 1 : 0;
    CHECK(std::abs(small - n * 0.5) < 6 * std::sqrt(n * 0.25));
}

TEST_CASE("two threads claiming round-robin on one prefix get every ID exactly once", "[groups][write][stress]") {
    for (int round = 0; round < 20; ++round) {
        PrefixGroupsTracker groups;
        const std::uint64_t max_id = 20'000 + static_cast<std::uint64_t>(round) * 37;
        auto t = groups.add(TrackerConfig::simple("one:").with_max_id(max_id));
        groups.add(TrackerConfig::simple("other:").with_max_id(10)); // not selected
        std::vector<std::uint64_t> got[2];
        std::atomic<bool> premature{false};
        auto worker = [&](int k) {
            auto w = groups.iter().prefixes({"one:"}).write(ClaimPolicy::RoundRobin);
            while (auto i = w.next()) got[k].push_back(i->id);
            // nullopt only once the prefix is full: no ID is absent (count() may still lag a claim in flight in
            // the other thread; the bits do not).
            if (t->iter().unset_only().sequential().next()) premature = true;
        };
        std::thread th(worker, 1);
        worker(0);
        th.join();
        CHECK_FALSE(premature.load());
        std::vector<std::uint64_t> all = got[0];
        all.insert(all.end(), got[1].begin(), got[1].end());
        std::sort(all.begin(), all.end());
        REQUIRE(all.size() == max_id);
        for (std::uint64_t i = 0; i < max_id; ++i) REQUIRE(all[i] == i);
        CHECK(groups.get("other:")->empty());
    }
}

TEST_CASE("registration and removal race with lock-free gets, claims and group iteration", "[groups][stress]") {
    PrefixGroupsTracker groups;
    constexpr int prefixes = 24;
    constexpr std::uint64_t max_id = 4096;
    auto name = [](int p) { return key_name("p", p); };
    for (int p = 0; p < prefixes; p += 2) groups.add(TrackerConfig::simple(name(p)).with_max_id(max_id));
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> errors{0}, gets{0}, items{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);

    std::thread registrar([&] {
        keyspace_test::SplitMix rng{1};
        while (std::chrono::steady_clock::now() < deadline) {
            const int p = static_cast<int>(rng.below(prefixes));
            if (rng.below(2) == 0) {
                auto t = groups.add(TrackerConfig::simple(name(p)).with_max_id(max_id));
                if (!t || t->prefix() != name(p)) ++errors;
            } else if (auto t = groups.remove(name(p))) {
                if (t->prefix() != name(p)) ++errors;
            }
            if (rng.below(1000) == 0) groups.clear();
        }
        stop = true;
    });
    auto reader = [&](std::uint64_t seed) {
        keyspace_test::SplitMix rng{seed};
        std::vector<std::shared_ptr<PrefixTracker>> kept; // trackers outlive their removal for their holders
        while (!stop) {
            const int p = static_cast<int>(rng.below(prefixes));
            ++gets;
            if (auto t = groups.get(name(p))) {
                if (t->prefix() != name(p)) ++errors;
                const std::uint64_t id = rng.below(max_id);
                if (t->claim(id) && !t->exists(id)) ++errors;
                if (kept.size() < 64) kept.push_back(std::move(t));
            }
            if (rng.below(64) == 0) {
                // A group walk over a snapshot: items belong to their tracker, in range, set, horizontal order.
                auto b = groups.iter().set_only().limit(2000);
                auto it = rng.below(2) == 0 ? b.build() : b.vertical().build();
                while (auto i = it.next()) {
                    ++items;
                    if (i->id >= max_id || i->prefix.empty() || i->prefix[0] != 'p') ++errors;
                }
                auto w = groups.iter().limit(50).write(rng.below(2) == 0 ? ClaimPolicy::RoundRobin : ClaimPolicy::LeastLoaded);
                while (auto i = w.next()) {
                    if (i->id >= max_id) ++errors;
                    auto t = groups.get(i->prefix); // may have been removed meanwhile: then null
                    if (t && t->prefix() != i->prefix) ++errors;
                }
            }
        }
        for (auto& t : kept) t->add(0); // still usable after removal
    };
    std::thread r1(reader, 2);
    reader(3);
    r1.join();
    registrar.join();
    CHECK(errors == 0);
    CHECK(gets > 0);
    // The registry is consistent afterwards.
    const auto names = groups.prefixes();
    CHECK(names.size() == groups.size());
    std::set<std::string> unique(names.begin(), names.end());
    CHECK(unique.size() == names.size());
    for (const auto& n : names) CHECK(groups.get(n));
    for (int p = 0; p < prefixes; ++p)
        if (!unique.count(name(p))) CHECK_FALSE(groups.get(name(p)));
}

TEST_CASE("a group claim stream whose trackers are full answers nothing now, then claims keys freed since",
          "[groups][write][live]") {
    for (const ClaimPolicy policy : {ClaimPolicy::RoundRobin, ClaimPolicy::Random, ClaimPolicy::WeightedRandom,
                                     ClaimPolicy::LeastLoaded, ClaimPolicy::MostLoaded}) {
        CAPTURE(static_cast<int>(policy));
        PrefixGroupsTracker groups;
        auto a = groups.add(TrackerConfig::simple("a:").with_max_id(4));
        auto b = groups.add(TrackerConfig::simple("b:").with_max_id(4));
        auto w = groups.iter().write(policy);
        CHECK(w.is_endless());
        std::set<Item> claimed;
        while (auto item = w.next()) CHECK(claimed.emplace(std::string(item->prefix), item->id).second);
        CHECK(claimed.size() == 8);
        CHECK_FALSE(w.is_exhausted()); // nothing free now, not the end
        CHECK_FALSE(w.next());
        // A key freed in one tracker is claimed by the next call, whichever tracker the policy prefers.
        REQUIRE(b->remove(2));
        auto again = w.next();
        REQUIRE(again);
        CHECK(std::string(again->prefix) == "b:");
        CHECK(again->id == 2);
        CHECK_FALSE(w.next());
        REQUIRE(a->remove(3));
        REQUIRE(b->remove(0));
        std::set<Item> freed;
        for (int i = 0; i < 2; ++i) {
            auto item = w.next();
            REQUIRE(item);
            freed.emplace(std::string(item->prefix), item->id);
        }
        CHECK(freed == std::set<Item>{{"a:", 3}, {"b:", 0}});
        CHECK(a->count() == 4);
        CHECK(b->count() == 4);
    }
}

TEST_CASE("a group claim stream with MostLoaded moves to the next most loaded tracker when the first is full",
          "[groups][write][live]") {
    PrefixGroupsTracker groups;
    auto a = groups.add(TrackerConfig::simple("a:").with_max_id(100));
    auto b = groups.add(TrackerConfig::simple("b:").with_max_id(100));
    auto c = groups.add(TrackerConfig::simple("c:").with_max_id(100));
    a->add_range(0, 10); // 10%
    b->add_range(0, 98); // 98%
    c->add_range(0, 50); // 50%
    auto w = groups.iter().write(ClaimPolicy::MostLoaded);
    for (int i = 0; i < 2; ++i) CHECK(std::string(w.next()->prefix) == "b:");
    for (int i = 0; i < 50; ++i) CHECK(std::string(w.next()->prefix) == "c:"); // b full: c is the most loaded now
    CHECK(std::string(w.next()->prefix) == "a:");
}

TEST_CASE("a group claim stream ends for good only at its limit", "[groups][write][live]") {
    PrefixGroupsTracker groups;
    groups.add(TrackerConfig::simple("a:").with_max_id(2));
    auto w = groups.iter().limit(3).write(ClaimPolicy::RoundRobin);
    CHECK(w.next());
    CHECK(w.next());
    CHECK_FALSE(w.next()); // full now
    CHECK_FALSE(w.is_exhausted());
    groups.get("a:")->remove(0);
    CHECK(w.next());
    CHECK(w.is_exhausted()); // the limit is spent
    groups.get("a:")->remove(1);
    CHECK_FALSE(w.next());
}
