/** @file keyspace/in_flight.hpp
 *  InFlight: operations in flight on the keys of a tracker — begun when a benchmark sends a command, committed or
 *  aborted when its reply arrives (possibly on another thread), so that the tracker always says what the server
 *  must answer. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/iterators/erase_iter.hpp>
#include <keyspace/iterators/write_iter.hpp>
#include <keyspace/key.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/storage.hpp>

#include <atomic>   // for std::atomic, std::memory_order
#include <concepts> // for std::same_as
#include <cstddef>  // for std::size_t
#include <cstdint>  // for std::uint64_t, std::uint32_t, std::uint8_t, UINT64_MAX
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
 *  - a *busy* bit per key marks the exclusive operations in flight (insert, delete): a lazily committed bitmap
 *    laid out as the tracker's (bit id, or id * max_sub_id + sub_id), or in the table layout a private tracker of
 *    the same config. A key is *visible* — drawable by reads, updates and deletes — when it is present and not
 *    busy (visible());
 *  - 2 × 2^16 striped reader counts (32-bit, 16 to a cache line: a hash of the key's group of 16 neighbours picks
 *    the line, the key's low bits the counter) mark the shared operations in flight:
 *    one array for operations on a present key (reads that will hit, updates), one for reads that will miss.
 *  Exclusive begin: set busy (fails if it was set), then read the key's stripe: a delete fails if present-stripe
 *  operations are in flight, an insert if absent-stripe reads are; then an insert claims the tracker's bit (fails
 *  if present), a delete checks it is set. Shared begin: increment the stripe, then load busy: if set, undo and
 *  fail. The two sides form a Dekker handshake, so they never both proceed:
 *  - bitmap layouts: the busy fetch_or, the stripe load, the stripe increment and the busy load are all seq_cst:
 *    in their single total order, either the increment precedes the stripe load (the exclusive side sees it) or
 *    the busy load follows the fetch_or (the shared side sees it). On x86 this is one locked instruction and one
 *    plain load per side;
 *  - table layout: the private tracker's bits are acq_rel, so the exclusive side reads the stripe with an acq_rel
 *    read-modify-write (fetch_add(0)) instead: if it precedes the increment in the counter's modification order,
 *    the increment reads from it, so the busy set happens-before the shared side's load of busy; otherwise the
 *    RMW reads the increment.
 *  A shared operation that passed the handshake reads the key's state once: no exclusive operation can change it
 *  until the shared one ends, and every exclusive one that ended before wrote the tracker's bit before releasing
 *  busy (a release clear, read by the shared side's load of busy). An insert sets busy *before* the tracker's
 *  bit, so nothing sees a key present and not busy before its commit.
 *  Ends: commit insert clears busy (the key becomes visible); abort insert removes the key, then clears busy;
 *  commit delete removes the key, then clears busy; abort delete clears busy; reads and updates decrement their
 *  stripe (release: pairs with the exclusive side's stripe read, which thus begins after they ended).
 *
 *  **False conflicts.** A stripe is shared by the keys whose groups hash to the same line and whose low 4 bits
 *  agree (never by neighbours): an insert or delete of key k also fails while a conflicting shared operation on
 *  another key of k's stripe is in flight — with R such operations in flight on keys spread over the keyspace, a
 *  probability of about R / 65536 (1.5% with 1000 reads in flight). Inserts conflict only with reads that will miss
 *  (usually rare), deletes with reads that hit and updates. Reads and updates never fail for that reason: only an
 *  insert or delete of the key itself makes them fail. A key that shares its stripe with a hot key read without
 *  pause is rarely deletable while that lasts.
 *
 *  **Costs.** No lock, no allocation (except the busy bits' memory, committed as IDs are first used, and in the
 *  table layout one sub-bitmap per ID when its first field goes busy), no counter every thread writes: an insert
 *  is two atomic read-modify-writes to begin (busy, the tracker's claim) and one to commit; a delete one to begin
 *  and two to commit; a read or update one to begin and one to end (plus a few loads). Memory: 512 KiB of
 *  stripes plus one bit per key of the tracker's range, committed as it is used.
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
    static_assert(stripe_bits > 4, "16 stripes per cache line");
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
        : tracker_(&t),
          table_(t.layout() == TrackerLayout::table ? std::make_unique<PrefixTracker>(t.config()) : nullptr),
          words_(table_ ? 64 : busy_bits(t)), limit_(t.max_id().value_or(max_supported_id)),
          stride_(t.max_sub_id().value_or(1)), hierarchical_(t.is_hierarchical()) {}
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

    /// The tracker whose keys this serves.
    [[nodiscard]] PrefixTracker& tracker() const noexcept { return *tracker_; }

    // ---- single keys ----------------------------------------------------------------------------------------------

    /// Begins an insert of k (absent, not busy): k is claimed now and becomes visible at commit.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_insert(Key k) {
        if (!try_insert(k)) return std::nullopt;
        return Ticket(this, k, 0, Kind::Insert, false); // exclusive: no stripe
    }
    /// Begins a delete of k (present, not busy): k is invisible from now on, and free for inserts after commit.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_delete(Key k) {
        if (!try_delete(k)) return std::nullopt;
        return Ticket(this, k, 0, Kind::Delete, true);
    }
    /// Begins a read of k (not busy; present or not): expect_hit() is what the server must answer.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_read(Key k) { return begin_shared(k, Kind::Read); }
    /// Begins an update (overwrite) of k (present, not busy).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_update(Key k) { return begin_shared(k, Kind::Update); }

    /// begin_insert(Key{id, 0}) (simple trackers).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_insert(std::uint64_t id) { return begin_insert(Key{id, 0}); }
    /// begin_delete(Key{id, 0}) (simple trackers).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_delete(std::uint64_t id) { return begin_delete(Key{id, 0}); }
    /// begin_read(Key{id, 0}) (simple trackers).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_read(std::uint64_t id) { return begin_read(Key{id, 0}); }
    /// begin_update(Key{id, 0}) (simple trackers).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_update(std::uint64_t id) { return begin_update(Key{id, 0}); }

    // ---- streams --------------------------------------------------------------------------------------------------

    /** Begins an insert of the next key the write stream claims (write(), continue_write(), with or without a
     *  distribution): each candidate is marked busy before it is claimed, so no reader sees it before the commit.
     *  A candidate that cannot be begun (claimed meanwhile, or a read of a key of its stripe that will miss is in
     *  flight) is passed over as a key another thread claimed; the stream's sweep for freed keys finds it again
     *  once its progress ends. std::nullopt: the stream has nothing now (or ended, see is_exhausted()); overwrite
     *  cycles (wrap_around()) give nothing here: overwrite existing keys with begin_update(). */
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_insert(WriteIter& w) {
        const auto k = w.next_claiming([this](Key c) { return try_insert(c); });
        if (!k) return std::nullopt;
        return Ticket(this, *k, 0, Kind::Insert, false); // exclusive: no stripe
    }
    /** Begins a delete of the next key the erase stream reaches that can be deleted now (present, not busy, no
     *  read or update of its stripe in flight); the others are passed over (one pass). The key stays present
     *  until the commit. */
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_delete(EraseIter& e) {
        const auto k = e.next_removing([this](Key c) { return try_delete(c); });
        if (!k) return std::nullopt;
        return Ticket(this, *k, 0, Kind::Delete, true);
    }
    /// Draws keys from s until a read of one begins (busy keys are drawn again), at most max_draws; std::nullopt
    /// when none could be begun or s had nothing. With a set_only() distribution stream, the reads follow the
    /// distribution over the visible keys.
    template <KeySource S>
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_read(S& s) {
        return draw(s, [this](Key k) { return begin_shared(k, Kind::Read); });
    }
    /// Draws keys from s until an update of one begins (present and not busy), at most max_draws.
    template <KeySource S>
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_update(S& s) {
        return draw(s, [this](Key k) { return begin_shared(k, Kind::Update); });
    }
    /// Draws keys from s until a delete of one begins, at most max_draws (a set_only() distribution stream: deletes
    /// that follow the distribution).
    template <KeySource S>
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_delete(S& s) {
        return draw(s, [this](Key k) { return begin_delete(k); });
    }
    /// Draws keys from s until an insert of one begins, at most max_draws (an unset_only() stream: inserts that
    /// follow its distribution).
    template <KeySource S>
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::optional<Ticket> begin_insert(S& s) {
        return draw(s, [this](Key k) { return begin_insert(k); });
    }

    // ---- queries --------------------------------------------------------------------------------------------------

    /// Whether an insert or delete of k is in flight (a snapshot: it may change at once).
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool busy(Key k) const { return is_busy(k); }
    /// Whether k is present and no insert or delete of it is in flight: what a read begun now would answer, as a
    /// snapshot (it may change at once; begin_read() holds it).
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool visible(Key k) const { return !is_busy(k) && tracker_->exists(k); }
    /// busy(Key{id, 0}) (simple trackers).
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool busy(std::uint64_t id) const { return busy(Key{id, 0}); }
    /// visible(Key{id, 0}) (simple trackers).
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool visible(std::uint64_t id) const { return visible(Key{id, 0}); }
    /// Whether no operation is in flight at all. Scans every stripe and the busy bits: for tests and the end of a
    /// run, not for a hot path.
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool idle() const {
        for (std::size_t i = 0; i < stripes; ++i)
            if (present_[i].load(std::memory_order_acquire) != 0 || absent_[i].load(std::memory_order_acquire) != 0)
                return false;
        if (table_) return table_->count() == 0;
        bool none = true;
        words_.for_each_run(0, (words_.capacity() + 63) / 64, [&](std::uint64_t, const BitmapWord* w,
                                                                  std::size_t n) {
            for (std::size_t i = 0; i < n && none; ++i) none = w[i].load(std::memory_order_acquire) == 0;
            return none;
        });
        return none;
    }

private:
    using Counter = std::atomic<std::uint32_t>;
    /// One array of reader stripes, 16 counters per cache line (see stripe_of).
    class Stripes {
    public:
        Stripes() : lines_(std::make_unique<Line[]>(stripes / 16)) {}
        Counter& operator[](std::size_t s) const noexcept { return lines_[s >> 4].c[s & 15]; }

    private:
        struct alignas(cache_line_size) Line {
            Counter c[16];
        };
        static_assert(sizeof(Line) == cache_line_size);
        std::unique_ptr<Line[]> lines_;
    };

    /// The stripe of k. Keys come in groups of 16 neighbours (IDs 16g to 16g + 15 of a simple tracker; sub-IDs
    /// 16g to 16g + 15 of one ID of a hierarchical one), and a group's 16 counters fill one cache line: the line is
    /// chosen by a multiplicative hash of the group, the counter by the key's low 4 bits. So neighbours never share
    /// a counter (no false conflict between them), and threads working on different parts of the keyspace rarely
    /// share a line — with plain hashing, two threads' hot sets of a thousand keys shared a quarter of their lines.
    [[nodiscard]] std::uint32_t stripe_of(Key k) const noexcept {
        const std::uint64_t group = hierarchical_ ? k.id ^ ((k.sub_id >> 4) * 0xd6e8feb86659fd93ull) : k.id >> 4;
        const std::uint64_t low = (hierarchical_ ? k.sub_id : k.id) & 15;
        const std::uint64_t line = (group * 0x9e3779b97f4a7c15ull) >> (64 - (stripe_bits - 4));
        return static_cast<std::uint32_t>(line << 4 | low);
    }

    static constexpr std::uint64_t npos = UINT64_MAX;

    /// The busy bits' initial capacity in the bitmap layouts: the tracker's range, or its initial capacity.
    static std::uint64_t busy_bits(const PrefixTracker& t) {
        const std::uint64_t k = t.max_sub_id().value_or(1);
        return t.max_id() ? *t.max_id() * k : t.config().initial_capacity(); // max_id * k <= 2^63: the tracker checked
    }
    /// k's busy bit in the bitmap layouts, or npos for a key outside the tracker's keys.
    [[nodiscard]] std::uint64_t position(Key k) const noexcept {
        if (k.id >= limit_) return npos;
        if (!hierarchical_) return k.id;
        if (k.sub_id >= stride_ || k.id >= max_supported_id / stride_) return npos;
        return k.id * stride_ + k.sub_id;
    }
    /// Sets k's busy bit: true if it was clear (false: busy, or outside the keys).
    bool set_busy(Key k) {
        if (table_) return table_->claim(k);
        const std::uint64_t p = position(k);
        if (p == npos) return false;
        const std::uint64_t m = std::uint64_t{1} << (p & 63);
        // seq_cst: the exclusive side of the handshake; the stripe load that follows is seq_cst too.
        return (words_.word_for_write(p >> 6).fetch_or(m, std::memory_order_seq_cst) & m) == 0;
    }
    /// Clears k's busy bit (set by this thread's or another's set_busy).
    void clear_busy(Key k) noexcept {
        if (table_) {
            table_->remove(k);
            return;
        }
        const std::uint64_t p = position(k);
        // Release: whoever loads this bit clear sees the tracker's bit as this operation left it.
        words_.word(p >> 6)->fetch_and(~(std::uint64_t{1} << (p & 63)), std::memory_order_release);
    }
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool is_busy(Key k) const {
        if (table_) return table_->exists(k); // acquire
        const std::uint64_t p = position(k);
        if (p == npos) return false;
        const BitmapWord* w = words_.word(p >> 6);
        // seq_cst: the shared side of the handshake (after the seq_cst stripe increment).
        return w != nullptr && ((w->load(std::memory_order_seq_cst) >> (p & 63)) & 1) != 0;
    }
    /// Whether operations are in flight on k's stripe of `counts`: the exclusive side's read of the stripe.
    [[nodiscard]] bool stripe_busy(const Stripes& counts, Key k) const noexcept {
        Counter& c = counts[stripe_of(k)];
        // Bitmap layouts: a seq_cst load after the seq_cst busy RMW. Table layout: an acq_rel RMW, which reads the
        // latest count and synchronizes with the increment it follows (see the class comment).
        return (table_ ? c.fetch_add(0, std::memory_order_acq_rel) : c.load(std::memory_order_seq_cst)) != 0;
    }

    // Exclusive begins: true when k is busy and (insert) claimed / (delete) checked present.
    bool try_insert(Key k) {
        if (!set_busy(k)) return false; // busy, or outside the range
        if (stripe_busy(absent_, k) || !tracker_->claim(k)) {
            clear_busy(k);
            return false;
        }
        return true;
    }
    KEYSPACE_ISA_ABI
    bool try_delete(Key k) {
        if (!set_busy(k)) return false;
        if (stripe_busy(present_, k) || !tracker_->exists(k)) {
            clear_busy(k);
            return false;
        }
        return true;
    }

    KEYSPACE_ISA_ABI
    std::optional<Ticket> begin_shared(Key k, Kind kind) {
        const std::uint32_t s = stripe_of(k);
        // seq_cst increment, then the load of busy: the shared side of the handshake.
        present_[s].fetch_add(1, std::memory_order_seq_cst);
        if (is_busy(k)) {
            present_[s].fetch_sub(1, std::memory_order_release); // pairs with the stripe read of try_delete
            return std::nullopt;
        }
        if (tracker_->exists(k)) return Ticket(this, k, s, kind, true); // stable until we end: deletes wait for us
        if (kind == Kind::Update) {                                     // an update needs the key
            present_[s].fetch_sub(1, std::memory_order_release);
            return std::nullopt;
        }
        // A read that will miss: it must hold off inserts, which look at the absent stripes. Count it there first,
        // then check again (an insert may have begun since the first check, or committed).
        absent_[s].fetch_add(1, std::memory_order_seq_cst);
        present_[s].fetch_sub(1, std::memory_order_release);
        if (is_busy(k) || tracker_->exists(k)) {
            absent_[s].fetch_sub(1, std::memory_order_release); // pairs with the stripe read of try_insert
            return std::nullopt;
        }
        return Ticket(this, k, s, Kind::Read, false);
    }

    template <class S, class Begin>
    KEYSPACE_ISA_ABI
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
            clear_busy(t.key_);                    // release: publishes the tracker's bit to the next begin
            break;
        case Kind::Delete:
            if (commit) tracker_->remove(t.key_);
            clear_busy(t.key_);
            break;
        case Kind::Read:
        case Kind::Update:
            // Release: the exclusive begin whose stripe RMW reads this decrement begins after this operation.
            (t.hit_ ? present_ : absent_)[t.stripe_].fetch_sub(1, std::memory_order_release);
            break;
        }
    }

    PrefixTracker* tracker_;
    std::unique_ptr<PrefixTracker> table_; // table layout: the busy keys, as pairs of a tracker of the same config
    GrowableStorage words_;                // bitmap layouts: the busy bits, laid out as the tracker's bits
    Stripes present_;                      // shared operations on present keys (reads that hit, updates), per stripe
    Stripes absent_;                       // reads of absent keys (that miss), per stripe
    std::uint64_t limit_;                  // IDs are below it
    std::uint64_t stride_;                 // flat layout: max_sub_id (1 otherwise)
    bool hierarchical_;
};

KEYSPACE_END_NAMESPACE
