/** @file keyspace/group_iterators.hpp
 *  The iterators over many trackers at once (PrefixGroupsTracker::iter()): GroupItem, the claim policies and
 *  prefix weights, GroupIter (horizontal, vertical, random, distribution streams, partitions), GroupWriteIter
 *  (claims by policy), GroupEraseIter, and their builder GroupIteratorBuilder. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/input_range.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/detail/sub_bitmap_table.hpp>
#include <keyspace/iterators.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/sampling/access_distribution.hpp>
#include <keyspace/sampling/rng.hpp>
#include <keyspace/sampling/weighted_picker.hpp>

#include <algorithm>        // for std::max, std::min, std::push_heap, std::pop_heap, std::find
#include <cstddef>          // for std::size_t
#include <cstdint>          // for std::uint64_t
#include <initializer_list> // for std::initializer_list
#include <limits>           // for std::numeric_limits
#include <memory>           // for std::shared_ptr
#include <optional>         // for std::optional
#include <stdexcept>        // for std::invalid_argument
#include <string>           // for std::string, std::to_string
#include <string_view>      // for std::string_view
#include <utility>          // for std::pair, std::move
#include <vector>           // for std::vector

KEYSPACE_BEGIN_NAMESPACE

/// How a group write stream picks the tracker for each claim.
enum class ClaimPolicy {
    RoundRobin,     ///< cycle through the trackers in registration order
    Random,         ///< a uniformly random tracker that is not full
    WeightedRandom, ///< a random tracker, by the builder's weighted(...) (default ByUnsetCount), recomputed per claim
    LeastLoaded,    ///< the tracker with the lowest count / key limit (ties: registration order)
    MostLoaded      ///< the tracker with the highest count / key limit that is not full
};

/** The weight of a tracker for group random() and ClaimPolicy::WeightedRandom. The *key limit* of a tracker is
 *  max_id (2^63 when unbounded), times max_sub_id (2^32 without one) for a hierarchical tracker: the keys it can
 *  ever hold, not its rounded bitmap capacity. */
enum class PrefixWeight {
    Uniform,     ///< every tracker alike
    ByCapacity,  ///< the key limit
    ByCount,     ///< keys present
    ByUnsetCount ///< key limit minus keys present
};

/// One key of a group iteration. `prefix` views the tracker's own prefix string, kept alive by the iterator.
struct GroupItem {
    /// The tracker's prefix (views the tracker's own string, kept alive by the iterator).
    std::string_view prefix;
    /// The key's ID.
    std::uint64_t id;
    /// The sub-ID of a hierarchical tracker's pair; 0 for a simple tracker.
    std::uint64_t sub_id;
    friend bool operator==(const GroupItem&, const GroupItem&) = default;
};

namespace detail {

[[nodiscard]] inline double key_limit(const PrefixTracker& t) noexcept {
    const double ids = static_cast<double>(t.max_id().value_or(max_supported_id));
    return t.is_hierarchical() ? ids * static_cast<double>(t.max_sub_id().value_or(max_table_sub_id)) : ids;
}

KEYSPACE_ISA_ABI
[[nodiscard]] inline double prefix_weight(const PrefixTracker& t, PrefixWeight w) noexcept {
    switch (w) {
    case PrefixWeight::Uniform: return 1.0;
    case PrefixWeight::ByCapacity: return key_limit(t);
    case PrefixWeight::ByCount: return static_cast<double>(t.count());
    case PrefixWeight::ByUnsetCount: return std::max(0.0, key_limit(t) - static_cast<double>(t.count()));
    }
    return 1.0;
}



/// The group iterators' common surface: an input range of GroupItem over next().
template <class Derived>
using GroupIteratorBase = InputRange<Derived, GroupItem>;

} // namespace detail

class GroupIteratorBuilder;

/** A group read iterator (from GroupIteratorBuilder::build() and partition()): one of
 *  - horizontal: every matching key of the first tracker (its sequential order), then the next tracker's;
 *  - vertical: ID by ID across the trackers: for each ID ascending, that ID's keys in each tracker in registration
 *    order (hierarchical: all of its pairs, by sub_id). A heap over the trackers: O(log k) per key for k trackers;
 *  - random (permutation): every matching key of every tracker exactly once. Each tracker is walked by its own
 *    random() iterator (a true permutation of its matching keys); each output comes from a tracker drawn with
 *    probability ∝ its weight (Uniform unless weighted(...) was given; weights are taken when the iterator is
 *    built) among those not yet exhausted, so no tracker's keys are clustered at one end of the sequence;
 *  - random with distribution(d): an endless stream with replacement: a tracker drawn as above, then a key from
 *    that tracker's own random() stream with d (see GroupIteratorBuilder::distribution).
 *  `limit(n)` bounds the total. Items view the trackers' prefixes, which the iterator keeps alive. Move-only. */
class GroupIter : public detail::GroupIteratorBase<GroupIter> {
public:
    /// Movable; the moved-from iterator must not be used again.
    GroupIter(GroupIter&&) noexcept = default;
    /// Movable; the moved-from iterator must not be used again.
    GroupIter& operator=(GroupIter&&) noexcept = default;
    GroupIter(const GroupIter&) = delete;
    GroupIter& operator=(const GroupIter&) = delete;

    /// The next item, or std::nullopt at the end.
    KEYSPACE_ISA_ABI
    std::optional<GroupItem> next() {
        if (left_ == 0) return std::nullopt;
        std::optional<GroupItem> r;
        switch (order_) {
        case Order::Horizontal: r = next_horizontal(); break;
        case Order::Vertical: r = next_vertical(); break;
        case Order::Random: r = next_random(); break;
        }
        if (!r) {
            left_ = 0;
            return std::nullopt;
        }
        if (left_ != std::numeric_limits<std::uint64_t>::max()) --left_;
        return r;
    }
    /// Whether next() can yield nothing more.
    [[nodiscard]] bool is_exhausted() const noexcept { return left_ == 0; }

private:
    friend class GroupIteratorBuilder;
    enum class Order : std::uint8_t { Horizontal, Vertical, Random };

    struct Lane {
        std::shared_ptr<PrefixTracker> tracker;
        std::optional<SequentialIter> seq;
        std::optional<RandomIter> rnd; // a permutation, or with distribution(d) an endless stream
        std::optional<Key> peek;
    };

    KEYSPACE_ISA_ABI
    GroupIter(Order order, std::vector<Lane> lanes, std::vector<double> weights, std::uint64_t limit,
              std::uint64_t seed)
        : order_(order), lanes_(std::move(lanes)), picker_(std::move(weights)), left_(limit),
          rng_(Rng::stream(seed, ~0ull)) {
        if (order_ == Order::Vertical) {
            heap_.reserve(lanes_.size());
            for (std::size_t i = 0; i < lanes_.size(); ++i) advance_vertical(i);
        }
    }

    [[nodiscard]] GroupItem item(std::size_t lane, Key k) const noexcept {
        return GroupItem{lanes_[lane].tracker->prefix(), k.id, k.sub_id};
    }

    KEYSPACE_ISA_ABI
    std::optional<GroupItem> next_horizontal() {
        for (; cur_ < lanes_.size(); ++cur_)
            if (auto k = lanes_[cur_].seq->next()) return item(cur_, *k);
        return std::nullopt;
    }

    // Min-heap on (id, lane): ties go to the earlier registration. (std::greater's ordering, without <functional>.)
    static constexpr auto later = [](const std::pair<std::uint64_t, std::size_t>& a,
                                     const std::pair<std::uint64_t, std::size_t>& b) { return b < a; };
    KEYSPACE_ISA_ABI
    void advance_vertical(std::size_t i) {
        if (auto k = lanes_[i].seq->next()) {
            lanes_[i].peek = k;
            heap_.emplace_back(k->id, i);
            std::push_heap(heap_.begin(), heap_.end(), later);
        }
    }
    KEYSPACE_ISA_ABI
    std::optional<GroupItem> next_vertical() {
        if (heap_.empty()) return std::nullopt;
        std::pop_heap(heap_.begin(), heap_.end(), later);
        const std::size_t i = heap_.back().second;
        heap_.pop_back();
        const Key k = *lanes_[i].peek;
        advance_vertical(i);
        return item(i, k);
    }

    // Permutations and distribution streams alike: a lane leaves when its iterator ends (a permutation is used up,
    // or a stream finds no matching key in its range).
    KEYSPACE_ISA_ABI
    std::optional<GroupItem> next_random() {
        while (picker_.alive_count() > 0) {
            const std::size_t i = picker_.pick(rng_);
            if (auto k = lanes_[i].rnd->next()) return item(i, *k);
            picker_.kill(i);
        }
        return std::nullopt;
    }

    Order order_;
    std::vector<Lane> lanes_;
    WeightedPicker picker_;
    std::uint64_t left_;
    Rng rng_;
    std::size_t cur_ = 0;
    std::vector<std::pair<std::uint64_t, std::size_t>> heap_;
};

/** A group claim stream (GroupIteratorBuilder::write(policy)): each next() picks a tracker by the policy and claims
 *  one absent key in it atomically (unset -> set), unique across all threads and streams. Each tracker is served by
 *  its continue_write() stream over the builder's range, so the group streams of all threads share each tracker's
 *  progress (4096 IDs per atomic) and a claim lost to another thread is retried on the next candidate.
 *  Live, as each tracker's stream is (see WriteIter): when the tracker the policy picks has nothing free now, the
 *  policy picks again among the others; when none has anything free, next() returns std::nullopt ("nothing now":
 *  is_exhausted() stays false) and a later call claims keys freed since in any of them (remove(), erase streams,
 *  clear()), without rebuilding the stream. Only the limit ends it for good.
 *  Costs: O(1) per claim for RoundRobin and Random; O(k) count() reads for the others (k trackers).
 *  A hierarchical tracker without max_id and max_sub_id has more than 2^64 keys in its default write space: give
 *  the builder a range(), else write() throws std::invalid_argument (as its own continue_write() would).
 *  Move-only. */
class GroupWriteIter : public detail::GroupIteratorBase<GroupWriteIter> {
public:
    /// Movable; the moved-from iterator must not be used again.
    GroupWriteIter(GroupWriteIter&&) noexcept = default;
    /// Movable; the moved-from iterator must not be used again.
    GroupWriteIter& operator=(GroupWriteIter&&) noexcept = default;
    GroupWriteIter(const GroupWriteIter&) = delete;
    GroupWriteIter& operator=(const GroupWriteIter&) = delete;

    /// The next item, or std::nullopt: nothing free now in any tracker (see is_exhausted()).
    KEYSPACE_ISA_ABI
    std::optional<GroupItem> next() {
        std::size_t idle = 0; // trackers with nothing free now: out of this call's picks, back for the next call
        std::optional<GroupItem> out;
        while (left_ > 0 && picker_.alive_count() > 0) {
            const std::size_t i = choose();
            if (auto k = writers_[i].next()) {
                if (left_ != std::numeric_limits<std::uint64_t>::max()) --left_;
                rr_ = i + 1 == writers_.size() ? 0 : i + 1;
                out = GroupItem{trackers_[i]->prefix(), k->id, k->sub_id};
                break;
            }
            picker_.kill(i);
            if (!writers_[i].is_exhausted()) idle_[idle++] = i; // nothing now; an exhausted one stays out
        }
        for (std::size_t j = 0; j < idle; ++j) picker_.revive(idle_[j]);
        if (picker_.alive_count() == 0) left_ = 0;
        return out;
    }
    /// True once the stream has ended for good: its limit reached (or every tracker's stream finished, which
    /// continue_write() streams never do). A nullopt from next() otherwise means nothing is free now.
    [[nodiscard]] bool is_exhausted() const noexcept { return left_ == 0 || picker_.alive_count() == 0; }
    /// True: a nullopt from next() means nothing is free now in any tracker (until the limit is reached).
    [[nodiscard]] bool is_endless() const noexcept { return true; }

private:
    friend class GroupIteratorBuilder;
    GroupWriteIter(std::vector<std::shared_ptr<PrefixTracker>> trackers, std::vector<WriteIter> writers,
                   ClaimPolicy policy, PrefixWeight weight, std::uint64_t limit, std::uint64_t seed)
        : trackers_(std::move(trackers)), writers_(std::move(writers)), policy_(policy), weight_(weight),
          left_(limit), rng_(Rng::stream(seed, ~0ull)), picker_(std::vector<double>(writers_.size(), 1.0)),
          weights_(writers_.size(), 0.0), idle_(writers_.size(), 0) {}

    KEYSPACE_ISA_ABI
    [[nodiscard]] double fill(std::size_t i) const noexcept {
        return static_cast<double>(trackers_[i]->count()) / detail::key_limit(*trackers_[i]);
    }
    KEYSPACE_ISA_ABI
    std::size_t choose() {
        const std::size_t k = writers_.size();
        switch (policy_) {
        case ClaimPolicy::RoundRobin:
            for (std::size_t j = 0; j < k; ++j) {
                const std::size_t i = (rr_ + j) % k;
                if (picker_.alive(i)) return i;
            }
            break;
        case ClaimPolicy::Random: return picker_.pick(rng_); // weights all 1
        case ClaimPolicy::WeightedRandom: {
            // The weights move with every claim: recomputed per claim, O(k).
            for (std::size_t i = 0; i < k; ++i) weights_[i] = detail::prefix_weight(*trackers_[i], weight_);
            return picker_.pick_with(rng_, weights_);
        }
        case ClaimPolicy::LeastLoaded:
        case ClaimPolicy::MostLoaded: {
            std::size_t best = k;
            double best_fill = 0;
            for (std::size_t i = 0; i < k; ++i) {
                if (!picker_.alive(i)) continue;
                const double f = fill(i);
                if (best == k || (policy_ == ClaimPolicy::LeastLoaded ? f < best_fill : f > best_fill))
                    best = i, best_fill = f;
            }
            return best;
        }
        }
        for (std::size_t i = 0; i < k; ++i)
            if (picker_.alive(i)) return i;
        return 0;
    }

    std::vector<std::shared_ptr<PrefixTracker>> trackers_;
    std::vector<WriteIter> writers_;
    ClaimPolicy policy_;
    PrefixWeight weight_;
    std::uint64_t left_;
    Rng rng_;
    WeightedPicker picker_; // alive = not full
    std::vector<double> weights_;   // WeightedRandom's scratch
    std::vector<std::size_t> idle_; // next()'s scratch: the trackers found with nothing free in this call
    std::size_t rr_ = 0;
};

/** A group erase iterator: removes present keys atomically and yields them, tracker by tracker in registration
 *  order. It holds every selected tracker's erase slot (one EraseIter per tracker at a time) until destroyed.
 *  Move-only. */
class GroupEraseIter : public detail::GroupIteratorBase<GroupEraseIter> {
public:
    /// Movable; the moved-from iterator must not be used again.
    GroupEraseIter(GroupEraseIter&&) noexcept = default;
    /// Movable; the moved-from iterator must not be used again.
    GroupEraseIter& operator=(GroupEraseIter&&) noexcept = default;
    GroupEraseIter(const GroupEraseIter&) = delete;
    GroupEraseIter& operator=(const GroupEraseIter&) = delete;

    /// The next item, or std::nullopt at the end.
    KEYSPACE_ISA_ABI
    std::optional<GroupItem> next() {
        for (; left_ > 0 && cur_ < erasers_.size(); ++cur_)
            if (auto k = erasers_[cur_].next()) {
                --left_;
                return GroupItem{trackers_[cur_]->prefix(), k->id, k->sub_id};
            }
        left_ = 0;
        return std::nullopt;
    }
    /// Whether next() can yield nothing more.
    [[nodiscard]] bool is_exhausted() const noexcept { return left_ == 0; }

private:
    friend class GroupIteratorBuilder;
    GroupEraseIter(std::vector<std::shared_ptr<PrefixTracker>> trackers, std::vector<EraseIter> erasers,
                   std::uint64_t limit)
        : trackers_(std::move(trackers)), erasers_(std::move(erasers)), left_(limit) {}

    std::vector<std::shared_ptr<PrefixTracker>> trackers_;
    std::vector<EraseIter> erasers_;
    std::uint64_t left_;
    std::size_t cur_ = 0;
};

/** The group iterator builder (PrefixGroupsTracker::iter()). It holds the trackers registered when iter() was
 *  called, in registration order, by shared_ptr; every modifier returns a new builder (value semantics).
 *
 *  Modifiers: set_only() / unset_only() (default: every key), horizontal() (default) / vertical() / random(),
 *  weighted(w), prefixes({...}) (a subset, kept in registration order; an unknown or empty name throws
 *  std::invalid_argument), range(b, e) (each tracker's ID range, clamped to it; default: each tracker's own default
 *  range, see IteratorBuilder), seed(s) (same seed => same sequence in every process; without it a fresh seed),
 *  limit(n) (at most n items in total), distribution(d).
 *  Terminals: build(), write(policy), erase(), partition(i, n), partitioned(n). Bad arguments throw
 *  std::invalid_argument naming them. Thread safety: a builder is a value; iterators are for one thread each. */
class GroupIteratorBuilder {
public:
    /// A builder over these trackers, in this order (PrefixGroupsTracker::iter() makes one).
    explicit GroupIteratorBuilder(std::vector<std::shared_ptr<PrefixTracker>> trackers)
        : trackers_(std::make_shared<const std::vector<std::shared_ptr<PrefixTracker>>>(std::move(trackers))) {}

    /// Only present keys.
    [[nodiscard]] GroupIteratorBuilder set_only() const { return with([](auto& c) { c.filter_ = detail::Filter::SetOnly; }); }
    /// Only absent keys.
    [[nodiscard]] GroupIteratorBuilder unset_only() const {
        return with([](auto& c) { c.filter_ = detail::Filter::UnsetOnly; });
    }
    /// Every key of one tracker, then the next tracker's (the default).
    [[nodiscard]] GroupIteratorBuilder horizontal() const { return with([](auto& c) { c.order_ = GroupIter::Order::Horizontal; }); }
    /// ID by ID across the trackers (hierarchical: every pair of the ID).
    [[nodiscard]] GroupIteratorBuilder vertical() const { return with([](auto& c) { c.order_ = GroupIter::Order::Vertical; }); }
    /// Every matching key once, trackers interleaved at random by weight (see GroupIter); with distribution(d), an
    /// endless stream.
    [[nodiscard]] GroupIteratorBuilder random() const { return with([](auto& c) { c.order_ = GroupIter::Order::Random; }); }
    /// Tracker weights for random() (default Uniform) and ClaimPolicy::WeightedRandom (default ByUnsetCount).
    [[nodiscard]] GroupIteratorBuilder weighted(PrefixWeight w) const { return with([w](auto& c) { c.weight_ = w; }); }
    /// Only these prefixes (in registration order). Unknown or empty names throw std::invalid_argument.
    [[nodiscard]] GroupIteratorBuilder prefixes(std::initializer_list<std::string_view> names) const {
        std::vector<std::shared_ptr<PrefixTracker>> keep;
        for (std::string_view n : names) {
            if (n.empty()) detail::fail_invalid_argument({"GroupIteratorBuilder::prefixes: empty prefix"});
            bool found = false;
            for (const auto& t : *trackers_) found = found || t->prefix() == n;
            if (!found)
                detail::fail_invalid_argument({"GroupIteratorBuilder::prefixes: unknown prefix '", n, "'"});
        }
        for (const auto& t : *trackers_)
            if (std::find(names.begin(), names.end(), std::string_view(t->prefix())) != names.end()) keep.push_back(t);
        auto c = *this;
        c.trackers_ = std::make_shared<const std::vector<std::shared_ptr<PrefixTracker>>>(std::move(keep));
        return c;
    }
    /// Each tracker's IDs [b, e), clamped to its own bounds. b > e throws std::invalid_argument.
    [[nodiscard]] GroupIteratorBuilder range(std::uint64_t b, std::uint64_t e) const {
        detail::check_range("GroupIteratorBuilder::range", b, e);
        return with([b, e](auto& c) { c.range_ = std::pair{b, e}; });
    }
    /// The seed of random() orders and draws (same seed, same trackers and keys: same sequence).
    [[nodiscard]] GroupIteratorBuilder seed(std::uint64_t s) const { return with([s](auto& c) { c.seed_ = s; }); }
    /// At most n items in total.
    [[nodiscard]] GroupIteratorBuilder limit(std::uint64_t n) const { return with([n](auto& c) { c.limit_ = n; }); }
    /** With random() only: an endless stream with replacement. Each item: a tracker drawn by weight, then the next
     *  key of that tracker's `iter().distribution(d).random()` stream over the builder's range and filter (rank r is
     *  the r-th key of the range; recency kinds count down from its highest set key; a key failing the filter is
     *  redrawn, with the 64-miss fallback: see IteratorBuilder::distribution). A tracker with no matching key leaves
     *  the stream; the stream ends when none is left. With any order or terminal but random().build():
     *  std::invalid_argument. */
    [[nodiscard]] GroupIteratorBuilder distribution(AccessDistribution d) const {
        return with([d](auto& c) { c.distribution_ = d; });
    }

    // ---- terminals --------------------------------------------------------------------------------------------

    /// The read iterator in the chosen order.
    KEYSPACE_ISA_ABI
    [[nodiscard]] GroupIter build() const {
        const std::uint64_t seed = the_seed();
        std::vector<GroupIter::Lane> lanes;
        lanes.reserve(trackers_->size());
        std::vector<double> weights;
        if (order_ != GroupIter::Order::Random) no_distribution("build() in horizontal or vertical order");
        for (std::size_t i = 0; i < trackers_->size(); ++i) {
            const auto& t = (*trackers_)[i];
            GroupIter::Lane l;
            l.tracker = t;
            const std::uint64_t lane_seed = detail::mix_seed(seed, i);
            if (order_ == GroupIter::Order::Random) {
                auto b = tracker_builder(*t).seed(lane_seed);
                l.rnd.emplace((distribution_ ? b.distribution(*distribution_) : b).random());
            } else {
                l.seq.emplace(tracker_builder(*t).sequential());
            }
            weights.push_back(detail::prefix_weight(*t, weight_.value_or(PrefixWeight::Uniform)));
            lanes.push_back(std::move(l));
        }
        return GroupIter(order_, std::move(lanes), std::move(weights), limit(), seed);
    }

    /// Claims absent keys by policy (see GroupWriteIter). set_only() or distribution() throws std::invalid_argument.
    KEYSPACE_ISA_ABI
    [[nodiscard]] GroupWriteIter write(ClaimPolicy policy) const {
        if (filter_ == detail::Filter::SetOnly)
            detail::fail_invalid_argument(
                {"GroupIteratorBuilder::write: write streams claim absent keys; set_only() does not apply"});
        no_distribution("write()");
        std::vector<WriteIter> writers;
        writers.reserve(trackers_->size());
        for (const auto& t : *trackers_) writers.push_back(tracker_builder(*t).continue_write());
        return GroupWriteIter(*trackers_, std::move(writers), policy, weight_.value_or(PrefixWeight::ByUnsetCount),
                              limit(), the_seed());
    }

    /// Removes and yields present keys, horizontally; std::nullopt while another erase iterator of any of the
    /// trackers lives (nothing is held then). distribution() throws std::invalid_argument.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<GroupEraseIter> erase() const {
        no_distribution("erase()");
        std::vector<EraseIter> erasers;
        erasers.reserve(trackers_->size());
        for (const auto& t : *trackers_) {
            auto e = tracker_builder(*t).erase();
            if (!e) return std::nullopt; // the ones taken so far are released here
            erasers.push_back(std::move(*e));
        }
        return GroupEraseIter(*trackers_, std::move(erasers), limit());
    }

    /// The i-th of n partitions, horizontally whatever the order: the i-th slice of every tracker's range (see
    /// IteratorBuilder::slice; no overflow for any range), tracker after tracker. The n partitions are disjoint
    /// and cover every key. n = 0 or i >= n throws std::invalid_argument.
    KEYSPACE_ISA_ABI
    [[nodiscard]] GroupIter partition(std::uint64_t i, std::uint64_t n) const {
        detail::check_slice("GroupIteratorBuilder::partition", i, n);
        no_distribution("partition()");
        std::vector<GroupIter::Lane> lanes;
        lanes.reserve(trackers_->size());
        for (const auto& t : *trackers_) {
            GroupIter::Lane l;
            l.tracker = t;
            l.seq.emplace(tracker_builder(*t).slice(i, n).sequential());
            lanes.push_back(std::move(l));
        }
        return GroupIter(GroupIter::Order::Horizontal, std::move(lanes), {}, limit(), 0);
    }
    /// All n partitions. n = 0 throws std::invalid_argument.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::vector<GroupIter> partitioned(std::uint64_t n) const {
        detail::check_slice("GroupIteratorBuilder::partitioned", 0, n);
        std::vector<GroupIter> out;
        out.reserve(static_cast<std::size_t>(n));
        for (std::uint64_t i = 0; i < n; ++i) out.push_back(partition(i, n));
        return out;
    }

private:
    template <class F>
    [[nodiscard]] GroupIteratorBuilder with(F f) const {
        auto c = *this;
        f(c);
        return c;
    }
    [[nodiscard]] std::uint64_t limit() const noexcept { return limit_.value_or(std::numeric_limits<std::uint64_t>::max()); }
    [[nodiscard]] std::uint64_t the_seed() const noexcept { return seed_ ? *seed_ : detail::fresh_seed(); }
    /// The one check of the rule "distribution() is for random().build()" (every other terminal calls it).
    void no_distribution(const char* terminal) const {
        if (distribution_)
            detail::fail_invalid_argument({"GroupIteratorBuilder: distribution() works only with random(), not ", terminal});
    }
    [[nodiscard]] IteratorBuilder tracker_builder(PrefixTracker& t) const {
        IteratorBuilder b = t.iter();
        if (range_) b = b.range(range_->first, range_->second);
        if (filter_ == detail::Filter::SetOnly) b = b.set_only();
        if (filter_ == detail::Filter::UnsetOnly) b = b.unset_only();
        return b;
    }

    std::shared_ptr<const std::vector<std::shared_ptr<PrefixTracker>>> trackers_;
    detail::Filter filter_ = detail::Filter::All;
    GroupIter::Order order_ = GroupIter::Order::Horizontal;
    std::optional<PrefixWeight> weight_;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> range_;
    std::optional<std::uint64_t> seed_, limit_;
    std::optional<AccessDistribution> distribution_;
};

KEYSPACE_END_NAMESPACE
