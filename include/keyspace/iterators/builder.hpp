/** @file keyspace/iterators/builder.hpp
 *  BasicIteratorBuilder (IteratorBuilder, ConstIteratorBuilder): the composable builder returned by
 *  PrefixTracker::iter(), and the definition of iter(). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/draw_stream.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/detail/sub_bitmap_table.hpp>
#include <keyspace/iteration_state.hpp>
#include <keyspace/iterators/erase_iter.hpp>
#include <keyspace/iterators/random_iter.hpp>
#include <keyspace/iterators/sequential_iter.hpp>
#include <keyspace/iterators/write_iter.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/sampling/access_distribution.hpp>
#include <keyspace/sampling/rng.hpp>
#include <keyspace/sampling/sampling_config.hpp>

#include <algorithm>   // for std::min
#include <cmath>       // for std::frexp, std::ldexp
#include <cstddef>     // for std::size_t
#include <cstdint>     // for std::uint64_t
#include <limits>      // for std::numeric_limits
#include <memory>      // for std::shared_ptr
#include <optional>    // for std::optional
#include <string>      // for std::string, std::to_string
#include <tuple>       // for std::tie
#include <type_traits> // for std::is_const_v, std::is_same_v, std::remove_const_t
#include <utility>     // for std::pair, std::move
#include <vector>      // for std::vector

KEYSPACE_BEGIN_NAMESPACE

/** The composable builder returned by PrefixTracker::iter(). Every modifier returns a new builder (value
 *  semantics), so `t.iter().set_only().limit(10).sequential()` reads left to right. Invalid arguments throw
 *  std::invalid_argument from the modifier (or, for combinations, from the terminal) with a message naming them.
 *  No option is silently ignored: every (modifier, terminal) pair is honoured or rejected by the terminal with
 *  std::invalid_argument naming both (the table is in the README, "Which option applies to which terminal").
 *
 *  Default range: [0, max_id) for a bounded tracker; for an unbounded one, [0, capacity()) at build time for the
 *  reading terminals and [0, 2^63) for write() / continue_write(). Hierarchical sub-ID range: [0, max_sub_id), or
 *  [0, 2^32) without max_sub_id. The keys of a space must number at most 2^63 (else invalid_argument).
 *  Without seed(), each builder draws a fresh seed (distinct sequences); with it, same seed => same sequence. */
template <class Tracker>
class BasicIteratorBuilder {
    static_assert(std::is_same_v<std::remove_const_t<Tracker>, PrefixTracker>);
    static constexpr bool writable = !std::is_const_v<Tracker>;

public:
    /// A builder over t's default range with no option set (PrefixTracker::iter() makes one).
    explicit BasicIteratorBuilder(Tracker& t) noexcept : tracker_(&t) {}
    /// A const tracker's builder from a tracker's (the reading terminals only).
    template <class Other>
        requires(!writable && !std::is_same_v<Other, Tracker>)
    BasicIteratorBuilder(const BasicIteratorBuilder<Other>& o) noexcept // NOLINT: implicit, like T* -> const T*
        : tracker_(o.tracker_), min_(o.min_), max_(o.max_), sub_(o.sub_), pct_(o.pct_), slice_(o.slice_),
          filter_(o.filter_), limit_(o.limit_), sample_(o.sample_), mixed_(o.mixed_), seed_(o.seed_), dist_(o.dist_),
          overlapping_(o.overlapping_) {}

    /// IDs [b, e), clamped to the tracker's IDs. b > e throws std::invalid_argument.
    [[nodiscard]] BasicIteratorBuilder range(std::uint64_t b, std::uint64_t e) const {
        detail::check_range("IteratorBuilder::range", b, e);
        auto c = *this;
        c.min_ = b, c.max_ = e;
        return c;
    }
    /// IDs from b (the range's end unchanged).
    [[nodiscard]] BasicIteratorBuilder min(std::uint64_t b) const {
        auto c = *this;
        c.min_ = b;
        return c;
    }
    /// IDs below e (the range's start unchanged).
    [[nodiscard]] BasicIteratorBuilder max(std::uint64_t e) const {
        auto c = *this;
        c.max_ = e;
        return c;
    }
    /// Hierarchical trackers: sub-IDs [b, e). b > e throws std::invalid_argument.
    [[nodiscard]] BasicIteratorBuilder sub_range(std::uint64_t b, std::uint64_t e) const {
        detail::check_range("IteratorBuilder::sub_range", b, e);
        auto c = *this;
        c.sub_ = std::pair{b, e};
        return c;
    }
    /// Fractions [lo, hi) of the range: the one range() / min() / max() gave, else the default one; applied before
    /// slice(). 0 <= lo <= hi <= 1.
    [[nodiscard]] BasicIteratorBuilder range_percent(double lo, double hi) const {
        if (!(lo >= 0.0 && hi <= 1.0 && lo <= hi))
            detail::fail_invalid_argument(
                {"IteratorBuilder::range_percent: need 0 <= lo <= hi <= 1, got lo = ", lo, ", hi = ", hi});
        auto c = *this;
        c.pct_ = std::pair{lo, hi};
        return c;
    }
    /// The i-th of n disjoint, covering, contiguous slices of the range.
    [[nodiscard]] BasicIteratorBuilder slice(std::uint64_t i, std::uint64_t n) const {
        detail::check_slice("IteratorBuilder::slice", i, n);
        auto c = *this;
        c.slice_ = std::pair{i, n};
        return c;
    }
    /// Only the keys that are present.
    [[nodiscard]] BasicIteratorBuilder set_only() const { return with_filter(detail::Filter::SetOnly); }
    /// Only the keys that are absent.
    [[nodiscard]] BasicIteratorBuilder unset_only() const { return with_filter(detail::Filter::UnsetOnly); }
    /// At most n keys, then stop at once.
    [[nodiscard]] BasicIteratorBuilder limit(std::uint64_t n) const {
        auto c = *this;
        c.limit_ = n;
        return c;
    }
    /// Keeps each key with probability p, by geometric skipping: of the keys a walk passes (sequential, random,
    /// partitions), of the draws of a stream (distribution, mixed_ratio), of the present keys erase() passes (the
    /// others stay), of the absent keys a write stream reaches (the others stay absent; without a distribution the
    /// stream then makes one pass and ends, see WriteIter).
    [[nodiscard]] BasicIteratorBuilder sample(double p) const {
        detail::check_probability("IteratorBuilder::sample", "p", p);
        auto c = *this;
        c.sample_ = p;
        return c;
    }
    /// With random() only: an endless stream with replacement; each draw is a set key with probability r, an unset
    /// key otherwise, whatever the density (class first, then a uniform draw inside it by rejection, falling back
    /// after 64 misses to the first key of the class after the last draw). If the chosen class is empty the draw
    /// comes from the other class. Endless: a call that finds neither class within bounded work returns nullopt and
    /// the next one draws again. A class's draws may be computed up to 16 draws of that class ahead, in batches;
    /// each is checked again when it is returned, so a key is never returned outside the class it was drawn for (a
    /// key removed after its draw is dropped, one added joins the draws from the next batch on). The iterator holds,
    /// besides its fixed size, room for the range's heaviest 512-key chunks of a sparse class: 4 bytes per 16
    /// chunks (0.4 % of the range's bitmap), allocated when it is built.
    /// Combined with set_only()/unset_only() or another terminal: invalid_argument.
    [[nodiscard]] BasicIteratorBuilder mixed_ratio(double r) const {
        detail::check_probability("IteratorBuilder::mixed_ratio", "r", r);
        auto c = *this;
        c.mixed_ = r;
        return c;
    }
    /// Same seed => same sequence. The seed orders random() and seeded write(), and drives sample() and
    /// distribution(); the ascending terminals (sequential, erase, partitions) have a fixed order and use it only for
    /// sample(). continue_write() claims in the order of the progress it shares, so seed() there needs sample() or
    /// distribution() to act on (else invalid_argument).
    [[nodiscard]] BasicIteratorBuilder seed(std::uint64_t s) const {
        auto c = *this;
        c.seed_ = s;
        return c;
    }
    /// The access pattern of random() (an endless stream of draws with replacement) and of the write streams (each
    /// claim draws from it). Rank r is the key at position r of the range (scrambled Zipf: a keyed permutation of
    /// r); for latest and latest_zipfian, r counts down from the highest set key of the range. A draw failing the
    /// filter is drawn again; after 64 misses in a row it falls back to the first matching key after the last draw
    /// (a bias that shows only at very low density of matching keys); when none matches, that call returns nullopt
    /// ("nothing now"; is_exhausted() stays false), later calls answer nullopt in O(1) until the tracker changes,
    /// and then find the keys set since. Write streams: after 64 misses the claim comes from their sweep (WriteIter).
    /// See detail::DrawStream.
    /// On an unbounded tracker, write streams with a distribution default to [0, capacity()), like the reading
    /// terminals, not [0, 2^63): give range() (or a bounded tracker) to draw claims over more IDs.
    [[nodiscard]] BasicIteratorBuilder distribution(const AccessDistribution& d) const {
        auto c = *this;
        c.dist_ = d;
        return c;
    }
    /// Applies every option set in cfg as the builder call of the same name (distribution, seed, limit, sample,
    /// mixed_ratio); options not set keep the builder's value. Each then applies to the terminals its own call does.
    [[nodiscard]] BasicIteratorBuilder with_sampling(const SamplingConfig& cfg) const {
        auto c = *this;
        if (cfg.distribution()) c.dist_ = *cfg.distribution();
        if (cfg.seed()) c.seed_ = *cfg.seed();
        if (cfg.limit()) c.limit_ = *cfg.limit();
        if (cfg.sample()) c = c.sample(*cfg.sample());
        if (cfg.mixed_ratio()) c = c.mixed_ratio(*cfg.mixed_ratio());
        return c;
    }
    /// With partitioned(n) and partition(i, n): every partition walks the whole range, each starting at its own
    /// slice. Any other terminal: invalid_argument.
    [[nodiscard]] BasicIteratorBuilder overlapping() const {
        auto c = *this;
        c.overlapping_ = true;
        return c;
    }

    // ---- terminals --------------------------------------------------------------------------------------------

    /// Reading terminals: from a const tracker's builder as well.
    KEYSPACE_ISA_ABI
    [[nodiscard]] SequentialIter sequential() const {
        check_options(Terminal::sequential);
        const detail::Space s = resolve(false);
        return SequentialIter(s, filter_, 0, limit(), sample_, the_seed());
    }
    /// The random terminal (see RandomIter): a permutation of the matching keys, or an endless stream with a distribution or mixed_ratio.
    KEYSPACE_ISA_ABI
    [[nodiscard]] RandomIter random() const {
        check_options(Terminal::random);
        const detail::Space s = resolve(false);
        return RandomIter(s, filter_, limit(), sample_, mixed_, the_seed(), dist_);
    }
    /// A private claim stream (see WriteIter). Needs a non-const tracker.
    KEYSPACE_ISA_ABI
    [[nodiscard]] WriteIter write() const
        requires writable
    {
        return make_writer(false);
    }
    /// A claim stream sharing progress with every continue_write() stream of the tracker over the same range.
    /// Needs a non-const tracker.
    KEYSPACE_ISA_ABI
    [[nodiscard]] WriteIter continue_write() const
        requires writable
    {
        return make_writer(true);
    }
    /// Removes and yields present keys (with sample(p), each with probability p); std::nullopt while another
    /// EraseIter of this tracker lives over an overlapping range (erase streams over disjoint slices or sub-ID
    /// ranges live side by side). Needs a non-const tracker.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<EraseIter> erase() const
        requires writable
    {
        check_options(Terminal::erase);
        const detail::Space s = resolve(false);
        IterationState& state = tracker_->iteration_state();
        const std::size_t slot = state.try_begin_erase({s.b, s.e, s.sb, s.se});
        if (slot == IterationState::no_eraser) return std::nullopt;
        return EraseIter(*tracker_, s, limit(), sample_, the_seed(), &state, slot);
    }
    /// The i-th of partitioned(n): the i-th of n slices of the range (of the slice, after slice()); with
    /// overlapping(), the whole range starting at slice i.
    KEYSPACE_ISA_ABI
    [[nodiscard]] SequentialIter partition(std::uint64_t i, std::uint64_t n) const {
        detail::check_slice("IteratorBuilder::partition", i, n);
        check_options(Terminal::partition);
        return part(i, n, the_seed());
    }
    /// All n slices of the range (of the slice, after slice()); with overlapping(), n full-range iterators, the
    /// i-th starting at slice i. limit() applies to each.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::vector<SequentialIter> partitioned(std::uint64_t n) const {
        detail::check_slice("IteratorBuilder::partitioned", 0, n);
        check_options(Terminal::partitioned);
        std::vector<SequentialIter> out;
        out.reserve(static_cast<std::size_t>(n));
        const std::uint64_t seed = the_seed();
        for (std::uint64_t i = 0; i < n; ++i) out.push_back(part(i, n, seed));
        return out;
    }

private:
    template <class>
    friend class BasicIteratorBuilder;

    enum class Terminal : std::uint8_t { sequential, random, write, continue_write, erase, partition, partitioned };
    static const char* name(Terminal t) noexcept {
        switch (t) {
        case Terminal::sequential: return "sequential()";
        case Terminal::random: return "random()";
        case Terminal::write: return "write()";
        case Terminal::continue_write: return "continue_write()";
        case Terminal::erase: return "erase()";
        case Terminal::partition: return "partition()";
        case Terminal::partitioned: return "partitioned()";
        }
        return "?";
    }
    /// Every (modifier, terminal) pair is honoured or rejected here, naming both (README: "Which option applies
    /// to which terminal").
    void check_options(Terminal t) const {
        const bool writing = t == Terminal::write || t == Terminal::continue_write;
        const bool ordered = t == Terminal::sequential || t == Terminal::erase || t == Terminal::partition ||
                             t == Terminal::partitioned;
        const char* term = name(t);
        if (mixed_ && t != Terminal::random)
            detail::fail_invalid_argument({"IteratorBuilder: mixed_ratio() works only with random(), not ", term});
        if (mixed_ && filter_ != detail::Filter::All)
            detail::fail_invalid_argument({"IteratorBuilder: mixed_ratio() cannot be combined with ",
                                           filter_ == detail::Filter::SetOnly ? "set_only()" : "unset_only()",
                                           " (it chooses the class of each draw itself), in random()"});
        if (dist_ && ordered)
            detail::fail_invalid_argument({"IteratorBuilder: distribution() works only with random() and write "
                                           "streams, not ", term});
        if (filter_ == detail::Filter::SetOnly && writing)
            detail::fail_invalid_argument({"IteratorBuilder: set_only() does not apply to ", term,
                                           ": write streams claim absent keys"});
        if (filter_ == detail::Filter::UnsetOnly && t == Terminal::erase)
            detail::fail_invalid_argument({"IteratorBuilder: unset_only() does not apply to erase(): it removes "
                                           "present keys"});
        if (seed_ && t == Terminal::continue_write && !dist_ && !sample_)
            detail::fail_invalid_argument({"IteratorBuilder: seed() does not apply to continue_write() without "
                                           "sample() or distribution(): its claims follow the progress shared "
                                           "with other streams, ascending; write() takes a seeded order"});
        if (overlapping_ && t != Terminal::partition && t != Terminal::partitioned)
            detail::fail_invalid_argument({"IteratorBuilder: overlapping() applies to partition() and "
                                           "partitioned(), not ", term});
        if (sub_ && !tracker_->is_hierarchical())
            detail::fail_invalid_argument({"IteratorBuilder: sub_range() needs a hierarchical tracker; '",
                                           tracker_->prefix(), "' is simple, in ", term});
    }
    /// Partition i of n of the resolved range, its sample() thinning seeded from seed and i.
    KEYSPACE_ISA_ABI
    [[nodiscard]] SequentialIter part(std::uint64_t i, std::uint64_t n, std::uint64_t seed) const {
        if (overlapping_) {
            const detail::Space whole = resolve(false);
            const std::uint64_t start = slice_bounds(0, whole.size(), i, n).first;
            return SequentialIter(whole, filter_, start, limit(), sample_, detail::mix_seed(seed, i));
        }
        // Each partition is resolved (and must fit in 2^63 keys) on its own.
        return SequentialIter(resolve(false, std::pair{i, n}), filter_, 0, limit(), sample_, detail::mix_seed(seed, i));
    }

    [[nodiscard]] BasicIteratorBuilder with_filter(detail::Filter f) const {
        auto c = *this;
        c.filter_ = f;
        return c;
    }
    [[nodiscard]] std::uint64_t limit() const noexcept { return limit_.value_or(std::numeric_limits<std::uint64_t>::max()); }
    /// The builder's seed (a fresh one when none was given), made distinct per slice.
    [[nodiscard]] std::uint64_t the_seed() const noexcept {
        const std::uint64_t s = seed_ ? *seed_ : detail::fresh_seed();
        return slice_ ? detail::mix_seed(s, slice_->first ^ (slice_->second << 32)) : s;
    }

    /// floor(len * p) exactly, for 0 <= p <= 1, in integer arithmetic (p = m * 2^x with a 53-bit integer m).
    static std::uint64_t fraction_of(std::uint64_t len, double p) noexcept {
        if (!(p > 0.0)) return 0;
        if (p >= 1.0) return len;
        int x = 0;
        const double f = std::frexp(p, &x);                            // p = f * 2^x, 0.5 <= f < 1, x <= 0
        const auto m = static_cast<std::uint64_t>(std::ldexp(f, 53)); // exact: f has 53 significant bits
        const int shift = 53 - x;                                      // p = m / 2^shift, shift >= 53
        if (shift >= 128) return 0;
        __extension__ using u128 = unsigned __int128;
        return static_cast<std::uint64_t>((static_cast<u128>(len) * m) >> shift); // < len: fits
    }
    /// [b + floor(len * i / n), ...) without overflow for any len < 2^64.
    static std::pair<std::uint64_t, std::uint64_t> slice_bounds(std::uint64_t b, std::uint64_t e, std::uint64_t i,
                                                                std::uint64_t n) noexcept {
        const std::uint64_t len = e - b, q = len / n, r = len % n;
        const std::uint64_t lo = b + q * i + std::min(i, r);
        return {lo, lo + q + (i < r ? 1 : 0)};
    }

    KEYSPACE_ISA_ABI
    [[nodiscard]] WriteIter make_writer(bool shared) const
        requires writable
    {
        check_options(shared ? Terminal::continue_write : Terminal::write);
        // A distribution needs a finite population to draw from: on an unbounded tracker its write streams default
        // to [0, capacity()) like the reading terminals (drawing over [0, 2^63) would commit a chunk per claim).
        const detail::Space s = resolve(!dist_);
        std::shared_ptr<WriteCursor> cursor;
        if (shared) cursor = tracker_->iteration_state().write_cursor({s.b, s.e, s.sb, s.se});
        // Each stream draws from its own generator: a fresh seed per stream unless seed() fixed it.
        const std::uint64_t seed = the_seed();
        if (dist_ && s.size() > 0)
            return WriteIter(*tracker_, s, limit(), std::move(cursor), std::nullopt, sample_, seed,
                             detail::DrawStream(s, *dist_, seed));
        std::optional<RandomIter> order;
        if (seed_ && !shared)
            order.emplace(RandomIter(s, detail::Filter::UnsetOnly, std::numeric_limits<std::uint64_t>::max(),
                                     std::nullopt, std::nullopt, seed));
        return WriteIter(*tracker_, s, limit(), std::move(cursor), std::move(order), sample_, seed);
    }

    /// Resolves the builder to its space. writing: the default unbounded range reaches 2^63. part: a further
    /// slice (i, n) of the range, for partition(i, n).
    [[nodiscard]] detail::Space resolve(bool writing,
                                        std::optional<std::pair<std::uint64_t, std::uint64_t>> part = {}) const {
        const PrefixTracker& t = *tracker_;
        detail::Space s;
        s.tracker = tracker_;
        s.layout = t.layout();
        s.hierarchical = t.is_hierarchical();
        const bool table = s.table();
        s.stride = table ? 1 : t.max_sub_id().value_or(1);
        std::uint64_t limit_id = t.max_id().value_or(max_supported_id);
        if (s.stride > 1) limit_id = std::min(limit_id, max_supported_id / s.stride);
        if (table) limit_id = std::min(limit_id, detail::max_table_id);
        std::uint64_t b = 0, e = t.max_id() ? limit_id : (writing ? limit_id : std::min(limit_id, t.capacity()));
        if (min_) b = *min_;
        if (max_) e = *max_;
        detail::check_range("IteratorBuilder: min > max", b, e);
        e = std::min(e, limit_id);
        b = std::min(b, e);
        if (pct_) { // fractions of the range so far: the default one, or range() / min() / max()'s
            const std::uint64_t len = e - b;
            const std::uint64_t lo = b + fraction_of(len, pct_->first), hi = b + fraction_of(len, pct_->second);
            b = lo, e = std::min(hi, e);
        }
        if (slice_) std::tie(b, e) = slice_bounds(b, e, slice_->first, slice_->second);
        if (part) std::tie(b, e) = slice_bounds(b, e, part->first, part->second);
        s.b = b, s.e = e;
        if (s.hierarchical) {
            std::uint64_t sb = 0, se = t.max_sub_id().value_or(detail::max_table_sub_id);
            if (sub_) sb = sub_->first, se = sub_->second;
            se = std::min(se, t.max_sub_id().value_or(detail::max_table_sub_id));
            sb = std::min(sb, se);
            // At most 2^63 keys, so that position arithmetic ((n + 63) / 64 blocks, ...) cannot overflow.
            if (se - sb != 0 && e - b > max_supported_id / (se - sb))
                detail::fail_invalid_argument({"IteratorBuilder: ", e - b, " IDs times ", se - sb,
                                               " sub-IDs exceeds 2^63 keys; narrow range() or sub_range()"});
            s.sb = sb, s.se = se;
        }
        return s;
    }

    Tracker* tracker_;
    std::optional<std::uint64_t> min_, max_;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> sub_;
    std::optional<std::pair<double, double>> pct_;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> slice_;
    detail::Filter filter_ = detail::Filter::All;
    std::optional<std::uint64_t> limit_;
    std::optional<double> sample_;
    std::optional<double> mixed_;
    std::optional<std::uint64_t> seed_;
    std::optional<AccessDistribution> dist_;
    bool overlapping_ = false;
};

inline IteratorBuilder PrefixTracker::iter() { return IteratorBuilder(*this); }
inline ConstIteratorBuilder PrefixTracker::iter() const { return ConstIteratorBuilder(*this); }

KEYSPACE_END_NAMESPACE
