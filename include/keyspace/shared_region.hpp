/** @file keyspace/shared_region.hpp
 *  SharedKeyspace: one keyspace shared by several processes on a host. A bounded, simple-mode PrefixTracker whose
 *  bits and write-stream progress live in a memory-mapped file or a POSIX shared-memory object, so that several
 *  load-generator processes claim and track one set of keys.
 *
 *  Platforms: POSIX (Linux, the BSDs, macOS): `open`/`shm_open` + `mmap(MAP_SHARED)`. Elsewhere the functions throw
 *  region_error ("not supported on this platform").
 *
 *  How it works. The region is a 4 KiB header followed by the bit words, ceil(max_id / 64) little-endian 64-bit
 *  words (the tracker's bitmap adopts them: GrowableStorage's adopting mode, see <keyspace/detail/storage.hpp>).
 *  Every claim, add and remove is one atomic read-modify-write on the shared word, exactly as between threads, so
 *  every guarantee between threads holds between processes: a claim succeeds for one process only.
 *
 *  Header (all little-endian):
 *  | offset | size | field                                                                      |
 *  |--------|------|----------------------------------------------------------------------------|
 *  | 0      | 8    | magic "KEYSPACE" as a u64 (0x45434150_5359454B), written last by the creator |
 *  | 8      | 4    | format version (1)                                                         |
 *  | 12     | 4    | header bytes (4096)                                                        |
 *  | 16     | 8    | max_id                                                                     |
 *  | 24     | 8    | word count = ceil(max_id / 64)                                             |
 *  | 32     | 8    | total bytes = 4096 + 8 × word count (the file size)                         |
 *  | 40     | 4    | prefix length (≤ 200)                                                      |
 *  | 44     | 200  | prefix bytes                                                               |
 *  | 256    | 192  | write cursor of the default range [0, max_id): two u64 atomics, 64-byte aligned |
 *  | 2048   | 48   | layout block, twelve u32 (below)                                           |
 *  Layout block (format 2): its own size (48), word bytes (8), offset of the words (4096), offset of the write
 *  cursor (256), the cursor's size, the offsets inside it of its range and of its two progress counters, the IDs a
 *  `continue_write()` stream takes per step of the shared progress (4096), then the creator's keyspace version
 *  (major, minor, patch) and a reserved 0.
 *  Opening validates the magic, format version, layout, header size, max_id, prefix and file size (by fstat and
 *  pread, before mapping anything) and throws region_error naming the mismatch; nothing is written on a failed open.
 *
 *  Versions and architectures. Two processes share a region when both read its format version and their layouts
 *  agree, whatever their keyspace versions: a process whose build lays the shared state out differently (another
 *  cursor layout, another claim step) is refused with region_error naming the field, both values and the keyspace
 *  version that made the region, instead of misreading it. keyspace 0.1.0 wrote format 1 (no layout block): this
 *  build refuses such a region ("region format 1"), and 0.1.0 refuses format 2 ("incompatible version"); remove
 *  the region and create it again. Every field and bit word is little-endian, so a region file made on one
 *  architecture opens on another (the tests open a region file made on x86-64, on AArch64 too); big-endian hosts
 *  are refused. A region is shared memory of one host: processes of different architectures on that host (one of
 *  them emulated, say) share it when their layouts agree; a region file on a network file system shared by several
 *  hosts is not coherent and not supported (give each host its own slice instead, see the README).
 *
 *  What is shared, what is not.
 *  - The bits, and the progress of `continue_write()` streams over the default range [0, max_id): streams in
 *    different processes share it exactly as threads do (4096 IDs per atomic step).
 *  - Streams over other ranges share progress only within their process; their claims are still unique across
 *    processes (each claim is an atomic test-and-set on the shared word), they just may probe the same keys.
 *  - `erase()` allows one eraser over any key per tracker object, i.e. per process: erasers in different processes
 *    may run at once, each key still being removed (and yielded) by one of them only.
 *  - `count()` of a shared tracker is a popcount of the whole region (SIMD; about 1 ms per 10^8 IDs): exact
 *    whenever no write is in flight, whoever wrote, crashes included. `recount()` on the bitmap is the same scan.
 *  - `clear()` and `reset_write_cursor()` act on the shared state, for every process.
 *
 *  Crashes. A process killed at any point (SIGKILL included) leaves a region the others keep using: a key's bit is
 *  set or not, never half-written, so no claimed ID is ever handed out twice; IDs of a 4096-ID run a dead stream had
 *  taken but not claimed are picked up by the sweep every write stream does once the shared progress reaches the
 *  end; counts are exact (they are recomputed from the bits). A creator killed before writing the magic leaves a
 *  file that opens with region_error ("not initialised"); remove it and create again.
 *
 *  Thread safety: the returned tracker is a PrefixTracker: every member is thread-safe as documented there. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/errors.hpp>
#include <keyspace/errors.hpp>
#include <keyspace/iterators.hpp> // the trackers it opens are iterated, claimed from, erased
#include <keyspace/prefix_tracker.hpp>

#include <array>     // for std::array
#include <atomic>    // for std::atomic_ref
#include <bit>       // for std::endian
#include <cstddef>   // for offsetof
#include <cstdint>   // for std::uint64_t, std::uint32_t
#include <cstring>   // for std::memcpy, std::strerror
#include <memory>    // for std::shared_ptr, std::make_shared
#include <new>       // for std::launder
#include <stdexcept> // for std::runtime_error, std::invalid_argument
#include <string>    // for std::string, std::to_string
#include <utility>   // for std::move

#if defined(__unix__) || defined(__APPLE__)
#include <cerrno>     // for errno
#include <fcntl.h>    // for open, O_*
#include <sys/mman.h> // for mmap, munmap, shm_open, shm_unlink
#include <sys/stat.h> // for fstat
#include <unistd.h>   // for close, ftruncate, pread, unlink
#define KEYSPACE_HAS_SHARED_REGION 1
#else
/// 1 where SharedKeyspace maps regions (POSIX), 0 elsewhere (its functions then throw region_error).
#define KEYSPACE_HAS_SHARED_REGION 0
#endif

KEYSPACE_BEGIN_NAMESPACE

/// A shared region that cannot be created or opened, or does not match: the library's one I/O error type
/// (keyspace::IoError, <keyspace/errors.hpp>), under the name this header has always used.
using region_error = IoError;

/** Creates, opens and removes shared keyspaces (see the file comment). */
class SharedKeyspace {
public:
    /// Where the region lives: a file path, or a POSIX shared-memory name ("/name", under /dev/shm on Linux).
    enum class Backing : std::uint8_t { File, SharedMemory };

    /// The first 8 bytes of every region: "KEYSPACE" in little-endian byte order.
    static constexpr std::uint64_t magic = 0x454341505359454bull; // "KEYSPACE" in little-endian byte order
    /// The region format this version writes and reads.
    static constexpr std::uint32_t format_version = 2;
    /// The size of the region header, before the bit words.
    static constexpr std::uint64_t header_bytes = 4096;
    /// The longest prefix a region header holds.
    static constexpr std::size_t max_prefix_bytes = 200;

    /// Creates the region for `config` (simple mode, with_max_id set: std::invalid_argument otherwise) and returns
    /// a tracker over it. Throws region_error if the region exists or cannot be made.
    [[nodiscard]] static std::shared_ptr<PrefixTracker> create(const std::string& name, const TrackerConfig& config,
                                                               Backing backing = Backing::File) {
        check_config(config);
        return open_region(name, config, backing, Mode::Create);
    }
    /// Opens an existing region made for the same prefix and max_id. Throws region_error if it is absent, was made
    /// by an incompatible version, for another max_id or prefix, or is truncated or corrupted; nothing is written.
    [[nodiscard]] static std::shared_ptr<PrefixTracker> open(const std::string& name, const TrackerConfig& config,
                                                             Backing backing = Backing::File) {
        check_config(config);
        return open_region(name, config, backing, Mode::Open);
    }
    /// Opens the region, creating it first if it does not exist (one process wins the creation; the others wait
    /// up to a second for it to finish).
    [[nodiscard]] static std::shared_ptr<PrefixTracker> open_or_create(const std::string& name,
                                                                       const TrackerConfig& config,
                                                                       Backing backing = Backing::File) {
        check_config(config);
        return open_region(name, config, backing, Mode::OpenOrCreate);
    }
    /// Removes the region's name (mapped trackers stay usable until released). False if it did not exist.
    static bool remove(const std::string& name, Backing backing = Backing::File) {
#if KEYSPACE_HAS_SHARED_REGION
        return (backing == Backing::File ? ::unlink(name.c_str()) : ::shm_unlink(name.c_str())) == 0;
#else
        (void)name, (void)backing;
        unsupported();
#endif
    }
    /// Bytes a region for max_id occupies.
    [[nodiscard]] static constexpr std::uint64_t region_bytes(std::uint64_t max_id) noexcept {
        return header_bytes + 8 * ((max_id + 63) / 64);
    }

private:
    enum class Mode : std::uint8_t { Create, Open, OpenOrCreate };

    static void check_config(const TrackerConfig& c) {
        if (c.is_hierarchical())
            detail::fail_invalid_argument({"SharedKeyspace: only simple-mode trackers can be shared"});
        if (!c.max_id() || *c.max_id() == 0)
            detail::fail_invalid_argument({"SharedKeyspace: the config needs with_max_id(n), n >= 1"});
        if (c.prefix().size() > max_prefix_bytes)
            detail::fail_invalid_argument({"SharedKeyspace: prefix longer than ", max_prefix_bytes, " bytes"});
        if constexpr (std::endian::native != std::endian::little)
            detail::fail_invalid_argument({"SharedKeyspace: the region format is little-endian; this host is not"});
    }

#if KEYSPACE_HAS_SHARED_REGION
    struct Header {
        std::uint64_t magic;
        std::uint32_t version, header_bytes;
        std::uint64_t max_id, word_count, total_bytes;
        std::uint32_t prefix_len;
        char prefix[max_prefix_bytes];
    };
    static_assert(sizeof(Header) <= 256 && sizeof(WriteCursor) <= 1024);
    static constexpr std::size_t cursor_offset = 256;
    static constexpr std::size_t layout_offset = 2048;
    /// IDs a continue_write() stream takes per step of the shared progress.
    static constexpr auto claim_run_ids = static_cast<std::uint32_t>(WriteCursor::run_positions);

    /// The layout block (see the file comment): what two processes must agree on to share the region.
    struct Layout {
        static constexpr std::size_t fields = 12;
        std::array<std::uint32_t, fields> v{};
        static constexpr std::array<const char*, fields> names{
            "layout block bytes", "word bytes",           "words offset",           "cursor offset",
            "cursor bytes",       "cursor range offset",  "cursor progress offset", "cursor overwrite offset",
            "IDs per claim step", "keyspace major",       "keyspace minor",         "keyspace patch"};
        /// This build's layout.
        static Layout native() noexcept {
            Layout l;
            l.v = {static_cast<std::uint32_t>(fields * 4), 8, static_cast<std::uint32_t>(header_bytes),
                   static_cast<std::uint32_t>(cursor_offset), static_cast<std::uint32_t>(sizeof(WriteCursor)),
                   static_cast<std::uint32_t>(offsetof(WriteCursor, b)),
                   static_cast<std::uint32_t>(offsetof(WriteCursor, next)),
                   static_cast<std::uint32_t>(offsetof(WriteCursor, overwrite)), claim_run_ids,
                   KEYSPACE_VERSION_MAJOR, KEYSPACE_VERSION_MINOR, KEYSPACE_VERSION_PATCH};
            return l;
        }
        /// The fields that must agree (the keyspace version need not).
        static constexpr std::size_t checked_fields = 9;
        [[nodiscard]] std::string version() const {
            return std::to_string(v[9]) + "." + std::to_string(v[10]) + "." + std::to_string(v[11]);
        }
        void store(unsigned char* p) const noexcept {
            for (std::size_t i = 0; i < fields; ++i)
                for (int b = 0; b < 4; ++b) p[4 * i + static_cast<std::size_t>(b)] = static_cast<unsigned char>(v[i] >> (8 * b));
        }
        static Layout load(const unsigned char* p) noexcept {
            Layout l;
            for (std::size_t i = 0; i < fields; ++i)
                for (int b = 3; b >= 0; --b) l.v[i] = (l.v[i] << 8) | p[4 * i + static_cast<std::size_t>(b)];
            return l;
        }
    };

    /// Owns a mapping (and unmaps it when the last tracker over it goes).
    struct Mapping {
        void* addr = nullptr;
        std::size_t bytes = 0;
        Mapping(void* a, std::size_t b) noexcept : addr(a), bytes(b) {}
        Mapping(const Mapping&) = delete;
        Mapping& operator=(const Mapping&) = delete;
        ~Mapping() { ::munmap(addr, bytes); }
    };
    struct Fd {
        int fd = -1;
        explicit Fd(int f) noexcept : fd(f) {}
        Fd(const Fd&) = delete;
        Fd& operator=(const Fd&) = delete;
        ~Fd() {
            if (fd >= 0) ::close(fd);
        }
    };

    [[noreturn]] static void fail(const std::string& name, const std::string& why) {
        detail::fail_io({"keyspace shared region '", name, "': ", why});
    }
    [[noreturn]] static void fail_errno(const std::string& name, const char* what) {
        fail(name, std::string(what) + ": " + std::strerror(errno));
    }

    static int open_fd(const std::string& name, Backing backing, int flags) {
        return backing == Backing::File ? ::open(name.c_str(), flags | O_CLOEXEC, 0644)
                                        : ::shm_open(name.c_str(), flags, 0644);
    }

    static std::shared_ptr<PrefixTracker> open_region(const std::string& name, const TrackerConfig& config,
                                                      Backing backing, Mode mode) {
        if (backing == Backing::SharedMemory && (name.size() < 2 || name[0] != '/' || name.find('/', 1) != std::string::npos))
            detail::fail_invalid_argument({"SharedKeyspace: a shared-memory name is '/name' with no other '/'"});
        if (mode != Mode::Open) {
            const int fd = open_fd(name, backing, O_RDWR | O_CREAT | O_EXCL);
            if (fd >= 0) return create_in(name, Fd(fd), config, backing);
            if (errno != EEXIST || mode == Mode::Create)
                fail_errno(name, errno == EEXIST ? "cannot create (it exists)" : "cannot create");
        }
        // Open: validate by fstat and pread before mapping (a creator may still be writing the header: wait up to
        // a second for its magic when asked to open_or_create).
        Fd fd(open_fd(name, backing, O_RDWR));
        if (fd.fd < 0) fail_errno(name, "cannot open");
        Header h{};
        for (int attempt = 0;; ++attempt) {
            struct stat st {};
            if (::fstat(fd.fd, &st) != 0) fail_errno(name, "cannot stat");
            const auto size = static_cast<std::uint64_t>(st.st_size);
            std::array<unsigned char, Layout::fields * 4> layout{};
            const bool have_header =
                size >= header_bytes && ::pread(fd.fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h) &&
                ::pread(fd.fd, layout.data(), layout.size(), layout_offset) == static_cast<ssize_t>(layout.size());
            if (have_header && h.magic == magic) {
                validate(name, h, Layout::load(layout.data()), config, size);
                break;
            }
            if (mode != Mode::OpenOrCreate || attempt >= 100) {
                if (!have_header && size > 0)
                    fail(name, "truncated: " + std::to_string(size) + " bytes, shorter than the " +
                                   std::to_string(header_bytes) + "-byte header");
                fail(name, "not initialised: no keyspace magic (not a keyspace region, or its creator did not finish)");
            }
            ::usleep(10'000);
        }
        return map(name, fd.fd, config, static_cast<std::size_t>(h.total_bytes), false);
    }

    static void validate(const std::string& name, const Header& h, const Layout& layout, const TrackerConfig& config,
                         std::uint64_t size) {
        if (h.version != format_version)
            fail(name, "made by an incompatible version of keyspace (region format " + std::to_string(h.version) +
                           (h.version == 1 ? ", as keyspace 0.1.0 made them" : "") + "; this library (" +
                           KEYSPACE_VERSION_STRING + ") reads format " + std::to_string(format_version) +
                           "): open it with the version that made it, or remove it and create it again");
        const Layout ours = Layout::native();
        for (std::size_t i = 0; i < Layout::checked_fields; ++i)
            if (layout.v[i] != ours.v[i])
                fail(name, "made with another memory layout by keyspace " + layout.version() + ": its " +
                               Layout::names[i] + " is " + std::to_string(layout.v[i]) + ", this build's (keyspace " +
                               KEYSPACE_VERSION_STRING + ") is " + std::to_string(ours.v[i]) +
                               "; open it with the build that made it, or remove it and create it again");
        if (h.header_bytes != header_bytes || h.word_count != (h.max_id + 63) / 64 ||
            h.total_bytes != region_bytes(h.max_id) || h.prefix_len > max_prefix_bytes)
            fail(name, "corrupted header (inconsistent layout fields)");
        if (h.max_id != *config.max_id())
            fail(name, "made for max_id " + std::to_string(h.max_id) + ", asked for " + std::to_string(*config.max_id()));
        if (std::string(h.prefix, h.prefix_len) != config.prefix())
            fail(name, "made for prefix '" + std::string(h.prefix, h.prefix_len) + "', asked for '" + config.prefix() + "'");
        if (size != h.total_bytes)
            fail(name, "truncated or extended: " + std::to_string(size) + " bytes, expected " +
                           std::to_string(h.total_bytes));
    }

    static std::shared_ptr<PrefixTracker> create_in(const std::string& name, Fd fd, const TrackerConfig& config,
                                                    Backing backing) {
        const std::uint64_t max_id = *config.max_id(), bytes = region_bytes(max_id);
        if (::ftruncate(fd.fd, static_cast<off_t>(bytes)) != 0) {
            const int e = errno;
            remove(name, backing); // ours: made by this call a moment ago
            errno = e;
            fail_errno(name, "cannot size");
        }
        return map(name, fd.fd, config, static_cast<std::size_t>(bytes), true);
    }

    static std::shared_ptr<PrefixTracker> map(const std::string& name, int fd, const TrackerConfig& config,
                                              std::size_t bytes, bool init) {
        void* addr = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (addr == MAP_FAILED) fail_errno(name, "cannot map");
        auto mapping = std::make_shared<Mapping>(addr, bytes);
        auto* base = static_cast<unsigned char*>(addr);
        auto* header = reinterpret_cast<Header*>(base);
        WriteCursor* cursor;
        if (init) { // the file is zero-filled by ftruncate: every word and the cursor's atomics start at 0
            const std::uint64_t max_id = *config.max_id();
            header->version = format_version;
            header->header_bytes = static_cast<std::uint32_t>(header_bytes);
            header->max_id = max_id;
            header->word_count = (max_id + 63) / 64;
            header->total_bytes = bytes;
            header->prefix_len = static_cast<std::uint32_t>(config.prefix().size());
            std::memcpy(header->prefix, config.prefix().data(), config.prefix().size());
            cursor = ::new (base + cursor_offset) WriteCursor{};
            cursor->b = 0, cursor->e = max_id, cursor->sb = 0, cursor->se = 1;
            Layout::native().store(base + layout_offset);
            // Last: the magic, released, so an opener that sees it sees the header and the cursor.
            std::atomic_ref<std::uint64_t>(header->magic).store(magic, std::memory_order_release);
        } else {
            if (std::atomic_ref<std::uint64_t>(header->magic).load(std::memory_order_acquire) != magic)
                fail(name, "changed while being opened");
            cursor = std::launder(reinterpret_cast<WriteCursor*>(base + cursor_offset));
        }
        detail::RegionView view;
        view.words = reinterpret_cast<detail::atomic_word*>(base + header_bytes);
        view.word_count = (*config.max_id() + 63) / 64;
        view.cursor = cursor;
        view.keep_alive = mapping;
        return std::shared_ptr<PrefixTracker>(new PrefixTracker(config, std::move(view))); // a private constructor
    }
#else
    [[noreturn]] static void unsupported() { detail::fail_io({"keyspace shared regions: not supported on this platform"}); }
    static std::shared_ptr<PrefixTracker> open_region(const std::string&, const TrackerConfig&, Backing, Mode) {
        unsupported();
    }
#endif
};

KEYSPACE_END_NAMESPACE
