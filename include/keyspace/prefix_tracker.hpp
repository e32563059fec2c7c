/** @file keyspace/prefix_tracker.hpp
 *  PrefixTracker: the existence state of one key prefix (`user:`), as simple IDs or as hierarchical (id, sub_id)
 *  pairs. Its iterators (PrefixTracker::iter()) are in <keyspace/iterators.hpp>, which includes this header. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/counters.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/sub_bitmap_table.hpp>
#include <keyspace/iteration_state.hpp>
#include <keyspace/key.hpp>
#include <keyspace/storage.hpp>
#include <keyspace/tracker_config.hpp>

#include <algorithm> // for std::min
#include <atomic>    // for std::memory_order
#include <cstdint>   // for std::uint64_t, std::int64_t
#include <memory>    // for std::unique_ptr, std::shared_ptr
#include <optional>  // for std::optional
#include <string>    // for std::string
#include <utility>   // for std::move

KEYSPACE_BEGIN_NAMESPACE

template <class Tracker>
class BasicIteratorBuilder; // <keyspace/iterators/builder.hpp>
class PrefixTracker;
/// The builder of a tracker's iterators: every terminal (<keyspace/iterators.hpp>).
using IteratorBuilder = BasicIteratorBuilder<PrefixTracker>;
/// The builder of a const tracker's iterators: the reading terminals only.
using ConstIteratorBuilder = BasicIteratorBuilder<const PrefixTracker>;
class SharedKeyspace; // <keyspace/shared_region.hpp>

/** How a tracker stores its keys (PrefixTracker::layout()):
 *  - simple: one bit per ID, bit id of bits();
 *  - flat: hierarchical with max_sub_id = k: bit id * k + sub_id of bits();
 *  - table: hierarchical without max_sub_id: bit sub_id of sub_bitmap(id); bit id of bits() is set when id owns a
 *    sub-bitmap (IDs below 2^57, sub-IDs below 2^32). */
enum class TrackerLayout : std::uint8_t { simple, flat, table };

namespace detail {

/// Memory shared with other processes that a tracker adopts (made by <keyspace/shared_region.hpp>): the bit words,
/// the write progress of the default range, and an owner keeping the mapping alive.
struct RegionView {
    atomic_word* words = nullptr;
    std::uint64_t word_count = 0;
    WriteCursor* cursor = nullptr;
    std::shared_ptr<const void> keep_alive;
};

} // namespace detail

/** The existence state of one key prefix.
 *
 *  Simple mode tracks IDs in an AtomicBitmap: bounded (max_id given: max_id bits allocated once, a contiguous
 *  array up to 2^31 bits) or unbounded (grows on demand; memory follows the IDs written).
 *  Hierarchical mode tracks (id, sub_id) pairs: with max_sub_id known they are stored flat, bit id * max_sub_id +
 *  sub_id, and cost what simple IDs cost; without it each ID that ever had a pair owns a sub-bitmap found through a
 *  lock-free table (no lock on any path; a new ID costs one CAS; IDs below 2^57, sub-IDs below 2^32; the first 1024
 *  sub-IDs of an ID take 128 bytes, higher ones 8 KiB chunks).
 *
 *  IDs outside [0, max_id) (or at or beyond 2^63; in flat mode, pairs whose bit would be) are ignored: mutators
 *  return false, queries answer false. Nothing throws but std::bad_alloc, and std::logic_error for calling a
 *  pair member on a simple tracker or a simple member on a hierarchical one.
 *  Thread safety: every member is thread-safe and lock-free except clear() (exclusive); `continue_write()` takes a
 *  lock once when a stream is built, never per key. */
class PrefixTracker {
public:
    /// A tracker laid out as config says (see TrackerConfig); std::invalid_argument when max_id * max_sub_id exceeds 2^63.
    explicit PrefixTracker(TrackerConfig config)
        : config_(std::move(config)), bits_(bits_capacity(config_)),
          pairs_(config_.is_hierarchical() && !config_.max_sub_id() ? std::make_unique<DynamicPairs>() : nullptr),
          iteration_(std::make_unique<IterationState>()) {}
    /// An unbounded simple tracker.
    explicit PrefixTracker(std::string prefix) : PrefixTracker(TrackerConfig::simple(std::move(prefix))) {}
    /// A simple tracker of IDs [0, max_id).
    PrefixTracker(std::string prefix, std::uint64_t max_id)
        : PrefixTracker(TrackerConfig::simple(std::move(prefix)).with_max_id(max_id)) {}
    /// An unbounded hierarchical tracker without max_sub_id (the table layout).
    [[nodiscard]] static PrefixTracker hierarchical(std::string prefix) {
        return PrefixTracker(TrackerConfig::hierarchical(std::move(prefix)));
    }
    PrefixTracker(const PrefixTracker&) = delete;
    PrefixTracker& operator=(const PrefixTracker&) = delete;

    /// The config it was made with.
    [[nodiscard]] const TrackerConfig& config() const noexcept { return config_; }
    /// The key prefix (`user:`).
    [[nodiscard]] const std::string& prefix() const noexcept { return config_.prefix(); }
    /// IDs are [0, max_id) when set.
    [[nodiscard]] std::optional<std::uint64_t> max_id() const noexcept { return config_.max_id(); }
    /// Hierarchical, flat layout: sub-IDs are [0, max_sub_id).
    [[nodiscard]] std::optional<std::uint64_t> max_sub_id() const noexcept { return config_.max_sub_id(); }
    /// Whether keys are (id, sub_id) pairs.
    [[nodiscard]] bool is_hierarchical() const noexcept { return config_.is_hierarchical(); }
    /// How the keys are stored (see TrackerLayout).
    [[nodiscard]] TrackerLayout layout() const noexcept {
        return !is_hierarchical() ? TrackerLayout::simple : pairs_ ? TrackerLayout::table : TrackerLayout::flat;
    }

    /// IDs addressable without growth (for a bounded tracker, max_id). With max_sub_id, an ID counts once any of
    /// its sub-IDs is, so every stored pair lies below capacity() (the default range of reading iterators).
    [[nodiscard]] std::uint64_t capacity() const noexcept {
        if (config_.max_id()) return *config_.max_id();
        const std::uint64_t k = stride();
        return k > 1 ? (bits_.capacity() + (k - 1)) / k : bits_.capacity(); // < 2^63 + 2^63: no overflow
    }
    /// Grows so that id is addressable; true if it grew. Ignores invalid IDs (false).
    bool ensure_capacity(std::uint64_t id) {
        if (!valid_id(id)) return false;
        const std::uint64_t k = stride();
        if (k > 1) {
            if (id >= max_supported_id / k) return false;
            return bits_.ensure_capacity(id * k + (k - 1));
        }
        return bits_.ensure_capacity(id);
    }

    // ---- simple mode ----------------------------------------------------------------------------------------------

    /// True if id was newly added.
    bool add(std::uint64_t id) {
        require_simple("add");
        return valid_id(id) && bits_.set(id);
    }
    /// True if id was present and this call removed it.
    bool remove(std::uint64_t id) {
        require_simple("remove");
        return valid_id(id) && removed(bits_.clear(id));
    }
    /// Claims id atomically: true if it was absent and this call added it (a test-and-set).
    KEYSPACE_ALWAYS_INLINE bool claim(std::uint64_t id) {
        require_simple("claim");
        return valid_id(id) && bits_.test_and_set(id);
    }
    /// Whether id is present (for a hierarchical tracker: whether it has any sub-ID, like id_exists).
    KEYSPACE_ISA_ABI
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool exists(std::uint64_t id) const noexcept {
        if (is_hierarchical()) return id_exists(id);
        return valid_id(id) && bits_.test(id);
    }
    /// Adds [b, e) ∩ [0, max_id); returns how many were added. b > e throws std::invalid_argument.
    std::uint64_t add_range(std::uint64_t b, std::uint64_t e) {
        require_simple("add_range");
        check_range("PrefixTracker::add_range", b, e);
        e = std::min(e, id_limit());
        return b < e ? bits_.set_range(b, e) : 0;
    }
    /// Removes [b, e); returns how many were removed. b > e throws std::invalid_argument.
    std::uint64_t remove_range(std::uint64_t b, std::uint64_t e) {
        require_simple("remove_range");
        check_range("PrefixTracker::remove_range", b, e);
        e = std::min(e, id_limit());
        const std::uint64_t n = b < e ? bits_.clear_range(b, e) : 0;
        if (n != 0) removals_.add(static_cast<std::int64_t>(n));
        return n;
    }

    /// How many keys removals have cleared so far (remove, remove_pair, remove_range, erase streams; clear() counts
    /// one): it only grows, so a change means keys may have been freed. Write streams whose range is full read it
    /// to know when to look for freed keys. Kept per thread (no shared cache line on the remove path), summed here
    /// in a few nanoseconds; it counts this process's removals only. Exact whenever no removal is in flight.
    [[nodiscard]] std::uint64_t removals() const noexcept { return removals_.value(); }

    /// Whether the keys live in a region other processes map (<keyspace/shared_region.hpp>): then count() is a
    /// popcount of the bitmap, and removals() misses their removals.
    [[nodiscard]] bool is_shared() const noexcept { return shared_; }

    /// IDs tracked (simple) or pairs tracked (hierarchical); exact whenever no write is in flight.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t count() const noexcept {
        return pairs_ ? pairs_->count.value() : bits_.count();
    }
    KEYSPACE_ISA_ABI
    /// count() == 0.
    [[nodiscard]] bool empty() const noexcept { return count() == 0; }

    // ---- hierarchical mode ----------------------------------------------------------------------------------------

    /// True if the pair was newly added (false outside the bounds). Hierarchical only (else std::logic_error).
    bool add_pair(std::uint64_t id, std::uint64_t sub_id) {
        require_hierarchical("add_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return bits_.set(id * stride() + sub_id);
        if (!sub_bitmap_for_write(id).set(sub_id)) return false;
        pairs_->count.add(1);
        return true;
    }
    /// True if the pair was present and this call removed it. Hierarchical only.
    bool remove_pair(std::uint64_t id, std::uint64_t sub_id) {
        require_hierarchical("remove_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return removed(bits_.clear(id * stride() + sub_id));
        SubBitmap* s = pairs_->table.find(id);
        if (s == nullptr || !s->test_and_clear(sub_id)) return false;
        pairs_->count.add(-1);
        return removed(true);
    }
    /// Claims the pair atomically: true if it was absent and this call added it. Hierarchical only.
    bool claim_pair(std::uint64_t id, std::uint64_t sub_id) {
        require_hierarchical("claim_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return bits_.test_and_set(id * stride() + sub_id);
        if (!sub_bitmap_for_write(id).test_and_set(sub_id)) return false;
        pairs_->count.add(1);
        return true;
    }
    /// Whether the pair is present. Hierarchical only.
    [[nodiscard]] bool exists_pair(std::uint64_t id, std::uint64_t sub_id) const {
        require_hierarchical("exists_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return bits_.test(id * stride() + sub_id);
        const SubBitmap* s = pairs_->table.find(id);
        return s != nullptr && s->test(sub_id);
    }
    /// Whether id has at least one sub-ID.
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool id_exists(std::uint64_t id) const {
        require_hierarchical("id_exists");
        if (!valid_id(id)) return false;
        if (!pairs_) {
            const std::uint64_t k = stride();
            return id < max_supported_id / k && bits_.find_next_set(id * k, id * k + k).has_value();
        }
        const SubBitmap* s = pairs_->table.find(id);
        return s != nullptr && !s->empty();
    }
    /// Number of sub-IDs id has.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t sub_count(std::uint64_t id) const {
        require_hierarchical("sub_count");
        if (!valid_id(id)) return 0;
        if (!pairs_) {
            const std::uint64_t k = stride();
            return id < max_supported_id / k ? bits_.count_range(id * k, id * k + k) : 0;
        }
        const SubBitmap* s = pairs_->table.find(id);
        return s != nullptr ? s->count() : 0;
    }

    // ---- keys, whatever the mode -----------------------------------------------------------------------------------

    /// exists(k.id) or exists_pair(k.id, k.sub_id), by mode.
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool exists(Key k) const { return is_hierarchical() ? exists_pair(k.id, k.sub_id) : exists(k.id); }
    /// claim(k.id) or claim_pair(k.id, k.sub_id), by mode.
    bool claim(Key k) { return is_hierarchical() ? claim_pair(k.id, k.sub_id) : claim(k.id); }
    /// add(k.id) or add_pair(k.id, k.sub_id), by mode.
    bool add(Key k) { return is_hierarchical() ? add_pair(k.id, k.sub_id) : add(k.id); }
    /// remove(k.id) or remove_pair(k.id, k.sub_id), by mode.
    bool remove(Key k) { return is_hierarchical() ? remove_pair(k.id, k.sub_id) : remove(k.id); }

    // ---- storage, as iterators and snapshots read it ---------------------------------------------------------------

    /// The tracker's bitmap (see TrackerLayout for what its bits mean in each layout). Read-only: write through the
    /// tracker, which keeps the counts and the layout's invariants.
    [[nodiscard]] const AtomicBitmap& bits() const noexcept { return bits_; }
    /// Table layout: the sub-ID bitmap of id, or nullptr when id has none (always nullptr in the other layouts).
    [[nodiscard]] const SubBitmap* sub_bitmap(std::uint64_t id) const noexcept {
        return pairs_ ? pairs_->table.find(id) : nullptr;
    }

    // ---- iteration ------------------------------------------------------------------------------------------------

    /// The composable iterator builder; defined in <keyspace/iterators.hpp>, which a caller includes. The tracker must
    /// outlive every iterator. From a const tracker only the reading terminals exist.
    [[nodiscard]] IteratorBuilder iter();
    /// The reading terminals' builder (sequential, random, partitions), for a const tracker.
    [[nodiscard]] ConstIteratorBuilder iter() const;

    /// What the write and erase streams of this tracker share (continue_write() progress, erase exclusivity).
    [[nodiscard]] IterationState& iteration_state() noexcept { return *iteration_; }

    /// Rewinds the progress shared by continue_write() streams (every range). Streams already running keep the
    /// block they hold and then continue from the rewound progress.
    void reset_write_cursor() noexcept { iteration_->rewind_all(); }

    /// Removes everything. Exclusive: no other call may run concurrently, and no iterator may be in use.
    void clear() noexcept {
        bits_.clear_all();
        removals_.add(1);
        if (pairs_) {
            pairs_->table.clear();
            pairs_->count.reset();
        }
        reset_write_cursor();
    }

private:
    friend class SharedKeyspace;

    /// A simple, bounded tracker over a region shared between processes; made by SharedKeyspace
    /// (<keyspace/shared_region.hpp>), which checks that the region fits the config.
    PrefixTracker(TrackerConfig config, detail::RegionView region)
        : config_(std::move(config)), bits_(std::in_place, detail::adopt_words, region.words, region.word_count),
          iteration_(std::make_unique<IterationState>(
              IterationState::Range{0, *config_.max_id(), 0, 1},
              std::shared_ptr<WriteCursor>(region.keep_alive, region.cursor))),
          shared_(true) {}

    struct DynamicPairs {
        detail::SubBitmapTable table;
        ThreadCounter count;
    };

    static std::uint64_t bits_capacity(const TrackerConfig& c) {
        if (c.is_hierarchical() && c.max_sub_id()) {
            const std::uint64_t k = *c.max_sub_id();
            if (c.max_id() && *c.max_id() > max_supported_id / k)
                detail::fail_invalid_argument(
                    {"PrefixTracker: max_id * max_sub_id (", *c.max_id(), " * ", k, ") exceeds 2^63"});
            // Unbounded: the initial capacity only, not one whole row (max_sub_id can be up to 2^63 bits, and the
            // first 2^31 of a capacity are allocated eagerly and scanned by id_exists).
            return c.max_id() ? *c.max_id() * k : c.initial_capacity();
        }
        if (!c.is_hierarchical() && c.max_id()) return *c.max_id();
        return c.initial_capacity();
    }

    [[nodiscard]] std::uint64_t stride() const noexcept { return config_.max_sub_id().value_or(1); }
    [[nodiscard]] std::uint64_t id_limit() const noexcept { return config_.max_id().value_or(max_supported_id); }
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool valid_id(std::uint64_t id) const noexcept { return id < id_limit(); }
    [[nodiscard]] bool valid_pair(std::uint64_t id, std::uint64_t sub) const noexcept {
        if (!valid_id(id)) return false;
        if (pairs_) return id < detail::max_table_id && sub < detail::max_table_sub_id;
        const std::uint64_t k = stride();
        return sub < k && id < max_supported_id / k;
    }
    KEYSPACE_ALWAYS_INLINE void require_simple(const char* fn) const {
        if (is_hierarchical()) [[unlikely]]
            throw_mode(fn, "a simple");
    }
    void require_hierarchical(const char* fn) const {
        if (!is_hierarchical()) [[unlikely]]
            throw_mode(fn, "a hierarchical");
    }
    [[noreturn]] KEYSPACE_NOINLINE void throw_mode(const char* fn, const char* mode) const {
        detail::fail_logic_error({"PrefixTracker::", fn, " needs ", mode, " tracker; '", prefix(), "' is ",
                                  is_hierarchical() ? "hierarchical" : "simple"});
    }
    static void check_range(const char* fn, std::uint64_t b, std::uint64_t e) { detail::check_range(fn, b, e); }

    /// Counts a removal that cleared a key; returns whether one did.
    KEYSPACE_ALWAYS_INLINE bool removed(bool cleared) noexcept {
        if (cleared) removals_.add(1);
        return cleared;
    }

    SubBitmap& sub_bitmap_for_write(std::uint64_t id) {
        // The IDs that own a sub-bitmap are marked in bits_ (lets iterators skip the others) before the bitmap is
        // published, so that a std::bad_alloc leaves nothing published; a loser of the race merely set the bit again.
        return pairs_->table.get_or_create(id, [&] { bits_.set(id); });
    }

    TrackerConfig config_;
    AtomicBitmap bits_; // see TrackerLayout
    std::unique_ptr<DynamicPairs> pairs_; // table layout only
    std::unique_ptr<IterationState> iteration_;
    ThreadCounter removals_; // see removals()
    bool shared_ = false;            // see is_shared()
};

namespace detail {

/// The rule of the pieces that read a tracker's IDs as one bitmap (snapshots, saves, shapes, op streams): simple
/// trackers only. Returns t.
template <class Tracker> // PrefixTracker or const PrefixTracker
Tracker& require_simple(Tracker& t, const char* where) {
    if (t.is_hierarchical()) [[unlikely]]
        fail_invalid_argument({where, ": hierarchical trackers are not supported (prefix '", t.prefix(), "')"});
    return t;
}

} // namespace detail

KEYSPACE_END_NAMESPACE
