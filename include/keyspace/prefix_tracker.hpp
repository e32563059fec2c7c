/** @file keyspace/prefix_tracker.hpp
 *  TrackerConfig and PrefixTracker: the existence state of one key prefix (`user:`), as simple IDs or as
 *  hierarchical (id, sub_id) pairs. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/storage.hpp>
#include <keyspace/detail/thread_counter.hpp>

#include <algorithm> // for std::min
#include <atomic>    // for std::atomic
#include <compare>   // for operator<=>
#include <cstdint>   // for std::uint64_t
#include <memory>    // for std::unique_ptr
#include <mutex>     // for std::mutex, std::lock_guard
#include <optional>  // for std::optional
#include <stdexcept> // for std::logic_error
#include <string>    // for std::string
#include <utility>   // for std::move
#include <vector>    // for std::vector

KEYSPACE_BEGIN_NAMESPACE

/** One key of a tracker: an ID and, in hierarchical mode, a sub-ID (0 in simple mode). */
struct Key {
    std::uint64_t id;
    std::uint64_t sub_id;
    friend auto operator<=>(const Key&, const Key&) = default;
};

/** How a PrefixTracker is laid out. Immutable value; every `with_*` returns a modified copy.
 *  Invalid values throw std::invalid_argument naming the argument. */
class TrackerConfig {
public:
    /// Simple mode: one bit per ID.
    [[nodiscard]] static TrackerConfig simple(std::string prefix) { return TrackerConfig(std::move(prefix), false); }
    /// Hierarchical mode: one bit per (id, sub_id) pair.
    [[nodiscard]] static TrackerConfig hierarchical(std::string prefix) {
        return TrackerConfig(std::move(prefix), true);
    }

    /// IDs are [0, max_id). 1 <= max_id <= max_supported_id.
    [[nodiscard]] TrackerConfig with_max_id(std::uint64_t max_id) const {
        if (max_id == 0 || max_id > max_supported_id)
            detail::throw_invalid_argument(("TrackerConfig::with_max_id: max_id must be in [1, 2^63], got " +
                                            std::to_string(max_id)).c_str());
        TrackerConfig c = *this;
        c.max_id_ = max_id;
        return c;
    }
    /// Hierarchical mode: sub-IDs are [0, max_sub_id), stored flat (id * max_sub_id + sub_id), so exists_pair costs
    /// what exists costs. 1 <= max_sub_id <= max_supported_id.
    [[nodiscard]] TrackerConfig with_max_sub_id(std::uint64_t max_sub_id) const {
        if (!hierarchical_)
            detail::throw_invalid_argument("TrackerConfig::with_max_sub_id: only a hierarchical config has sub-IDs");
        if (max_sub_id == 0 || max_sub_id > max_supported_id)
            detail::throw_invalid_argument(("TrackerConfig::with_max_sub_id: max_sub_id must be in [1, 2^63], got " +
                                            std::to_string(max_sub_id)).c_str());
        TrackerConfig c = *this;
        c.max_sub_id_ = max_sub_id;
        return c;
    }
    /// Bits allocated up front (default 4096; a bounded simple tracker allocates max_id bits whatever this says).
    [[nodiscard]] TrackerConfig with_initial_capacity(std::uint64_t bits) const {
        if (bits > max_supported_id)
            detail::throw_invalid_argument(("TrackerConfig::with_initial_capacity: bits must be at most 2^63, got " +
                                            std::to_string(bits)).c_str());
        TrackerConfig c = *this;
        c.initial_capacity_ = bits;
        return c;
    }

    [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
    [[nodiscard]] bool is_hierarchical() const noexcept { return hierarchical_; }
    [[nodiscard]] std::optional<std::uint64_t> max_id() const noexcept { return max_id_; }
    [[nodiscard]] std::optional<std::uint64_t> max_sub_id() const noexcept { return max_sub_id_; }
    [[nodiscard]] std::uint64_t initial_capacity() const noexcept { return initial_capacity_; }

    friend bool operator==(const TrackerConfig&, const TrackerConfig&) = default;

private:
    TrackerConfig(std::string prefix, bool hierarchical) : prefix_(std::move(prefix)), hierarchical_(hierarchical) {}

    std::string prefix_;
    bool hierarchical_;
    std::optional<std::uint64_t> max_id_;
    std::optional<std::uint64_t> max_sub_id_;
    std::uint64_t initial_capacity_ = 4096;
};

class IteratorBuilder; // <keyspace/iterators.hpp>

namespace detail {

/// The sub-ID bitmap of one ID in a hierarchical tracker without max_sub_id: many small bitmaps, so a plain atomic
/// count (which also answers sub_count and id_exists) instead of per-thread cells.
using SubBitmap = BasicAtomicBitmap<GrowableStorage, SharedCounter>;
inline constexpr std::uint64_t sub_bitmap_initial_bits = 1024;

/// Progress shared by the continue_write() streams over one range: positions are handed out 4096 at a time.
struct WriteCursor {
    std::uint64_t b, e, sb, se; // the range it serves
    alignas(cache_line_size) std::atomic<std::uint64_t> next{0};      // first 4096-position run not yet handed out
    alignas(cache_line_size) std::atomic<std::uint64_t> overwrite{0}; // wrap_around: blocks handed out in cycles
};

struct TrackerAccess; // the iterators' door into a tracker

/// Memory shared with other processes that a tracker adopts (made by <keyspace/shared_region.hpp>): the bit words,
/// the write-stream progress of the default range, and an owner keeping the mapping alive.
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
    explicit PrefixTracker(TrackerConfig config)
        : config_(std::move(config)), bits_(bits_capacity(config_)),
          pairs_(config_.is_hierarchical() && !config_.max_sub_id() ? std::make_unique<DynamicPairs>() : nullptr) {}
    /// A simple, bounded tracker over a region shared between processes; made by SharedRegion
    /// (<keyspace/shared_region.hpp>), which checks that the region fits the config.
    PrefixTracker(TrackerConfig config, detail::RegionView region)
        : config_(std::move(config)), bits_(std::in_place, detail::adopt_words, region.words, region.word_count),
          region_(std::make_unique<detail::RegionView>(std::move(region))) {}
    explicit PrefixTracker(std::string prefix) : PrefixTracker(TrackerConfig::simple(std::move(prefix))) {}
    PrefixTracker(std::string prefix, std::uint64_t max_id)
        : PrefixTracker(TrackerConfig::simple(std::move(prefix)).with_max_id(max_id)) {}
    [[nodiscard]] static PrefixTracker hierarchical(std::string prefix) {
        return PrefixTracker(TrackerConfig::hierarchical(std::move(prefix)));
    }
    ~PrefixTracker() { release_pairs(); }
    PrefixTracker(const PrefixTracker&) = delete;
    PrefixTracker& operator=(const PrefixTracker&) = delete;

    [[nodiscard]] const TrackerConfig& config() const noexcept { return config_; }
    [[nodiscard]] const std::string& prefix() const noexcept { return config_.prefix(); }
    [[nodiscard]] std::optional<std::uint64_t> max_id() const noexcept { return config_.max_id(); }
    [[nodiscard]] std::optional<std::uint64_t> max_sub_id() const noexcept { return config_.max_sub_id(); }
    [[nodiscard]] bool is_hierarchical() const noexcept { return config_.is_hierarchical(); }

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
        return valid_id(id) && bits_.clear(id);
    }
    /// Claims id atomically: true if it was absent and this call added it (a test-and-set).
    bool claim(std::uint64_t id) {
        require_simple("claim");
        return valid_id(id) && bits_.test_and_set(id);
    }
    /// Whether id is present (for a hierarchical tracker: whether it has any sub-ID, like id_exists).
    [[nodiscard]] bool exists(std::uint64_t id) const noexcept {
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
        return b < e ? bits_.clear_range(b, e) : 0;
    }

    /// IDs tracked (simple) or pairs tracked (hierarchical); exact whenever no write is in flight.
    [[nodiscard]] std::uint64_t count() const noexcept {
        return pairs_ ? pairs_->count.value() : bits_.count();
    }
    [[nodiscard]] bool empty() const noexcept { return count() == 0; }

    // ---- hierarchical mode ----------------------------------------------------------------------------------------

    bool add_pair(std::uint64_t id, std::uint64_t sub_id) {
        require_hierarchical("add_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return bits_.set(id * stride() + sub_id);
        if (!sub_bitmap_for_write(id).set(sub_id)) return false;
        pairs_->count.add(1);
        return true;
    }
    bool remove_pair(std::uint64_t id, std::uint64_t sub_id) {
        require_hierarchical("remove_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return bits_.clear(id * stride() + sub_id);
        detail::SubBitmap* s = sub_bitmap(id);
        if (s == nullptr || !s->test_and_clear(sub_id)) return false;
        pairs_->count.add(-1);
        return true;
    }
    bool claim_pair(std::uint64_t id, std::uint64_t sub_id) {
        require_hierarchical("claim_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return bits_.test_and_set(id * stride() + sub_id);
        if (!sub_bitmap_for_write(id).test_and_set(sub_id)) return false;
        pairs_->count.add(1);
        return true;
    }
    [[nodiscard]] bool exists_pair(std::uint64_t id, std::uint64_t sub_id) const {
        require_hierarchical("exists_pair");
        if (!valid_pair(id, sub_id)) return false;
        if (!pairs_) return bits_.test(id * stride() + sub_id);
        const detail::SubBitmap* s = sub_bitmap(id);
        return s != nullptr && s->test(sub_id);
    }
    /// Whether id has at least one sub-ID.
    [[nodiscard]] bool id_exists(std::uint64_t id) const {
        require_hierarchical("id_exists");
        if (!valid_id(id)) return false;
        if (!pairs_) {
            const std::uint64_t k = stride();
            return id < max_supported_id / k && bits_.find_next_set(id * k, id * k + k).has_value();
        }
        const detail::SubBitmap* s = sub_bitmap(id);
        return s != nullptr && !s->empty();
    }
    /// Number of sub-IDs id has.
    [[nodiscard]] std::uint64_t sub_count(std::uint64_t id) const {
        require_hierarchical("sub_count");
        if (!valid_id(id)) return 0;
        if (!pairs_) {
            const std::uint64_t k = stride();
            return id < max_supported_id / k ? bits_.count_range(id * k, id * k + k) : 0;
        }
        const detail::SubBitmap* s = sub_bitmap(id);
        return s != nullptr ? s->count() : 0;
    }

    // ---- iteration ------------------------------------------------------------------------------------------------

    /// Rewinds the progress shared by continue_write() streams (every range). Streams already running keep the
    /// block they hold and then continue from the rewound progress.
    void reset_write_cursor() noexcept {
        if (region_) { // shared by every process of the region
            region_->cursor->next.store(0, std::memory_order_relaxed);
            region_->cursor->overwrite.store(0, std::memory_order_relaxed);
        }
        std::lock_guard<std::mutex> lock(cursors_mutex_);
        for (auto& c : cursors_) {
            c->next.store(0, std::memory_order_relaxed);
            c->overwrite.store(0, std::memory_order_relaxed);
        }
    }

    /// The composable iterator builder (<keyspace/iterators.hpp>). The tracker must outlive every iterator.
    [[nodiscard]] IteratorBuilder iter() const;

    /// Removes everything. Exclusive: no other call may run concurrently, and no iterator may be in use.
    void clear() noexcept {
        bits_.clear_all();
        if (pairs_) {
            release_pairs();
            pairs_->table.reset_to_initial();
            pairs_->count.reset();
        }
        reset_write_cursor();
    }

private:
    friend struct detail::TrackerAccess;

    struct DynamicPairs {
        GrowableStorage table{0}; // word id holds the SubBitmap* of id (0: none yet); slots never change once set
        detail::ThreadCounter count;
    };

    static std::uint64_t bits_capacity(const TrackerConfig& c) {
        if (c.is_hierarchical() && c.max_sub_id()) {
            const std::uint64_t k = *c.max_sub_id();
            if (c.max_id() && *c.max_id() > max_supported_id / k)
                detail::throw_invalid_argument(("PrefixTracker: max_id * max_sub_id (" + std::to_string(*c.max_id()) +
                                                " * " + std::to_string(k) + ") exceeds 2^63")
                                                   .c_str());
            // Unbounded: the initial capacity only, not one whole row (max_sub_id can be up to 2^63 bits, and the
            // first 2^31 of a capacity are allocated eagerly and scanned by id_exists).
            return c.max_id() ? *c.max_id() * k : c.initial_capacity();
        }
        if (!c.is_hierarchical() && c.max_id()) return *c.max_id();
        return c.initial_capacity();
    }

    [[nodiscard]] std::uint64_t stride() const noexcept { return config_.max_sub_id().value_or(1); }
    [[nodiscard]] std::uint64_t id_limit() const noexcept { return config_.max_id().value_or(max_supported_id); }
    [[nodiscard]] bool valid_id(std::uint64_t id) const noexcept { return id < id_limit(); }
    [[nodiscard]] bool valid_pair(std::uint64_t id, std::uint64_t sub) const noexcept {
        if (!valid_id(id)) return false;
        if (pairs_) return id < detail::max_supported_word && sub < (1ull << 32);
        const std::uint64_t k = stride();
        return sub < k && id < max_supported_id / k;
    }
    void require_simple(const char* fn) const {
        if (is_hierarchical()) [[unlikely]]
            throw_mode(fn, "a simple");
    }
    void require_hierarchical(const char* fn) const {
        if (!is_hierarchical()) [[unlikely]]
            throw_mode(fn, "a hierarchical");
    }
    [[noreturn]] KEYSPACE_NOINLINE void throw_mode(const char* fn, const char* mode) const {
        throw std::logic_error(std::string("PrefixTracker::") + fn + " needs " + mode + " tracker; '" + prefix() +
                               "' is " + (is_hierarchical() ? "hierarchical" : "simple"));
    }
    static void check_range(const char* fn, std::uint64_t b, std::uint64_t e) {
        if (b > e) detail::throw_invalid_range(fn, b, e);
    }

    [[nodiscard]] detail::SubBitmap* sub_bitmap(std::uint64_t id) const noexcept {
        const detail::atomic_word* slot = pairs_->table.word(id);
        // Acquire pairs with the release CAS in sub_bitmap_for_write: the bitmap's construction is visible.
        return slot != nullptr ? reinterpret_cast<detail::SubBitmap*>(slot->load(std::memory_order_acquire)) : nullptr;
    }
    detail::SubBitmap& sub_bitmap_for_write(std::uint64_t id) {
        detail::atomic_word& slot = pairs_->table.word_for_write(id);
        std::uint64_t p = slot.load(std::memory_order_acquire); // pairs with the release CAS below
        if (p != 0) [[likely]]
            return *reinterpret_cast<detail::SubBitmap*>(p);
        auto fresh = std::make_unique<detail::SubBitmap>(detail::sub_bitmap_initial_bits);
        // The IDs that own a sub-bitmap (lets iterators skip the others), marked before publishing so that a
        // std::bad_alloc here leaves nothing published; a loser of the race below merely set the bit again.
        bits_.set(id);
        if (slot.compare_exchange_strong(p, reinterpret_cast<std::uint64_t>(fresh.get()), std::memory_order_acq_rel,
                                         std::memory_order_acquire))
            return *fresh.release();
        return *reinterpret_cast<detail::SubBitmap*>(p);
    }
    void release_pairs() noexcept {
        if (!pairs_) return;
        pairs_->table.for_each_run(0, detail::max_supported_word, [](std::uint64_t, detail::atomic_word* p, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                delete reinterpret_cast<detail::SubBitmap*>(p[i].load(std::memory_order_relaxed));
                p[i].store(0, std::memory_order_relaxed);
            }
            return true;
        });
    }

    detail::WriteCursor& write_cursor(std::uint64_t b, std::uint64_t e, std::uint64_t sb, std::uint64_t se) const {
        // A shared region keeps the progress of its default range, [0, max_id), for every process.
        if (region_ && b == 0 && e == config_.max_id() && sb == 0 && se == 1) return *region_->cursor;
        std::lock_guard<std::mutex> lock(cursors_mutex_);
        for (auto& c : cursors_)
            if (c->b == b && c->e == e && c->sb == sb && c->se == se) return *c;
        auto c = std::make_unique<detail::WriteCursor>();
        c->b = b, c->e = e, c->sb = sb, c->se = se;
        cursors_.push_back(std::move(c));
        return *cursors_.back();
    }

    TrackerConfig config_;
    AtomicBitmap bits_; // simple: the IDs; flat pairs: id * max_sub_id + sub_id; table pairs: IDs with a sub-bitmap
    std::unique_ptr<DynamicPairs> pairs_;
    mutable std::mutex cursors_mutex_;
    mutable std::vector<std::unique_ptr<detail::WriteCursor>> cursors_;
    mutable std::atomic<bool> erasing_{false};
    std::unique_ptr<detail::RegionView> region_; // a shared region: its default range's progress, its mapping
};

KEYSPACE_END_NAMESPACE

#include <keyspace/iterators.hpp> // PrefixTracker::iter() hands out the next layer's entry point
