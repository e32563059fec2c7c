/** @file keyspace/toolkit/snapshot.hpp
 *  Snapshot: a copy of a tracker's IDs; added_since / removed_since: what changed since, word-parallel;
 *  WordSource and IdSetView: the word-at-a-time set algebra the toolkit's comparisons share. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm>   // for std::max, std::min
#include <bit>         // for std::countr_zero, std::popcount
#include <cstddef>     // for std::ptrdiff_t
#include <cstdint>     // for std::uint64_t
#include <iterator>    // for std::default_sentinel_t, std::input_iterator_tag
#include <stdexcept>   // for std::invalid_argument
#include <string>      // for std::string
#include <type_traits> // for std::is_same_v
#include <utility>     // for std::move
#include <vector>      // for std::vector

KEYSPACE_BEGIN_NAMESPACE

class Snapshot;

/** Something that answers "the 64 IDs of word w" as one 64-bit word: a live tracker or bitmap (read with one acquire
 *  load per word, see AtomicBitmap::word) or a Snapshot. A non-owning view: the source must outlive it. */
class WordSource {
public:
    /// A simple tracker's IDs. Throws std::invalid_argument for a hierarchical tracker.
    WordSource(const PrefixTracker& t) // NOLINT(google-explicit-constructor): sources convert implicitly
        : live_(&checked(t)), words_(nullptr), n_(0), id_limit_(t.max_id().value_or(max_supported_id)) {}
    WordSource(const AtomicBitmap& b) noexcept // NOLINT(google-explicit-constructor)
        : live_(&b), words_(nullptr), n_(0), id_limit_(max_supported_id) {}
    inline WordSource(const Snapshot& s) noexcept; // NOLINT(google-explicit-constructor)

    /// Words that may hold a set bit (beyond them every word reads 0). For a live source: its capacity now.
    [[nodiscard]] std::uint64_t word_count() const noexcept {
        return live_ != nullptr ? (std::min(live_->capacity(), id_limit_) + 63) / 64 : n_;
    }
    /// Word w (IDs [64w, 64w + 64)); 0 beyond word_count().
    [[nodiscard]] std::uint64_t word(std::uint64_t w) const noexcept {
        if (live_ != nullptr) return live_->word(w);
        return w < n_ ? words_[w] : 0;
    }

private:
    static const AtomicBitmap& checked(const PrefixTracker& t) {
        if (t.is_hierarchical())
            throw std::invalid_argument("keyspace toolkit: hierarchical trackers are not supported (prefix '" +
                                        t.prefix() + "')");
        return t.bits();
    }
    const AtomicBitmap* live_;
    const std::uint64_t* words_;
    std::uint64_t n_, id_limit_;
};

/** The IDs of a binary set operation between two WordSources — `a AND b` or `a AND NOT b` — computed lazily, a
 *  word at a time, each time it is walked: count() (popcounts, no ID materialised), for_each(f), to_vector(), and
 *  begin()/end() as an input range of std::uint64_t ascending.
 *  Over a live source, each walk reads each word once; two walks (say count() then the IDs) may differ if the source
 *  changed in between. The sources must outlive the view. */
class IdSetView {
public:
    enum class Op : std::uint8_t { And, AndNot };

    IdSetView(WordSource a, WordSource b, Op op) noexcept
        : a_(a), b_(b), op_(op), words_(op == Op::And ? std::min(a.word_count(), b.word_count()) : a.word_count()) {}

    /// The combined word w.
    [[nodiscard]] std::uint64_t word(std::uint64_t w) const noexcept {
        const std::uint64_t x = a_.word(w);
        if (x == 0) return 0;
        const std::uint64_t y = b_.word(w);
        return op_ == Op::And ? x & y : x & ~y;
    }
    [[nodiscard]] std::uint64_t word_count() const noexcept { return words_; }

    /// How many IDs (word-parallel popcount).
    [[nodiscard]] std::uint64_t count() const noexcept {
        std::uint64_t n = 0;
        for (std::uint64_t w = 0; w < words_; ++w) n += static_cast<std::uint64_t>(std::popcount(word(w)));
        return n;
    }
    [[nodiscard]] bool empty() const noexcept {
        for (std::uint64_t w = 0; w < words_; ++w)
            if (word(w) != 0) return false;
        return true;
    }
    /// Calls f(id) for each ID ascending; f may return bool, false stops the walk.
    template <class F>
    void for_each(F&& f) const {
        for (std::uint64_t w = 0; w < words_; ++w)
            for (std::uint64_t m = word(w); m != 0; m &= m - 1) {
                const std::uint64_t id = w * 64 + static_cast<std::uint64_t>(std::countr_zero(m));
                if constexpr (std::is_same_v<decltype(f(id)), bool>) {
                    if (!f(id)) return;
                } else {
                    f(id);
                }
            }
    }
    [[nodiscard]] std::vector<std::uint64_t> to_vector() const {
        std::vector<std::uint64_t> out;
        for_each([&](std::uint64_t id) { out.push_back(id); });
        return out;
    }

    class iterator {
    public:
        using value_type = std::uint64_t;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;
        iterator() = default;
        explicit iterator(const IdSetView* v) : v_(v) { load(0); }
        std::uint64_t operator*() const noexcept { return w_ * 64 + static_cast<std::uint64_t>(std::countr_zero(m_)); }
        iterator& operator++() noexcept {
            m_ &= m_ - 1;
            if (m_ == 0) load(w_ + 1);
            return *this;
        }
        void operator++(int) noexcept { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.m_ == 0; }

    private:
        void load(std::uint64_t w) noexcept {
            for (; w < v_->words_; ++w)
                if ((m_ = v_->word(w)) != 0) {
                    w_ = w;
                    return;
                }
            m_ = 0;
        }
        const IdSetView* v_ = nullptr;
        std::uint64_t w_ = 0, m_ = 0;
    };
    [[nodiscard]] iterator begin() const { return iterator(this); }
    [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

private:
    WordSource a_, b_;
    Op op_;
    std::uint64_t words_;
};

/** A copy of a simple tracker's IDs, to compare against later (added_since / removed_since) or to keep.
 *
 *  What a snapshot taken under concurrent writes contains: the copy reads the tracker's words (64 IDs each) in
 *  ascending order, each with one acquire load. Every add/remove that returned before the snapshot began is in it;
 *  a write concurrent with the copy is in it or not, decided per word — the snapshot is a per-word-consistent
 *  copy, not one instant across words (a write to a high word may be in while an earlier write to a low word is
 *  not). count() is the popcount of the copy, so it always agrees with contains(); it matches tracker.count() when
 *  no write was in flight. Cost: one pass over [0, capacity()) and capacity()/8 bytes (a bounded tracker: max_id/8).
 *  Hierarchical trackers: std::invalid_argument. A Snapshot is an ordinary value (copyable, movable); its const
 *  members are thread-safe. */
class Snapshot {
public:
    /// Copies t's IDs. Throws std::invalid_argument for a hierarchical tracker.
    explicit Snapshot(const PrefixTracker& t) : Snapshot(WordSource(t)) { prefix_ = t.prefix(); }
    /// Copies a bitmap's bits.
    explicit Snapshot(const AtomicBitmap& b) : Snapshot(WordSource(b)) {}
    /// A snapshot over given words (bit i of word w = ID 64w + i), e.g. from a file.
    Snapshot(std::vector<std::uint64_t> words, std::string prefix = {})
        : words_(std::move(words)), prefix_(std::move(prefix)) {
        for (const std::uint64_t w : words_) count_ += static_cast<std::uint64_t>(std::popcount(w));
    }

    /// The prefix of the tracker copied (empty for a bitmap).
    [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] bool contains(std::uint64_t id) const noexcept {
        return id / 64 < words_.size() && ((words_[id / 64] >> (id % 64)) & 1) != 0;
    }
    /// IDs covered by the copy (a multiple of 64); every ID beyond reads absent.
    [[nodiscard]] std::uint64_t size_bits() const noexcept { return words_.size() * 64; }
    [[nodiscard]] const std::vector<std::uint64_t>& words() const noexcept { return words_; }
    /// All IDs of the snapshot, ascending.
    [[nodiscard]] IdSetView ids() const noexcept {
        return IdSetView(WordSource(*this), WordSource(*this), IdSetView::Op::And);
    }

private:
    explicit Snapshot(WordSource src) : words_(src.word_count()) {
        for (std::uint64_t w = 0; w < words_.size(); ++w) {
            words_[w] = src.word(w);
            count_ += static_cast<std::uint64_t>(std::popcount(words_[w]));
        }
    }

    std::vector<std::uint64_t> words_;
    std::string prefix_;
    std::uint64_t count_ = 0;
};

inline WordSource::WordSource(const Snapshot& s) noexcept
    : live_(nullptr), words_(s.words().data()), n_(s.words().size()), id_limit_(max_supported_id) {}

/// IDs present in `now` (a tracker, bitmap or later snapshot) but not in `before`. Lazy: see IdSetView.
[[nodiscard]] inline IdSetView added_since(WordSource now, const Snapshot& before) noexcept {
    return IdSetView(now, WordSource(before), IdSetView::Op::AndNot);
}
/// IDs present in `before` but no longer in `now`. Lazy: see IdSetView.
[[nodiscard]] inline IdSetView removed_since(WordSource now, const Snapshot& before) noexcept {
    return IdSetView(WordSource(before), now, IdSetView::Op::AndNot);
}

KEYSPACE_END_NAMESPACE
