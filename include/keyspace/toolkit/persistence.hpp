/** @file keyspace/toolkit/persistence.hpp
 *  Saving a tracker to a file and loading it back (a load phase in one process, a query phase in another), in a
 *  versioned, checksummed, little-endian format. A truncated or corrupted file is rejected, nothing half-loaded.
 *
 *  File format. This build writes version 2 and reads versions 1 and 2; a build that reads only version 1 (0.1.0)
 *  refuses a version 2 file with "format version 2 is not supported (this build reads version 1)". Every integer is
 *  little-endian whatever the host, so a file moves between architectures unchanged (the tests load files written
 *  on x86-64 on every architecture they run on, AArch64 included).
 *
 *  | offset | size | field |
 *  |---|---|---|
 *  | 0  | 8 | magic: the bytes `KSPTRACK` |
 *  | 8  | 4 | format version: 2 (or 1) |
 *  | 12 | 4 | flags: bit 0 = bounded (max_id below is meaningful); other bits 0 |
 *  | 16 | 8 | max_id (0 when unbounded) |
 *  | 24 | 8 | payload words W: the payload is 8·W bytes (0 for an empty tracker) |
 *  | 32 | 8 | ID count: the number of set bits in the payload's ID words |
 *  | 40 | 4 | prefix length L in bytes (at most 1 MiB) |
 *  | 44 | 4 | reserved: 0 |
 *  | 48 | 8 | payload checksum: checksum64 of the L prefix bytes followed by the 8·W payload bytes |
 *  | 56 | 8 | header checksum: checksum64 of bytes [0, 56) |
 *  | 64 | L | prefix (raw bytes) |
 *  | 64 + L | 8·W | payload: W 64-bit words |
 *
 *  Version 2 payload: segments, each the 64-bit words `first`, `n` (n >= 1) and n ID words; bit i of the k-th ID
 *  word is ID 64·(first + k) + i. Segments are ascending and disjoint (each `first` at or past the end of the one
 *  before), and the first and last ID words of each are non-empty; a segment ends where more than two empty words
 *  follow. The file size follows the words that hold IDs, not the highest ID: a tracker holding only ID 10^12 is a
 *  file of 64 + L + 24 bytes.
 *  Version 1 payload (written by 0.1.0): W ID words from ID 0, bit i of word w is ID 64·w + i, the last one
 *  non-empty.
 *
 *  The file ends right after the payload. checksum64(bytes): h = 0xcbf29ce484222325; for each 8-byte chunk c read
 *  little-endian (the last one zero-padded): h = (h XOR c) · 0x100000001b3 mod 2^64; finally
 *  h = (h XOR byte length) · 0x100000001b3. (FNV-1a's constants over 64-bit chunks: any change to one chunk
 *  changes the result.)
 *
 *  Saving to a path (save_tracker(t, path)) — the guarantees:
 *  - Concurrent readers (load_tracker, any process) see the old file or a complete new one, never a partial one:
 *    the file is written under a unique temporary name in the same directory (created with O_CREAT | O_EXCL, so an
 *    existing file or symlink there is never written through) and renamed over the path.
 *  - Concurrent savers to one path (threads or processes) each write their own temporary file; the path ends up
 *    holding one complete save (the last rename wins), and every reader sees one complete save.
 *  - Process crash (SIGKILL included) at any point of a save: the path holds the old file or the new one. A killed
 *    save may leave its temporary file (`.<name>.tmp.<16 hex digits>` beside the path); a save that fails with an
 *    exception removes it, and rejects bad input before it creates anything.
 *  - Machine crash or power loss: with Durability::Durable (the default) the file is fsync'ed before the rename and
 *    its directory after, so once save_tracker returns the new file survives; a crash during the save leaves the
 *    old file or the new one. Durability::NotDurable skips both fsyncs (faster; a process crash is still safe), and
 *    after a machine crash the path may hold the old file, the new one, or — depending on the file system — an
 *    empty or partial file, which load_tracker rejects. Without POSIX (no fsync), saves are not durable.
 *
 *  Hierarchical trackers are not supported (std::invalid_argument). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/errors.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/toolkit/snapshot.hpp>

#include <algorithm>    // for std::max, std::min
#include <array>        // for std::array
#include <atomic>       // for std::atomic
#include <bit>          // for std::popcount, std::countr_zero
#include <cerrno>       // for errno, EEXIST, EINTR, EINVAL
#include <concepts>     // for std::convertible_to
#include <cstdint>      // for std::uint8_t, std::uint32_t, std::uint64_t
#include <cstdio>       // for std::fopen, std::fread, std::fwrite, std::fflush, std::fclose, std::remove, std::rename
#include <cstring>      // for std::memcmp, std::memcpy, std::memset, std::strerror
#include <ctime>        // for std::timespec_get (temporary names)
#include <istream>      // for std::istream
#include <memory>       // for std::unique_ptr, std::make_unique
#include <optional>     // for std::optional
#include <ostream>      // for std::ostream
#include <span>         // for std::span
#include <stdexcept>    // for std::runtime_error, std::invalid_argument
#include <string>       // for std::string, std::to_string
#include <string_view>  // for std::string_view
#include <vector>       // for std::vector

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>  // for open, O_RDONLY, O_DIRECTORY, O_CLOEXEC
#include <unistd.h> // for fsync, close, getpid
#define KEYSPACE_DETAIL_HAS_FSYNC 1
#else
#define KEYSPACE_DETAIL_HAS_FSYNC 0
#endif

KEYSPACE_BEGIN_NAMESPACE

/// A tracker file that cannot be read or written: missing, truncated, corrupted, of another version. The library's
/// one I/O error type (keyspace::IoError, <keyspace/errors.hpp>), under the name this header has always used.
using TrackerFileError = IoError;

/** What save_tracker(t, path) waits for before it returns (see the file comment).
 *  - Durable: the file and then its directory are fsync'ed: the saved file survives a machine crash or power loss
 *    once save_tracker returns.
 *  - NotDurable: no fsync; safe against a process crash, not against a machine crash. */
enum class Durability : std::uint8_t { Durable, NotDurable };

namespace detail {

inline constexpr std::array<char, 8> tracker_file_magic{'K', 'S', 'P', 'T', 'R', 'A', 'C', 'K'};
inline constexpr std::uint32_t tracker_file_version = 2;        // written
inline constexpr std::uint32_t tracker_file_oldest_version = 1; // still read
inline constexpr std::size_t tracker_file_header_size = 64;
inline constexpr std::uint32_t tracker_file_max_prefix = 1u << 20;

/// For tests: when set, called after each fsync a save makes, with the descriptor synced (the file, then its
/// directory). Not thread-safe to change while saves run.
inline void (*tracker_file_sync_observer)(int fd) = nullptr;

inline std::uint64_t load_le64(const unsigned char* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
inline std::uint32_t load_le32(const unsigned char* p) noexcept {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline void store_le64(unsigned char* p, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void store_le32(unsigned char* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

/// The file format's checksum, fed in pieces (see the header comment). Pieces may have any length.
class Checksum64 {
public:
    void update(const unsigned char* p, std::size_t n) noexcept {
        length_ += n;
        while (n > 0) {
            const std::size_t take = std::min<std::size_t>(8 - fill_, n);
            std::memcpy(buf_.data() + fill_, p, take);
            fill_ += take, p += take, n -= take;
            if (fill_ == 8) flush();
        }
    }
    [[nodiscard]] std::uint64_t finish() noexcept {
        if (fill_ != 0) {
            std::memset(buf_.data() + fill_, 0, 8 - fill_);
            flush();
        }
        return (h_ ^ length_) * prime;
    }

private:
    static constexpr std::uint64_t prime = 0x100000001b3ull;
    void flush() noexcept {
        h_ = (h_ ^ load_le64(buf_.data())) * prime;
        fill_ = 0;
    }
    std::uint64_t h_ = 0xcbf29ce484222325ull, length_ = 0;
    std::array<unsigned char, 8> buf_{};
    std::size_t fill_ = 0;
};

[[nodiscard]] inline std::uint64_t checksum64(std::span<const unsigned char> bytes) noexcept {
    Checksum64 c;
    c.update(bytes.data(), bytes.size());
    return c.finish();
}

[[noreturn]] inline void tracker_file_error(const std::string& where, const std::string& what) {
    fail_io({"keyspace: tracker file", where, ": ", what});
}

/// What save_tracker refuses, checked before it copies or creates anything.
inline void check_savable(const PrefixTracker& t) {
    require_simple(t, "save_tracker");
    if (t.prefix().size() > tracker_file_max_prefix)
        fail_invalid_argument({"save_tracker: the prefix is longer than 1 MiB (", t.prefix().size(), " bytes)"});
}

/// Writes the version-2 file of snap through sink(const unsigned char*, std::size_t), a piece at a time (the
/// payload in pieces of at most 64 KiB: memory beyond the snapshot stays small).
template <class Sink>
void write_tracker_file(const Snapshot& snap, std::string_view prefix, std::optional<std::uint64_t> max_id,
                        Sink&& sink) {
    std::vector<unsigned char> buf(std::size_t{1} << 16);
    std::size_t fill = 0;
    // Calls out() for the payload, a buffer (buf[0, fill)) at a time.
    const auto payload = [&](auto&& out) {
        const auto word = [&](std::uint64_t v) {
            if (fill == buf.size()) out(), fill = 0;
            store_le64(buf.data() + fill, v);
            fill += 8;
        };
        fill = 0;
        for (std::size_t r = 0; r < snap.run_count(); ++r) {
            const Snapshot::Run run = snap.run(r);
            word(run.first_word);
            word(run.words.size());
            for (const std::uint64_t w : run.words) word(w);
        }
        if (fill != 0) out();
    };
    std::uint64_t words = 0;
    for (std::size_t r = 0; r < snap.run_count(); ++r) words += 2 + snap.run(r).words.size();
    Checksum64 sum;
    sum.update(reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
    payload([&] { sum.update(buf.data(), fill); });

    std::array<unsigned char, tracker_file_header_size> h{};
    std::memcpy(h.data(), tracker_file_magic.data(), 8);
    store_le32(h.data() + 8, tracker_file_version);
    store_le32(h.data() + 12, max_id ? 1u : 0u);
    store_le64(h.data() + 16, max_id.value_or(0));
    store_le64(h.data() + 24, words);
    store_le64(h.data() + 32, snap.count());
    store_le32(h.data() + 40, static_cast<std::uint32_t>(prefix.size()));
    store_le64(h.data() + 48, sum.finish());
    store_le64(h.data() + 56, checksum64(std::span<const unsigned char>(h.data(), 56)));
    sink(h.data(), h.size());
    sink(reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
    payload([&] { sink(buf.data(), fill); });
}

/** A file name save_tracker and load_tracker accept: a string (`const char*`, std::string, std::string_view) or a
 *  path object with `string()` (std::filesystem::path). Named by concept rather than by std::filesystem::path so
 *  this header does not include <filesystem> (a large header every file including the toolkit would pay for). */
template <class P>
concept tracker_path = std::convertible_to<const P&, std::string_view> || requires(const P& p) {
    { p.string() } -> std::convertible_to<std::string>;
};

/// The file name of a tracker_path as a string.
template <tracker_path P>
[[nodiscard]] std::string tracker_path_string(const P& path) {
    if constexpr (std::convertible_to<const P&, std::string_view>)
        return std::string(std::string_view(path));
    else
        return path.string();
}

/// A temporary file beside a target path, created exclusively under a fresh name; removed unless commit()
/// renamed it over the target.
class TrackerTempFile {
public:
    TrackerTempFile(std::string target, std::string where) : target_(std::move(target)), where_(std::move(where)) {
        const std::size_t slash = target_.find_last_of(path_separators);
        dir_ = slash == std::string::npos ? std::string(".") : target_.substr(0, slash == 0 ? 1 : slash);
        const std::string file_name = slash == std::string::npos ? target_ : target_.substr(slash + 1);
        static std::atomic<std::uint64_t> counter{0};
        std::timespec now{};
        (void)std::timespec_get(&now, TIME_UTC);
        std::uint64_t seed = counter.fetch_add(1, std::memory_order_relaxed) * 0x9e3779b97f4a7c15ull ^
                             static_cast<std::uint64_t>(now.tv_sec) * 1000000000ull ^
                             static_cast<std::uint64_t>(now.tv_nsec) ^ reinterpret_cast<std::uintptr_t>(&seed);
#if KEYSPACE_DETAIL_HAS_FSYNC
        seed ^= static_cast<std::uint64_t>(::getpid()) << 32;
#endif
        for (int attempt = 0; attempt < 64; ++attempt) {
            seed += 0x9e3779b97f4a7c15ull; // splitmix64
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            static constexpr char hex[] = "0123456789abcdef";
            tmp_ = slash == std::string::npos ? std::string() : target_.substr(0, slash + 1);
            tmp_.append(1, '.').append(file_name).append(".tmp.");
            for (int i = 0; i < 16; ++i) tmp_.push_back(hex[(z >> (4 * i)) & 15]);
            errno = 0;
            file_ = std::fopen(tmp_.c_str(), "wbx"); // "x": O_CREAT | O_EXCL, never through a link
            if (file_ != nullptr) return;
            if (errno != EEXIST) break;
        }
        fail("cannot create a temporary file in '" + dir_ + "': " + std::strerror(errno));
    }
    TrackerTempFile(const TrackerTempFile&) = delete;
    TrackerTempFile& operator=(const TrackerTempFile&) = delete;
    ~TrackerTempFile() {
        if (file_ != nullptr) std::fclose(file_);
        if (!renamed_) std::remove(tmp_.c_str());
    }

    void write(const unsigned char* p, std::size_t n) {
        if (n != 0 && std::fwrite(p, 1, n, file_) != n) fail("write failed: " + std::string(std::strerror(errno)));
    }
    /// Flushes, syncs (Durable), closes and renames over the target, then syncs the directory (Durable).
    void commit(Durability durability) {
        if (std::fflush(file_) != 0) fail("write failed: " + std::string(std::strerror(errno)));
#if KEYSPACE_DETAIL_HAS_FSYNC
        if (durability == Durability::Durable) sync(::fileno(file_), "the file");
#endif
        std::FILE* f = file_;
        file_ = nullptr;
        if (std::fclose(f) != 0) fail("write failed: " + std::string(std::strerror(errno)));
        // POSIX rename(2): replaces the target atomically (readers see the old file or the new one).
        if (std::rename(tmp_.c_str(), target_.c_str()) != 0)
            fail("cannot rename the temporary file: " + std::string(std::strerror(errno)));
        renamed_ = true;
#if KEYSPACE_DETAIL_HAS_FSYNC
        if (durability == Durability::Durable) {
            const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd < 0) fail("saved, but cannot open the directory to sync it: " + std::string(std::strerror(errno)));
            struct Closer {
                int fd;
                ~Closer() { ::close(fd); }
            } closer{dfd};
            sync(dfd, "the directory");
        }
#else
        (void)durability;
#endif
    }

private:
    [[noreturn]] void fail(const std::string& what) const { tracker_file_error(where_, what); }
#if KEYSPACE_DETAIL_HAS_FSYNC
    void sync(int fd, const char* what) const {
        int rc;
        do rc = ::fsync(fd);
        while (rc != 0 && errno == EINTR);
        // EINVAL: this file system cannot sync this kind of file (some cannot sync directories): nothing to wait for.
        if (rc != 0 && errno != EINVAL) fail(std::string("cannot sync ") + what + ": " + std::strerror(errno));
        if (tracker_file_sync_observer != nullptr) tracker_file_sync_observer(fd);
    }
#endif

#if defined(_WIN32)
    static constexpr const char* path_separators = "/\\";
#else
    static constexpr const char* path_separators = "/";
#endif
    std::string target_, dir_, tmp_;
    std::string where_;
    std::FILE* file_ = nullptr;
    bool renamed_ = false;
};

} // namespace detail

/** Writes t to out in the format above (version 2). The IDs written are a Snapshot of t (see Snapshot for what a
 *  copy taken under concurrent writes contains; the count written is the copy's); cost and size follow the words
 *  holding IDs. Throws std::invalid_argument for a hierarchical tracker or a prefix over 1 MiB (before writing
 *  anything), TrackerFileError when the stream fails. */
KEYSPACE_ISA_ABI
inline void save_tracker(const PrefixTracker& t, std::ostream& out) {
    detail::check_savable(t);
    const Snapshot snap(t);
    detail::write_tracker_file(snap, t.prefix(), t.max_id(), [&](const unsigned char* p, std::size_t n) {
        out.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
    });
    out.flush();
    if (!out) detail::tracker_file_error("", "write failed");
}

/** Writes t to the file at path, atomically: to a fresh temporary file beside it, then renamed over it; with
 *  Durability::Durable (default) fsync'ed before the rename and the directory after. Readers never see a partial
 *  file, concurrent savers never mix, a crash leaves the old file or the new one (see the file comment for each
 *  case). Throws std::invalid_argument for a hierarchical tracker or a prefix over 1 MiB, before creating
 *  anything; TrackerFileError naming the path when it cannot be written. On every failure the temporary file is
 *  removed. */
template <detail::tracker_path Path>
KEYSPACE_ISA_ABI void save_tracker(const PrefixTracker& t, const Path& path, Durability durability = Durability::Durable) {
    detail::check_savable(t);
    const Snapshot snap(t);
    std::string file = detail::tracker_path_string(path);
    std::string where = " '" + file + "'";
    detail::TrackerTempFile tmp(std::move(file), std::move(where));
    detail::write_tracker_file(snap, t.prefix(), t.max_id(),
                               [&](const unsigned char* p, std::size_t n) { tmp.write(p, n); });
    tmp.commit(durability);
}

namespace detail {

/** load_tracker over a byte source: read(p, n) stores up to n bytes at p and returns how many (fewer only at the end
 *  of the data, or after an error it reports by throwing); at_end() is true when no byte follows. */
template <class Read, class AtEnd>
[[nodiscard]] std::unique_ptr<PrefixTracker> read_tracker_file(Read&& read, AtEnd&& at_end, const std::string& name) {
    const std::string where = name.empty() ? std::string() : " '" + name + "'";
    const auto fail = [&](const std::string& what) { detail::tracker_file_error(where, what); };
    std::array<unsigned char, detail::tracker_file_header_size> h{};
    const std::size_t got = read(h.data(), h.size());
    if (got >= 8 && std::memcmp(h.data(), detail::tracker_file_magic.data(), 8) != 0)
        fail("not a keyspace tracker file (bad magic)");
    if (got < h.size())
        fail("truncated: the header needs 64 bytes, the file has " + std::to_string(got));
    const std::uint32_t version = detail::load_le32(h.data() + 8);
    const bool known_version =
        version >= detail::tracker_file_oldest_version && version <= detail::tracker_file_version;
    const std::string unsupported = "format version " + std::to_string(version) +
                                    " is not supported (this build reads versions 1 and 2)";
    if (detail::load_le64(h.data() + 56) != detail::checksum64(std::span<const unsigned char>(h.data(), 56))) {
        if (!known_version) fail(unsupported + ", or the header is corrupted");
        fail("header checksum mismatch: the header is corrupted");
    }
    if (!known_version) fail(unsupported);
    const std::uint32_t flags = detail::load_le32(h.data() + 12);
    const std::uint64_t max_id = detail::load_le64(h.data() + 16);
    const std::uint64_t words = detail::load_le64(h.data() + 24);
    const std::uint64_t id_count = detail::load_le64(h.data() + 32);
    const std::uint32_t prefix_len = detail::load_le32(h.data() + 40);
    const bool bounded = (flags & 1u) != 0;
    const std::uint64_t max_words = bounded ? (max_id + 63) / 64 : max_supported_id / 64; // ID words allowed
    if ((flags & ~1u) != 0 || detail::load_le32(h.data() + 44) != 0) fail("unknown flags or reserved bits set");
    if (bounded && (max_id == 0 || max_id > max_supported_id))
        fail("max_id " + std::to_string(max_id) + " is outside [1, 2^63]");
    if (words > max_supported_id / 64) fail("payload size " + std::to_string(words) + " words exceeds 2^63 IDs");
    if (version == 1 && words > max_words) fail("the payload is larger than max_id");
    if (prefix_len > detail::tracker_file_max_prefix) fail("prefix length above 1 MiB");

    detail::Checksum64 sum;
    std::string prefix(prefix_len, '\0');
    const std::size_t prefix_got = read(reinterpret_cast<unsigned char*>(prefix.data()), prefix.size());
    if (prefix_got != prefix_len)
        fail("truncated in the prefix: " + std::to_string(prefix_got) + " of " + std::to_string(prefix_len) +
             " bytes");
    sum.update(reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());

    std::vector<std::uint64_t> payload;
    std::vector<unsigned char> chunk;
    for (std::uint64_t done = 0; done < words;) {
        const std::uint64_t take = std::min<std::uint64_t>(words - done, 1u << 16); // 512 KiB at a time
        chunk.resize(static_cast<std::size_t>(take * 8));
        const auto n = static_cast<std::uint64_t>(read(chunk.data(), chunk.size()));
        if (n != chunk.size())
            fail("truncated in the payload: " + std::to_string(done * 8 + n) + " of " + std::to_string(words * 8) +
                 " bytes");
        sum.update(chunk.data(), chunk.size());
        for (std::uint64_t i = 0; i < take; ++i) payload.push_back(detail::load_le64(chunk.data() + 8 * i));
        done += take;
    }
    if (!at_end()) fail("trailing bytes after the payload");
    if (sum.finish() != detail::load_le64(h.data() + 48)) fail("payload checksum mismatch: the prefix or IDs are corrupted");

    // The ID words as segments (first word, offset in payload, word count): version 1 is one segment from word 0.
    struct Segment {
        std::uint64_t first, offset, size;
    };
    std::vector<Segment> segments;
    if (version == 1) {
        if (words != 0) segments.push_back({0, 0, words});
        if (words != 0 && payload.back() == 0) fail("the last payload word is empty (not written by save_tracker)");
    } else {
        std::uint64_t end = 0; // past the previous segment's last word
        for (std::uint64_t at = 0; at < words;) {
            if (words - at < 2) fail("a segment header is cut off at payload word " + std::to_string(at));
            const std::uint64_t first = payload[at], n = payload[at + 1];
            if (n == 0 || n > words - at - 2)
                fail("a segment of " + std::to_string(n) + " words at payload word " + std::to_string(at) +
                     " does not fit the payload");
            if (first < end)
                fail("segments overlap or are out of order at word " + std::to_string(first));
            if (first >= max_words || n > max_words - first)
                fail(bounded ? "the payload is larger than max_id: a segment ends at word " +
                                   std::to_string(first + n) + ", max_id " + std::to_string(max_id) + " allows " +
                                   std::to_string(max_words)
                             : "a segment reaches beyond 2^63 IDs");
            if (payload[at + 2] == 0 || payload[at + 1 + n] == 0)
                fail("a segment starts or ends with an empty word (not written by save_tracker)");
            segments.push_back({first, at + 2, n});
            end = first + n;
            at += 2 + n;
        }
    }
    std::uint64_t ones = 0;
    for (const Segment& s : segments)
        for (std::uint64_t k = 0; k < s.size; ++k) ones += static_cast<std::uint64_t>(std::popcount(payload[s.offset + k]));
    if (ones != id_count)
        fail("the payload holds " + std::to_string(ones) + " IDs, the header says " + std::to_string(id_count));
    if (bounded && !segments.empty() && max_id % 64 != 0) {
        const Segment& last = segments.back();
        if (last.first + last.size == max_words && (payload[last.offset + last.size - 1] >> (max_id % 64)) != 0)
            fail("an ID at or above max_id " + std::to_string(max_id));
    }

    TrackerConfig config = TrackerConfig::simple(std::move(prefix));
    if (bounded) {
        config = config.with_max_id(max_id);
    } else if (!segments.empty()) { // contiguous memory up front when the IDs are dense enough to fill most of it
        const std::uint64_t covered = segments.back().first + segments.back().size;
        if (version == 1 || covered <= 8 * (words + 1)) config = config.with_initial_capacity(covered * 64);
    } else {
        config = config.with_initial_capacity(64);
    }
    auto t = std::make_unique<PrefixTracker>(config);
    for (const Segment& s : segments)
        for (std::uint64_t k = 0; k < s.size; ++k) {
            const std::uint64_t m = payload[s.offset + k], base = (s.first + k) * 64;
            if (m == ~0ull) {
                t->add_range(base, base + 64);
                continue;
            }
            for (std::uint64_t bits = m; bits != 0; bits &= bits - 1)
                t->add(base + static_cast<std::uint64_t>(std::countr_zero(bits)));
        }
    return t;
}

} // namespace detail

/** Reads a tracker written by save_tracker (format version 2, or 1 as 0.1.0 wrote it). Validates everything —
 *  magic, version, header checksum, flags, sizes, the payload checksum, the segments, the ID count, IDs below
 *  max_id, no trailing bytes — before it builds the tracker, so on any error nothing is returned and nothing
 *  half-loaded exists. Throws TrackerFileError saying what is wrong (`name` appears in the message). Memory grows
 *  with the data actually read, never with a size the header claims, nor with the highest ID. */
[[nodiscard]] inline std::unique_ptr<PrefixTracker> load_tracker(std::istream& in, const std::string& name = {}) {
    return detail::read_tracker_file(
        [&](unsigned char* p, std::size_t n) {
            in.read(reinterpret_cast<char*>(p), static_cast<std::streamsize>(n));
            return static_cast<std::size_t>(in.gcount());
        },
        [&] { return in.peek() == std::char_traits<char>::eof(); }, name);
}

/** Reads the tracker file at path (see load_tracker(std::istream&)); path is a string or a std::filesystem::path.
 *  Throws TrackerFileError naming the path. */
template <detail::tracker_path Path>
[[nodiscard]] std::unique_ptr<PrefixTracker> load_tracker(const Path& path) {
    const std::string file = detail::tracker_path_string(path);
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr)
        detail::tracker_file_error(" '" + file + "'", "cannot open for reading: " + std::string(std::strerror(errno)));
    struct Closer {
        std::FILE* f;
        ~Closer() { std::fclose(f); }
    } closer{f};
    return detail::read_tracker_file(
        [&](unsigned char* p, std::size_t n) {
            const std::size_t got = std::fread(p, 1, n, f);
            if (got != n && std::ferror(f) != 0)
                detail::tracker_file_error(" '" + file + "'", "read failed: " + std::string(std::strerror(errno)));
            return got;
        },
        [&] {
            const int c = std::fgetc(f);
            if (c == EOF && std::ferror(f) != 0)
                detail::tracker_file_error(" '" + file + "'", "read failed: " + std::string(std::strerror(errno)));
            return c == EOF;
        },
        file);
}

KEYSPACE_END_NAMESPACE
