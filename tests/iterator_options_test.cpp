// Every (modifier, terminal) pair of the iterator builder is either honoured, with its documented effect, or
// rejected when the iterator is built, with std::invalid_argument naming both. The table below is the README's
// ("Which option applies to which terminal"); the test walks every cell of it.
#include "catch.hpp"

#include <keyspace/iterators.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using keyspace::AccessDistribution;
using keyspace::IteratorBuilder;
using keyspace::Key;
using keyspace::PrefixTracker;
using keyspace::SamplingConfig;
using keyspace::TrackerConfig;

namespace {

constexpr std::uint64_t n_ids = 256;   // the fixture: IDs [0, 256), the even ones set
constexpr std::size_t pull_cap = 600; // keys taken from an endless stream

enum class Term { sequential, random, write, continue_write, erase, partition, partitioned, seq_wrap, random_wrap, write_wrap, cw_wrap };
const std::vector<std::pair<Term, const char*>> terminals = {
    {Term::sequential, "sequential()"},  {Term::random, "random()"},
    {Term::write, "write()"},            {Term::continue_write, "continue_write()"},
    {Term::erase, "erase()"},            {Term::partition, "partition()"},
    {Term::partitioned, "partitioned()"}, {Term::seq_wrap, "sequential().wrap_around()"},
    {Term::random_wrap, "random().wrap_around()"}, {Term::write_wrap, "write().wrap_around()"},
    {Term::cw_wrap, "continue_write().wrap_around()"},
};
/// The name a rejection message gives the terminal.
std::string base_name(Term t) {
    switch (t) {
    case Term::seq_wrap: return "sequential()";
    case Term::random_wrap: return "random()";
    case Term::write_wrap: return "write()";
    case Term::cw_wrap: return "continue_write()";
    default:
        for (auto& [term, name] : terminals)
            if (term == t) return name;
    }
    return "?";
}
bool writes(Term t) { return t == Term::write || t == Term::continue_write || t == Term::write_wrap || t == Term::cw_wrap; }
bool wraps(Term t) { return t == Term::seq_wrap || t == Term::random_wrap || t == Term::write_wrap || t == Term::cw_wrap; }

// H: honoured (its effect is checked); R: rejected with std::invalid_argument naming modifier and terminal.
constexpr char H = 'H', R = 'R';
//                                            seq random write cw  erase part parted seq~ rnd~ write~ cw~
const std::map<std::string, std::string> table = {
    {"range()",         "HHHHHHHHHHH"},
    {"min()",           "HHHHHHHHHHH"},
    {"max()",           "HHHHHHHHHHH"},
    {"sub_range()",     "HHHHHHHHHHH"}, // hierarchical trackers; on a simple tracker every cell is R
    {"range_percent()", "HHHHHHHHHHH"},
    {"slice()",         "HHHHHHHHHHH"},
    {"set_only()",      "HHRRHHHHHRR"},
    {"unset_only()",    "HHHHRHHHHHH"},
    {"limit()",         "HHHHHHHHHHH"},
    {"sample()",        "HHHHHHHHHHH"},
    {"mixed_ratio()",   "RHRRRRRRHRR"},
    {"seed()",          "HHHRHHHHHHR"}, // continue_write: R unless distribution() or sample() gives the seed a use
    {"distribution()",  "RHHHRRRRHHH"},
    {"with_sampling()", "HHHHHHHHHHH"}, // each option it sets follows its own row; checked with limit
    {"overlapping()",   "RRRRRHHRRRR"},
};

struct Outcome {
    bool threw = false;
    std::string message;
    std::vector<Key> keys;
    std::set<Key> before; // keys present before the iterator was built
    std::set<Key> after;
};

std::set<Key> present(const PrefixTracker& t) {
    std::set<Key> s;
    for (Key k : t.iter().set_only().sequential()) s.insert(k);
    return s;
}

using Mod = std::function<IteratorBuilder(IteratorBuilder)>;

/// A fresh fixture tracker (simple: [0, 256), even IDs set; hierarchical: 16 x 16 flat pairs, (id + sub) even).
std::unique_ptr<PrefixTracker> fixture(bool hierarchical) {
    if (hierarchical) {
        auto t = std::make_unique<PrefixTracker>(TrackerConfig::hierarchical("h:").with_max_id(16).with_max_sub_id(16));
        for (std::uint64_t id = 0; id < 16; ++id)
            for (std::uint64_t s = 0; s < 16; ++s)
                if ((id + s) % 2 == 0) t->add_pair(id, s);
        return t;
    }
    auto t = std::make_unique<PrefixTracker>("s:", n_ids);
    for (std::uint64_t i = 0; i < n_ids; i += 2) t->add(i);
    return t;
}

template <class It>
void pull(It& it, Outcome& o, std::size_t cap) {
    while (o.keys.size() < cap) {
        auto k = it.next();
        if (!k) break;
        o.keys.push_back(*k);
    }
}

Outcome run(Term term, const Mod& mod, bool hierarchical = false, std::size_t cap = pull_cap) {
    const std::unique_ptr<PrefixTracker> owner = fixture(hierarchical);
    PrefixTracker& t = *owner;
    Outcome o;
    o.before = present(t);
    try {
        IteratorBuilder b = mod(t.iter());
        switch (term) {
        case Term::sequential: { auto it = b.sequential(); pull(it, o, cap); break; }
        case Term::random: { auto it = b.random(); pull(it, o, cap); break; }
        case Term::write: { auto it = b.write(); pull(it, o, cap); break; }
        case Term::continue_write: { auto it = b.continue_write(); pull(it, o, cap); break; }
        case Term::erase: { auto e = b.erase(); REQUIRE(e.has_value()); pull(*e, o, cap); break; }
        case Term::partition: { auto it = b.partition(1, 2); pull(it, o, cap); break; }
        case Term::partitioned: {
            auto parts = b.partitioned(2);
            for (auto& p : parts) pull(p, o, cap);
            break;
        }
        case Term::seq_wrap: { auto it = b.sequential().wrap_around(); pull(it, o, cap); break; }
        case Term::random_wrap: { auto it = b.random().wrap_around(); pull(it, o, cap); break; }
        case Term::write_wrap: { auto it = b.write().wrap_around(); pull(it, o, cap); break; }
        case Term::cw_wrap: { auto it = b.continue_write().wrap_around(); pull(it, o, cap); break; }
        }
    } catch (const std::invalid_argument& e) {
        o.threw = true;
        o.message = e.what();
    }
    o.after = present(t);
    return o;
}

/// The seed a terminal's baseline uses (continue_write takes one only with a sample or a distribution).
Mod seeded(Term t, std::uint64_t s) {
    if (t == Term::continue_write || t == Term::cw_wrap) return [](IteratorBuilder b) { return b; };
    return [s](IteratorBuilder b) { return b.seed(s); };
}
Mod then(Mod a, Mod b) {
    return [a = std::move(a), b = std::move(b)](IteratorBuilder x) { return b(a(x)); };
}

bool is_subsequence(const std::vector<Key>& sub, const std::vector<Key>& of) {
    std::size_t j = 0;
    for (const Key& k : of)
        if (j < sub.size() && sub[j] == k) ++j;
    return j == sub.size();
}

void require_nonempty(const Outcome& o) {
    REQUIRE_FALSE(o.threw);
    REQUIRE_FALSE(o.keys.empty());
}

/// Keys only from [lo, hi) (IDs), and for write and erase no change outside it.
void check_id_window(Term t, const Outcome& o, std::uint64_t lo, std::uint64_t hi) {
    require_nonempty(o);
    for (const Key& k : o.keys) {
        CHECK(k.id >= lo);
        CHECK(k.id < hi);
    }
    if (writes(t) || t == Term::erase)
        for (std::uint64_t i = 0; i < n_ids; ++i)
            if (i < lo || i >= hi) CHECK(o.before.count(Key{i, 0}) == o.after.count(Key{i, 0}));
}

void check_honoured(const std::string& mod, Term t) {
    if (mod == "range()") return check_id_window(t, run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.range(64, 100); })), 64, 100);
    if (mod == "min()") return check_id_window(t, run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.min(200); })), 200, n_ids);
    if (mod == "max()") return check_id_window(t, run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.max(40); })), 0, 40);
    if (mod == "range_percent()") // a fraction of the range given, not of the default one
        return check_id_window(t, run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.range(100, 200).range_percent(0.5, 1.0); })), 150, 200);
    if (mod == "slice()") // partition(s) split the slice
        return check_id_window(t, run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.slice(1, 2); })), 128, 256);
    if (mod == "sub_range()") {
        const Outcome o = run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.sub_range(3, 5); }), true);
        require_nonempty(o);
        for (const Key& k : o.keys) CHECK((k.sub_id >= 3 && k.sub_id < 5));
        // On a simple tracker there are no sub-IDs: rejected, naming both.
        const Outcome simple = run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.sub_range(3, 5); }));
        REQUIRE(simple.threw);
        CHECK(simple.message.find("sub_range()") != std::string::npos);
        CHECK(simple.message.find(base_name(t)) != std::string::npos);
        return;
    }
    if (mod == "set_only()" || mod == "unset_only()") {
        const bool want_set = mod == "set_only()";
        const Outcome o = run(t, then(seeded(t, 7), [&](IteratorBuilder b) { return want_set ? b.set_only() : b.unset_only(); }));
        require_nonempty(o);
        const bool overwriting = t == Term::write_wrap || t == Term::cw_wrap; // after the claims, every key again
        for (std::size_t i = 0; i < o.keys.size() && (!overwriting || i < n_ids / 2); ++i)
            CHECK(o.before.count(o.keys[i]) == (want_set ? 1u : 0u));
        return;
    }
    if (mod == "limit()" || mod == "with_sampling()") {
        const Outcome o = run(t, then(seeded(t, 7), [&](IteratorBuilder b) {
            return mod == "limit()" ? b.limit(3) : b.with_sampling(SamplingConfig().with_limit(3));
        }));
        REQUIRE_FALSE(o.threw);
        CHECK(o.keys.size() == (t == Term::partitioned ? 6u : 3u)); // partitioned: each partition
        return;
    }
    if (mod == "sample()") {
        // The kept keys are a subsequence of the unthinned stream's (same seed), about half of them.
        const Mod base_mod = seeded(t, 7);
        const Outcome base = run(t, base_mod, false, 4 * pull_cap);
        const Outcome got = run(t, then(base_mod, [](IteratorBuilder b) { return b.sample(0.5).seed(7); }));
        require_nonempty(base);
        REQUIRE_FALSE(got.threw);
        CHECK(is_subsequence(got.keys, base.keys));
        if (base.keys.size() == 4 * pull_cap) { // endless: it keeps yielding, thinned
            CHECK(got.keys.size() == pull_cap);
        } else {
            CHECK(got.keys.size() * 4 > base.keys.size());
            CHECK(got.keys.size() * 4 < base.keys.size() * 3);
        }
        if ((writes(t) || t == Term::erase) && !wraps(t)) { // a sampled claim or erase touches only what it yields
            std::size_t changed = 0;
            for (std::uint64_t i = 0; i < n_ids; ++i) changed += got.before.count(Key{i, 0}) != got.after.count(Key{i, 0});
            CHECK(changed == got.keys.size());
        }
        return;
    }
    if (mod == "mixed_ratio()") { // endless, every draw a set key at r = 1
        const Outcome o = run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.mixed_ratio(1.0); }));
        require_nonempty(o);
        CHECK(o.keys.size() == pull_cap);
        for (const Key& k : o.keys) CHECK(o.before.count(k) == 1);
        return;
    }
    if (mod == "seed()") {
        // Same seed, same sequence; where the order is fixed (ascending), the seed drives sample().
        const bool fixed_order = t != Term::random && t != Term::random_wrap && t != Term::write && t != Term::write_wrap;
        const auto with = [&](std::uint64_t s) {
            return run(t, [&, s](IteratorBuilder b) { return fixed_order ? b.sample(0.5).seed(s) : b.seed(s); });
        };
        const Outcome a = with(1), a2 = with(1), b = with(2);
        require_nonempty(a);
        CHECK(a.keys == a2.keys);
        CHECK(a.keys != b.keys);
        return;
    }
    if (mod == "distribution()") { // draws with replacement: a stream longer than the space, with repeats
        const Outcome o = run(t, then(seeded(t, 7), [](IteratorBuilder b) { return b.distribution(AccessDistribution::zipfian(0.99)); }));
        require_nonempty(o);
        if (writes(t) && !wraps(t)) { // each claim drawn: not ascending, and only absent keys
            CHECK_FALSE(std::is_sorted(o.keys.begin(), o.keys.end()));
            for (const Key& k : o.keys) CHECK(o.before.count(k) == 0);
            return;
        }
        CHECK(o.keys.size() == pull_cap);
        std::map<Key, int> seen;
        for (const Key& k : o.keys) ++seen[k];
        const int top = std::max_element(seen.begin(), seen.end(), [](auto& x, auto& y) { return x.second < y.second; })->second;
        CHECK(top > 10); // Zipf: a hot key, far above the uniform ~3
        return;
    }
    if (mod == "overlapping()") {
        // Every partition walks the whole range, starting at its own slice.
        const Outcome o = run(t, [](IteratorBuilder b) { return b.seed(7).overlapping(); });
        require_nonempty(o);
        if (t == Term::partition) {
            REQUIRE(o.keys.size() == n_ids);
            CHECK(o.keys.front().id == n_ids / 2);
        } else {
            CHECK(o.keys.size() == 2 * n_ids);
        }
        return;
    }
    FAIL("no check for " << mod);
}

} // namespace

TEST_CASE("every (modifier, terminal) pair is honoured with its effect or rejected naming both", "[iter][options]") {
    const std::map<std::string, Mod> apply = {
        {"range()", [](IteratorBuilder b) { return b.range(64, 100); }},
        {"min()", [](IteratorBuilder b) { return b.min(200); }},
        {"max()", [](IteratorBuilder b) { return b.max(40); }},
        {"sub_range()", [](IteratorBuilder b) { return b.sub_range(3, 5); }},
        {"range_percent()", [](IteratorBuilder b) { return b.range_percent(0.5, 1.0); }},
        {"slice()", [](IteratorBuilder b) { return b.slice(1, 2); }},
        {"set_only()", [](IteratorBuilder b) { return b.set_only(); }},
        {"unset_only()", [](IteratorBuilder b) { return b.unset_only(); }},
        {"limit()", [](IteratorBuilder b) { return b.limit(3); }},
        {"sample()", [](IteratorBuilder b) { return b.sample(0.5); }},
        {"mixed_ratio()", [](IteratorBuilder b) { return b.mixed_ratio(0.5); }},
        {"seed()", [](IteratorBuilder b) { return b.seed(1); }},
        {"distribution()", [](IteratorBuilder b) { return b.distribution(AccessDistribution::zipfian(0.99)); }},
        {"with_sampling()", [](IteratorBuilder b) { return b.with_sampling(SamplingConfig().with_limit(3)); }},
        {"overlapping()", [](IteratorBuilder b) { return b.overlapping(); }},
    };
    REQUIRE(apply.size() == table.size());
    for (const auto& [mod, row] : table) {
        REQUIRE(row.size() == terminals.size());
        for (std::size_t c = 0; c < terminals.size(); ++c) {
            const auto [term, name] = terminals[c];
            DYNAMIC_SECTION(mod << " x " << name << " (" << row[c] << ")") {
                REQUIRE((row[c] == H || row[c] == R));
                if (row[c] == R) {
                    const Outcome o = run(term, apply.at(mod), mod == "sub_range()");
                    REQUIRE(o.threw);
                    CHECK(o.message.find(mod) != std::string::npos);
                    CHECK(o.message.find(base_name(term)) != std::string::npos);
                    CHECK(o.after == o.before); // nothing was claimed or erased
                } else {
                    check_honoured(mod, term);
                }
            }
        }
    }
}

TEST_CASE("seed() on continue_write() is honoured once sample() or distribution() uses it", "[iter][options]") {
    PrefixTracker t("s:", 1000);
    auto a = t.iter().seed(3).sample(0.5).continue_write();
    std::vector<std::uint64_t> xs;
    while (auto k = a.next()) xs.push_back(k->id);
    CHECK(xs.size() > 400);
    CHECK(xs.size() < 600);
    PrefixTracker u("u:", 1000);
    auto b = u.iter().seed(3).sample(0.5).continue_write();
    std::vector<std::uint64_t> ys;
    while (auto k = b.next()) ys.push_back(k->id);
    CHECK(xs == ys);
    CHECK_NOTHROW(t.iter().seed(3).distribution(AccessDistribution::uniform()).continue_write());
}

TEST_CASE("sample(p).erase() erases a p-share and sample(p).write() claims a p-share", "[iter][options][sample]") {
    PrefixTracker t("s:", 10'000);
    t.add_range(0, 10'000);
    auto e = t.iter().sample(0.5).seed(1).erase();
    REQUIRE(e.has_value());
    std::uint64_t erased = 0;
    while (e->next()) ++erased;
    CHECK(erased > 4700);
    CHECK(erased < 5300);
    CHECK(t.count() == 10'000 - erased);
    CHECK(e->is_exhausted());

    PrefixTracker w("w:", 10'000);
    auto it = w.iter().sample(0.5).seed(1).write();
    std::uint64_t claimed = 0;
    while (it.next()) ++claimed;
    CHECK(claimed > 4700);
    CHECK(claimed < 5300);
    CHECK(w.count() == claimed);
    CHECK(it.is_exhausted()); // a sampled claim stream makes one pass
}
