/** @file keyspace/detail/draw_stream.hpp
 *  DrawStream: positions of a space drawn from an AccessDistribution (random() with a distribution or mixed_ratio,
 *  and the write streams with a distribution); Thinning: the geometric skips of sample(p). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/atomic_word.hpp>
#include <keyspace/detail/bits.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/random_bits.hpp>
#include <keyspace/detail/iteration_space.hpp>
#include <keyspace/detail/scanner.hpp>
#include <keyspace/detail/select_bit.hpp>
#include <keyspace/sampling/access_distribution.hpp>
#include <keyspace/sampling/rng.hpp>

#include <algorithm> // for std::min, std::max
#include <atomic>    // for std::memory_order
#include <bit>       // for std::countl_zero, std::countr_zero, std::popcount
#include <cstddef>   // for std::size_t
#include <cmath>     // for std::log, std::log1p, std::floor
#include <cstdint>   // for std::uint64_t
#include <limits>    // for std::numeric_limits
#include <optional>  // for std::optional
#include <variant>   // for std::holds_alternative
#include <vector>    // for std::vector

#if defined(KEYSPACE_DETAIL_VPOPCNTDQ)
#include <immintrin.h> // for the AVX-512 chunk tries (refill_class)
#endif

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/** Positions of a space drawn from an AccessDistribution: the engine of random() and of the write streams when a
 *  distribution is given. Rank r is position r (a scrambled Zipf's sampler permutes it first); for the recency
 *  kinds (latest, latest_zipfian) rank r is position `newest - r`, newest being the highest set position of the
 *  space (the top of the space while none is set), and the sampler is kept at newest + 1 ranks (set_n, O(1)).
 *
 *  Following newest: every draw checks that newest is still set (else searches down for the new one) and follows
 *  keys added just above it (the next 64 positions, repeatedly); a full search above it runs every 4096 draws,
 *  the interval doubling up to 2^20 while it finds nothing, so keys set far above newest are noticed within that
 *  many draws. */
class DrawStream {
public:
    KEYSPACE_ISA_ABI
    DrawStream(const Space& s, const AccessDistribution& d, std::uint64_t seed)
        : space_(s), recency_(d.is_recency()), linear_(s.linear()), base_(s.base()), rng_(mix_seed(seed, 5)) {
        if (recency_) {
            find_newest();
            sampler_ = d.make_sampler(newest_ + 1, mix_seed(seed, 4));
        } else {
            sampler_ = d.make_sampler(s.size(), mix_seed(seed, 4));
            uniform_ = std::holds_alternative<UniformDistribution>(sampler_.distribution());
            n_ = s.size();
            blocks_ = uniform_ && linear_ && n_ != 0 && find_contiguous_words();
            if (blocks_)
                refill<ring>(ahead_);
        }
    }

    /// One position, whatever its state.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t draw() {
        if (uniform_) [[likely]] // the sampler's own draw, without the visit over its variant
            return detail::uniform_below(rng_, n_);
        return draw_sampled();
    }
    /// One position matching f: drawn again on a miss; after 64 consecutive misses, the first match after the last
    /// drawn position (wrapping to the start), unless scan is false (the caller has its own fallback). nullopt when
    /// no position matches now: a later call finds keys changed since. After a scan that found nothing, calls
    /// answer nullopt in O(1) until the tracker changes (QuietSince), so an empty stream never rescans in vain.
    /// Uniform draws over a linear space are probed `width` at a time (two in mixed_ratio streams, see probe()); the
    /// misses are out of line.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::optional<std::uint64_t> draw(Filter f, bool scan = true) {
        const std::uint64_t p = draw_position(f, scan);
        return p != no_position ? std::optional<std::uint64_t>(p) : std::nullopt;
    }
    /// No position: what draw_position and draw_class answer for nullopt.
    static constexpr std::uint64_t no_position = ~0ull;
    /// draw(f, scan) with no_position for nullopt: the hot paths pass a plain integer, as a std::optional copied
    /// between inlined frames can go through the stack in halves (a store-forwarding stall per copy).
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t draw_position(Filter f, bool scan = true) {
        if (f == Filter::All) return draw();
        const bool want = f == Filter::SetOnly;
        if (blocks_) [[likely]] {
            const std::uint64_t p = narrow_ ? probe<narrow>(want) : probe<width>(want);
            if (p != no_position) [[likely]]
                return p;
            return draw_after_miss(f, scan, last_probe_, narrow_ ? narrow : width);
        }
        const std::uint64_t p = draw();
        if (is_set(p) == want) [[likely]] // one bit test
            return p;
        return draw_after_miss(f, scan, p, 1);
    }

    /// Class draws from whole chunks (mixed_ratio streams): turns them on when the space is uniform, linear,
    /// contiguous and not shared with other processes (else draw_class is draw(f)). See draw_class. The probes of
    /// draw(f) then come in blocks of two rather than four (see probe()): they serve the draws made before the
    /// first scan and while the bounds are lost, and most of those find a class denser than a quarter.
    /// `heavy_room` is resized to the most heavy chunks a scan can list (one in 16 chunks; see draw_class) and kept by
    /// the caller while the stream lives: its buffer, which survives moves of the vector, holds them. (The stream
    /// itself stays trivially destructible, as the std::optional that holds it in RandomIter needs: g++ 12 warns
    /// about nested std::optional of non-trivial types.)
    KEYSPACE_ISA_ABI
    void use_chunks(std::vector<std::uint32_t>& heavy_room) {
        narrow_ = blocks_; // the dense classes: blocks of two (see probe)
        chunks_ = blocks_ && !space_.tracker->is_shared();
        if (!chunks_) return;
        words_total_ = (run_base_ + n_ + 63) >> 6;
        chunk_count_ = (words_total_ + chunk_words - 1) / chunk_words;
        if (chunk_count_ >= std::uint64_t{1} << 31) { // refill_class draws a slot from 32 random bits
            chunks_ = false;
            return;
        }
        one_line_ = (reinterpret_cast<std::uintptr_t>(words_) & 63) == 0;
        scan_after_ = chunk_count_ + 8;
        slots_ = chunk_count_;
        heavy_room.assign(chunk_count_ / heavy_share, 0);
        heavy_ = heavy_room.data();
        heavy_room_ = heavy_room.size();
        for (auto& e : chunk_ahead_) e = next_slot();
    }

    /** One position of the class asked for (set when want_set, else unset), uniform among the positions of that
     *  class, as draw(SetOnly / UnsetOnly) gives, from fewer random cache lines where that class is sparse;
     *  no_position where draw(f) would answer nullopt.
     *
     *  Chunk draws (after use_chunks). The space is cut into chunks of 8 words (one cache line, 512 positions). A
     *  try picks a uniform slot and a uniform rank u below `bound`; the slots are the chunks, whose ranks [0, bound)
     *  they cover, then one extra slot per heavy chunk, which covers its ranks [bound, 2 bound) (u + bound). If the
     *  slot's chunk holds more than u positions of the class, the try returns its u-th, else the draw tries again.
     *  Each try returns a given position of the class with probability 1 / (slots * bound), the same for all: an
     *  exact uniform draw, whatever the chunks' populations, as long as no chunk holds more than `bound`, or a
     *  heavy one more than 2 bound. A try costs one cache line and succeeds with probability (mean count * chunks
     *  / (slots * bound)): at 10 % density about 0.79, against 0.1 for one probed bit. A class denser than a
     *  quarter of the space is drawn by probes of single positions instead (refill_probes), which find it as fast
     *  without the count and select.
     *
     *  The bound and the heavy chunks come from a scan of the chunks: the bound b (at least half the highest count)
     *  for which (chunks + heavy chunks) * b is smallest, the chunks above it being heavy, at most one in 16 (the
     *  room RandomIter gives use_chunks). At 10 % density the highest count is about 84 and b about 62, with ~5 %
     *  of the chunks heavy: 1.3 tries per draw rather than 1.6 with b = 84.
     *
     *  Batches. Draws come from a queue per class, filled 16 tries (or probes) at a time without a branch on each
     *  one's outcome: the accepted positions in the order of the tries, so each is still an independent uniform
     *  draw of the class. A queued position is tested again when it is drawn and dropped if its key changed class
     *  since (by this thread or another), so a caller that removes each key it draws is never handed it again as
     *  set; a key that joined the class after the batch was filled can first be drawn by the next batch (16 draws
     *  of the class at most). The chunk tries run in batches with AVX-512 VPOPCNTDQ (refill_class); elsewhere each
     *  draw runs its own tries (chunk_try).
     *
     *  The bound is then raised by the changes since the scan: the tracker's count() and removals() (its stamp)
     *  are read every 64 class draws; each key added since the scan raises the set class's bound by one, each
     *  removed key the unset class's (no chunk gains more, so a chunk below the scan's bound stays below this one,
     *  and a heavy chunk, at most twice the scan's bound, below twice this one). A chunk found above twice the
     *  bound, a bound raised by more than a quarter (plus 8) since the scan, or a count that fell by more than the
     *  removals (clear()) send the draws back to draw(f) until the next scan, and so does a class that was empty
     *  at the scan (bound 0). The scan runs once draw(f) has answered as many draws as there are chunks since the
     *  bounds were lost (its cost amortized over them; none for short streams). After 16 tries without a match
     *  (a class too rare for its bound) one draw(f) answers: as draw(f) is exact, so is the mixture. Keys changed
     *  by other threads are seen at the next stamp read (64 class draws at most): until then a chunk pushed above
     *  the bound (a heavy one above twice the bound) is drawn a little too rarely, and a try that meets one above
     *  twice the bound sends the draws back to draw(f). */
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t draw_class(bool want_set) {
        const unsigned c = want_set ? 0 : 1;
        // The usual draw: the next queued position of the class, still of its class (see queued_draw).
        if (bounded_ && --until_check_ != 0 && queue_head_[c] != queue_tail_[c]) [[likely]] {
            const std::uint64_t p = queue_[c][queue_head_[c]++];
            if (position_in(p, c)) [[likely]]
                return p;
        }
        return draw_class_more(c);
    }

private:
    // Uniform draws over a linear space come in blocks of W positions (`width`, or `narrow` in mixed_ratio
    // streams), drawn `ring` positions ahead of use with their words prefetched, so that random probes of a large
    // bitmap overlap their cache misses; the bits are tested when a block is used, so a key's state is read as late
    // as before. A block is tested whole, branch-free, and its first match taken: the first success of a sequence
    // of independent uniform draws, i.e. a uniform match exactly as one draw at a time gives (the block's later
    // draws are dropped, unseen by the output). A block without a match counts W misses.
    //
    // The dropped draws cost their cache lines all the same, and the lines are what a probe costs: a block yields
    // a match every W / (1 - (1 - d)^W) lines at density d. Wide blocks miss less often (a miss is a mispredicted
    // branch and a call out of line), which matters where the class is sparse; the draw(f) calls of mixed_ratio
    // streams, which mostly find dense classes (see use_chunks), take blocks of two: at d = 1/2, 2.7 lines per key
    // against 4.3, at 0.9, 2.0 against 4.0. (Their class draws proper come in batches: see draw_class.)
    static constexpr unsigned width = 4, narrow = 2, ring = 32; // ring: a multiple of both

    template <unsigned W>
    KEYSPACE_ALWAYS_INLINE std::uint64_t probe(bool want) noexcept {
        // Locals: each acquire load would otherwise make the compiler reload the members.
        std::uint64_t* b = ahead_ + head_;
        const atomic_word* words = words_;
        const std::uint64_t base = run_base_;
        unsigned hit = 0;
        for (unsigned j = 0; j < W; ++j) {
            const std::uint64_t x = base + b[j];
            // Acquire, as bitmap.test(): a key returned as set shows what its writer wrote before setting it.
            const bool set = ((words[x >> 6].load(std::memory_order_acquire) >> (x & 63)) & 1) != 0;
            hit |= static_cast<unsigned>(set == want) << j;
        }
        const std::uint64_t first = b[std::countr_zero(hit | (1u << (W - 1)))];
        last_probe_ = b[W - 1];
        refill<W>(b);
        head_ = (head_ + W) % ring;
        return hit != 0 ? first : no_position;
    }
    template <unsigned W>
    KEYSPACE_ALWAYS_INLINE void refill(std::uint64_t* b) noexcept {
        const atomic_word* words = words_;
        const std::uint64_t base = run_base_, n = n_;
        WyRand g = rng_;
        for (unsigned j = 0; j < W; ++j) {
            b[j] = detail::uniform_below(g, n);
#if defined(__GNUC__) || defined(__clang__)
            __builtin_prefetch(words + ((base + b[j]) >> 6));
#endif
        }
        rng_ = g;
    }
    // ---- chunk draws (draw_class) ---------------------------------------------------------------------------
    static constexpr unsigned chunk_words = 8, chunk_depth = 16, chunk_tries = 16, check_every = 64;
    // Heavy chunks (see draw_class): at most one in heavy_share has an extra slot. An entry of chunk_ahead_ is a
    // chunk (its low 32 bits), flagged extra_slot for the extra slot of a heavy one.
    static constexpr std::uint64_t heavy_share = 16, extra_slot = std::uint64_t{1} << 32, chunk_mask = extra_slot - 1;
    // The batched tries (refill_class): tries per batch, and batches per draw before draw(f) answers.
    static constexpr unsigned chunk_batch = 16, max_refills = 4;

    // The loops over a chunk's words are written out: left as loops they are not unrolled by every compiler, and
    // a rolled one (or an outlined lambda) costs about as much as the whole try.
    static KEYSPACE_ALWAYS_INLINE void load8(const atomic_word* w, std::uint64_t flip, std::uint64_t (&x)[chunk_words],
                                             std::memory_order order) noexcept {
        static_assert(chunk_words == 8);
        x[0] = w[0].load(order) ^ flip, x[1] = w[1].load(order) ^ flip, x[2] = w[2].load(order) ^ flip;
        x[3] = w[3].load(order) ^ flip, x[4] = w[4].load(order) ^ flip, x[5] = w[5].load(order) ^ flip;
        x[6] = w[6].load(order) ^ flip, x[7] = w[7].load(order) ^ flip;
    }
    static KEYSPACE_ALWAYS_INLINE void count8(const std::uint64_t (&x)[chunk_words],
                                              std::uint64_t (&n)[chunk_words]) noexcept {
        n[0] = static_cast<std::uint64_t>(std::popcount(x[0])), n[1] = static_cast<std::uint64_t>(std::popcount(x[1]));
        n[2] = static_cast<std::uint64_t>(std::popcount(x[2])), n[3] = static_cast<std::uint64_t>(std::popcount(x[3]));
        n[4] = static_cast<std::uint64_t>(std::popcount(x[4])), n[5] = static_cast<std::uint64_t>(std::popcount(x[5]));
        n[6] = static_cast<std::uint64_t>(std::popcount(x[6])), n[7] = static_cast<std::uint64_t>(std::popcount(x[7]));
    }
    // One step of the search for the word holding rank u: masks rather than conditionals, which compilers turn
    // into branches that mispredict on random ranks.
    static KEYSPACE_ALWAYS_INLINE void rank_step(std::uint64_t count, std::uint64_t u, std::uint64_t& below,
                                                 std::uint64_t& r, std::uint64_t& j) noexcept {
        below += count;
        const std::uint64_t past = 0 - static_cast<std::uint64_t>(below <= u); // all ones when rank u is further
        j -= past;
        r -= count & past;
    }
    // The entry of slot s < slots_ in chunk_ahead_: chunk s, or past the chunks, heavy chunk s - chunks flagged
    // extra_slot (its ranks [bound, 2 bound), see draw_class).
    static KEYSPACE_ALWAYS_INLINE std::uint64_t slot_entry(std::uint64_t s, std::uint64_t chunks,
                                                           const std::uint32_t* heavy) noexcept {
        if (s >= chunks) [[unlikely]]
            return extra_slot | heavy[s - chunks];
        return s;
    }
    // The first and last words of chunk k prefetched (the last only when on another line).
    static KEYSPACE_ALWAYS_INLINE void prefetch_chunk(const atomic_word* words, std::uint64_t k, bool one_line,
                                                      std::uint64_t last_word) noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(words + k * chunk_words);
        if (!one_line) __builtin_prefetch(words + std::min(k * chunk_words + (chunk_words - 1), last_word));
#endif
    }
    // A uniform slot's entry, its chunk prefetched.
    KEYSPACE_ALWAYS_INLINE std::uint64_t next_slot() noexcept {
        const std::uint64_t e = slot_entry(detail::uniform_below(rng_, slots_), chunk_count_, heavy_);
        prefetch_chunk(words_, e & chunk_mask, one_line_, words_total_ - 1);
        return e;
    }
    // The words of chunk k holding positions of class c (0: set, 1: unset) as masks; positions outside the space
    // (in the first and last chunks) are clear, and no word past the space is read.
    KEYSPACE_ALWAYS_INLINE void load_chunk(std::uint64_t k, unsigned c, std::uint64_t (&x)[chunk_words],
                                           std::memory_order order) const noexcept {
        const atomic_word* w = words_ + k * chunk_words;
        const std::uint64_t flip = c == 0 ? 0 : ~0ull;
        if (k != 0 && k + 1 < chunk_count_) [[likely]] {
            load8(w, flip, x, order);
            return;
        }
        const std::uint64_t w0 = k * chunk_words, end_bit = run_base_ + n_;
        for (unsigned j = 0; j < chunk_words; ++j) {
            const std::uint64_t i = w0 + j;
            if (i >= words_total_) {
                x[j] = 0;
                continue;
            }
            std::uint64_t valid = ~0ull;
            if (i == 0) valid &= ~0ull << run_base_;
            if (i == words_total_ - 1) valid &= detail::mask_below(end_bit);
            x[j] = (w[j].load(order) ^ flip) & valid;
        }
    }
    // One try of draw_class: a position of class c, or no_position (the try missed, or the chunk was above the
    // bound: then bounded_ is cleared).
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t chunk_try(unsigned c) noexcept {
        const std::uint64_t e = chunk_ahead_[chunk_head_], k = e & chunk_mask;
        chunk_ahead_[chunk_head_] = next_slot();
        chunk_head_ = (chunk_head_ + 1) % chunk_depth;
        std::uint64_t x[chunk_words];
        // Acquire, as bitmap.test(): a key returned as set shows what its writer wrote before setting it.
        load_chunk(k, c, x, std::memory_order_acquire);
        std::uint64_t n[chunk_words];
        count8(x, n);
        const std::uint64_t total = ((n[0] + n[1]) + (n[2] + n[3])) + ((n[4] + n[5]) + (n[6] + n[7])); // a tree
        const std::uint64_t bound = bound_[c];
        const std::uint64_t u = detail::uniform_below(rng_, bound) + (e >> 32) * bound; // + bound: an extra slot
        if (total > 2 * bound) [[unlikely]] { // the bound no longer holds: back to draw(f) until a new scan
            lose_bounds();
            return no_position;
        }
        if (u >= total) return no_position;
        // The word holding the class's u-th position, branch-free: how many prefix counts are <= u.
        std::uint64_t below = 0, r = u, j = 0;
        rank_step(n[0], u, below, r, j), rank_step(n[1], u, below, r, j), rank_step(n[2], u, below, r, j);
        rank_step(n[3], u, below, r, j), rank_step(n[4], u, below, r, j), rank_step(n[5], u, below, r, j);
        rank_step(n[6], u, below, r, j);
        const unsigned bit = detail::select_bit(x[j], static_cast<unsigned>(r));
        return (k * chunk_words + j) * 64 + bit - run_base_;
    }
    // A position of class c while the bounds hold, or no_position (the bounds were lost, or the batches or tries
    // found none: draw(f) answers). From the class's queue, except a sparse class without AVX-512 VPOPCNTDQ, whose
    // draws each run their own chunk tries.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t class_position(unsigned c) {
#if !defined(KEYSPACE_DETAIL_VPOPCNTDQ)
        if (chunked_[c]) {
            for (unsigned t = 0; t < chunk_tries && bounded_ && bound_[c] != 0; ++t) {
                const std::uint64_t p = chunk_try(c);
                if (p != no_position) [[likely]]
                    return p;
            }
            return no_position;
        }
#endif
        return queued_draw(c);
    }
    // The next queued position of class c, refilled by a batch when empty (refill_probes for a dense class,
    // refill_class for a sparse one); no_position when batches find none (then draw(f) answers).
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t queued_draw(unsigned c) {
        for (unsigned refills = 0;;) {
            if (queue_head_[c] == queue_tail_[c]) [[unlikely]] {
                if (refills++ == max_refills || !refill(c)) return no_position;
            }
            const std::uint64_t p = queue_[c][queue_head_[c]++];
            // Checked again now: a key taken by a batch and changed since (by this thread or another) is dropped.
            // Acquire, as bitmap.test(): a key returned as set shows what its writer wrote before setting it.
            if (position_in(p, c)) [[likely]]
                return p;
        }
    }
    KEYSPACE_ISA_ABI
    bool refill(unsigned c) noexcept {
        if (!chunked_[c]) return refill_probes(c);
#if defined(KEYSPACE_DETAIL_VPOPCNTDQ)
        return bounded_ && bound_[c] != 0 && refill_class(c);
#else
        return false; // not reached: a sparse class runs its own tries (class_position)
#endif
    }
    // A batch of `chunk_batch` probes for a dense class c (mixed_ratio streams), branch-free: the probed positions
    // of the class go to its queue, in the order drawn, each a uniform position of the class (the probes of draw(f)
    // one after another). The positions come from the ring of draw(f), prefetched `ring` probes ahead. Where a
    // probe block of draw(f) yields a match at a cost of W / (1 - (1 - d)^W) lines and a branch that mispredicts
    // with the block's miss rate, a batch costs 1 / d lines per match and one branch per batch: at d = 1/2, 2 lines
    // against 2.7, at 0.9, 1.1 against 2.0. False when no probe matched.
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE bool refill_probes(unsigned c) noexcept {
        static_assert(ring % chunk_batch == 0); // head_ stays a multiple of every block width
        const std::uint64_t want = c == 0 ? 1 : 0;
        const atomic_word* words = words_;
        const std::uint64_t base = run_base_, n = n_;
        WyRand g = rng_;
        unsigned head = head_, tail = 0;
        std::uint64_t queue[chunk_batch];
        for (unsigned i = 0; i < chunk_batch; ++i) {
            const std::uint64_t p = ahead_[head], x = base + p;
            queue[tail] = p;
            tail += ((words[x >> 6].load(std::memory_order_relaxed) >> (x & 63)) & 1) == want ? 1u : 0u;
            const std::uint64_t q = detail::uniform_below(g, n);
#if defined(__GNUC__) || defined(__clang__)
            __builtin_prefetch(words + ((base + q) >> 6));
#endif
            ahead_[head] = q;
            head = (head + 1) % ring;
        }
        rng_ = g;
        head_ = head;
        std::copy(queue, queue + chunk_batch, queue_[c]);
        queue_head_[c] = 0;
        queue_tail_[c] = tail;
        return tail != 0;
    }
    // Whether position p (of a contiguous space) holds class c now.
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool position_in(std::uint64_t p, unsigned c) const noexcept {
        const std::uint64_t x = run_base_ + p;
        const bool set = ((words_[x >> 6].load(std::memory_order_acquire) >> (x & 63)) & 1) != 0;
        return set == (c == 0);
    }
#if defined(KEYSPACE_DETAIL_VPOPCNTDQ)
    /* A batch of `chunk_batch` chunk tries for class c, branch-free: each accepted try's position goes to the
     * class's queue, in the order of the tries. A try is the try of chunk_try (a uniform chunk, its count, a
     * uniform u < bound and acceptance u < count, so each accepted position is uniform over the class). A lone try
     * ends in a branch on its acceptance, which mispredicts about as often as the acceptance is uncertain (0.4 at
     * 10 % density) and then waits for the chunk's line; here only the empty batch branches.
     *
     * Two passes. The first runs every try: one 64-bit draw gives the slot drawn ahead (high half) and the try's
     * u (low half), each an exact Lemire draw (uniform_below32); the chunk's count is one VPOPCNTQ whose 8 word
     * counts are summed as bytes by one VPSADBW; the try's line and u are kept, and counted as accepted when
     * u < count. The second runs the accepted tries only (about 3 in 4 at 10 % density): the prefix sums of the
     * word counts, the word holding rank u (how many prefix sums are <= u), and the rank within it, picked by pdep.
     *
     * False when no try was accepted, or when a chunk was above twice the bound (then the bounds are lost and the
     * batch dropped). Plain loads: the queue's positions are checked again, with acquire, when drawn. */
// g++ 12 warns, wrongly, that the _mm512_undefined_* in its own intrinsics (the "don't care" lanes of the plain
// forms) may be used uninitialized once they are inlined here (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE bool refill_class(unsigned c) noexcept {
        static_assert(chunk_batch == chunk_depth); // a batch uses every chunk drawn ahead: chunk_head_ stays 0
        const std::uint64_t bound = bound_[c];
        const __m512i flip = _mm512_set1_epi64(c == 0 ? 0 : -1);
        // Locals: stores to the queue would otherwise make the compiler keep the members in memory.
        const atomic_word* words = words_;
        const std::uint64_t chunks = chunk_count_, slots = slots_, last_word = words_total_ - 1;
        const std::uint32_t* heavy = heavy_;
        const bool one_line = one_line_;
        WyRand g = rng_;
        unsigned tail = 0;
        std::uint64_t top = 0; // the highest count met: the over check, after the batch
        // The accepted tries' lines (class bits set), chunks and ranks.
        alignas(64) std::uint64_t line[chunk_batch][chunk_words];
        std::uint64_t chunk_of[chunk_batch], rank_of[chunk_batch];
        for (unsigned i = 0; i < chunk_batch; ++i) {
            const std::uint64_t e = chunk_ahead_[i], k = e & chunk_mask;
            const std::uint64_t x = g();
            const std::uint64_t next = slot_entry(
                detail::uniform_below32(g, static_cast<std::uint32_t>(x >> 32), slots), chunks, heavy);
            const std::uint64_t u = detail::uniform_below32(g, static_cast<std::uint32_t>(x), bound)
                                    + (e >> 32) * bound; // + bound: an extra slot
            chunk_ahead_[i] = next;
            prefetch_chunk(words, next & chunk_mask, one_line, last_word);
            __m512i v;
            if (k - 1 < chunks - 2) [[likely]] { // neither the first nor the last chunk
                v = _mm512_xor_si512(_mm512_loadu_si512(static_cast<const void*>(words + k * chunk_words)), flip);
            } else {
                alignas(64) std::uint64_t w[chunk_words];
                load_chunk(k, c, w, std::memory_order_relaxed);
                v = _mm512_load_si512(static_cast<const void*>(w));
            }
            // The count: the 8 word counts (each <= 64) as bytes, summed by one vpsadbw.
            const auto count = static_cast<std::uint64_t>(_mm_cvtsi128_si64(
                _mm_sad_epu8(_mm512_cvtepi64_epi8(_mm512_popcnt_epi64(v)), _mm_setzero_si128())));
            top = std::max(top, count);
            _mm512_store_si512(static_cast<void*>(line[tail]), v);
            chunk_of[tail] = k;
            rank_of[tail] = u;
            tail += u < count ? 1u : 0u; // accepted: kept (else overwritten by the next try)
        }
        rng_ = g;
        const __m512i zero = _mm512_setzero_si512();
        const std::uint64_t base = run_base_;
        std::uint64_t* queue = queue_[c];
        for (unsigned j = 0; j < tail; ++j) {
            const __m512i v = _mm512_load_si512(static_cast<const void*>(line[j]));
            const std::uint64_t u = rank_of[j];
            const __m512i n = _mm512_popcnt_epi64(v);
            __m512i sum = _mm512_add_epi64(n, _mm512_alignr_epi64(n, zero, 7)); // inclusive prefix sums
            sum = _mm512_add_epi64(sum, _mm512_alignr_epi64(sum, zero, 6));
            sum = _mm512_add_epi64(sum, _mm512_alignr_epi64(sum, zero, 4));
            const unsigned below = _mm512_cmple_epu64_mask(sum, _mm512_set1_epi64(static_cast<long long>(u)));
            // The word holding rank u: the number of words wholly below it (u < count: fewer than 8).
            const auto w = static_cast<std::uint64_t>(std::popcount(below) & 7);
            const __m512i at = _mm512_set1_epi64(static_cast<long long>(w));
            const auto before = static_cast<std::uint64_t>(
                _mm_cvtsi128_si64(_mm512_castsi512_si128(_mm512_permutexvar_epi64(at, _mm512_sub_epi64(sum, n)))));
            const auto word = static_cast<std::uint64_t>(
                _mm_cvtsi128_si64(_mm512_castsi512_si128(_mm512_permutexvar_epi64(at, v))));
            queue[j] = (chunk_of[j] * chunk_words + w) * 64
                       + detail::select_bit(word, static_cast<unsigned>((u - before) & 63)) - base;
        }
        queue_head_[c] = 0;
        queue_tail_[c] = tail;
        if (top > 2 * bound) [[unlikely]] { // the bound no longer holds: back to draw(f) until a new scan
            lose_bounds();
            return false;
        }
        return tail != 0;
    }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
    // draw_class past its queue: the stamp read every `check_every` draws, a new batch, the chunk tries of other
    // instruction sets, and draw(f) when the chunks cannot answer (with the scan once enough such draws paid for it).
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::uint64_t draw_class_more(unsigned c) {
        const Filter f = c == 0 ? Filter::SetOnly : Filter::UnsetOnly;
        if (bounded_) {
            if (until_check_ == 0) check_changes();
            if (bounded_) {
                const std::uint64_t p = class_position(c);
                if (p != no_position) return p;
                return draw_position(f);
            }
        }
        if (chunks_ && ++slow_draws_ >= scan_after_) {
            scan_chunks();
            const std::uint64_t p = class_position(c);
            if (p != no_position) return p;
        }
        return draw_position(f);
    }
    void lose_bounds() noexcept {
        bounded_ = false;
        slow_draws_ = 0;
        clear_queues();
    }
    void clear_queues() noexcept { queue_head_[0] = queue_tail_[0] = queue_head_[1] = queue_tail_[1] = 0; }
    // The bounds and the heavy chunks (see draw_class). The stamp is read first, so changes made during the scan
    // raise the bounds afterwards.
    KEYSPACE_ISA_ABI
    void scan_chunks() noexcept {
        at_scan_ = QuietSince::stamp(*space_.tracker);
        std::uint64_t most[2] = {0, 0}, total_set = 0;
        std::uint32_t how_many[2][chunk_words * 64 + 1] = {}; // of each class: how many chunks hold each count
        // The chunks above the last scan's choice of bound, of the class chunked then, are listed on the way (see
        // find_heavy): a rescan then reads the chunks once.
        const unsigned listed = heavy_class_;
        const std::uint64_t over = heavy_over_;
        std::uint64_t found = 0;
        bool spilled = false;
        for (std::uint64_t k = 0; k < chunk_count_; ++k) {
            const std::uint64_t set = chunk_count_of(k, 0), valid = chunk_positions(k);
            total_set += set;
            most[0] = std::max(most[0], set);
            most[1] = std::max(most[1], valid - set);
            ++how_many[0][set];
            ++how_many[1][valid - set];
            if (listed < 2 && (listed == 0 ? set : valid - set) > over) [[unlikely]] {
                if (found < heavy_room_)
                    heavy_[found++] = static_cast<std::uint32_t>(k);
                else
                    spilled = true;
            }
        }
        // A class denser than a quarter of the space is found as fast by the probes of draw(f) (a block of 4 hits
        // with probability 0.68 or more, without the chunk's count and select): the chunks serve the sparse ones
        // (at most one of the two).
        const std::uint64_t total_unset = n_ - std::min(n_, total_set);
        chunked_[0] = total_set <= n_ / 4;
        chunked_[1] = total_unset <= n_ / 4;
        scanned_[0] = bound_[0] = most[0];
        scanned_[1] = bound_[1] = most[1];
        heavy_count_ = 0;
        heavy_class_ = 2;
        for (unsigned c = 0; c < 2; ++c)
            if (chunked_[c] && most[c] > 1) find_heavy(c, how_many[c], most[c], c == listed && !spilled, found, over);
        slots_ = chunk_count_ + heavy_count_;
        for (auto& e : chunk_ahead_) e = next_slot(); // slots of the new set only
        chunk_head_ = 0;
        bounded_ = true;
        slow_draws_ = 0;
        until_check_ = check_every;
        clear_queues();
    }
    // The count of class c in chunk k.
    KEYSPACE_ISA_ABI
    KEYSPACE_ALWAYS_INLINE std::uint64_t chunk_count_of(std::uint64_t k, unsigned c) const noexcept {
        std::uint64_t x[chunk_words];
        load_chunk(k, c, x, std::memory_order_relaxed);
        std::uint64_t n = 0;
        for (unsigned j = 0; j < chunk_words; ++j) n += static_cast<std::uint64_t>(std::popcount(x[j]));
        return n;
    }
    // The positions of the space in chunk k (fewer in the edge chunks).
    std::uint64_t chunk_positions(std::uint64_t k) const noexcept {
        if (k != 0 && k + 1 != chunk_count_) return chunk_words * 64;
        const std::uint64_t lo = std::max<std::uint64_t>(k * chunk_words * 64, run_base_);
        const std::uint64_t hi = std::min<std::uint64_t>((k + 1) * chunk_words * 64, run_base_ + n_);
        return hi - lo;
    }
    // The bound of class c below its highest count `most` that makes a try cheapest: (chunks + heavy) * bound smallest,
    // with the heavy chunks (count above the bound) at most one in heavy_share and at most twice the bound; then the
    // heavy chunks. When the scan listed the chunks above the last scan's choice for this class (`found` chunks above
    // `listed_over`, `in_list`), the bound is at least that choice, so the list holds every chunk above it (and perhaps
    // a few at or below it, whose extra slots then find nothing: exact all the same). Otherwise (the first scan,
    // another class, or more such chunks than the room) a second pass finds them. If changes during the scan make more
    // chunks heavy than the room holds, the bound stays `most` and no chunk is heavy.
    KEYSPACE_ISA_ABI
    void find_heavy(unsigned c, const std::uint32_t (&how_many)[chunk_words * 64 + 1], std::uint64_t most, bool in_list,
                    std::uint64_t found, std::uint64_t listed_over) noexcept {
        const std::uint64_t room = heavy_room_;
        std::uint64_t best = most, best_cost = chunk_count_ * most, above = 0;
        for (std::uint64_t b = most - 1; 2 * b >= most; --b) {
            above += how_many[b + 1]; // the chunks above b
            if (above > room) break;
            const std::uint64_t cost = (chunk_count_ + above) * b;
            if (cost < best_cost) best = b, best_cost = cost;
        }
        heavy_class_ = c;
        heavy_over_ = best; // the next scan lists the chunks above it
        if (in_list) {
            const std::uint64_t b = std::max(best, listed_over);
            if (b >= most) return;
            heavy_count_ = found;
            scanned_[c] = bound_[c] = b;
            return;
        }
        if (best == most) return;
        for (std::uint64_t k = 0; k < chunk_count_; ++k) {
            if (chunk_count_of(k, c) <= best) continue;
            if (heavy_count_ == room) { // grown during the scan: no heavy chunks this time
                heavy_count_ = 0;
                return;
            }
            heavy_[heavy_count_++] = static_cast<std::uint32_t>(k);
        }
        scanned_[c] = bound_[c] = best;
    }
    // Every 64 class draws: raises the bounds by the keys added and removed since the scan (see draw_class).
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE void check_changes() noexcept {
        until_check_ = check_every;
        const QuietSince::Stamp now = QuietSince::stamp(*space_.tracker);
        if (now.count == at_scan_.count && now.removals == at_scan_.removals) return;
        if (now.removals < at_scan_.removals || now.count + now.removals < at_scan_.count + at_scan_.removals) {
            lose_bounds(); // not counted as keys come and go (clear(), reset): scan again
            return;
        }
        const std::uint64_t added = (now.count + now.removals) - (at_scan_.count + at_scan_.removals);
        const std::uint64_t removed = now.removals - at_scan_.removals;
        const std::uint64_t most = chunk_words * 64;
        bound_[0] = std::min(most, scanned_[0] + added);
        bound_[1] = std::min(most, scanned_[1] + removed);
        for (unsigned c = 0; c < 2; ++c)
            if (chunked_[c] && bound_[c] > scanned_[c] + scanned_[c] / 4 + 8) lose_bounds(); // worth a new scan
    }

    // Finds the words of a linear space when one committed run holds them all (a sized bitmap's contiguous
    // segment, or a fixed one: memory that never moves and is never released while the tracker lives): words_ is
    // then the space's first word and position p is bit run_base_ + p from it. False otherwise.
    bool find_contiguous_words() noexcept {
        const std::uint64_t wb = base_ >> 6, we = ((base_ + n_ - 1) >> 6) + 1;
        space_.bits().storage().for_each_run(wb, we, [&](std::uint64_t w0, const atomic_word* p, std::size_t n) {
            if (w0 == wb && n == we - wb) words_ = p;
            return false;
        });
        run_base_ = base_ & 63;
        return words_ != nullptr;
    }

    // Whether position p is set: one bit test of the tracker's bitmap when the space is linear.
    KEYSPACE_ISA_ABI
    [[nodiscard]] KEYSPACE_ALWAYS_INLINE bool is_set(std::uint64_t p) const noexcept {
        if (linear_) [[likely]]
            return space_.bits().test(base_ + p);
        return space_.tracker->exists(space_.key_at(p));
    }

    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::uint64_t draw_sampled() {
        if (!recency_) return sampler_(rng_);
        follow_newest();
        return newest_ - sampler_(rng_);
    }

    // draw(f) after its first `misses` draws missed, the last of them at p.
    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::uint64_t draw_after_miss(Filter f, bool scan, std::uint64_t p, unsigned misses) {
        const bool want = f == Filter::SetOnly;
        if (quiet_[want ? 0 : 1].quiet(*space_.tracker)) [[unlikely]] // nothing matched at the last scan
            return no_position;
        for (unsigned miss = misses; miss < 64;) {
            if (blocks_) {
                const std::uint64_t q = narrow_ ? probe<narrow>(want) : probe<width>(want);
                if (q != no_position) return q;
                p = last_probe_;
                miss += narrow_ ? narrow : width;
            } else {
                p = draw();
                if (is_set(p) == want) return p;
                ++miss;
            }
        }
        if (!scan) return no_position;
        return fallback(f, p).value_or(no_position);
    }

    static constexpr std::uint64_t first_interval = 4096, max_interval = 1ull << 20;

    KEYSPACE_ISA_ABI
    KEYSPACE_NOINLINE std::optional<std::uint64_t> fallback(Filter f, std::uint64_t p) {
        const QuietSince::Stamp before_scan = QuietSince::stamp(*space_.tracker);
        Scanner after(space_, f, p + 1, space_.size());
        if (auto q = after.next()) return q;
        Scanner before(space_, f, 0, p + 1);
        if (auto q = before.next()) return q;
        quiet_[f == Filter::SetOnly ? 0 : 1].arm(*space_.tracker, before_scan);
        return std::nullopt;
    }

    KEYSPACE_ISA_ABI
    void find_newest() {
        const auto top = last_set(space_, 0, space_.size());
        any_ = top.has_value();
        newest_ = top.value_or(space_.size() - 1);
    }
    KEYSPACE_ISA_ABI
    void follow_newest() {
        const std::uint64_t before = newest_, n = space_.size();
        if (any_ && space_.mask_at(newest_, 1, Filter::SetOnly) == 0) { // removed: search down
            const auto lower = last_set(space_, 0, newest_);
            any_ = lower.has_value();
            newest_ = lower.value_or(n - 1);
        }
        if (any_) { // keys added just above
            while (newest_ + 1 < n) {
                const std::uint64_t m = space_.mask_at(newest_ + 1, 64, Filter::SetOnly);
                if (m == 0) break;
                newest_ += 64 - static_cast<std::uint64_t>(std::countl_zero(m));
            }
        }
        if (--until_refresh_ == 0) {
            const auto top = last_set(space_, any_ ? newest_ + 1 : 0, n);
            if (top) {
                any_ = true, newest_ = *top;
                interval_ = first_interval;
            } else {
                interval_ = std::min(interval_ * 2, max_interval);
            }
            until_refresh_ = interval_;
        }
        if (newest_ != before) sampler_.set_n(newest_ + 1);
    }

    Space space_;
    bool recency_;
    bool linear_;         // positions are bits base_ + p of the tracker's bitmap
    bool uniform_ = false; // a uniform sampler over n_ positions: draw() draws it inline (the same values)
    bool any_ = false;
    std::uint64_t base_, n_ = 0;
    bool blocks_ = false;                    // uniform over a linear space: draw(f) probes blocks of words_
    const atomic_word* words_ = nullptr;     // blocks_: the space's first word (see find_contiguous_words)
    std::uint64_t run_base_ = 0;             // blocks_: position p is bit run_base_ + p from words_
    std::uint64_t ahead_[ring] = {};         // the next positions, ahead_[head_] first
    unsigned head_ = 0;                      // a multiple of the block width: a block never wraps
    bool narrow_ = false;                    // blocks of `narrow` positions (mixed_ratio streams, see use_chunks)
    std::uint64_t last_probe_ = 0;           // the last position of the last block probed
    WyRand rng_; // the engine's own generator (detail/random_bits.hpp): several draws go into one key
    Sampler sampler_;
    std::uint64_t newest_ = 0;
    std::uint64_t interval_ = first_interval, until_refresh_ = first_interval;
    QuietSince quiet_[2]; // set-only and unset-only draws: nothing matched at the last scan
    // Chunk draws (draw_class, mixed_ratio streams): [0] the set class, [1] the unset class.
    bool chunks_ = false;                 // turned on by use_chunks
    bool bounded_ = false;                // bound_ holds: draw_class draws chunks
    std::uint64_t words_total_ = 0, chunk_count_ = 0;
    std::uint64_t bound_[2] = {0, 0};     // no chunk holds more positions of the class (0: draw(f) answers)
    std::uint64_t scanned_[2] = {0, 0};   // the highest counts at the last scan
    bool chunked_[2] = {false, false};    // the class was sparse at the last scan: chunk draws serve it
    QuietSince::Stamp at_scan_;           // the tracker's stamp before the last scan
    std::uint64_t slow_draws_ = 0, scan_after_ = 0; // draw(f) answers since the bounds were lost; the scan's price
    unsigned until_check_ = check_every;
    std::uint64_t chunk_ahead_[chunk_depth] = {}; // the next slots' entries, chunk_ahead_[chunk_head_] first
                                                  // (their chunks prefetched; see slot_entry)
    std::uint32_t* heavy_ = nullptr;              // the heavy chunks of the chunked class at the last scan (in the
    std::uint64_t heavy_count_ = 0, heavy_room_ = 0; // room given to use_chunks)
    std::uint64_t slots_ = 0;                     // chunk_count_ + heavy_count_
    unsigned heavy_class_ = 2;                    // the class of the last scan's heavy chunks (2: none), and the
    std::uint64_t heavy_over_ = 0;                // bound it chose: the next scan lists the chunks above it
    unsigned chunk_head_ = 0;
    bool one_line_ = false; // a chunk is one cache line (words_ is 64-byte aligned): one prefetch per chunk
    // The positions taken by the last batch of each class, queue_[c][queue_head_[c]] next: probes of a dense class
    // (refill_probes), chunk tries of a sparse one (refill_class; without AVX-512 VPOPCNTDQ a sparse class's queue
    // stays empty and each draw runs its own tries).
    std::uint64_t queue_[2][chunk_batch] = {};
    unsigned queue_head_[2] = {0, 0}, queue_tail_[2] = {0, 0};
};

/// Geometric skip lengths for sample(p): how many matches to pass before the next kept one.
class Thinning {
public:
    Thinning() = default;
    Thinning(std::optional<double> p, std::uint64_t seed) : rng_(seed) {
        if (p && *p < 1.0) {
            active_ = true;
            never_ = *p <= 0.0;
            if (!never_) log_q_ = std::log1p(-*p);
        }
    }
    [[nodiscard]] bool never() const noexcept { return never_; }
    KEYSPACE_ALWAYS_INLINE std::uint64_t draw() noexcept {
        if (!active_) [[likely]]
            return 0;
        return draw_skip();
    }

private:
    KEYSPACE_NOINLINE std::uint64_t draw_skip() noexcept {
        if (never_) return std::numeric_limits<std::uint64_t>::max(); // p = 0: keep nothing (log_q_ is unset)
        const double u = 1.0 - rng_.uniform01(); // (0, 1]
        const double k = std::floor(std::log(u) / log_q_);
        return k >= 9.2e18 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(k);
    }

    Rng rng_{0};
    bool active_ = false, never_ = false;
    double log_q_ = 0;
};

} // namespace detail
KEYSPACE_END_NAMESPACE
