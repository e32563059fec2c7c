/** @file keyspace/prefix_groups_tracker.hpp
 *  PrefixGroupsTracker: a registry of PrefixTrackers by prefix, with a lock-free lookup. Its iterators over many
 *  prefixes at once are in <keyspace/group_iterators.hpp> (included). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/group_iterators.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm>   // for std::max
#include <atomic>      // for std::atomic
#include <bit>         // for std::bit_ceil
#include <cstddef>     // for std::size_t
#include <cstdint>     // for std::uint64_t, std::uintptr_t
#include <memory>      // for std::shared_ptr, std::weak_ptr, std::unique_ptr
#include <mutex>       // for std::mutex, std::lock_guard
#include <optional>    // for std::optional
#include <stdexcept>   // for std::invalid_argument
#include <string>      // for std::string
#include <string_view> // for std::string_view, std::hash<std::string_view>
#include <utility>     // for std::move
#include <vector>      // for std::vector

KEYSPACE_BEGIN_NAMESPACE

/// What PrefixGroupsTracker::try_add or try_adopt did.
enum class AddResult {
    Inserted,       ///< the prefix was free: the tracker (new, or the one adopted) was registered
    Existing,       ///< try_add: the prefix was taken by a tracker with an equal config; try_adopt: by that very
                    ///< tracker object. The registered tracker is returned
    ConfigMismatch, ///< try_add: the prefix was taken by a tracker with a different config; that tracker is returned
    OtherTracker    ///< try_adopt: the prefix was taken by another tracker object (whatever its config); that one is
                    ///< returned and the tracker passed is not registered
};

namespace detail {

/// One registration: immutable once published, except `owner`, which only writers touch (under the mutex).
struct GroupEntry {
    GroupEntry(TrackerConfig c, std::shared_ptr<PrefixTracker> t, std::uint64_t h)
        : config(std::move(c)), weak(t), owner(std::move(t)), hash(h) {}
    const TrackerConfig config;              // config.prefix() is the key
    const std::weak_ptr<PrefixTracker> weak; // what readers turn into a shared_ptr (never modified)
    std::shared_ptr<PrefixTracker> owner;    // the registry's own reference; writers only
    const std::uint64_t hash;
};

/// An open-addressing table (linear probing, power-of-two size) of pointers to entries. Load (entries plus
/// tombstones) stays at most 1/2, so every probe sequence meets a null slot.
struct GroupTable {
    explicit GroupTable(std::size_t capacity)
        : mask(capacity - 1), slots(new std::atomic<const GroupEntry*>[capacity]) {
        for (std::size_t i = 0; i < capacity; ++i) slots[i].store(nullptr, std::memory_order_relaxed);
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return mask + 1; }
    std::size_t mask;
    std::unique_ptr<std::atomic<const GroupEntry*>[]> slots;
};

/// A removed slot: probes pass over it. Only ever compared, never dereferenced.
inline const GroupEntry* group_tombstone() noexcept {
    return reinterpret_cast<const GroupEntry*>(static_cast<std::uintptr_t>(alignof(GroupEntry)));
}

[[nodiscard]] inline std::uint64_t group_hash(std::string_view s) noexcept {
    return static_cast<std::uint64_t>(std::hash<std::string_view>{}(s));
}

} // namespace detail

/** A registry of PrefixTrackers by prefix, shared by many threads.
 *
 *  Lookup. get(prefix) takes no lock: it loads the current table (acquire), probes an open-addressing table of
 *  atomic pointers to immutable entries (acquire loads, a heterogeneous std::string_view compare) and turns the
 *  entry's std::weak_ptr into the returned std::shared_ptr: the only atomic write is that reference count
 *  increment (a compare-and-swap). Keep the pointer in a worker rather than calling get per operation.
 *  Writers (add, try_add, adopt, try_adopt, get_or_create's insertion, remove, clear) are serialized by a mutex
 *  and publish slots and tables with release stores; prefixes(), size(), total_count() and iter() take that mutex
 *  briefly too.
 *
 *  Ownership. The registry holds one std::shared_ptr per registered tracker; remove() hands that reference to its
 *  caller and clear() drops them all, so a tracker lives exactly as long as somebody (the registry, a worker, an
 *  iterator) holds it. An entry itself keeps only a weak_ptr, so a reader racing with remove() either gets the
 *  tracker (its get linearizes before the removal) or null (after it).
 *
 *  Reclamation. A reader may still be reading a removed entry, or a table that a resize replaced, for an unbounded
 *  time, and readers announce nothing; so retired entries and tables are kept and freed when the registry is
 *  destroyed (no epochs or hazard pointers on the read path). The cost is bounded and small: an add/remove cycle
 *  retains one entry (about 130 bytes, plus the prefix when longer than the small-string buffer) and the tracker's
 *  control block (24 bytes; the tracker and its bitmap are freed when the last holder lets go), plus the tables
 *  retired by the rehashes that tombstones trigger: a table of c slots (8 bytes each) is replaced after at least
 *  c/2 - live tombstones, at most 32 bytes per cycle amortized (re-adding a removed prefix usually reuses its
 *  tombstone and costs no table at all). About 200 bytes per cycle with allocator overhead, so a million cycles
 *  keep about 200 MB until destruction: a registry is meant for a workload's prefixes, not for churning millions.
 *
 *  Adoption. adopt()/try_adopt() register a tracker that already exists — one mapped by SharedKeyspace, one read
 *  by load_tracker, one a worker made — under its own prefix, and it is then found exactly as an added one (same
 *  lock-free get). The registry shares ownership through the std::shared_ptr passed. A tracker made by
 *  std::make_shared keeps its object and control block in one allocation, so a removed entry's weak_ptr then
 *  pins sizeof(PrefixTracker) bytes (not its bitmap, which is freed with the last holder) until the registry dies;
 *  SharedKeyspace and load_tracker (a std::unique_ptr) make separate control blocks.
 *
 *  Prefixes must be non-empty (std::invalid_argument from add, try_add, adopt, try_adopt and get_or_create; get and
 *  remove answer null for ""). Non-copyable and non-movable; the static factories return prvalues. */
class PrefixGroupsTracker {
public:
    PrefixGroupsTracker() : PrefixGroupsTracker(std::nullopt) {}
    /// get_or_create makes simple trackers bounded by max_id (1 <= max_id <= 2^63, else std::invalid_argument).
    [[nodiscard]] static PrefixGroupsTracker with_default_max_id(std::uint64_t max_id) {
        return PrefixGroupsTracker(TrackerConfig::simple("").with_max_id(max_id));
    }
    /// get_or_create makes trackers with this config (its prefix is replaced by the requested one).
    [[nodiscard]] static PrefixGroupsTracker with_default_config(TrackerConfig config) {
        return PrefixGroupsTracker(std::move(config));
    }
    ~PrefixGroupsTracker() { delete table_.load(std::memory_order_relaxed); }
    PrefixGroupsTracker(const PrefixGroupsTracker&) = delete;
    PrefixGroupsTracker& operator=(const PrefixGroupsTracker&) = delete;

    /// Registers a tracker for config.prefix(); when the prefix is taken, returns the registered tracker instead.
    std::shared_ptr<PrefixTracker> add(TrackerConfig config) { return try_add(std::move(config)).first; }

    /// Like add, and says what it did (Inserted, Existing with an equal config, or ConfigMismatch).
    std::pair<std::shared_ptr<PrefixTracker>, AddResult> try_add(TrackerConfig config) {
        check_prefix("PrefixGroupsTracker::add", config.prefix());
        std::lock_guard<std::mutex> lock(mutex_);
        const GroupTable& t = *table_.load(std::memory_order_relaxed); // writers only change it under the mutex
        const std::uint64_t h = detail::group_hash(config.prefix());
        if (const auto* e = find(t, config.prefix(), h))
            return {e->owner, e->config == config ? AddResult::Existing : AddResult::ConfigMismatch};
        // A separate control block: a retired entry's weak_ptr pins 24 bytes only.
        std::shared_ptr<PrefixTracker> tracker(new PrefixTracker(config));
        return {insert(std::move(tracker), std::move(config), h), AddResult::Inserted};
    }

    /// Registers an existing tracker under its own prefix (tracker->prefix()) and returns it; when the prefix is
    /// taken, returns the registered tracker instead (see try_adopt). Accepts the std::shared_ptr of
    /// SharedKeyspace::create/open and the std::unique_ptr of load_tracker (converted). A null tracker or an empty
    /// prefix throws std::invalid_argument.
    std::shared_ptr<PrefixTracker> adopt(std::shared_ptr<PrefixTracker> tracker) {
        return try_adopt(std::move(tracker)).first;
    }

    /// Like adopt, and says what it did: Inserted (the tracker passed is now registered), Existing (that same
    /// tracker object already was) or OtherTracker (another tracker holds the prefix, even with an equal config: it
    /// is returned, and the one passed is not registered; remove() the prefix first to replace it). Readers see an
    /// adopted tracker through the same lock-free get() as an added one. On an exception nothing is registered.
    std::pair<std::shared_ptr<PrefixTracker>, AddResult> try_adopt(std::shared_ptr<PrefixTracker> tracker) {
        if (!tracker) detail::fail_invalid_argument({"PrefixGroupsTracker::adopt: the tracker is null"});
        check_prefix("PrefixGroupsTracker::adopt", tracker->prefix());
        TrackerConfig config = tracker->config(); // copied before the lock: the entry's immutable key
        std::lock_guard<std::mutex> lock(mutex_);
        const GroupTable& t = *table_.load(std::memory_order_relaxed); // writers only change it under the mutex
        const std::uint64_t h = detail::group_hash(config.prefix());
        if (const auto* e = find(t, config.prefix(), h))
            return {e->owner, e->owner == tracker ? AddResult::Existing : AddResult::OtherTracker};
        return {insert(std::move(tracker), std::move(config), h), AddResult::Inserted};
    }

    /// The tracker for prefix, or null. Takes no lock (see the class note); "" answers null.
    [[nodiscard]] std::shared_ptr<PrefixTracker> get(std::string_view prefix) const {
        // Acquire pairs with the release stores of table_ in rehash() and reset_table(): the table's slots as
        // filled before publication are visible.
        const GroupTable& t = *table_.load(std::memory_order_acquire);
        const std::uint64_t h = detail::group_hash(prefix);
        for (std::size_t i = static_cast<std::size_t>(h) & t.mask;; i = (i + 1) & t.mask) {
            // Acquire pairs with the release store in insert(): the entry's construction is visible.
            const GroupEntry* e = t.slots[i].load(std::memory_order_acquire);
            if (e == nullptr) return nullptr;
            if (e != detail::group_tombstone() && e->hash == h && e->config.prefix() == prefix) return e->weak.lock();
        }
    }

    /// The tracker for prefix, registering one with the default config (simple and unbounded unless a factory set
    /// it) when absent. "" throws std::invalid_argument.
    std::shared_ptr<PrefixTracker> get_or_create(std::string_view prefix) {
        check_prefix("PrefixGroupsTracker::get_or_create", prefix);
        if (auto t = get(prefix)) return t;
        return add(config_for(std::string(prefix)));
    }

    /// Unregisters prefix and returns the registry's reference to its tracker (null if absent): other holders keep
    /// the tracker alive; once the returned pointer and theirs are gone, it is destroyed.
    std::shared_ptr<PrefixTracker> remove(std::string_view prefix) {
        std::lock_guard<std::mutex> lock(mutex_);
        GroupTable& t = *table_.load(std::memory_order_relaxed);
        const std::uint64_t h = detail::group_hash(prefix);
        for (std::size_t i = static_cast<std::size_t>(h) & t.mask;; i = (i + 1) & t.mask) {
            const GroupEntry* e = t.slots[i].load(std::memory_order_relaxed);
            if (e == nullptr) return nullptr;
            if (e == detail::group_tombstone() || e->hash != h || e->config.prefix() != prefix) continue;
            // Release for symmetry with insert(); a reader that still loads e is served by its weak_ptr.
            t.slots[i].store(detail::group_tombstone(), std::memory_order_release);
            auto* entry = const_cast<GroupEntry*>(e);
            order_.erase(std::find(order_.begin(), order_.end(), entry));
            live_.store(order_.size(), std::memory_order_relaxed);
            return std::move(entry->owner); // the entry stays allocated (retired) until the registry dies
        }
    }

    /// Registered prefixes in registration order.
    [[nodiscard]] std::vector<std::string> prefixes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> out;
        out.reserve(order_.size());
        for (const auto* e : order_) out.push_back(e->config.prefix());
        return out;
    }
    /// Number of registered prefixes.
    [[nodiscard]] std::size_t size() const noexcept { return live_.load(std::memory_order_relaxed); }
    /// Whether no prefix is registered.
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    /// Unregisters every prefix (holders keep their trackers alive).
    void clear() {
        std::vector<std::shared_ptr<PrefixTracker>> dropped; // destroyed after the lock is released
        std::lock_guard<std::mutex> lock(mutex_);
        dropped.reserve(order_.size());
        for (auto* e : order_) dropped.push_back(std::move(e->owner));
        order_.clear();
        live_.store(0, std::memory_order_relaxed);
        publish(std::make_unique<GroupTable>(initial_capacity));
    }
    /// Sum of count() over the registered trackers.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t total_count() const {
        std::uint64_t n = 0;
        for (const auto& t : snapshot()) n += t->count();
        return n;
    }

    /// A group iterator builder over the trackers registered now (held by shared_ptr), in registration order.
    [[nodiscard]] GroupIteratorBuilder iter() const { return GroupIteratorBuilder(snapshot()); }

private:
    using GroupEntry = detail::GroupEntry;
    using GroupTable = detail::GroupTable;
    static constexpr std::size_t initial_capacity = 16;

    explicit PrefixGroupsTracker(std::optional<TrackerConfig> defaults)
        : defaults_(std::move(defaults)), table_(new GroupTable(initial_capacity)) {}

    static void check_prefix(const char* fn, std::string_view prefix) {
        if (prefix.empty()) detail::fail_invalid_argument({fn, ": the prefix must not be empty"});
    }

    [[nodiscard]] TrackerConfig config_for(std::string prefix) const {
        if (!defaults_) return TrackerConfig::simple(std::move(prefix));
        const TrackerConfig& d = *defaults_;
        TrackerConfig c = d.is_hierarchical() ? TrackerConfig::hierarchical(std::move(prefix))
                                              : TrackerConfig::simple(std::move(prefix));
        c = c.with_initial_capacity(d.initial_capacity());
        if (d.max_id()) c = c.with_max_id(*d.max_id());
        if (d.max_sub_id()) c = c.with_max_sub_id(*d.max_sub_id());
        return c;
    }

    [[nodiscard]] std::vector<std::shared_ptr<PrefixTracker>> snapshot() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::shared_ptr<PrefixTracker>> out;
        out.reserve(order_.size());
        for (const auto* e : order_) out.push_back(e->owner);
        return out;
    }

    // Writers only (mutex held).
    [[nodiscard]] static GroupEntry* find(const GroupTable& t, std::string_view prefix, std::uint64_t h) noexcept {
        for (std::size_t i = static_cast<std::size_t>(h) & t.mask;; i = (i + 1) & t.mask) {
            const GroupEntry* e = t.slots[i].load(std::memory_order_relaxed);
            if (e == nullptr) return nullptr;
            if (e != detail::group_tombstone() && e->hash == h && e->config.prefix() == prefix)
                return const_cast<GroupEntry*>(e);
        }
    }

    std::shared_ptr<PrefixTracker> insert(std::shared_ptr<PrefixTracker> tracker, TrackerConfig config,
                                          std::uint64_t h) {
        // Everything that can throw happens before the entry is published.
        entries_.push_back(std::make_unique<GroupEntry>(std::move(config), tracker, h));
        GroupEntry* entry = entries_.back().get();
        KEYSPACE_TRY {
            order_.reserve(order_.size() + 1);
            if ((used_ + 1) * 2 > table_.load(std::memory_order_relaxed)->capacity()) rehash(order_.size() + 1);
        } KEYSPACE_CATCH_ALL {
            entries_.pop_back();
            KEYSPACE_RETHROW;
        }
        GroupTable& t = *table_.load(std::memory_order_relaxed);
        std::size_t i = static_cast<std::size_t>(h) & t.mask;
        for (;; i = (i + 1) & t.mask) {
            const GroupEntry* e = t.slots[i].load(std::memory_order_relaxed);
            if (e == nullptr) {
                ++used_;
                break;
            }
            if (e == detail::group_tombstone()) break; // reuse: the prefix is absent (checked under the mutex)
        }
        // Release pairs with the acquire load in get(): the entry is fully built before it can be found.
        t.slots[i].store(entry, std::memory_order_release);
        order_.push_back(entry);
        live_.store(order_.size(), std::memory_order_relaxed);
        return tracker;
    }

    // A fresh table for `live` entries (load <= 1/4 after the rebuild), without tombstones.
    void rehash(std::size_t live) {
        auto fresh = std::make_unique<GroupTable>(std::max(initial_capacity, std::bit_ceil(live * 4)));
        for (const GroupEntry* e : order_) {
            std::size_t i = static_cast<std::size_t>(e->hash) & fresh->mask;
            while (fresh->slots[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & fresh->mask;
            fresh->slots[i].store(e, std::memory_order_relaxed); // published by the release store in publish()
        }
        publish(std::move(fresh));
        used_ = order_.size();
    }
    void publish(std::unique_ptr<GroupTable> fresh) {
        retired_tables_.reserve(retired_tables_.size() + 1);
        // Release pairs with the acquire load in get(): the new table's slots are visible to whoever finds it.
        GroupTable* old = table_.exchange(fresh.release(), std::memory_order_acq_rel);
        retired_tables_.emplace_back(old); // a reader may still probe it: freed with the registry
        used_ = order_.size();
    }

    std::optional<TrackerConfig> defaults_;
    mutable std::mutex mutex_;
    std::atomic<GroupTable*> table_;
    std::atomic<std::size_t> live_{0};
    std::size_t used_ = 0;                               // live entries plus tombstones in the current table
    std::vector<GroupEntry*> order_;                     // live entries, registration order
    std::vector<std::unique_ptr<GroupEntry>> entries_;   // every entry ever made, live or retired
    std::vector<std::unique_ptr<GroupTable>> retired_tables_;
};

KEYSPACE_END_NAMESPACE
