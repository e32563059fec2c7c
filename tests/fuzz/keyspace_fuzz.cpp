// Differential fuzzer: decodes the input into a sequence of operations on one AtomicBitmap (growable or fixed) or
// one PrefixTracker (simple or hierarchical, bounded or not) and checks every result against a reference model
// (std::set). A divergence, a wrong exception type or an exception with an empty message is __builtin_trap().
//
// Built two ways: with -fsanitize=fuzzer (libFuzzer's main: `keyspace_fuzz corpus/ -max_total_time=60`) and, with
// KEYSPACE_FUZZ_REPLAY, as a plain program that replays the files or directories given on its command line (the
// CTest regression over tests/fuzz/corpus, in every configuration).
//
// Input layout: byte 0 picks the target, a few configuration bytes follow, then operations until the input ends
// (a read past the end yields zeros, so every input decodes).
#include <keyspace/keyspace.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <typeinfo>
#include <utility>
#include <vector>

namespace {

using keyspace::Key;
using u64 = std::uint64_t;
constexpr u64 kMaxId = keyspace::max_supported_id;
constexpr u64 kU64Max = std::numeric_limits<u64>::max();
constexpr u64 kTableSub = 1ull << 32;    // sub-IDs of a hierarchical tracker without max_sub_id
constexpr u64 kTableId = kMaxId >> 6;    // IDs of such a tracker (2^57)
constexpr std::size_t kPullCap = 768;    // most keys pulled from one iterator
constexpr u64 kMaxRangeWrite = 1u << 14; // longest set_range / add_range the model is asked to follow

[[noreturn]] void diverge(const char* what, int line) {
    std::fprintf(stderr, "keyspace_fuzz: divergence at line %d: %s\n", line, what);
    std::fflush(stderr);
    __builtin_trap();
}
#define FZ_CHECK(c)                           \
    do {                                      \
        if (!(c)) diverge(#c, __LINE__);      \
    } while (0)

/// Calls f and requires it to throw exactly E with a non-empty message.
template <class E, class F>
void expect_throw(F&& f, int line) {
    try {
        f();
    } catch (const E& e) {
        if (typeid(e) != typeid(E)) diverge("exception of a derived type", line);
        if (e.what() == nullptr || e.what()[0] == '\0') diverge("exception without a message", line);
        return;
    } catch (...) {
        diverge("exception of the wrong type", line);
    }
    diverge("no exception", line);
}
#define FZ_THROWS(E, expr) expect_throw<E>([&] { (void)(expr); }, __LINE__)

class Input {
public:
    Input(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
    [[nodiscard]] bool empty() const { return n_ == 0; }
    std::uint8_t byte() {
        if (n_ == 0) return 0;
        --n_;
        return *p_++;
    }
    u64 bytes(int k) {
        u64 v = 0;
        for (int i = 0; i < k; ++i) v = (v << 8) | byte();
        return v;
    }
    /// A small signed offset, as an unsigned (wrapping) addend.
    u64 delta() { return static_cast<u64>(static_cast<std::int64_t>(static_cast<std::int8_t>(byte()))); }
    /// An ID: mostly small (so operations collide), sometimes at a boundary or near `near`, sometimes anything.
    u64 id(u64 near) {
        static constexpr u64 interesting[] = {0,          63,         64,         4095,       4096,
                                              65535,      65536,      1ull << 31, 1ull << 32, 1ull << 40,
                                              1ull << 57, kMaxId - 64, kMaxId - 1, kMaxId,     kU64Max};
        switch (byte() & 7) {
        case 0:
        case 1:
        case 2: return byte();
        case 3: return bytes(2);
        case 4: return interesting[byte() % std::size(interesting)] + delta();
        case 5: return near + delta();
        case 6: return bytes(8);
        default: return bytes(3);
        }
    }
    /// A range [b, e): usually short, sometimes empty, reversed, or reaching UINT64_MAX.
    std::pair<u64, u64> range(u64 near) {
        const u64 b = id(near);
        switch (byte() & 7) {
        case 0:
        case 1:
        case 2:
        case 3: return {b, b + byte()};
        case 4: return {b, b + bytes(2) % 3000};
        case 5: return {b, kU64Max};
        case 6: return {b, b - 1 - byte()}; // reversed (unless b is tiny and it wraps)
        default: return {b, b};
        }
    }
    /// A probability: mostly in [0, 1], sometimes NaN, infinite or out of range.
    double probability() {
        const std::uint8_t k = byte();
        if (k < 200) return k / 199.0;
        switch (k % 6) {
        case 0: return std::numeric_limits<double>::quiet_NaN();
        case 1: return std::numeric_limits<double>::infinity();
        case 2: return -std::numeric_limits<double>::infinity();
        case 3: return -0.25;
        case 4: return 1.5;
        default: return std::nextafter(1.0, 2.0);
        }
    }

private:
    const std::uint8_t* p_;
    std::size_t n_;
};

// ---- the bitmap ------------------------------------------------------------------------------------------------

using IdSet = std::set<u64>;

std::optional<u64> model_next_set(const IdSet& m, u64 from, u64 limit) {
    auto it = m.lower_bound(from);
    if (it != m.end() && *it < limit) return *it;
    return std::nullopt;
}
std::optional<u64> model_next_unset(const IdSet& m, u64 from, u64 limit) {
    limit = std::min(limit, kMaxId);
    for (u64 x = from; x < limit; ++x)
        if (m.count(x) == 0) return x;
    return std::nullopt;
}
std::optional<u64> model_prev_set(const IdSet& m, u64 before) {
    auto it = m.lower_bound(before);
    if (it == m.begin()) return std::nullopt;
    return *std::prev(it);
}
u64 model_count(const IdSet& m, u64 b, u64 e) {
    if (b >= e) return 0;
    return static_cast<u64>(std::distance(m.lower_bound(b), m.lower_bound(e)));
}

template <class Bitmap, bool Fixed>
void run_bitmap(Input& in) {
    const u64 initial = (in.byte() & 3) == 0 ? in.byte() : in.bytes(2) % 9000;
    const u64 initial_cap = (initial + 63) / 64 * 64;
    Bitmap bm(initial);
    IdSet model;
    const auto cap = [&] { return bm.capacity(); };
    // Where writes must throw std::length_error: 2^63 and beyond; a fixed storage's capacity and beyond.
    const auto write_limit = [&] { return Fixed ? std::min(initial_cap, kMaxId) : kMaxId; };
    FZ_CHECK(cap() == initial_cap);

    while (!in.empty()) {
        const std::uint8_t op = in.byte();
        switch (op % 18) {
        case 0: { // set
            const u64 i = in.id(cap());
            if (i >= write_limit()) {
                FZ_THROWS(std::length_error, bm.set(i));
            } else {
                FZ_CHECK(bm.set(i) == model.insert(i).second);
            }
            break;
        }
        case 1: { // clear
            const u64 i = in.id(cap());
            FZ_CHECK(bm.clear(i) == (model.erase(i) == 1));
            break;
        }
        case 2: { // test
            const u64 i = in.id(cap());
            FZ_CHECK(bm.test(i) == (model.count(i) == 1));
            break;
        }
        case 3: { // test_and_set (claim)
            const u64 i = in.id(cap());
            if (i >= write_limit()) {
                FZ_THROWS(std::length_error, bm.test_and_set(i));
            } else {
                FZ_CHECK(bm.test_and_set(i) == model.insert(i).second);
            }
            break;
        }
        case 4: { // test_and_clear
            const u64 i = in.id(cap());
            FZ_CHECK(bm.test_and_clear(i) == (model.erase(i) == 1));
            break;
        }
        case 5: { // set_range
            const auto r_ = in.range(cap());
            const u64 b = r_.first, e = r_.second;
            if (b > e) {
                FZ_THROWS(std::invalid_argument, bm.set_range(b, e));
            } else if (b == e) {
                FZ_CHECK(bm.set_range(b, e) == 0);
            } else if (e > write_limit()) {
                const u64 before = bm.count();
                FZ_THROWS(std::length_error, bm.set_range(b, e));
                FZ_CHECK(bm.count() == before); // nothing was set
            } else if (e - b <= kMaxRangeWrite) {
                u64 changed = 0;
                for (u64 x = b; x < e; ++x) changed += model.insert(x).second ? 1 : 0;
                FZ_CHECK(bm.set_range(b, e) == changed);
            }
            break;
        }
        case 6: { // clear_range
            const auto r_ = in.range(cap());
            const u64 b = r_.first, e = r_.second;
            if (b > e) {
                FZ_THROWS(std::invalid_argument, bm.clear_range(b, e));
            } else {
                const u64 changed = model_count(model, b, e);
                model.erase(model.lower_bound(b), model.lower_bound(e));
                FZ_CHECK(bm.clear_range(b, e) == changed);
            }
            break;
        }
        case 7: { // count_range
            const auto r_ = in.range(cap());
            const u64 b = r_.first, e = r_.second;
            if (b > e)
                FZ_THROWS(std::invalid_argument, bm.count_range(b, e));
            else
                FZ_CHECK(bm.count_range(b, e) == model_count(model, b, e));
            break;
        }
        case 8: { // find_next_set(from)
            const u64 from = in.id(cap());
            FZ_CHECK(bm.find_next_set(from) == model_next_set(model, from, kMaxId));
            break;
        }
        case 9: { // find_next_set(from, limit)
            const auto r_ = in.range(cap());
            const u64 from = r_.first, limit = r_.second;
            FZ_CHECK(bm.find_next_set(from, limit) == model_next_set(model, from, limit));
            break;
        }
        case 10: { // find_next_unset(from, limit)
            const auto r_ = in.range(cap());
            const u64 from = r_.first, limit = r_.second;
            FZ_CHECK(bm.find_next_unset(from, limit) == model_next_unset(model, from, limit));
            break;
        }
        case 11: { // find_prev_set(before)
            const u64 before = in.id(cap());
            FZ_CHECK(bm.find_prev_set(before) == model_prev_set(model, before));
            break;
        }
        case 12: { // for_each_set, stopping early after `stop` calls
            const auto r_ = in.range(cap());
            const u64 b = r_.first, e = r_.second;
            const u64 stop = in.byte() == 0 ? 1 + in.byte() : kU64Max; // f returns false after `stop` calls
            if (b > e) {
                FZ_THROWS(std::invalid_argument, bm.for_each_set(b, e, [](u64) {}));
                break;
            }
            std::vector<u64> got;
            bm.for_each_set(b, e, [&](u64 x) {
                got.push_back(x);
                return got.size() < stop;
            });
            std::vector<u64> want;
            for (auto it = model.lower_bound(b); it != model.end() && *it < e && want.size() < stop; ++it)
                want.push_back(*it);
            FZ_CHECK(got == want);
            break;
        }
        case 13: { // ensure_capacity
            const u64 i = in.id(cap());
            if (i >= write_limit()) {
                FZ_THROWS(std::length_error, bm.ensure_capacity(i));
            } else {
                const u64 before = cap();
                FZ_CHECK(bm.ensure_capacity(i) == (i >= before));
                FZ_CHECK(cap() > i);
            }
            break;
        }
        case 14: { // word
            const u64 w = in.id(cap() / 64);
            u64 want = 0;
            if (w < (kU64Max >> 6))
                for (auto it = model.lower_bound(w * 64); it != model.end() && *it < w * 64 + 64; ++it)
                    want |= 1ull << (*it & 63);
            FZ_CHECK(bm.word(w) == want);
            break;
        }
        case 15: { // reset (keeps capacity) or clear_all (back to the initial capacity)
            const std::uint8_t k = in.byte();
            if (k % 4 != 0) break; // rare: a reset throws the state away
            const u64 before = cap();
            if (k % 8 == 0) {
                bm.reset();
                FZ_CHECK(cap() == before);
            } else {
                bm.clear_all();
                FZ_CHECK(cap() == initial_cap);
            }
            model.clear();
            break;
        }
        case 16: // find_prev_set at the extremes
            FZ_CHECK(bm.find_prev_set(kU64Max) == model_prev_set(model, kU64Max));
            FZ_CHECK(bm.find_prev_set(0) == std::nullopt);
            break;
        default: // empty / first / last
            FZ_CHECK(bm.empty() == model.empty());
            if (!model.empty()) {
                FZ_CHECK(bm.find_next_set(0) == *model.begin());
                FZ_CHECK(bm.find_prev_set(kMaxId) == *model.rbegin());
            }
            break;
        }
        FZ_CHECK(bm.count() == model.size());
        if (!model.empty()) FZ_CHECK(cap() > *model.rbegin());
        if (Fixed) FZ_CHECK(cap() == initial_cap);
    }
    FZ_CHECK(bm.count_range(0, kU64Max) == model.size());
}

// ---- the tracker -----------------------------------------------------------------------------------------------

using KeySet = std::set<Key>;

enum class Filter { All, SetOnly, UnsetOnly };

/// floor(len * p) exactly, as range_percent() promises. Not through long double: its 64-bit significand rounds a
/// product of a 63-bit len and a 53-bit p, sometimes up across an integer (len = 2^63 - 1, p = 0.2925...: one
/// above the exact floor), and the model's space then started one ID after the library's. p = m / 2^k exactly
/// (m: p's 53-bit significand), so the floor is the 128-bit product shifted.
u64 floor_fraction(u64 len, double p) {
    if (!(p > 0.0)) return 0;
    if (p >= 1.0) return len;
    int x = 0;
    const double f = std::frexp(p, &x);
    const auto m = static_cast<u64>(std::ldexp(f, 53));
    const int k = 53 - x;
    if (k >= 128) return 0;
    __extension__ using u128 = unsigned __int128;
    return static_cast<u64>((static_cast<u128>(len) * m) >> k);
}

/// The model of an iteration space (see iterators.hpp): IDs [b, e) x sub-IDs [sb, se), keys numbered by position.
struct Space {
    u64 b = 0, e = 0, sb = 0, se = 1;
    bool hier = false;
    [[nodiscard]] u64 width() const { return se - sb; }
    [[nodiscard]] u64 size() const { return (e - b) * width(); }
    [[nodiscard]] Key key_at(u64 p) const { return hier ? Key{b + p / width(), sb + p % width()} : Key{b + p, 0}; }
    [[nodiscard]] bool contains(Key k) const { return k.id >= b && k.id < e && k.sub_id >= sb && k.sub_id < se; }
    [[nodiscard]] u64 pos_of(Key k) const { return (k.id - b) * width() + (k.sub_id - sb); }
};

struct TrackerModel {
    KeySet keys;
    bool hier = false, table = false;
    std::optional<u64> max_id, max_sub;

    [[nodiscard]] u64 id_limit() const { return max_id.value_or(kMaxId); }
    [[nodiscard]] u64 stride() const { return max_sub.value_or(1); }
    [[nodiscard]] bool valid_id(u64 id) const { return id < id_limit(); }
    [[nodiscard]] bool valid_pair(u64 id, u64 sub) const {
        if (!valid_id(id)) return false;
        if (table) return id < kTableId && sub < kTableSub;
        return sub < stride() && id < kMaxId / stride();
    }
    [[nodiscard]] bool has(Key k) const { return keys.count(k) == 1; }
    [[nodiscard]] u64 count_in(const Space& s) const {
        if (s.size() == 0) return 0;
        u64 n = 0;
        for (auto it = keys.lower_bound(Key{s.b, 0}); it != keys.end() && it->id < s.e; ++it) n += s.contains(*it) ? 1 : 0;
        return n;
    }
    [[nodiscard]] u64 sub_count(u64 id) const {
        return static_cast<u64>(std::distance(keys.lower_bound(Key{id, 0}), keys.lower_bound(Key{id, kU64Max})));
    }
    /// The first matching position >= p in [p, to), or nullopt.
    [[nodiscard]] std::optional<u64> next_match(const Space& s, Filter f, u64 p, u64 to) const {
        if (p >= to) return std::nullopt;
        if (f == Filter::All) return p;
        if (f == Filter::UnsetOnly) {
            for (; p < to; ++p)
                if (!has(s.key_at(p))) return p;
            return std::nullopt;
        }
        for (auto it = keys.lower_bound(s.key_at(p)); it != keys.end() && it->id < s.e; ++it)
            if (s.contains(*it)) {
                const u64 q = s.pos_of(*it);
                return q < to ? std::optional<u64>(q) : std::nullopt;
            }
        return std::nullopt;
    }
    [[nodiscard]] bool matches(const Space& s, Filter f, u64 p) const {
        return f == Filter::All || has(s.key_at(p)) == (f == Filter::SetOnly);
    }
    [[nodiscard]] u64 matching(const Space& s, Filter f) const {
        const u64 set = count_in(s);
        return f == Filter::All ? s.size() : f == Filter::SetOnly ? set : s.size() - set;
    }
};

bool exists_key(const keyspace::PrefixTracker& t, Key k) {
    return t.is_hierarchical() ? t.exists_pair(k.id, k.sub_id) : t.exists(k.id);
}

/// slice_bounds of iterators.hpp: the i-th of n contiguous slices of [b, e).
std::pair<u64, u64> slice_bounds(u64 b, u64 e, u64 i, u64 n) {
    const u64 len = e - b, q = len / n, r = len % n;
    const u64 lo = b + q * i + std::min(i, r);
    return {lo, lo + q + (i < r ? 1 : 0)};
}

/// An iterator configuration decoded from the input, applied both to an IteratorBuilder and to the model.
struct IterConf {
    std::optional<std::pair<u64, u64>> range, sub, slice;
    std::optional<u64> min, max, limit, seed;
    std::optional<std::pair<double, double>> pct;
    std::optional<double> sample;
    Filter filter = Filter::All;
    bool wrap = false;
};

class TrackerFuzz {
public:
    TrackerFuzz(Input& in, keyspace::PrefixTracker& t, TrackerModel& m) : in_(in), t_(t), m_(m) {}

    void run() {
        while (!in_.empty()) {
            const std::uint8_t op = in_.byte();
            switch (op % 16) {
            case 0: add(); break;
            case 1: remove(); break;
            case 2: claim(); break;
            case 3: exists(); break;
            case 4: add_range(); break;
            case 5: remove_range(); break;
            case 6: wrong_mode(); break;
            case 7: ensure_capacity(); break;
            case 8:
                if (in_.byte() % 8 == 0) {
                    t_.clear();
                    m_.keys.clear();
                } else {
                    t_.reset_write_cursor();
                }
                break;
            case 9:
            case 10: sequential(); break;
            case 11: random(); break;
            case 12: write(); break;
            case 13: erase(); break;
            case 14: partitions(); break;
            default: mixed(); break;
            }
            FZ_CHECK(t_.count() == m_.keys.size());
            FZ_CHECK(t_.empty() == m_.keys.empty());
        }
    }

private:
    Key key() {
        const u64 id = in_.id(t_.capacity());
        const u64 sub = m_.hier ? in_.id(m_.stride()) : 0;
        return Key{id, sub};
    }

    void add() {
        const Key k = key();
        const bool want = m_.hier ? m_.valid_pair(k.id, k.sub_id) : m_.valid_id(k.id);
        const bool fresh = want && m_.keys.insert(k).second;
        FZ_CHECK((m_.hier ? t_.add_pair(k.id, k.sub_id) : t_.add(k.id)) == fresh);
    }
    void remove() {
        const Key k = key();
        FZ_CHECK((m_.hier ? t_.remove_pair(k.id, k.sub_id) : t_.remove(k.id)) == (m_.keys.erase(k) == 1));
    }
    void claim() {
        const Key k = key();
        const bool want = m_.hier ? m_.valid_pair(k.id, k.sub_id) : m_.valid_id(k.id);
        const bool fresh = want && m_.keys.insert(k).second;
        FZ_CHECK((m_.hier ? t_.claim_pair(k.id, k.sub_id) : t_.claim(k.id)) == fresh);
    }
    void exists() {
        const Key k = key();
        if (!m_.hier) {
            FZ_CHECK(t_.exists(k.id) == m_.has(k));
            return;
        }
        FZ_CHECK(t_.exists_pair(k.id, k.sub_id) == m_.has(k));
        const u64 subs = m_.sub_count(k.id);
        FZ_CHECK(t_.id_exists(k.id) == (subs != 0));
        FZ_CHECK(t_.exists(k.id) == (subs != 0));
        FZ_CHECK(t_.sub_count(k.id) == subs);
    }
    void add_range() {
        if (m_.hier) return exists();
        const auto r_ = in_.range(t_.capacity());
            const u64 b = r_.first, e = r_.second;
        if (b > e) {
            FZ_THROWS(std::invalid_argument, t_.add_range(b, e));
            return;
        }
        const u64 end = std::min(e, m_.id_limit());
        if (b < end && end - b > kMaxRangeWrite) return; // the model would take too long
        u64 changed = 0;
        for (u64 x = b; x < end; ++x) changed += m_.keys.insert(Key{x, 0}).second ? 1 : 0;
        FZ_CHECK(t_.add_range(b, e) == changed);
    }
    void remove_range() {
        if (m_.hier) return exists();
        const auto r_ = in_.range(t_.capacity());
            const u64 b = r_.first, e = r_.second;
        if (b > e) {
            FZ_THROWS(std::invalid_argument, t_.remove_range(b, e));
            return;
        }
        const u64 end = std::min(e, m_.id_limit());
        u64 changed = 0;
        if (b < end) {
            auto lo = m_.keys.lower_bound(Key{b, 0}), hi = m_.keys.lower_bound(Key{end, 0});
            changed = static_cast<u64>(std::distance(lo, hi));
            m_.keys.erase(lo, hi);
        }
        FZ_CHECK(t_.remove_range(b, e) == changed);
    }
    void wrong_mode() {
        if (m_.hier) {
            FZ_THROWS(std::logic_error, t_.add(1));
            FZ_THROWS(std::logic_error, t_.claim(1));
            FZ_THROWS(std::logic_error, t_.remove(1));
            FZ_THROWS(std::logic_error, t_.add_range(0, 1));
        } else {
            FZ_THROWS(std::logic_error, t_.add_pair(1, 1));
            FZ_THROWS(std::logic_error, t_.exists_pair(1, 1));
            FZ_THROWS(std::logic_error, t_.sub_count(1));
            FZ_THROWS(std::logic_error, t_.id_exists(1));
        }
    }
    void ensure_capacity() {
        const u64 id = in_.id(t_.capacity());
        const u64 before = t_.capacity();
        const bool grew = t_.ensure_capacity(id);
        if (m_.max_id) {
            FZ_CHECK(t_.capacity() == *m_.max_id); // (a table-mode tracker may still grow its ID bitmap)
        } else if (m_.valid_id(id) && id < kMaxId / m_.stride()) {
            FZ_CHECK(t_.capacity() > id);
            if (!grew) FZ_CHECK(t_.capacity() == before); // (growth may stay inside a row of sub-IDs)
        } else {
            FZ_CHECK(!grew);
        }
    }

    // ---- iterator configurations ----

    IterConf conf() {
        IterConf c;
        const std::uint8_t flags = in_.byte(), more = in_.byte();
        const u64 near = t_.capacity();
        if (flags & 1) c.range = in_.range(near);
        if ((flags & 6) == 2) c.min = in_.id(near);
        if ((flags & 6) == 4) c.max = in_.id(near);
        if (flags & 8) c.filter = (flags & 16) ? Filter::SetOnly : Filter::UnsetOnly;
        if (flags & 32) c.limit = (more & 1) ? in_.bytes(2) : in_.byte() % 8;
        if (flags & 64) c.seed = (more & 2) ? in_.bytes(8) : in_.byte();
        if (flags & 128) c.wrap = true;
        if (more & 4) c.sample = in_.probability();
        if ((more & 24) == 8) c.pct = std::pair{in_.probability(), in_.probability()};
        if ((more & 24) == 16) c.slice = std::pair<u64, u64>{in_.byte() % 9, in_.byte() % 9};
        if (m_.hier && (more & 32)) c.sub = in_.range(m_.stride());
        return c;
    }

    /// Applies the modifiers; nullopt when one of them threw (checked against the model's expectation).
    /// Without seed() a builder draws a fresh seed; the fuzzer always gives one (runs stay reproducible), except
    /// to write streams, where no seed means ascending claims.
    std::optional<keyspace::IteratorBuilder> build(const IterConf& c, bool writing = false) {
        auto it = t_.iter();
        if (c.range) {
            if (c.range->first > c.range->second) {
                FZ_THROWS(std::invalid_argument, it.range(c.range->first, c.range->second));
                return std::nullopt;
            }
            it = it.range(c.range->first, c.range->second);
        }
        if (c.min) it = it.min(*c.min);
        if (c.max) it = it.max(*c.max);
        if (c.sub) {
            if (c.sub->first > c.sub->second) {
                FZ_THROWS(std::invalid_argument, it.sub_range(c.sub->first, c.sub->second));
                return std::nullopt;
            }
            it = it.sub_range(c.sub->first, c.sub->second);
        }
        if (c.pct) {
            const double lo = c.pct->first, hi = c.pct->second;
            if (!(lo >= 0.0 && hi <= 1.0 && lo <= hi)) {
                FZ_THROWS(std::invalid_argument, it.range_percent(lo, hi));
                return std::nullopt;
            }
            it = it.range_percent(lo, hi);
        }
        if (c.slice) {
            const u64 i = c.slice->first, n = c.slice->second;
            if (n == 0 || i >= n) {
                FZ_THROWS(std::invalid_argument, it.slice(i, n));
                return std::nullopt;
            }
            it = it.slice(i, n);
        }
        if (c.filter == Filter::SetOnly) it = it.set_only();
        if (c.filter == Filter::UnsetOnly) it = it.unset_only();
        if (c.limit) it = it.limit(*c.limit);
        if (c.sample) {
            if (!(*c.sample >= 0.0 && *c.sample <= 1.0)) {
                FZ_THROWS(std::invalid_argument, it.sample(*c.sample));
                return std::nullopt;
            }
            it = it.sample(*c.sample);
        }
        if (c.seed || !writing) it = it.seed(c.seed.value_or(0));
        return it;
    }

    /// IteratorBuilder::resolve as documented; nullopt when the terminal must throw std::invalid_argument.
    std::optional<Space> resolve(const IterConf& c, bool writing) const {
        Space s;
        s.hier = m_.hier;
        const bool table = m_.table;
        const u64 stride = table ? 0 : m_.stride();
        u64 limit_id = m_.id_limit();
        if (stride > 1) limit_id = std::min(limit_id, kMaxId / stride);
        if (table) limit_id = std::min(limit_id, kTableId);
        u64 b = 0, e = m_.max_id ? limit_id : (writing ? limit_id : std::min(limit_id, t_.capacity()));
        if (c.range) b = c.range->first, e = c.range->second;
        if (c.min) b = *c.min;
        if (c.max) e = *c.max;
        if (b > e) return std::nullopt;
        e = std::min(e, limit_id);
        b = std::min(b, e);
        if (c.pct) { // fractions of the range range() / min() / max() gave, else of the default one
            const u64 lo = b + floor_fraction(e - b, c.pct->first), hi = b + floor_fraction(e - b, c.pct->second);
            b = lo, e = std::min(hi, e);
        }
        if (c.slice) std::tie(b, e) = slice_bounds(b, e, c.slice->first, c.slice->second);
        s.b = b, s.e = e;
        if (s.hier) {
            const u64 sub_limit = m_.max_sub.value_or(kTableSub);
            u64 sb = 0, se = sub_limit;
            if (c.sub) sb = c.sub->first, se = c.sub->second;
            se = std::min(se, sub_limit);
            sb = std::min(sb, se);
            if (se - sb != 0 && e - b > kMaxId / (se - sb)) return std::nullopt; // more than 2^63 keys
            s.sb = sb, s.se = se;
        }
        return s;
    }

    /// How many keys to pull from a stream: kPullCap, except from an endless thinned one (wrap_around + sample < 1),
    /// which yields about total * sample keys per pass over the space; there, what about 8 passes give (at least 1:
    /// at the smallest sample the fuzzer makes, 1/199, that is under 200 passes on average).
    static std::size_t pull_cap(const IterConf& c, u64 total) {
        if (!c.wrap || !c.sample || !(*c.sample < 1.0) || total == 0) return kPullCap;
        const double per_pass = static_cast<double>(total) * std::max(*c.sample, 0.0);
        return static_cast<std::size_t>(std::clamp(per_pass * 8.0, 1.0, static_cast<double>(kPullCap)));
    }

    template <class It>
    std::vector<u64> pull(It& it, const Space& s, std::size_t cap) {
        std::vector<u64> out;
        while (out.size() < cap) {
            auto k = it.next();
            if (!k) break;
            FZ_CHECK(s.contains(*k));
            out.push_back(s.pos_of(*k));
        }
        return out;
    }
    template <class It>
    void expect_end(It& it) {
        FZ_CHECK(!it.next());
        FZ_CHECK(it.is_exhausted());
        FZ_CHECK(it.remaining() == 0);
        FZ_CHECK(!it.next()); // stays ended
    }
    /// An endless stream with nothing to yield now: nullopt, not ended (unless its limit is spent).
    template <class It>
    void expect_nothing_now(It& it, bool limit_spent) {
        FZ_CHECK(it.is_endless());
        FZ_CHECK(!it.next());
        FZ_CHECK(it.is_exhausted() == limit_spent);
        FZ_CHECK(!it.next());
    }

    /// Checks a sequential walk of [start, n) then [0, start) (cyclic with wrap) against the model.
    void check_sequential(keyspace::SequentialIter& it, const Space& s, Filter f, u64 start, const IterConf& c) {
        const u64 limit = c.limit.value_or(kU64Max);
        const bool thinned = c.sample && *c.sample < 1.0;
        const std::vector<u64> got = pull(it, s, pull_cap(c, m_.matching(s, f)));
        if (thinned) { // an ordered subset of the matches, each at most once per pass
            if (*c.sample <= 0.0) FZ_CHECK(got.empty());
            for (std::size_t i = 0; i < got.size(); ++i) FZ_CHECK(m_.matches(s, f, got[i]));
            if (!c.wrap && start == 0)
                for (std::size_t i = 1; i < got.size(); ++i) FZ_CHECK(got[i] > got[i - 1]);
            FZ_CHECK(got.size() <= limit);
            return;
        }
        const u64 n = s.size();
        const u64 total = m_.matching(s, f);
        u64 p = start;
        int segment = 0; // 0: [start, n), 1: [0, start)
        for (std::size_t i = 0; i < got.size(); ++i) {
            std::optional<u64> want;
            for (int tries = 0; tries < 3 && !want; ++tries) {
                want = segment == 0 ? m_.next_match(s, f, p, n) : m_.next_match(s, f, p, start);
                if (!want) {
                    if (segment == 0 && start != 0) segment = 1, p = 0;
                    else if (c.wrap) segment = 0, p = start;
                    else break;
                }
            }
            FZ_CHECK(want.has_value());
            FZ_CHECK(got[i] == *want);
            p = *want + 1;
        }
        if (got.size() < kPullCap) { // it ended: the limit, or every match once (wrap: nothing matches now)
            if (c.wrap) {
                FZ_CHECK(got.size() == limit || total == 0);
                expect_nothing_now(it, got.size() == limit);
            } else {
                FZ_CHECK(got.size() == std::min(limit, total));
                expect_end(it);
            }
        }
    }

    void sequential() {
        const IterConf c = conf();
        auto b = build(c);
        if (!b) return;
        const auto s = resolve(c, false);
        if (!s) {
            FZ_THROWS(std::invalid_argument, b->sequential());
            return;
        }
        if (c.wrap) {
            auto it = b->sequential().wrap_around();
            check_sequential(it, *s, c.filter, 0, c);
        } else {
            auto it = b->sequential();
            check_sequential(it, *s, c.filter, 0, c);
        }
    }

    void partitions() {
        IterConf c = conf();
        c.wrap = false;
        c.slice.reset(); // partition(i, n) and partitioned(n) set the slice themselves
        const u64 n = in_.byte() % 9;
        const bool overlapping = (n & 1) != 0 && in_.byte() % 2 == 0;
        const bool one = in_.byte() % 4 == 0;
        const u64 i = in_.byte() % 9;
        auto b = build(c);
        if (!b) return;
        if (overlapping) b = b->overlapping();
        const auto s = resolve(c, false);
        if (one) { // partition(i, n) is partitioned(n)[i]: slice(i, n).sequential(), or overlapping, the whole range
            if (n == 0 || i >= n) {
                FZ_THROWS(std::invalid_argument, b->partition(i, n));
                return;
            }
            if (overlapping) {
                if (!s) {
                    FZ_THROWS(std::invalid_argument, b->partition(i, n));
                    return;
                }
                auto it = b->partition(i, n);
                check_sequential(it, *s, c.filter, slice_bounds(0, s->size(), i, n).first, c);
                return;
            }
            IterConf sc = c;
            sc.slice = std::pair{i, n};
            const auto ss = resolve(sc, false); // only the slice must fit in 2^63 keys
            if (!ss) {
                FZ_THROWS(std::invalid_argument, b->partition(i, n));
                return;
            }
            auto it = b->partition(i, n);
            check_sequential(it, *ss, c.filter, 0, c);
            return;
        }
        if (n == 0) {
            FZ_THROWS(std::invalid_argument, b->partitioned(n));
            return;
        }
        std::vector<Space> slices; // non-overlapping: each slice is resolved (and must fit) on its own
        bool fits = overlapping ? s.has_value() : true;
        for (u64 k = 0; k < n && !overlapping; ++k) {
            IterConf sc = c;
            sc.slice = std::pair{k, n};
            const auto ss = resolve(sc, false);
            if (ss) slices.push_back(*ss);
            else fits = false;
        }
        if (!fits) {
            FZ_THROWS(std::invalid_argument, b->partitioned(n));
            return;
        }
        auto parts = b->partitioned(n);
        FZ_CHECK(parts.size() == n);
        for (u64 k = 0; k < n; ++k) {
            if (overlapping) {
                const u64 start = slice_bounds(0, s->size(), k, n).first;
                check_sequential(parts[k], *s, c.filter, start, c);
            } else {
                check_sequential(parts[k], slices[k], c.filter, 0, c);
            }
        }
    }

    void random() {
        const IterConf c = conf();
        auto b = build(c);
        if (!b) return;
        const auto s = resolve(c, false);
        if (!s) {
            FZ_THROWS(std::invalid_argument, b->random());
            return;
        }
        // A permutation visits every block of the space (a block without a match costs one word load): O(n / 64),
        // so only spaces the fuzzer can afford.
        if (s->size() > (1u << 16)) return;
        auto it = c.wrap ? b->random().wrap_around() : b->random();
        const u64 limit = c.limit.value_or(kU64Max);
        const u64 total = m_.matching(*s, c.filter);
        const std::size_t cap = pull_cap(c, total);
        const std::vector<u64> got = pull(it, *s, cap);
        for (u64 p : got) FZ_CHECK(m_.matches(*s, c.filter, p));
        const bool thinned = c.sample && *c.sample < 1.0;
        if (c.wrap && !thinned) {
            // Each cycle is a permutation of the matches: every full or partial cycle holds no repeat, and a
            // full cycle holds every match.
            if (total == 0) FZ_CHECK(got.empty());
            for (std::size_t at = 0; at < got.size() && total != 0; at += static_cast<std::size_t>(total)) {
                const std::size_t end = static_cast<std::size_t>(std::min<u64>(got.size(), at + total));
                std::set<u64> cycle(got.begin() + static_cast<std::ptrdiff_t>(at), got.begin() + static_cast<std::ptrdiff_t>(end));
                FZ_CHECK(cycle.size() == end - at);
            }
            if (got.size() < cap) {
                FZ_CHECK(got.size() == limit || total == 0);
                expect_nothing_now(it, got.size() == limit);
            }
            return;
        }
        if (c.wrap) { // thinned cycles: only membership (checked above) and the limit
            FZ_CHECK(got.size() <= limit);
            return;
        }
        // Every match at most once; without thinning, every match exactly once (or `limit` of them).
        const std::set<u64> distinct(got.begin(), got.end());
        FZ_CHECK(distinct.size() == got.size());
        FZ_CHECK(got.size() <= std::min(limit, total));
        if (got.size() < kPullCap) {
            if (!thinned) FZ_CHECK(got.size() == std::min(limit, total));
            expect_end(it);
        }
    }

    void mixed() {
        IterConf c = conf();
        c.sample.reset();
        const double r = in_.probability();
        const bool other_terminal = in_.byte() % 8 == 0;
        auto b = build(c);
        if (!b) return;
        if (!(r >= 0.0 && r <= 1.0)) {
            FZ_THROWS(std::invalid_argument, b->mixed_ratio(r));
            return;
        }
        auto mb = b->mixed_ratio(r);
        if (other_terminal) {
            FZ_THROWS(std::invalid_argument, mb.sequential());
            FZ_THROWS(std::invalid_argument, mb.write());
            FZ_THROWS(std::invalid_argument, mb.erase());
            FZ_THROWS(std::invalid_argument, mb.partitioned(2));
            return;
        }
        const auto s = resolve(c, false);
        if (c.filter != Filter::All || !s) {
            FZ_THROWS(std::invalid_argument, mb.random());
            return;
        }
        auto it = mb.random();
        const u64 limit = c.limit.value_or(kU64Max);
        const u64 set = m_.count_in(*s), n = s->size();
        const std::vector<u64> got = pull(it, *s, 64);
        if (n == 0) FZ_CHECK(got.empty());
        else FZ_CHECK(got.size() == std::min<u64>(limit, 64));
        for (u64 p : got) {
            const bool is_set = m_.has(s->key_at(p));
            if (r == 1.0 && set != 0) FZ_CHECK(is_set);
            if (r == 0.0 && set != n) FZ_CHECK(!is_set);
        }
        if (got.size() < 64) expect_end(it);
    }

    void write() {
        const IterConf c = conf();
        const bool shared = in_.byte() % 2 == 0;
        auto b = build(c, true);
        if (!b) return;
        const auto s = resolve(c, true);
        // seed() on continue_write() needs sample() (or a distribution, which the fuzzer does not make) to act on.
        const bool idle_seed = shared && c.seed && !c.sample;
        if (c.filter == Filter::SetOnly || !s || idle_seed) {
            FZ_THROWS(std::invalid_argument, shared ? b->continue_write() : b->write());
            return;
        }
        auto it = shared ? b->continue_write() : b->write();
        if (c.wrap) it = std::move(it).wrap_around();
        const u64 limit = c.limit.value_or(kU64Max), n = s->size();
        // sample(p < 1): each absent key reached is claimed with probability p; one pass, then the end (with
        // wrap_around(), thinned overwrite cycles).
        const bool thinned = c.sample && *c.sample < 1.0;
        std::vector<u64> got;
        std::optional<u64> prev_claim, prev_over;
        bool overwriting = false;
        while (got.size() < kPullCap) {
            auto k = it.next();
            if (!k) break;
            FZ_CHECK(s->contains(*k));
            const u64 p = s->pos_of(*k);
            got.push_back(p);
            if (thinned && c.wrap) { // claims, then overwrites of present and absent keys alike: the key is set
                m_.keys.insert(*k);
                FZ_CHECK(exists_key(t_, *k));
                continue;
            }
            if (!overwriting && m_.keys.insert(*k).second) { // a claim: the key was absent
                // Private, unseeded streams claim ascending.
                if (!shared && !c.seed && prev_claim) FZ_CHECK(p > *prev_claim);
                prev_claim = p;
                FZ_CHECK(exists_key(t_, *k));
                continue;
            }
            // Overwrite cycles begin only once the range is full, and hand out consecutive positions.
            FZ_CHECK(c.wrap);
            if (!overwriting) {
                FZ_CHECK(m_.count_in(*s) == n);
                FZ_CHECK(shared ? p % 64 == 0 : p == 0);
                overwriting = true;
            } else {
                FZ_CHECK(p == (*prev_over + 1) % n);
            }
            prev_over = p;
        }
        if (got.size() < kPullCap) {
            if (thinned || n == 0 || got.size() == limit) {
                if (c.wrap && !thinned && n != 0) FZ_CHECK(got.size() == limit);
                expect_end(it); // one thinned pass, an empty range, or the limit: ended
            } else {
                FZ_CHECK(m_.count_in(*s) == n); // nothing free now: every key is claimed
                expect_nothing_now(it, false);
            }
        }
    }

    void erase() {
        IterConf c = conf();
        c.wrap = false;
        auto b = build(c);
        if (!b) return;
        const auto s = resolve(c, false);
        if (c.filter == Filter::UnsetOnly || !s) { // erase removes present keys: unset_only() is rejected
            FZ_THROWS(std::invalid_argument, b->erase());
            return;
        }
        auto e = b->erase();
        FZ_CHECK(e.has_value());
        FZ_CHECK(!e->is_endless());
        // One eraser over any key at a time: the same range again is refused while e lives (an empty range holds
        // no key, so it overlaps nothing).
        FZ_CHECK(b->erase().has_value() == (s->size() == 0));
        const u64 limit = c.limit.value_or(kU64Max);
        const bool thinned = c.sample && *c.sample < 1.0; // sample(p): a subset of the present keys, ascending
        std::size_t pulled = 0;
        u64 p = 0;
        while (pulled < kPullCap) {
            auto k = e->next();
            const auto want = m_.next_match(*s, Filter::SetOnly, p, s->size());
            if (!k) {
                FZ_CHECK(pulled == limit || !want || thinned);
                FZ_CHECK(e->is_exhausted());
                break;
            }
            FZ_CHECK(want.has_value());
            if (thinned) {
                FZ_CHECK(s->contains(*k) && s->pos_of(*k) >= *want && m_.matches(*s, Filter::SetOnly, s->pos_of(*k)));
            } else {
                FZ_CHECK(s->key_at(*want) == *k);
            }
            p = s->pos_of(*k) + 1;
            FZ_CHECK(m_.keys.erase(*k) == 1);
            FZ_CHECK(!exists_key(t_, *k));
            ++pulled;
        }
        if (thinned && *c.sample <= 0.0) FZ_CHECK(pulled == 0);
        e.reset();
        FZ_CHECK(t_.iter().range(0, 0).erase().has_value()); // released
    }

    Input& in_;
    keyspace::PrefixTracker& t_;
    TrackerModel& m_;
};

void run_tracker(Input& in) {
    const std::uint8_t kind = in.byte();
    TrackerModel m;
    m.hier = (kind & 1) != 0;
    const bool bounded = (kind & 2) != 0;
    if (m.hier && (kind & 4)) { // flat pairs: a sub-ID bound
        static constexpr u64 subs[] = {1, 2, 3, 7, 64, 100, 1000, 1ull << 32, 1ull << 40, 1ull << 62};
        m.max_sub = subs[in.byte() % std::size(subs)];
    }
    m.table = m.hier && !m.max_sub;
    if (bounded) {
        const std::uint8_t k = in.byte();
        m.max_id = k < 128 ? 1 + k % 64 : k < 224 ? 1 + in.bytes(2) % 9000 : 1 + in.bytes(3) % (1u << 20);
    }
    auto config = m.hier ? keyspace::TrackerConfig::hierarchical("h:") : keyspace::TrackerConfig::simple("s:");
    if (m.max_id) config = config.with_max_id(*m.max_id);
    if (m.max_sub) config = config.with_max_sub_id(*m.max_sub);
    if (in.byte() % 4 == 0) config = config.with_initial_capacity(in.bytes(2) % 5000);
    if (m.max_id && m.max_sub && *m.max_id > kMaxId / *m.max_sub) {
        FZ_THROWS(std::invalid_argument, keyspace::PrefixTracker(config));
        return;
    }
    if (m.max_sub && m.max_id && *m.max_id * *m.max_sub > (1ull << 24)) return; // keep each run small
    keyspace::PrefixTracker t(config);
    TrackerFuzz(in, t, m).run();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in(data, size);
    switch (in.byte() % 4) {
    case 0: run_bitmap<keyspace::AtomicBitmap, false>(in); break;
    case 1: run_bitmap<keyspace::FixedAtomicBitmap, true>(in); break;
    default: run_tracker(in); break;
    }
    return 0;
}

#if defined(KEYSPACE_FUZZ_REPLAY)
#include <filesystem>
#include <fstream>
#include <iterator>

// Replays every file named on the command line (directories: every file inside, sorted).
int main(int argc, char** argv) {
    std::vector<std::filesystem::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            for (const auto& entry : std::filesystem::directory_iterator(p))
                if (entry.is_regular_file()) files.push_back(entry.path());
        } else {
            files.push_back(p);
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (const auto& f : files) {
        std::ifstream is(f, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("keyspace_fuzz: replayed %zu inputs\n", files.size());
    return 0;
}
#endif
