/** @file keyspace/toolkit/op_mix.hpp
 *  Operation mixes: a weighted choice among the operations of the YCSB core workloads and of key-value load
 *  generators — read, overwrite (update), insert, delete, scan, read-modify-write — parsed from
 *  "get:0.8,set:0.2", and OpStream, which routes each chosen operation to the right iterator of a tracker. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/text.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/in_flight.hpp>
#include <keyspace/iterators.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/sampling/rng.hpp>

#include <array>        // for std::array
#include <charconv>     // for std::from_chars
#include <cmath>        // for std::isfinite
#include <cstdio>       // for std::snprintf
#include <cstddef>     // for std::size_t
#include <cstdint>     // for std::uint64_t, std::uint8_t
#include <optional>    // for std::optional
#include <stdexcept>   // for std::invalid_argument
#include <string>      // for std::string, std::to_string
#include <string_view> // for std::string_view
#include <utility>     // for std::move

KEYSPACE_BEGIN_NAMESPACE

/** The kinds of operation a benchmark worker issues (YCSB's core workload operations, plus delete):
 *  - Read: read an existing key (GET, HGET);
 *  - Overwrite: write an existing key again (SET over a present key; YCSB's update);
 *  - Insert: write a new key (SET of an absent key);
 *  - Delete: remove an existing key (DEL, HDEL);
 *  - Scan: read a run of keys from an existing one (YCSB's scan: Operation::scan_length keys in key order);
 *  - ReadModifyWrite: read an existing key, then write it (YCSB's readmodifywrite). */
enum class Op : std::uint8_t { Read, Overwrite, Insert, Delete, Scan, ReadModifyWrite };
/// The number of operation kinds (the enumerators of Op).
inline constexpr std::size_t op_count = 6;

/// "read", "overwrite", "insert", "delete", "scan", "rmw".
[[nodiscard]] constexpr std::string_view op_name(Op op) noexcept {
    constexpr std::array<std::string_view, op_count> names{"read", "overwrite", "insert", "delete", "scan", "rmw"};
    const auto k = static_cast<std::size_t>(op);
    return k < op_count ? names[k] : std::string_view("?");
}

/** A weighted choice among the operations, O(1) and branch-free: one 64-bit random draw compared with five
 *  thresholds (the cumulative weights scaled to 2^63), exact to 2^-63.
 *
 *  Text form: comma-separated `name:weight` items, e.g. `"get:0.8,set:0.2"`. Names (ASCII case-insensitive):
 *  read = `read`/`get`; overwrite = `overwrite`/`set`/`update`; insert = `insert`/`add`; delete =
 *  `delete`/`del`/`erase`/`remove`; scan = `scan`; read-modify-write = `rmw`/`readmodifywrite`/
 *  `read-modify-write`/`read_modify_write`. Weights are relative (divided by their sum): `"get:80,set:20"` equals
 *  `"get:0.8,set:0.2"`. Omitted operations have weight 0. Whitespace around names and numbers is allowed.
 *  Thread safety: immutable; choose() may be called concurrently (each thread with its own generator). */
class OpMix {
public:
    /// Weights for read, overwrite, insert, delete, scan and read-modify-write. Throws std::invalid_argument for a
    /// negative, NaN or infinite weight, or when all are 0.
    OpMix(double read, double overwrite, double insert, double del, double scan = 0, double read_modify_write = 0)
        : w_{read, overwrite, insert, del, scan, read_modify_write} {
        double total = 0;
        for (std::size_t k = 0; k < op_count; ++k) {
            if (!(w_[k] >= 0) || !std::isfinite(w_[k]))
                detail::fail_invalid_argument(
                    {"OpMix: the weight of ", op_name(static_cast<Op>(k)), " must be finite and >= 0, got ", w_[k]});
            total += w_[k];
        }
        if (!(total > 0) || !std::isfinite(total))
            detail::fail_invalid_argument({"OpMix: the weights must have a positive finite sum"});
        double cum = 0;
        for (std::size_t k = 0; k < op_count; ++k) w_[k] /= total;
        for (std::size_t k = 0; k + 1 < op_count; ++k) {
            cum += w_[k];
            bool rest_zero = true;
            for (std::size_t j = k + 1; j < op_count; ++j) rest_zero = rest_zero && w_[j] == 0;
            constexpr double two63 = 9223372036854775808.0;
            const double t = cum * two63;
            t_[k] = rest_zero || t >= two63 ? (1ull << 63) : static_cast<std::uint64_t>(t);
        }
    }

    /// Parses the text form (see the class note). Throws std::invalid_argument naming the bad item: an unknown
    /// name (the message lists the accepted ones), a missing `:`, a weight that is not a number or is negative,
    /// an operation given twice, an empty mix, or weights summing to 0.
    [[nodiscard]] static OpMix parse(std::string_view text) {
        std::array<double, op_count> w{};
        std::array<bool, op_count> seen{};
        std::size_t pos = 0;
        while (pos <= text.size()) {
            std::size_t comma = text.find(',', pos);
            if (comma == std::string_view::npos) comma = text.size();
            const std::string_view item = detail::trim_blanks(text.substr(pos, comma - pos));
            if (item.empty()) detail::throw_bad_list_item("OpMix::parse", text, item, "is empty");
            const std::size_t colon = item.find(':');
            if (colon == std::string_view::npos) detail::throw_bad_list_item("OpMix::parse", text, item, "lacks ':weight'");
            const std::string_view name = detail::trim_blanks(item.substr(0, colon));
            const std::optional<Op> op = op_from_name(name);
            if (!op)
                detail::throw_bad_list_item("OpMix::parse", text, item,
                                            "names no operation (read/get, overwrite/set/update, insert/add, "
                                            "delete/del/erase/remove, scan, rmw/readmodifywrite)");
            const auto k = static_cast<std::size_t>(*op);
            if (seen[k]) detail::throw_bad_list_item("OpMix::parse", text, item, "repeats an operation already given");
            seen[k] = true;
            w[k] = number(text, item, detail::trim_blanks(item.substr(colon + 1)));
            pos = comma + 1;
        }
        double total = 0;
        for (const double x : w) total += x;
        if (!(total > 0)) detail::fail_invalid_argument({"OpMix::parse: the weights in '", text, "' sum to 0"});
        return OpMix(w[0], w[1], w[2], w[3], w[4], w[5]);
    }

    /// The probability of op (its weight divided by the sum).
    [[nodiscard]] double probability(Op op) const noexcept {
        const auto k = static_cast<std::size_t>(op);
        return k < op_count ? w_[k] : 0.0;
    }

    /// The operation for 64 uniformly random bits (the top 63 are used).
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE Op choose_bits(std::uint64_t bits) const noexcept {
        const std::uint64_t r = bits >> 1;
        unsigned k = 0;
        for (const std::uint64_t t : t_) k += static_cast<unsigned>(r >= t); // unrolled: five compares, no branch
        return static_cast<Op>(k);
    }
    /// Draws an operation with one call of g (two for generators narrower than 64 bits).
    template <class URBG>
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE Op choose(URBG& g) const {
        return choose_bits(detail::bits64(g));
    }

    /// The canonical text form, e.g. "read:0.8,overwrite:0.2" (operations of weight 0 left out); parse() of it
    /// gives back the same probabilities.
    [[nodiscard]] std::string to_string() const {
        std::string s;
        for (std::size_t k = 0; k < op_count; ++k) {
            if (w_[k] == 0) continue;
            if (!s.empty()) s += ',';
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", w_[k]);
            s += std::string(op_name(static_cast<Op>(k))) + ':' + buf;
        }
        return s;
    }

    /// The operation a name denotes (see the class note), or nullopt.
    [[nodiscard]] static std::optional<Op> op_from_name(std::string_view name) noexcept {
        std::array<char, 24> low{};
        if (name.empty() || name.size() > low.size()) return std::nullopt;
        for (std::size_t i = 0; i < name.size(); ++i)
            low[i] = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
        const std::string_view n(low.data(), name.size());
        if (n == "read" || n == "get") return Op::Read;
        if (n == "overwrite" || n == "set" || n == "update") return Op::Overwrite;
        if (n == "insert" || n == "add") return Op::Insert;
        if (n == "delete" || n == "del" || n == "erase" || n == "remove") return Op::Delete;
        if (n == "scan") return Op::Scan;
        if (n == "rmw" || n == "readmodifywrite" || n == "read-modify-write" || n == "read_modify_write")
            return Op::ReadModifyWrite;
        return std::nullopt;
    }

private:
    static double number(std::string_view text, std::string_view item, std::string_view s) {
        double v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v); // locale-independent
        if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
            detail::throw_bad_list_item("OpMix::parse", text, item, "has a weight that is not a finite number");
        if (v < 0) detail::throw_bad_list_item("OpMix::parse", text, item, "has a negative weight");
        return v;
    }

    std::array<double, op_count> w_;
    std::array<std::uint64_t, op_count - 1> t_{};
};

/// One operation of an OpStream: what to do, and to which key (no ID: nothing available for this operation now,
/// e.g. a read on an empty keyspace, an insert into a full range, a delete whose drawn key another thread removed).
struct Operation {
    /// What to do.
    Op op = Op::Read;
    /// To which ID; nullopt when none is available for the operation now.
    std::optional<std::uint64_t> id;
    /// The sub-ID (field) of the key, for a hierarchical tracker; 0 for a simple one.
    std::uint64_t sub_id = 0;
    /// Scan: how many keys to read in key order, starting at the key (1 to OpStream::max_scan_length()); else 0.
    std::uint64_t scan_length = 0;

    /// The key, when there is one.
    [[nodiscard]] std::optional<Key> key() const noexcept {
        return id ? std::optional<Key>(Key{*id, sub_id}) : std::nullopt;
    }
};

/// One operation of an OpStream begun in flight (OpStream::next(InFlight&)).
struct TrackedOperation {
    /// What to do.
    Op op = Op::Read;
    /// The operation in flight; std::nullopt when none could be begun now (nothing available, or every key drawn
    /// was busy). End it when the reply arrives: commit() if the server applied it, abort() (or drop it) if not.
    std::optional<InFlight::Ticket> ticket;
    /// Scan: how many keys to read in key order from the ticket's key (1 to OpStream::max_scan_length()); else 0.
    std::uint64_t scan_length = 0;
};

/** Draws operations from an OpMix and routes each to the stream that serves it. Every worker's stream routes alike
 *  (none is privileged), simple and hierarchical trackers alike:
 *  - Read, Overwrite, Scan and ReadModifyWrite: a key drawn from `existing` (a random() stream over the keys; by
 *    default `iter().mixed_ratio(1.0).seed(seed).random()`: uniform draws of present keys with replacement; pass
 *    your own for a skewed distribution or a slice), checked to exist when drawn (no ID otherwise). A scan's length
 *    is uniform in [1, max_scan_length()] (YCSB's default scan length distribution; 1000 unless set).
 *  - Insert: the next claim of `inserts` (by default `continue_write()`, shared with every other stream of the
 *    tracker, so no two streams insert the same key). A claim that finds the range full now gives no ID; a later
 *    one takes keys deletes freed meanwhile.
 *  - Delete: a key drawn from `deletes` (by default a second stream like the default `existing`, over the same keys;
 *    pass your own to follow a worker's slice or a distribution), removed with remove() / remove_pair(): the ID is
 *    given only if this call removed it (another worker may have won it).
 *  The stream marks nothing itself beyond that: a read, overwrite, scan or read-modify-write changes no state.
 *  Use a bounded tracker (max_id; for a hierarchical one max_id and max_sub_id, or give your own streams over a
 *  range()), so the read streams see the keys inserts add later. Not thread-safe: one stream per worker thread;
 *  any number of streams may share a tracker. */
class OpStream {
public:
    /// Scan lengths are uniform in [1, max_scan_length()]: 1000 unless set (YCSB's maxscanlength default).
    static constexpr std::uint64_t default_max_scan_length = 1000;

    /// Default streams over the tracker's whole range. Throws std::invalid_argument where those cannot be built (a
    /// hierarchical tracker without max_id and max_sub_id: give your own streams over a range()).
    KEYSPACE_ISA_ABI
    OpStream(PrefixTracker& tracker, OpMix mix, std::uint64_t seed)
        : OpStream(tracker, mix, seed, existing_of(tracker, seed), tracker.iter().continue_write(),
                   existing_of(tracker, seed ^ 0x64656c65746573ull)) {}
    /// Custom read and insert streams (e.g. a skewed read distribution, a slice of the range); deletes draw from
    /// `existing` too, so they follow the same distribution or slice.
    KEYSPACE_ISA_ABI
    OpStream(PrefixTracker& tracker, OpMix mix, std::uint64_t seed, RandomIter existing, WriteIter inserts)
        : tracker_(&tracker), mix_(mix), rng_(Rng::stream(seed, 0x6f70)), existing_(std::move(existing)),
          inserts_(std::move(inserts)) {}
    /// Custom read, insert and delete streams.
    KEYSPACE_ISA_ABI
    OpStream(PrefixTracker& tracker, OpMix mix, std::uint64_t seed, RandomIter existing, WriteIter inserts,
             RandomIter deletes)
        : tracker_(&tracker), mix_(mix), rng_(Rng::stream(seed, 0x6f70)), existing_(std::move(existing)),
          inserts_(std::move(inserts)), deletes_(std::move(deletes)) {}

    /// The next operation. Throws only what its streams throw: std::bad_alloc when a claim grows the tracker.
    KEYSPACE_ISA_ABI
    Operation next() {
        const Op op = mix_.choose(rng_);
        Operation out{op, std::nullopt, 0, 0};
        std::optional<Key> k;
        switch (op) {
        case Op::Read:
        case Op::Overwrite:
        case Op::ReadModifyWrite: k = existing_key(existing_); break;
        case Op::Scan:
            k = existing_key(existing_);
            if (k) out.scan_length = 1 + rng_.below(max_scan_length_);
            break;
        case Op::Insert: k = inserts_.next(); break;
        case Op::Delete: {
            k = existing_key(deletes_ ? *deletes_ : existing_);
            if (k && !tracker_->remove(*k)) k.reset(); // another worker removed it first
            break;
        }
        }
        if (k) out.id = k->id, out.sub_id = k->sub_id;
        return out;
    }

    /** The next operation, begun through `ops` (an InFlight over this stream's tracker), for workers that share
     *  keys with pipelined commands: the key is chosen by the same routing as next(), and the ticket says what the
     *  server must answer.
     *  - Read and Scan begin a read (expect_hit(): hit or miss; a scan's ticket covers its first key only, the keys
     *    after it are read as the server has them);
     *  - Overwrite and ReadModifyWrite begin an update of an existing key;
     *  - Insert begins an insert from the insert stream (the key is claimed, visible at commit);
     *  - Delete begins a delete of a key drawn from the delete stream (invisible from now, free at commit).
     *  Busy keys are drawn again (up to InFlight::max_draws). Throws what the streams throw (std::bad_alloc when a
     *  claim grows the tracker), and std::invalid_argument if `ops` serves another tracker. */
    KEYSPACE_ISA_ABI
    TrackedOperation next(InFlight& ops) {
        if (&ops.tracker() != tracker_)
            detail::fail_invalid_argument({"OpStream::next: the InFlight serves tracker '", ops.tracker().prefix(),
                                           "', not this stream's '", tracker_->prefix(), "'"});
        const Op op = mix_.choose(rng_);
        TrackedOperation out{op, std::nullopt, 0};
        switch (op) {
        case Op::Read: out.ticket = ops.begin_read(existing_); break;
        case Op::Scan:
            out.ticket = ops.begin_read(existing_);
            if (out.ticket) out.scan_length = 1 + rng_.below(max_scan_length_);
            break;
        case Op::Overwrite:
        case Op::ReadModifyWrite: out.ticket = ops.begin_update(existing_); break;
        case Op::Insert: out.ticket = ops.begin_insert(inserts_); break;
        case Op::Delete: out.ticket = ops.begin_delete(deletes_ ? *deletes_ : existing_); break;
        }
        return out;
    }

    /// The mix operations are drawn from.
    [[nodiscard]] const OpMix& mix() const noexcept { return mix_; }
    /// The longest scan: scan lengths are uniform in [1, max_scan_length()].
    [[nodiscard]] std::uint64_t max_scan_length() const noexcept { return max_scan_length_; }
    /// Sets the longest scan (>= 1, else std::invalid_argument).
    OpStream& max_scan_length(std::uint64_t n) {
        if (n == 0) detail::fail_invalid_argument({"OpStream::max_scan_length: must be >= 1, got 0"});
        max_scan_length_ = n;
        return *this;
    }

private:
    KEYSPACE_ISA_ABI
    static RandomIter existing_of(const PrefixTracker& t, std::uint64_t seed) {
        return t.iter().mixed_ratio(1.0).seed(seed).random();
    }
    KEYSPACE_ISA_ABI
    std::optional<Key> existing_key(RandomIter& from) {
        const auto k = from.next();
        // The draw yields an absent key when none is present (or one was removed since): no key then.
        if (k && tracker_->exists(*k)) return k;
        return std::nullopt;
    }

    PrefixTracker* tracker_;
    OpMix mix_;
    Rng rng_;
    RandomIter existing_;
    WriteIter inserts_;
    std::optional<RandomIter> deletes_;
    std::uint64_t max_scan_length_ = default_max_scan_length;
};

KEYSPACE_END_NAMESPACE
