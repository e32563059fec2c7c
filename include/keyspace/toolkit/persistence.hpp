/** @file keyspace/toolkit/persistence.hpp
 *  Saving a tracker to a file and loading it back (a load phase in one process, a query phase in another), in a
 *  versioned, checksummed, little-endian format. A truncated or corrupted file is rejected, nothing half-loaded.
 *
 *  File format, version 1. Every integer is little-endian.
 *
 *  | offset | size | field |
 *  |---|---|---|
 *  | 0  | 8 | magic: the bytes `KSPTRACK` |
 *  | 8  | 4 | format version: 1 |
 *  | 12 | 4 | flags: bit 0 = bounded (max_id below is meaningful); other bits 0 |
 *  | 16 | 8 | max_id (0 when unbounded) |
 *  | 24 | 8 | payload words W: bits covered = 64·W (up to the last word holding an ID; 0 for an empty tracker) |
 *  | 32 | 8 | ID count: the number of set bits in the payload |
 *  | 40 | 4 | prefix length L in bytes (at most 1 MiB) |
 *  | 44 | 4 | reserved: 0 |
 *  | 48 | 8 | payload checksum: checksum64 of the L prefix bytes followed by the 8·W payload bytes |
 *  | 56 | 8 | header checksum: checksum64 of bytes [0, 56) |
 *  | 64 | L | prefix (raw bytes) |
 *  | 64 + L | 8·W | payload: W 64-bit words; bit i of word w is ID 64·w + i |
 *
 *  The file ends right after the payload. checksum64(bytes): h = 0xcbf29ce484222325; for each 8-byte chunk c read
 *  little-endian (the last one zero-padded): h = (h XOR c) · 0x100000001b3 mod 2^64; finally
 *  h = (h XOR byte length) · 0x100000001b3. (FNV-1a's constants over 64-bit chunks: any change to one chunk
 *  changes the result.)
 *
 *  Hierarchical trackers are not supported (std::invalid_argument). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/prefix_tracker.hpp>
#include <keyspace/toolkit/snapshot.hpp>

#include <algorithm>   // for std::max, std::min
#include <array>       // for std::array
#include <bit>         // for std::popcount, std::countr_zero
#include <cstdint>     // for std::uint8_t, std::uint32_t, std::uint64_t
#include <cstdio>      // for std::remove, std::rename
#include <cstring>     // for std::memcmp, std::memcpy, std::memset
#include <filesystem>  // for std::filesystem::path
#include <fstream>     // for std::ifstream, std::ofstream
#include <istream>     // for std::istream
#include <memory>      // for std::unique_ptr, std::make_unique
#include <ostream>     // for std::ostream
#include <span>        // for std::span
#include <stdexcept>   // for std::runtime_error, std::invalid_argument
#include <string>      // for std::string, std::to_string
#include <system_error> // for std::error_code
#include <vector>      // for std::vector

KEYSPACE_BEGIN_NAMESPACE

/// A tracker file that cannot be read or written: missing, truncated, corrupted, of another version.
class TrackerFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

inline constexpr std::array<char, 8> tracker_file_magic{'K', 'S', 'P', 'T', 'R', 'A', 'C', 'K'};
inline constexpr std::uint32_t tracker_file_version = 1;
inline constexpr std::size_t tracker_file_header_size = 64;
inline constexpr std::uint32_t tracker_file_max_prefix = 1u << 20;

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
    throw TrackerFileError("keyspace: tracker file" + where + ": " + what);
}

} // namespace detail

/** Writes t to out in the format above. The IDs written are a Snapshot of t (see Snapshot for what a copy taken
 *  under concurrent writes contains; the count written is the copy's). Throws std::invalid_argument for a
 *  hierarchical tracker, TrackerFileError when the stream fails. */
inline void save_tracker(const PrefixTracker& t, std::ostream& out) {
    const Snapshot snap(t); // rejects hierarchical trackers
    const std::vector<std::uint64_t>& words = snap.words();
    std::size_t used = words.size();
    while (used > 0 && words[used - 1] == 0) --used;
    if (t.prefix().size() > detail::tracker_file_max_prefix)
        throw std::invalid_argument("save_tracker: the prefix is longer than 1 MiB");

    std::vector<unsigned char> body(t.prefix().size() + 8 * used);
    std::memcpy(body.data(), t.prefix().data(), t.prefix().size());
    for (std::size_t w = 0; w < used; ++w) detail::store_le64(body.data() + t.prefix().size() + 8 * w, words[w]);

    std::array<unsigned char, detail::tracker_file_header_size> h{};
    std::memcpy(h.data(), detail::tracker_file_magic.data(), 8);
    detail::store_le32(h.data() + 8, detail::tracker_file_version);
    detail::store_le32(h.data() + 12, t.max_id() ? 1u : 0u);
    detail::store_le64(h.data() + 16, t.max_id().value_or(0));
    detail::store_le64(h.data() + 24, used);
    detail::store_le64(h.data() + 32, snap.count());
    detail::store_le32(h.data() + 40, static_cast<std::uint32_t>(t.prefix().size()));
    detail::store_le64(h.data() + 48, detail::checksum64(body));
    detail::store_le64(h.data() + 56, detail::checksum64(std::span<const unsigned char>(h.data(), 56)));

    out.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size()));
    out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
    out.flush();
    if (!out) detail::tracker_file_error("", "write failed");
}

/// Writes t to the file at path: first to `path` + ".tmp", then renamed over path, so a reader never sees a
/// half-written file. Throws TrackerFileError naming the path when it cannot be written.
inline void save_tracker(const PrefixTracker& t, const std::filesystem::path& path) {
    if (t.is_hierarchical())
        throw std::invalid_argument("save_tracker: hierarchical trackers are not supported (prefix '" + t.prefix() +
                                    "')");
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) detail::tracker_file_error(" '" + path.string() + "'", "cannot open '" + tmp.string() + "' for writing");
        try {
            save_tracker(t, out);
        } catch (const TrackerFileError&) {
            out.close();
            std::remove(tmp.string().c_str());
            detail::tracker_file_error(" '" + path.string() + "'", "write failed");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.string().c_str());
        detail::tracker_file_error(" '" + path.string() + "'", "cannot rename the temporary file: " + ec.message());
    }
}

/** Reads a tracker written by save_tracker. Validates everything — magic, version, header checksum, flags,
 *  sizes, the payload checksum, the ID count, IDs below max_id, no trailing bytes — before it builds the tracker,
 *  so on any error nothing is returned and nothing half-loaded exists. Throws TrackerFileError saying what is
 *  wrong (`name` appears in the message). Memory grows with the data actually read, never with a size the
 *  header claims. */
[[nodiscard]] inline std::unique_ptr<PrefixTracker> load_tracker(std::istream& in, const std::string& name = {}) {
    const std::string where = name.empty() ? std::string() : " '" + name + "'";
    const auto fail = [&](const std::string& what) { detail::tracker_file_error(where, what); };
    std::array<unsigned char, detail::tracker_file_header_size> h{};
    in.read(reinterpret_cast<char*>(h.data()), static_cast<std::streamsize>(h.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got >= 8 && std::memcmp(h.data(), detail::tracker_file_magic.data(), 8) != 0)
        fail("not a keyspace tracker file (bad magic)");
    if (got < h.size())
        fail("truncated: the header needs 64 bytes, the file has " + std::to_string(got));
    const std::uint32_t version = detail::load_le32(h.data() + 8);
    if (detail::load_le64(h.data() + 56) != detail::checksum64(std::span<const unsigned char>(h.data(), 56))) {
        if (version != detail::tracker_file_version)
            fail("format version " + std::to_string(version) + " is not supported (this build reads version " +
                 std::to_string(detail::tracker_file_version) + "), or the header is corrupted");
        fail("header checksum mismatch: the header is corrupted");
    }
    if (version != detail::tracker_file_version)
        fail("format version " + std::to_string(version) + " is not supported (this build reads version " +
             std::to_string(detail::tracker_file_version) + ")");
    const std::uint32_t flags = detail::load_le32(h.data() + 12);
    const std::uint64_t max_id = detail::load_le64(h.data() + 16);
    const std::uint64_t words = detail::load_le64(h.data() + 24);
    const std::uint64_t id_count = detail::load_le64(h.data() + 32);
    const std::uint32_t prefix_len = detail::load_le32(h.data() + 40);
    const bool bounded = (flags & 1u) != 0;
    if ((flags & ~1u) != 0 || detail::load_le32(h.data() + 44) != 0) fail("unknown flags or reserved bits set");
    if (bounded && (max_id == 0 || max_id > max_supported_id))
        fail("max_id " + std::to_string(max_id) + " is outside [1, 2^63]");
    if (words > max_supported_id / 64) fail("payload size " + std::to_string(words) + " words exceeds 2^63 IDs");
    if (bounded && words > (max_id + 63) / 64) fail("the payload is larger than max_id");
    if (prefix_len > detail::tracker_file_max_prefix) fail("prefix length above 1 MiB");

    detail::Checksum64 sum;
    std::string prefix(prefix_len, '\0');
    in.read(prefix.data(), static_cast<std::streamsize>(prefix_len));
    if (static_cast<std::uint64_t>(in.gcount()) != prefix_len)
        fail("truncated in the prefix: " + std::to_string(in.gcount()) + " of " + std::to_string(prefix_len) +
             " bytes");
    sum.update(reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());

    std::vector<std::uint64_t> payload;
    std::vector<unsigned char> chunk;
    std::uint64_t ones = 0;
    for (std::uint64_t done = 0; done < words;) {
        const std::uint64_t take = std::min<std::uint64_t>(words - done, 1u << 16); // 512 KiB at a time
        chunk.resize(static_cast<std::size_t>(take * 8));
        in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(chunk.size()));
        const auto n = static_cast<std::uint64_t>(in.gcount());
        if (n != chunk.size())
            fail("truncated in the payload: " + std::to_string(done * 8 + n) + " of " + std::to_string(words * 8) +
                 " bytes");
        sum.update(chunk.data(), chunk.size());
        for (std::uint64_t i = 0; i < take; ++i) {
            payload.push_back(detail::load_le64(chunk.data() + 8 * i));
            ones += static_cast<std::uint64_t>(std::popcount(payload.back()));
        }
        done += take;
    }
    if (in.peek() != std::char_traits<char>::eof()) fail("trailing bytes after the payload");
    if (sum.finish() != detail::load_le64(h.data() + 48)) fail("payload checksum mismatch: the prefix or IDs are corrupted");
    if (ones != id_count)
        fail("the payload holds " + std::to_string(ones) + " IDs, the header says " + std::to_string(id_count));
    if (bounded && words != 0 && max_id % 64 != 0 && words == (max_id + 63) / 64 &&
        (payload.back() >> (max_id % 64)) != 0)
        fail("an ID at or above max_id " + std::to_string(max_id));
    if (words != 0 && payload.back() == 0) fail("the last payload word is empty (not written by save_tracker)");

    TrackerConfig config = TrackerConfig::simple(std::move(prefix));
    if (bounded) config = config.with_max_id(max_id);
    else config = config.with_initial_capacity(std::max<std::uint64_t>(words * 64, 64));
    auto t = std::make_unique<PrefixTracker>(config);
    for (std::uint64_t w = 0; w < words; ++w) {
        const std::uint64_t m = payload[w];
        if (m == ~0ull) {
            t->add_range(w * 64, w * 64 + 64);
            continue;
        }
        for (std::uint64_t bits = m; bits != 0; bits &= bits - 1)
            t->add(w * 64 + static_cast<std::uint64_t>(std::countr_zero(bits)));
    }
    return t;
}

/// Reads the tracker file at path (see load_tracker(std::istream&)). Throws TrackerFileError naming the path.
[[nodiscard]] inline std::unique_ptr<PrefixTracker> load_tracker(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::tracker_file_error(" '" + path.string() + "'", "cannot open for reading");
    return load_tracker(in, path.string());
}

KEYSPACE_END_NAMESPACE
