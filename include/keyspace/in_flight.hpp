/** @file keyspace/in_flight.hpp
 *  InFlight: operations in flight on the keys of a tracker — begun when a benchmark sends a command, committed or
 *  aborted when its reply arrives (possibly on another thread), so that the tracker always says what the server
 *  must answer. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/iterators/erase_iter.hpp>
#include <keyspace/iterators/write_iter.hpp>
#include <keyspace/key.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <atomic>   // for std::atomic, std::memory_order
#include <concepts> // for std::same_as
#include <cstddef>  // for std::size_t
#include <cstdint>  // for std::uint64_t, std::uint32_t, std::uint8_t
#include <memory>   // for std::unique_ptr, std::make_unique
#include <optional> // for std::optional
#include <utility>  // for std::exchange

KEYSPACE_BEGIN_NAMESPACE

/** A stream that hands out keys without changing the tracker itself (a reading iterator: distribution, mixed_ratio,
 *  permutation or sequential), which InFlight's stream overloads draw from. Write and erase streams change the
 *  tracker and have their own overloads. */
template <class S>
concept KeySource = requires(S& s) {
    { s.next() } -> std::same_as<std::optional<Key>>;
} && !std::same_as<S, WriteIter> && !std::same_as<S, EraseIter>;

/** Operations in flight on the keys of one PrefixTracker (simple or hierarchical).
 *
 *  A load generator begins an operation when it sends the command and ends it when the reply arrives: commit (the
 *  server applied it) or abort (the server refused it, the connection died). Between the two the operation is *in
 *  flight*, and InFlight keeps the tracker equal to what the server must hold whatever the interleaving, with any
 *  number of operations in flight per thread (pipelines) and ends arriving on any thread:
 *  - **insert** (SET of a new key): the key is claimed at begin (no other insert or write stream takes it), but
 *    reads and deletes do not see it until the commit; an abort frees it.
 *  - **delete** (DEL): at begin the key stops being available to reads, updates and other deletes; it is free for
 *    a new insert only after the commit (the server may still hold it until then); an abort restores it.
 *  - **read** (GET) and **update** (overwrite of an existing key): shared — they exclude an insert or delete of
 *    the same key, never other reads and updates, so a hot key under constant updates stays readable. Each read
 *    knows at begin what the server must answer: Ticket::expect_hit().
 *  - At any moment with nothing in flight the tracker's keys are exactly the committed ones.
 *
 *  **Tickets.** Every begin_…() returns a move-only Ticket, or std::nullopt when the operation was not begun (and
 *  nothing changed). End it with commit() or abort(), from any thread; **destroying a ticket that was not ended
 *  aborts it** (a dropped ticket, a worker that unwinds), so no key stays locked. A failed begin means: the key
 *  is busy (an insert or delete of it is in flight, or — for an insert or delete — a conflicting read or update
 *  of a key sharing its reader stripe, see below), or its state forbids the operation (insert: present; delete,
 *  update: absent), or it lies outside the tracker's range. Pick another key, or try again later: never spin on
 *  it. The stream overloads do that for you: they draw up to max_draws keys and return std::nullopt ("nothing
 *  now", bounded work) when none could be begun.
 *
 *  **How it works.** The tracker's own bits keep meaning "claimed or present", so write streams never hand out a
 *  key twice. Beside them:
 *  - a *busy* bit per key (a private tracker of the same layout) marks the exclusive operations in flight
 *    (insert, delete). A key is *visible* — drawable by reads, updates and deletes — when it is present and not
 *    busy (visible());
 *  - 2 × 2^16 striped reader counts (32-bit, indexed by a hash of the key) mark the shared operations in flight:
 *    one array for operations on a present key (reads that will hit, updates), one for reads that will miss.
 *  Exclusive begin: set busy (test-and-set: fails if busy), then read the key's stripe with an acq_rel RMW
 *  (fetch_add(0)): a delete fails if present-stripe readers are in flight, an insert if absent-stripe readers are;
 *  then an insert claims the tracker's bit (fails if present), a delete checks it is set. Shared begin: increment
 *  the stripe (acq_rel), then load busy (acquire): if set, undo and fail. These two sides form a Dekker handshake
 *  made of read-modify-writes: if the exclusive side's stripe RMW comes before the reader's increment in the
 *  counter's modification order, the reader's increment reads from it (RMWs read the latest value), so the busy
 *  set happens-before the reader's load of busy and the reader sees it; otherwise the exclusive side sees the
 *  increment. Either way they never both proceed (no fence needed, no seq_cst, and ThreadSanitizer models it).
 *  A shared operation that passed the handshake reads the key's state once: no exclusive operation can change it
 *  until the shared one ends, and every exclusive one that ended before wrote the tracker's bit before releasing
 *  busy (acq_rel clear, read by the acquire load of busy). An insert sets busy *before* the tracker's bit, so
 *  nothing sees a key present and not busy before its commit.
 *  Ends: commit insert clears busy (the key becomes visible); abort insert removes the key, then clears busy;
 *  commit delete removes the key, then clears busy; abort delete clears busy; reads and updates decrement their
 *  stripe (release: pairs with the exclusive side's stripe RMW, which thus begins after they ended).
 *
 *  **False conflicts.** Stripes are shared by keys with the same hash: an insert or delete of key k also fails while
 *  a conflicting shared operation on another key of k's stripe is in flight — with R such operations in flight, a
 *  probability of about R / 65536 (1.5% with 1000 reads in flight). Inserts conflict only with reads that will miss
 *  (usually rare), deletes with reads that hit and updates. Reads and updates never fail for that reason: only an
 *  insert or delete of the key itself makes them fail. A key that shares its stripe with a hot key read without
 *  pause is rarely deletable while that lasts.
 *
 *  **Costs.** No lock, no allocation (except growth of the busy bits with the tracker's IDs, and in the table
 *  layout one sub-bitmap per ID when its first field goes busy), no counter every thread writes: an exclusive
 *  operation is three atomic RMWs to begin and one or two to end, a shared one two to begin (one load more) and one
 *  to end. Memory: 512 KiB of stripes plus one bit per key of the tracker's range (a bounded tracker's size again).
 *
 *  **Rules.**
 *  - While an InFlight is used, change the tracker's keys only through it (its begins, and write/erase streams
 *    through begin_insert(WriteIter&) / begin_delete(EraseIter&)); reading iterators may run over the tracker as
 *    usual, and see in-flight inserts and deletes as present: use begin_read() (or visible()) to filter them.
 *  - The tracker must outlive the InFlight, and the InFlight every ticket. One InFlight per tracker.
 *  - count() of the tracker includes in-flight inserts and deletes; with nothing in flight it is the committed count.
 *  - Across processes (a SharedKeyspace region) InFlight is per process: it does not coordinate processes.
 *  Thread safety: every member is thread-safe and lock-free; a Ticket is an ordinary object (one thread at a time
 *  uses it) that may be moved to, and ended on, any thread. */
class InFlight {
public:
    /// What an operation does to its key.
    enum class Kind : std::uint8_t {
        Insert, ///< creates an absent key (exclusive)
        Delete, ///< removes a present key (exclusive)
        Read,   ///< reads a key, present or not (shared)
        Update  ///< overwrites a present key (shared)
    };

    /// log2 of the number of reader stripes per array.
    static constexpr unsigned stripe_bits = 16;
    /// Reader stripes per array (two arrays: shared operations on present keys, reads of absent keys).
    static constexpr std::size_t stripes = std::size_t{1} << stripe_bits;
    /// Keys the stream overloads draw at most before they answer std::nullopt.
    static constexpr int max_draws = 64;

    /** One operation in flight. Move-only; end it with commit() or abort() (from any thread). Destroying or
     *  overwriting a ticket that was not ended aborts it. A moved-from or ended ticket is inactive: ending it again
     *  does nothing. */
    class Ticket {
    public:
        /// Takes over o's operation; o becomes inactive.
        Ticket(Ticket&& o) noexcept
            : ops_(std::exchange(o.ops_, nullptr)), key_(o.key_), stripe_(o.stripe_), kind_(o.kind_), hit_(o.hit_) {}
        /// Aborts this ticket's operation (if active), then takes over o's.
        Ticket& operator=(Ticket&& o) noexcept {
            if (this != &o) {
                abort();
                ops_ = std::exchange(o.ops_, nullptr);
                key_ = o.key_, stripe_ = o.stripe_, kind_ = o.kind_, hit_ = o.hit_;
            }
            return *this;
        }
        Ticket(const Ticket&) = delete;
        Ticket& operator=(const Ticket&) = delete;
        /// Aborts an operation that was not ended (drop = abort).
        ~Ticket() { abort(); }

        /// The server applied the operation: an insert's key becomes visible, a delete's key is removed.
        void commit() noexcept {
            if (ops_ != nullptr) std::exchange(ops_, nullptr)->end(*this, true);
        }
        /// The server did not apply it: an insert's key is freed, a delete's key restored. Reads and updates end
        /// the same way whether committed or aborted.
        void abort() noexcept {
            if (ops_ != nullptr) std::exchange(ops_, nullptr)->end(*this, false);
        }

        /// The key the operation is on.
        [[nodiscard]] Key key() const noexcept { return key_; }
        /// The key's ID.
        [[nodiscard]] std::uint64_t id() const noexcept { return key_.id; }
        /// What the operation does.
        [[nodiscard]] Kind kind() const noexcept { return kind_; }
        /// Whether the key exists on the server while the operation is in flight: for a read, what the server must
        /// answer (true: hit, false: miss); true for updates and deletes, false for inserts.
        [[nodiscard]] bool expect_hit() const noexcept { return hit_; }
        /// Whether the operation is still in flight (not ended, not moved from).
        [[nodiscard]] bool active() const noexcept { return ops_ != nullptr; }

    private:
        friend class InFlight;
        Ticket(InFlight* ops, Key k, std::uint32_t stripe, Kind kind, bool hit) noexcept
            : ops_(ops), key_(k), stripe_(stripe), kind_(kind), hit_(hit) {}

        InFlight* ops_;
        Key key_;
        std::uint32_t stripe_;
        Kind kind_;
        bool hit_;
    };

    /// Operations in flight on t's keys (t must outlive this object). Allocates the stripes and the busy bits.
    explicit InFlight(PrefixTracker& t)
        : tracker_(&t), busy_(t.config()), present_(std::make_unique<Counter[]>(stripes)),
          absent_(std::make_unique<Counter[]>(stripes)), hierarchical_(t.is_hierarchical()) {}
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

    /// The tracker whose keys this serves.
    [[nodiscard]] PrefixTracker& tracker() const noexcept { return *tracker_; }

    // ---- single keys ----------------------------------------------------------------------------------------------

    /// Begins an insert of k (absent, not busy): k is claimed now and becomes visible at commit.
    [[nodiscard]] std::optional<Ticket> begin_insert(Key k) {
        if (!try_insert(k)) return std::nullopt;
        return Ticket(this, k, stripe_of(k), Kind::Insert, false);
    }
    /// Begins a delete of k (present, not busy): k is invisible from now on, and free for inserts after commit.
    [[nodiscard]] std::optional<Ticket> begin_delete(Key k) {
        if (!try_delete(k)) return std::nullopt;
        return Ticket(this, k, stripe_of(k), Kind::Delete, true);
    }
    /// Begins a read of k (not busy; present or not): expect_hit() is what the server must answer.
    [[nodiscard]] std::optional<Ticket> begin_read(Key k) { return begin_shared(k, Kind::Read); }
    /// Begins an update (overwrite) of k (present, not busy).
    [[nodiscard]] std::optional<Ticket> begin_update(Key k) { return begin_shared(k, Kind::Update); }

    /// begin_insert(Key{id, 0}) (simple trackers).
    [[nodiscard]] std::optional<Ticket> begin_insert(std::uint64_t id) { return begin_insert(Key{id, 0}); }
    /// begin_delete(Key{id, 0}) (simple trackers).
    [[nodiscard]] std::optional<Ticket> begin_delete(std::uint64_t id) { return begin_delete(Key{id, 0}); }
    /// begin_read(Key{id, 0}) (simple trackers).
    [[nodiscard]] std::optional<Ticket> begin_read(std::uint64_t id) { return begin_read(Key{id, 0}); }
    /// begin_update(Key{id, 0}) (simple trackers).
    [[nodiscard]] std::optional<Ticket> begin_update(std::uint64_t id) { return begin_update(Key{id, 0}); }

    // ---- streams --------------------------------------------------------------------------------------------------

    /** Begins an insert of the next key the write stream claims (write(), continue_write(), with or without a
     *  distribution): each candidate is marked busy before it is claimed, so no reader sees it before the commit.
     *  A candidate that cannot be begun (claimed meanwhile, or a read of a key of its stripe that will miss is in
     *  flight) is passed over as a key another thread claimed; the stream's sweep for freed keys finds it again
     *  once its progress ends. std::nullopt: the stream has nothing now (or ended, see is_exhausted()); overwrite
     *  cycles (wrap_around()) give nothing here: overwrite existing keys with begin_update(). */
    [[nodiscard]] std::optional<Ticket> begin_insert(WriteIter& w) {
        const auto k = w.next_claiming([this](Key c) { return try_insert(c); });
        if (!k) return std::nullopt;
        return Ticket(this, *k, stripe_of(*k), Kind::Insert, false);
    }
    /** Begins a delete of the next key the erase stream reaches that can be deleted now (present, not busy, no
     *  read or update of its stripe in flight); the others are passed over (one pass). The key stays present
     *  until the commit. */
    [[nodiscard]] std::optional<Ticket> begin_delete(EraseIter& e) {
        const auto k = e.next_removing([this](Key c) { return try_delete(c); });
        if (!k) return std::nullopt;
        return Ticket(this, *k, stripe_of(*k), Kind::Delete, true);
    }
    /// Draws keys from s until a read of one begins (busy keys are drawn again), at most max_draws; std::nullopt
    /// when none could be begun or s had nothing. With a set_only() distribution stream, the reads follow the
    /// distribution over the visible keys.
    template <KeySource S>
    [[nodiscard]] std::optional<Ticket> begin_read(S& s) {
        return draw(s, [this](Key k) { return begin_shared(k, Kind::Read); });
    }
    /// Draws keys from s until an update of one begins (present and not busy), at most max_draws.
    template <KeySource S>
    [[nodiscard]] std::optional<Ticket> begin_update(S& s) {
        return draw(s, [this](Key k) { return begin_shared(k, Kind::Update); });
    }
    /// Draws keys from s until a delete of one begins, at most max_draws (a set_only() distribution stream: deletes
    /// that follow the distribution).
    template <KeySource S>
    [[nodiscard]] std::optional<Ticket> begin_delete(S& s) {
        return draw(s, [this](Key k) { return begin_delete(k); });
    }
    /// Draws keys from s until an insert of one begins, at most max_draws (an unset_only() stream: inserts that
    /// follow its distribution).
    template <KeySource S>
    [[nodiscard]] std::optional<Ticket> begin_insert(S& s) {
        return draw(s, [this](Key k) { return begin_insert(k); });
    }

    // ---- queries --------------------------------------------------------------------------------------------------

    /// Whether an insert or delete of k is in flight (a snapshot: it may change at once).
    [[nodiscard]] bool busy(Key k) const { return busy_.exists(k); }
    /// Whether k is present and no insert or delete of it is in flight: what a read begun now would answer, as a
    /// snapshot (it may change at once; begin_read() holds it).
    [[nodiscard]] bool visible(Key k) const { return !busy_.exists(k) && tracker_->exists(k); }
    /// busy(Key{id, 0}) (simple trackers).
    [[nodiscard]] bool busy(std::uint64_t id) const { return busy(Key{id, 0}); }
    /// visible(Key{id, 0}) (simple trackers).
    [[nodiscard]] bool visible(std::uint64_t id) const { return visible(Key{id, 0}); }
    /// Whether no operation is in flight at all. Scans every stripe and the busy bits: for tests and the end of a
    /// run, not for a hot path.
    [[nodiscard]] bool idle() const noexcept {
        for (std::size_t i = 0; i < stripes; ++i)
            if (present_[i].load(std::memory_order_acquire) != 0 || absent_[i].load(std::memory_order_acquire) != 0)
                return false;
        return busy_.count() == 0;
    }

private:
    using Counter = std::atomic<std::uint32_t>;

    /// The stripe of k: the top bits of a multiplicative hash of (id, sub_id) (of id alone in a simple tracker,
    /// which ignores sub_id).
    [[nodiscard]] std::uint32_t stripe_of(Key k) const noexcept {
        const std::uint64_t sub = hierarchical_ ? k.sub_id : 0;
        const std::uint64_t h = (k.id ^ (sub * 0xd6e8feb86659fd93ull)) * 0x9e3779b97f4a7c15ull;
        return static_cast<std::uint32_t>(h >> (64 - stripe_bits));
    }

    // Exclusive begins: true when k is busy and (insert) claimed / (delete) checked present.
    bool try_insert(Key k) {
        if (!busy_.claim(k)) return false; // busy, or outside the range
        // acq_rel RMW: the exclusive side of the handshake with begin_shared (see the class comment); it reads the
        // latest count, and the release decrements of ended reads happen-before it.
        if (absent_[stripe_of(k)].fetch_add(0, std::memory_order_acq_rel) != 0 || !tracker_->claim(k)) {
            busy_.remove(k);
            return false;
        }
        return true;
    }
    bool try_delete(Key k) {
        if (!busy_.claim(k)) return false;
        if (present_[stripe_of(k)].fetch_add(0, std::memory_order_acq_rel) != 0 || !tracker_->exists(k)) {
            busy_.remove(k);
            return false;
        }
        return true;
    }

    std::optional<Ticket> begin_shared(Key k, Kind kind) {
        const std::uint32_t s = stripe_of(k);
        // acq_rel increment, then an acquire load of busy: the shared side of the handshake.
        present_[s].fetch_add(1, std::memory_order_acq_rel);
        if (busy_.exists(k)) {
            present_[s].fetch_sub(1, std::memory_order_release); // pairs with the stripe RMW of try_delete
            return std::nullopt;
        }
        if (tracker_->exists(k)) return Ticket(this, k, s, kind, true); // stable until we end: deletes wait for us
        if (kind == Kind::Update) {                                     // an update needs the key
            present_[s].fetch_sub(1, std::memory_order_release);
            return std::nullopt;
        }
        // A read that will miss: it must hold off inserts, which look at the absent stripes. Count it there first,
        // then check again (an insert may have begun since the first check, or committed).
        absent_[s].fetch_add(1, std::memory_order_acq_rel);
        present_[s].fetch_sub(1, std::memory_order_release);
        if (busy_.exists(k) || tracker_->exists(k)) {
            absent_[s].fetch_sub(1, std::memory_order_release); // pairs with the stripe RMW of try_insert
            return std::nullopt;
        }
        return Ticket(this, k, s, Kind::Read, false);
    }

    template <class S, class Begin>
    std::optional<Ticket> draw(S& s, Begin&& begin) {
        for (int i = 0; i < max_draws; ++i) {
            const std::optional<Key> k = s.next();
            if (!k) return std::nullopt;
            if (auto t = begin(*k)) return t;
        }
        return std::nullopt;
    }

    void end(const Ticket& t, bool commit) noexcept {
        switch (t.kind_) {
        case Kind::Insert:
            if (!commit) tracker_->remove(t.key_); // before busy clears: nobody sees the key present and idle
            busy_.remove(t.key_);                  // acq_rel: publishes the tracker's bit to the next begin
            break;
        case Kind::Delete:
            if (commit) tracker_->remove(t.key_);
            busy_.remove(t.key_);
            break;
        case Kind::Read:
        case Kind::Update:
            // Release: the exclusive begin whose stripe RMW reads this decrement begins after this operation.
            (t.hit_ ? present_ : absent_)[t.stripe_].fetch_sub(1, std::memory_order_release);
            break;
        }
    }

    PrefixTracker* tracker_;
    PrefixTracker busy_; // same layout as the tracker: the keys with an insert or delete in flight
    std::unique_ptr<Counter[]> present_; // shared operations on present keys (reads that hit, updates), per stripe
    std::unique_ptr<Counter[]> absent_;  // reads of absent keys (that miss), per stripe
    bool hierarchical_;
};

KEYSPACE_END_NAMESPACE
