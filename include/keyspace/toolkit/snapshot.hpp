/** @file keyspace/toolkit/snapshot.hpp
 *  Snapshot: a copy of a tracker's IDs; added_since / removed_since: what changed since, word-parallel;
 *  WordSource and IdSetView: the word-at-a-time set algebra the toolkit's comparisons share. */
#pragma once

#include <keyspace/atomic_bitmap.hpp>
#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/prefix_tracker.hpp>

#include <algorithm>   // for std::max, std::min
#include <bit>         // for std::countr_zero, std::popcount
#include <cstddef>     // for std::ptrdiff_t
#include <cstdint>     // for std::uint64_t
#include <iterator>    // for std::default_sentinel_t, std::input_iterator_tag
#include <optional>    // for std::optional
#include <span>        // for std::span
#include <stdexcept>   // for std::invalid_argument
#include <string>      // for std::string
#include <type_traits> // for std::is_same_v
#include <utility>     // for std::move
#include <vector>      // for std::vector

KEYSPACE_BEGIN_NAMESPACE

class Snapshot;

/** Something that answers "the 64 IDs of word w" as one 64-bit word: a live tracker or bitmap (read with one acquire
 *  load per word, see AtomicBitmap::word) or a Snapshot. A non-owning view: the source must outlive it.
 *  Walks skip what holds no ID: next_word() jumps over uncommitted memory and empty words, so a walk costs what
 *  the words holding IDs cost, not what the highest ID would (a tracker holding only ID 10^12 is walked at once). */
class WordSource {
public:
    /// A simple tracker's IDs. Throws std::invalid_argument for a hierarchical tracker.
    WordSource(const PrefixTracker& t) // NOLINT(google-explicit-constructor): sources convert implicitly
        : live_(&checked(t)), snap_(nullptr), id_limit_(t.max_id().value_or(max_supported_id)) {}
    /// A bitmap's bits.
    WordSource(const AtomicBitmap& b) noexcept // NOLINT(google-explicit-constructor)
        : live_(&b), snap_(nullptr), id_limit_(max_supported_id) {}
    /// A snapshot's IDs.
    WordSource(const Snapshot& s) noexcept // NOLINT(google-explicit-constructor)
        : live_(nullptr), snap_(&s), id_limit_(max_supported_id) {}

    /// A bound on the words that may hold a set bit (beyond it every word reads 0). For a live source: its capacity
    /// now. A bound, not a cost: walks go through next_word().
    [[nodiscard]] inline std::uint64_t word_count() const noexcept;
    /// Word w (IDs [64w, 64w + 64)); 0 beyond word_count().
    [[nodiscard]] inline std::uint64_t word(std::uint64_t w) const noexcept;
    /// The first word at or after w that may hold a set bit (a live source: one that held one when looked at),
    /// or word_count() when none does. Skips uncommitted memory and empty words word-parallel.
    KEYSPACE_ISA_ABI
    [[nodiscard]] inline std::uint64_t next_word(std::uint64_t w) const noexcept;

    /// Reads the words of one walk: word(w) as WordSource::word, O(1) for ascending w over a snapshot (it keeps
    /// the run or gap it is in; WordSource::word searches the runs). One per walk and thread; the source must
    /// outlive it.
    class Reader {
    public:
        /// A reader of s.
        explicit Reader(const WordSource& s) noexcept : s_(&s) {}
        /// Word w of the source (IDs [64w, 64w + 64)), as WordSource::word.
        [[nodiscard]] inline std::uint64_t word(std::uint64_t w) noexcept;

    private:
        const WordSource* s_;
        std::uint64_t lo_ = 0, hi_ = 0; // the words [lo_, hi_) are p_[0, hi_ - lo_), or all 0 when p_ is null
        const std::uint64_t* p_ = nullptr;
    };

private:
    friend class Snapshot;
    /// An upper bound on the words a walk can find holding IDs (memory committed), to size a copy.
    [[nodiscard]] inline std::uint64_t committed_words() const noexcept;

    static const AtomicBitmap& checked(const PrefixTracker& t) {
        return detail::require_simple(t, "keyspace toolkit").bits();
    }
    const AtomicBitmap* live_;
    const Snapshot* snap_;
    std::uint64_t id_limit_;
};

/** The IDs of a binary set operation between two WordSources — `a AND b` or `a AND NOT b` — computed lazily, a
 *  word at a time, each time it is walked: count() (popcounts, no ID materialised), for_each(f), to_vector(), and
 *  begin()/end() as an input range of std::uint64_t ascending.
 *  A walk reads the words in order and, after a few empty ones, jumps to the next word `a` may hold (see
 *  WordSource::next_word): its cost follows the words holding IDs, not the highest ID.
 *  Over a live source, each walk reads each word once; two walks (say count() then the IDs) may differ if the source
 *  changed in between. The sources must outlive the view. */
class IdSetView {
public:
    /// How the two sources combine: And (in both), AndNot (in a, not in b).
    enum class Op : std::uint8_t { And, AndNot };

    /// The IDs of a combined with b by op (the sources must outlive the view).
    IdSetView(WordSource a, WordSource b, Op op) noexcept
        : a_(a), b_(b), op_(op), words_(op == Op::And ? std::min(a.word_count(), b.word_count()) : a.word_count()) {}

    /// The combined word w.
    [[nodiscard]] std::uint64_t word(std::uint64_t w) const noexcept {
        const std::uint64_t x = a_.word(w);
        if (x == 0) return 0;
        const std::uint64_t y = b_.word(w);
        return op_ == Op::And ? x & y : x & ~y;
    }
    /// A bound on the words that may hold an ID (see WordSource::word_count).
    [[nodiscard]] std::uint64_t word_count() const noexcept { return words_; }

    /// The state of one walk (the readers of both sources).
    struct Walk {
        WordSource::Reader a; ///< the reader of the first source
        WordSource::Reader b; ///< the reader of the second source
        /// A walk over v's two sources.
        explicit Walk(const IdSetView& v) noexcept : a(v.a_), b(v.b_) {}
    };
    /// The first word at or after w whose combined word is not empty, with that word in m; word_count() (and m = 0)
    /// when there is none.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t next_nonempty(std::uint64_t w, std::uint64_t& m) const noexcept {
        Walk walk(*this);
        return next_nonempty(walk, w, m);
    }
    /// The same within a walk (w ascending from one call to the next).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t next_nonempty(Walk& walk, std::uint64_t w, std::uint64_t& m) const noexcept {
        unsigned empty_run = 0; // consecutive words a source that can skip had empty (a; for And, a or b)
        while (w < words_) {
            const std::uint64_t x = walk.a.word(w);
            const std::uint64_t y = x == 0 ? 0 : walk.b.word(w);
            m = op_ == Op::And ? x & y : x & ~y;
            if (m != 0) return w;
            if (x != 0 && (op_ == Op::AndNot || y != 0)) { // empty only in combination: skipping cannot help
                empty_run = 0;
                ++w;
            } else if (++empty_run < skip_after) {
                ++w;
            } else {
                empty_run = 0;
                w = skip(w + 1);
            }
        }
        m = 0;
        return words_;
    }

    /// How many IDs (word-parallel popcount).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t count() const noexcept {
        Walk walk(*this);
        std::uint64_t n = 0, m = 0;
        for (std::uint64_t w = next_nonempty(walk, 0, m); w < words_; w = next_nonempty(walk, w + 1, m))
            n += static_cast<std::uint64_t>(std::popcount(m));
        return n;
    }
    /// Whether no ID is in the set (stops at the first one found).
    KEYSPACE_ISA_ABI
    [[nodiscard]] bool empty() const noexcept {
        std::uint64_t m = 0;
        return next_nonempty(0, m) >= words_;
    }
    /// Calls f(id) for each ID ascending; f may return bool, false stops the walk.
    template <class F>
    KEYSPACE_ISA_ABI
    void for_each(F&& f) const {
        Walk walk(*this);
        std::uint64_t m = 0;
        for (std::uint64_t w = next_nonempty(walk, 0, m); w < words_; w = next_nonempty(walk, w + 1, m))
            for (; m != 0; m &= m - 1) {
                const std::uint64_t id = w * 64 + static_cast<std::uint64_t>(std::countr_zero(m));
                if constexpr (std::is_same_v<decltype(f(id)), bool>) {
                    if (!f(id)) return;
                } else {
                    f(id);
                }
            }
    }
    /// The IDs, ascending.
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::vector<std::uint64_t> to_vector() const {
        std::vector<std::uint64_t> out;
        for_each([&](std::uint64_t id) { out.push_back(id); });
        return out;
    }

    /// The input iterator of a walk over the IDs (begin()).
    class iterator {
    public:
        /// The type of the IDs yielded.
        using value_type = std::uint64_t;
        /// A signed distance (required of iterators, unused).
        using difference_type = std::ptrdiff_t;
        /// A single-pass input iterator.
        using iterator_concept = std::input_iterator_tag;
        iterator() = default;
        /// At the first ID of the walk.
        KEYSPACE_ISA_ABI
        explicit iterator(const IdSetView* v) : v_(v), walk_(*v) { w_ = v_->next_nonempty(*walk_, 0, m_); }
        /// The current ID.
        std::uint64_t operator*() const noexcept { return w_ * 64 + static_cast<std::uint64_t>(std::countr_zero(m_)); }
        /// Moves to the next ID.
        KEYSPACE_ISA_ABI
        iterator& operator++() noexcept {
            m_ &= m_ - 1;
            if (m_ == 0) w_ = v_->next_nonempty(*walk_, w_ + 1, m_);
            return *this;
        }
        /// Moves to the next ID.
        void operator++(int) noexcept { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.m_ == 0; }

    private:
        const IdSetView* v_ = nullptr;
        std::optional<Walk> walk_;
        std::uint64_t w_ = 0, m_ = 0;
    };
    /// A walk over the IDs, ascending.
    KEYSPACE_ISA_ABI
    [[nodiscard]] iterator begin() const { return iterator(this); }
    /// The end of a walk.
    [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

private:
    /// Consecutive empty words read one by one before a walk jumps with next_word (a jump costs a search; dense
    /// sources rarely need one).
    static constexpr unsigned skip_after = 8;

    /// The first word at or after w that both sources may hold (And) or that a may hold (AndNot).
    KEYSPACE_ISA_ABI
    [[nodiscard]] std::uint64_t skip(std::uint64_t w) const noexcept {
        for (;;) {
            w = a_.next_word(w);
            if (op_ == Op::AndNot || w >= words_) return w;
            const std::uint64_t wb = b_.next_word(w);
            if (wb == w || wb >= words_) return wb;
            w = wb;
        }
    }

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
 *  no write was in flight.
 *  Cost: the copy keeps only runs of words that hold IDs (a run ends after more than two empty words), found by
 *  skipping uncommitted memory and empty words: time and memory follow the words holding IDs, not the highest ID
 *  (a tracker holding only ID 10^12 copies into a few bytes). contains() is a binary search over the runs.
 *  Hierarchical trackers: std::invalid_argument. A Snapshot is an ordinary value (copyable, movable); its const
 *  members are thread-safe. */
class Snapshot {
public:
    /// A run of words of the copy: words [first_word, first_word + words.size()); its first and last words are not
    /// empty.
    struct Run {
        /// The run's first word (IDs from 64 * first_word).
        std::uint64_t first_word;
        /// The run's words, viewing the snapshot.
        std::span<const std::uint64_t> words;
    };

    /// Copies t's IDs. Throws std::invalid_argument for a hierarchical tracker.
    KEYSPACE_ISA_ABI
    explicit Snapshot(const PrefixTracker& t) : Snapshot(WordSource(t)) { prefix_ = t.prefix(); }
    /// Copies a bitmap's bits.
    KEYSPACE_ISA_ABI
    explicit Snapshot(const AtomicBitmap& b) : Snapshot(WordSource(b)) {}
    /// A snapshot over given words (bit i of word w = ID 64w + i).
    Snapshot(const std::vector<std::uint64_t>& words, std::string prefix = {}) : prefix_(std::move(prefix)) {
        size_words_ = words.size();
        for (std::uint64_t w = 0; w < words.size(); ++w) append(w, words[w]);
        close_run();
    }

    /// The prefix of the tracker copied (empty for a bitmap).
    [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
    /// IDs in the copy.
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    /// Whether no ID is in the set (stops at the first one found).
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    /// Whether the copy holds id (a binary search over the runs).
    [[nodiscard]] bool contains(std::uint64_t id) const noexcept { return ((word(id / 64) >> (id % 64)) & 1) != 0; }
    /// IDs covered by the copy (a multiple of 64: the source's capacity when copied); every ID beyond reads absent.
    [[nodiscard]] std::uint64_t size_bits() const noexcept { return size_words_ * 64; }
    /// Word w of the copy (IDs [64w, 64w + 64)); 0 where the copy holds no ID.
    [[nodiscard]] std::uint64_t word(std::uint64_t w) const noexcept {
        const std::size_t r = run_at_or_after(w + 1); // the first run starting after w
        if (r == 0) return 0;
        const RunIndex& run = runs_[r - 1];
        return w - run.first_word < run.size ? words_[run.offset + (w - run.first_word)] : 0;
    }
    /// The first word at or after w that holds an ID, or size_bits() / 64 when none does.
    [[nodiscard]] std::uint64_t next_word(std::uint64_t w) const noexcept {
        const std::size_t r = run_at_or_after(w + 1);
        if (r > 0 && w - runs_[r - 1].first_word < runs_[r - 1].size) return w;
        return r < runs_.size() ? runs_[r].first_word : size_words_;
    }
    /// The runs of words holding IDs, ascending (what a file or a diff needs to walk).
    [[nodiscard]] std::size_t run_count() const noexcept { return runs_.size(); }
    /// Run i of run_count(), ascending.
    [[nodiscard]] Run run(std::size_t i) const noexcept {
        return {runs_[i].first_word, std::span<const std::uint64_t>(words_.data() + runs_[i].offset, runs_[i].size)};
    }
    /// Words kept (the copy's memory is 8 bytes per word plus 24 per run).
    [[nodiscard]] std::uint64_t stored_words() const noexcept { return words_.size(); }
    /// All IDs of the snapshot, ascending.
    [[nodiscard]] IdSetView ids() const noexcept {
        return IdSetView(WordSource(*this), WordSource(*this), IdSetView::Op::And);
    }

private:
    struct RunIndex {
        std::uint64_t first_word, offset, size;
    };
    /// Empty words kept inside a run before it is split (a new run costs what two words cost in a file).
    static constexpr std::uint64_t max_gap = 2;

    KEYSPACE_ISA_ABI
    explicit Snapshot(WordSource src) : size_words_(src.word_count()) {
        const std::uint64_t n = size_words_;
        words_.reserve(static_cast<std::size_t>(std::min(n, src.committed_words())));
        for (std::uint64_t w = src.next_word(0); w < n; w = src.next_word(w + 1)) {
            // A run from w: read words while they hold IDs, up to a gap longer than a run keeps; then jump.
            const std::uint64_t offset = words_.size(), start = w;
            std::uint64_t zeros = 0;
            for (; w < n; ++w) {
                const std::uint64_t x = src.word(w);
                words_.push_back(x);
                count_ += static_cast<std::uint64_t>(std::popcount(x));
                if (x != 0) {
                    zeros = 0;
                } else if (++zeros > max_gap) {
                    break;
                }
            }
            std::uint64_t lead = 0; // a word found holding IDs may have been emptied before it was copied
            while (offset + lead < words_.size() - zeros && words_[offset + lead] == 0) ++lead;
            const std::uint64_t size = words_.size() - zeros - offset - lead;
            if (size != 0) {
                if (lead != 0) std::copy(words_.begin() + static_cast<std::ptrdiff_t>(offset + lead),
                                         words_.end() - static_cast<std::ptrdiff_t>(zeros),
                                         words_.begin() + static_cast<std::ptrdiff_t>(offset));
                runs_.push_back({start + lead, offset, size});
            }
            words_.resize(offset + size);
        }
    }
    /// Adds word w (ascending) of the copy.
    void append(std::uint64_t w, std::uint64_t x) {
        if (x == 0) return;
        count_ += static_cast<std::uint64_t>(std::popcount(x));
        if (open_ && w - last_ <= max_gap + 1) {
            for (std::uint64_t z = last_ + 1; z < w; ++z) words_.push_back(0);
        } else {
            close_run();
            runs_.push_back({w, words_.size(), 0});
            open_ = true;
        }
        words_.push_back(x);
        last_ = w;
    }
    void close_run() noexcept {
        if (open_) runs_.back().size = words_.size() - runs_.back().offset;
        open_ = false;
    }
    friend class WordSource;
    /// The words around w: [lo, hi) is p[0, hi - lo) (a run), or all empty (p null: a gap between runs).
    void locate(std::uint64_t w, std::uint64_t& lo, std::uint64_t& hi, const std::uint64_t*& p) const noexcept {
        const std::size_t r = run_at_or_after(w + 1);
        if (r > 0 && w - runs_[r - 1].first_word < runs_[r - 1].size) {
            lo = runs_[r - 1].first_word, hi = lo + runs_[r - 1].size, p = words_.data() + runs_[r - 1].offset;
            return;
        }
        lo = r > 0 ? runs_[r - 1].first_word + runs_[r - 1].size : 0;
        hi = r < runs_.size() ? runs_[r].first_word : ~0ull;
        p = nullptr;
    }
    /// Index of the first run whose first word is >= w.
    [[nodiscard]] std::size_t run_at_or_after(std::uint64_t w) const noexcept {
        return static_cast<std::size_t>(
            std::lower_bound(runs_.begin(), runs_.end(), w,
                             [](const RunIndex& r, std::uint64_t v) { return r.first_word < v; }) -
            runs_.begin());
    }

    std::vector<RunIndex> runs_;
    std::vector<std::uint64_t> words_;
    std::string prefix_;
    std::uint64_t size_words_ = 0, count_ = 0, last_ = 0;
    bool open_ = false;
};

inline std::uint64_t WordSource::word_count() const noexcept {
    if (live_ != nullptr) return (std::min(live_->capacity(), id_limit_) + 63) / 64;
    return snap_->size_bits() / 64;
}
inline std::uint64_t WordSource::word(std::uint64_t w) const noexcept {
    if (live_ != nullptr) return live_->word(w);
    return snap_->word(w);
}
inline std::uint64_t WordSource::committed_words() const noexcept {
    return live_ != nullptr ? live_->memory_bytes() / 8 : snap_->stored_words();
}
inline std::uint64_t WordSource::Reader::word(std::uint64_t w) noexcept {
    if (s_->snap_ == nullptr) return s_->live_->word(w);
    if (w - lo_ >= hi_ - lo_) s_->snap_->locate(w, lo_, hi_, p_); // outside the cached run or gap
    return p_ != nullptr ? p_[w - lo_] : 0;
}
KEYSPACE_ISA_ABI
inline std::uint64_t WordSource::next_word(std::uint64_t w) const noexcept {
    const std::uint64_t n = word_count();
    if (w >= n) return n;
    if (snap_ != nullptr) return snap_->next_word(w);
    const std::optional<std::uint64_t> id = live_->find_next_set(w * 64, n * 64);
    return id ? *id / 64 : n;
}

/// IDs present in `now` (a tracker, bitmap or later snapshot) but not in `before`. Lazy: see IdSetView.
[[nodiscard]] inline IdSetView added_since(WordSource now, const Snapshot& before) noexcept {
    return IdSetView(now, WordSource(before), IdSetView::Op::AndNot);
}
/// IDs present in `before` but no longer in `now`. Lazy: see IdSetView.
[[nodiscard]] inline IdSetView removed_since(WordSource now, const Snapshot& before) noexcept {
    return IdSetView(WordSource(before), now, IdSetView::Op::AndNot);
}

KEYSPACE_END_NAMESPACE
