/** @file keyspace/toolkit/op_mix.hpp
 *  Operation mixes: a weighted choice among read / overwrite / insert / delete, parsed from "get:0.8,set:0.2",
 *  and OpStream, which routes each chosen operation to the right iterator of a tracker. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/detail/text.hpp>
#include <keyspace/detail/random_bits.hpp>
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

/// The kinds of operation a benchmark worker issues.
enum class Op : std::uint8_t { Read, Overwrite, Insert, Delete };
/// The number of operation kinds (the enumerators of Op).
inline constexpr std::size_t op_count = 4;

/// "read", "overwrite", "insert", "delete".
[[nodiscard]] constexpr std::string_view op_name(Op op) noexcept {
    constexpr std::array<std::string_view, op_count> names{"read", "overwrite", "insert", "delete"};
    return names[static_cast<std::size_t>(op) & 3];
}

/** A weighted choice among the four operations, O(1) and branch-free: one 64-bit random draw compared with three
 *  thresholds (the cumulative weights scaled to 2^63), exact to 2^-63.
 *
 *  Text form: comma-separated `name:weight` items, e.g. `"get:0.8,set:0.2"`. Names (ASCII case-insensitive):
 *  read = `read`/`get`; overwrite = `overwrite`/`set`/`update`; insert = `insert`/`add`; delete =
 *  `delete`/`del`/`erase`/`remove`. Weights are relative (divided by their sum): `"get:80,set:20"` equals
 *  `"get:0.8,set:0.2"`. Omitted operations have weight 0. Whitespace around names and numbers is allowed.
 *  Thread safety: immutable; choose() may be called concurrently (each thread with its own generator). */
class OpMix {
public:
    /// Weights for read, overwrite, insert, delete. Throws std::invalid_argument for a negative, NaN or infinite
    /// weight, or when all are 0.
    OpMix(double read, double overwrite, double insert, double del) : w_{read, overwrite, insert, del} {
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
                detail::throw_bad_list_item("OpMix::parse", text, item, "names no operation (read/get, overwrite/set/update, insert/add, "
                                "delete/del/erase/remove)");
            const auto k = static_cast<std::size_t>(*op);
            if (seen[k]) detail::throw_bad_list_item("OpMix::parse", text, item, "repeats an operation already given");
            seen[k] = true;
            w[k] = number(text, item, detail::trim_blanks(item.substr(colon + 1)));
            pos = comma + 1;
        }
        double total = 0;
        for (const double x : w) total += x;
        if (!(total > 0)) detail::fail_invalid_argument({"OpMix::parse: the weights in '", text, "' sum to 0"});
        return OpMix(w[0], w[1], w[2], w[3]);
    }

    /// The probability of op (its weight divided by the sum).
    [[nodiscard]] double probability(Op op) const noexcept { return w_[static_cast<std::size_t>(op) & 3]; }

    /// The operation for 64 uniformly random bits (the top 63 are used).
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE Op choose_bits(std::uint64_t bits) const noexcept {
        const std::uint64_t r = bits >> 1;
        return static_cast<Op>(static_cast<unsigned>(r >= t_[0]) + static_cast<unsigned>(r >= t_[1]) +
                               static_cast<unsigned>(r >= t_[2]));
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
        std::array<char, 16> low{};
        if (name.empty() || name.size() > low.size()) return std::nullopt;
        for (std::size_t i = 0; i < name.size(); ++i)
            low[i] = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
        const std::string_view n(low.data(), name.size());
        if (n == "read" || n == "get") return Op::Read;
        if (n == "overwrite" || n == "set" || n == "update") return Op::Overwrite;
        if (n == "insert" || n == "add") return Op::Insert;
        if (n == "delete" || n == "del" || n == "erase" || n == "remove") return Op::Delete;
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

/// One operation of an OpStream: what to do, and to which ID (nullopt: nothing available for this operation now,
/// e.g. a read on an empty keyspace, an insert into a full range, a delete with nothing left to erase).
struct Operation {
    /// What to do.
    Op op = Op::Read;
    /// To which ID; nullopt when none is available for the operation now.
    std::optional<std::uint64_t> id;
};

/** Draws operations from an OpMix and routes each to the iterator that serves it:
 *  - Read and Overwrite: a key drawn from `existing` (a random() stream over set keys; by default
 *    `iter().mixed_ratio(1.0).seed(seed).random()`: uniform draws of set keys with replacement), checked to exist
 *    when drawn (no ID otherwise);
 *  - Insert: the next claim of `inserts` (by default `continue_write()`, shared with every other stream of the
 *    tracker, so no two streams insert the same ID);
 *  - Delete: the next key of the tracker's EraseIter when this stream could take it (one per tracker at a time);
 *    otherwise a key drawn from `existing`, removed with remove() — the ID is returned only if this call removed it.
 *  The stream marks nothing itself except what the iterators do (claims set the bit, erase and remove clear it):
 *  a read or overwrite changes no state. Use a bounded tracker (max_id), so the read streams see the IDs inserts
 *  add later. Not thread-safe: one stream per worker thread; any number of streams may share a tracker. */
class OpStream {
public:
    /// Default iterators over the tracker's whole range. Throws std::invalid_argument for a hierarchical tracker.
    KEYSPACE_ISA_ABI
    OpStream(PrefixTracker& tracker, OpMix mix, std::uint64_t seed)
        : OpStream(simple(tracker), mix, seed, existing_of(simple(tracker), seed),
                   simple(tracker).iter().continue_write()) {}
    /// Custom iterators (e.g. a skewed read distribution, a slice of the range).
    KEYSPACE_ISA_ABI
    OpStream(PrefixTracker& tracker, OpMix mix, std::uint64_t seed, RandomIter existing, WriteIter inserts)
        : tracker_(&tracker), mix_(mix), rng_(Rng::stream(seed, 0x6f70)), existing_(std::move(existing)),
          inserts_(std::move(inserts)) {
        (void)simple(tracker);
        if (mix_.probability(Op::Delete) > 0) eraser_ = tracker.iter().erase();
    }

    /// The next operation. Throws only what its iterators throw: std::bad_alloc when a claim grows the tracker.
    KEYSPACE_ISA_ABI
    Operation next() {
        const Op op = mix_.choose(rng_);
        switch (op) {
        case Op::Read:
        case Op::Overwrite: return {op, existing_key()};
        case Op::Insert: return {op, inserts_.next_id()};
        case Op::Delete:
            if (eraser_) return {op, eraser_->next_id()};
            if (const auto id = existing_key(); id && tracker_->remove(*id)) return {op, id};
            return {op, std::nullopt};
        }
        return {op, std::nullopt};
    }

    /// The mix operations are drawn from.
    [[nodiscard]] const OpMix& mix() const noexcept { return mix_; }
    /// Whether this stream holds the tracker's EraseIter (deletes walk the keys ascending) rather than removing
    /// random existing keys.
    [[nodiscard]] bool holds_eraser() const noexcept { return eraser_.has_value(); }

private:
    static PrefixTracker& simple(PrefixTracker& t) { return detail::require_simple(t, "OpStream"); }
    KEYSPACE_ISA_ABI
    static RandomIter existing_of(const PrefixTracker& t, std::uint64_t seed) {
        return t.iter().mixed_ratio(1.0).seed(seed).random();
    }
    KEYSPACE_ISA_ABI
    std::optional<std::uint64_t> existing_key() {
        const auto id = existing_.next_id();
        // The draw yields an absent key when none is present (or one was removed since): no key to read then.
        if (id && tracker_->exists(*id)) return id;
        return std::nullopt;
    }

    PrefixTracker* tracker_;
    OpMix mix_;
    Rng rng_;
    RandomIter existing_;
    WriteIter inserts_;
    std::optional<EraseIter> eraser_;
};

KEYSPACE_END_NAMESPACE
