// SharedKeyspace: one keyspace shared by processes. fork()ed children claim, add and get killed while the parent
// checks invariants (every ID claimed exactly once across processes, counts exact); bad regions are refused with
// region_error and left untouched. ThreadSanitizer does not follow processes (and fork in a TSan-instrumented
// process is unsupported), so the multi-process cases are skipped in TSan builds; the in-process cases run there.
#include "catch.hpp"

#include <keyspace/shared_region.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

using keyspace::PrefixTracker;
using keyspace::region_error;
using keyspace::SharedKeyspace;
using keyspace::TrackerConfig;

namespace {

/// A region path unique to this process and test, removed at scope exit.
struct TempRegion {
    std::string path;
    explicit TempRegion(const char* tag) : path("/tmp/keyspace-test-" + std::to_string(::getpid()) + "-" + tag) {
        SharedKeyspace::remove(path);
    }
    ~TempRegion() { SharedKeyspace::remove(path); }
};

std::vector<char> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

[[maybe_unused]] void write_all(int fd, const void* data, std::size_t n) {
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w <= 0) ::_exit(3);
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

[[maybe_unused]] std::vector<std::uint64_t> read_ids(int fd) {
    std::vector<std::uint64_t> ids;
    std::uint64_t buf[512];
    std::size_t have = 0; // bytes of a partial id carried over
    char* raw = reinterpret_cast<char*>(buf);
    for (;;) {
        const ssize_t r = ::read(fd, raw + have, sizeof buf - have);
        if (r <= 0) break;
        have += static_cast<std::size_t>(r);
        const std::size_t whole = have / 8;
        ids.insert(ids.end(), buf, buf + whole);
        std::memmove(raw, raw + whole * 8, have - whole * 8);
        have -= whole * 8;
    }
    return ids;
}

/// Forks a child running f(write_fd) and returns (pid, read end of its pipe). The child _exits with f's result.
template <class F>
std::pair<pid_t, int> spawn(F f) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        const int code = f(fds[1]);
        ::close(fds[1]);
        ::_exit(code);
    }
    ::close(fds[1]);
    return {pid, fds[0]};
}

[[maybe_unused]] int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST_CASE("shared: two trackers over one region see each other's writes and share claim progress", "[shared]") {
    TempRegion r("basic");
    const auto cfg = TrackerConfig::simple("user:").with_max_id(100'000);
    auto a = SharedKeyspace::create(r.path, cfg);
    auto b = SharedKeyspace::open(r.path, cfg);
    CHECK(a->add(5));
    CHECK_FALSE(b->add(5));
    CHECK(b->exists(5));
    CHECK(b->claim(99'999));
    CHECK_FALSE(a->claim(99'999));
    CHECK_FALSE(a->add(100'000)); // max_id is honoured
    CHECK(a->count() == 2);
    CHECK(b->count() == 2);
    // continue_write over the default range shares the region's progress: the second stream starts past the first.
    auto wa = a->iter().continue_write();
    auto wb = b->iter().continue_write();
    const auto first_a = wa.next(), first_b = wb.next();
    REQUIRE(first_a);
    REQUIRE(first_b);
    CHECK(first_a->id == 0);
    CHECK(first_b->id == 4096);
    std::vector<std::uint64_t> got{first_a->id, first_b->id};
    while (auto k = wa.next()) got.push_back(k->id);
    while (auto k = wb.next()) got.push_back(k->id);
    std::sort(got.begin(), got.end());
    CHECK(got.size() == 100'000 - 2);
    CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
    CHECK(a->count() == 100'000);
    // clear() and reset_write_cursor() act on the shared state.
    b->clear();
    CHECK(a->count() == 0);
    auto again = a->iter().continue_write();
    CHECK(again.next()->id == 0);
    // The tracker keeps the mapping alive after the name is removed.
    SharedKeyspace::remove(r.path);
    CHECK(a->add(77));
    CHECK(b->exists(77));
}

TEST_CASE("shared: a tracker's bitmap allocates nothing over a region before and after clear()", "[shared][memory]") {
    TempRegion r("memory");
    const auto cfg = TrackerConfig::simple("user:").with_max_id(1 << 20);
    auto t = SharedKeyspace::create(r.path, cfg);
    const auto& bits = t->bits();
    CHECK(bits.memory_bytes() == 0); // the words are the region's
    CHECK(t->add(5));
    t->clear();
    CHECK(bits.memory_bytes() == 0);
    CHECK(t->count() == 0);
}

TEST_CASE("shared: POSIX shared-memory backing", "[shared]") {
    const std::string name = "/keyspace-test-" + std::to_string(::getpid());
    SharedKeyspace::remove(name, SharedKeyspace::Backing::SharedMemory);
    const auto cfg = TrackerConfig::simple("s:").with_max_id(4096);
    auto a = SharedKeyspace::create(name, cfg, SharedKeyspace::Backing::SharedMemory);
    auto b = SharedKeyspace::open_or_create(name, cfg, SharedKeyspace::Backing::SharedMemory);
    a->add_range(0, 100);
    CHECK(b->count() == 100);
    CHECK(SharedKeyspace::remove(name, SharedKeyspace::Backing::SharedMemory));
    CHECK_FALSE(SharedKeyspace::remove(name, SharedKeyspace::Backing::SharedMemory));
    CHECK_THROWS_AS(SharedKeyspace::create("no-slash", cfg, SharedKeyspace::Backing::SharedMemory),
                    std::invalid_argument);
}

TEST_CASE("shared: bad configs and bad regions are refused, and a failed open writes nothing", "[shared][bad-input]") {
    TempRegion r("bad");
    const auto cfg = TrackerConfig::simple("user:").with_max_id(10'000);
    CHECK_THROWS_AS(SharedKeyspace::create(r.path, TrackerConfig::simple("u:")), std::invalid_argument); // unbounded
    CHECK_THROWS_AS(SharedKeyspace::create(r.path, TrackerConfig::hierarchical("h:").with_max_id(10)),
                    std::invalid_argument);
    CHECK_THROWS_AS(SharedKeyspace::create(r.path, TrackerConfig::simple("u:").with_max_id(0)), std::invalid_argument);
    CHECK_THROWS_AS(SharedKeyspace::open(r.path, cfg), region_error); // absent
    { auto t = SharedKeyspace::create(r.path, cfg); t->add(42); }
    CHECK_THROWS_AS(SharedKeyspace::create(r.path, cfg), region_error); // exists
    CHECK(SharedKeyspace::open_or_create(r.path, cfg)->exists(42));

    const auto pristine = file_bytes(r.path);
    REQUIRE(pristine.size() == SharedKeyspace::region_bytes(10'000));
    const auto refused = [&](const TrackerConfig& c, const char* needle) {
        try {
            (void)SharedKeyspace::open(r.path, c);
            FAIL("opened a region that should be refused: " << needle);
        } catch (const region_error& e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find(needle) != std::string::npos);
        }
    };
    refused(cfg.with_max_id(10'001), "max_id 10000, asked for 10001");
    refused(TrackerConfig::simple("other:").with_max_id(10'000), "prefix");
    CHECK(file_bytes(r.path) == pristine);

    const auto patch = [&](std::size_t offset, const void* bytes, std::size_t n) {
        auto copy = pristine;
        std::memcpy(copy.data() + offset, bytes, n);
        std::ofstream(r.path, std::ios::binary | std::ios::trunc).write(copy.data(), static_cast<std::streamsize>(copy.size()));
        return copy;
    };
    const std::uint32_t v3 = 3;
    auto image = patch(8, &v3, 4);
    refused(cfg, "incompatible version");
    CHECK(file_bytes(r.path) == image);
    const std::uint64_t bad_magic = 0;
    image = patch(0, &bad_magic, 8);
    refused(cfg, "not initialised");
    CHECK(file_bytes(r.path) == image);
    const std::uint64_t bad_words = 7;
    patch(24, &bad_words, 8);
    refused(cfg, "corrupted");
    // Truncated: half the words gone, and a file shorter than the header.
    std::ofstream(r.path, std::ios::binary | std::ios::trunc).write(pristine.data(), static_cast<std::streamsize>(pristine.size() / 2));
    refused(cfg, "truncated");
    CHECK(file_bytes(r.path).size() == pristine.size() / 2);
    std::ofstream(r.path, std::ios::binary | std::ios::trunc).write(pristine.data(), 100);
    refused(cfg, "truncated");
    CHECK(file_bytes(r.path).size() == 100);
}

namespace {
/// Writes a little-endian u32 into the file at offset (crafting a region header as another build would).
void poke_u32(const std::string& path, std::size_t offset, std::uint32_t v) {
    unsigned char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    const int fd = ::open(path.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, b, 4, static_cast<off_t>(offset)) == 4);
    ::close(fd);
}
std::string open_error(const std::string& path, const TrackerConfig& cfg) {
    try {
        (void)SharedKeyspace::open(path, cfg);
    } catch (const region_error& e) {
        return e.what();
    }
    return "opened";
}
} // namespace

TEST_CASE("shared: a region made by another format version or memory layout is refused, naming both",
          "[shared][bad-input][portability]") {
    TempRegion r("layout");
    const auto cfg = TrackerConfig::simple("user:").with_max_id(10'000);
    { auto t = SharedKeyspace::create(r.path, cfg); t->add(42); }
    const auto pristine = file_bytes(r.path);
    const auto restore = [&] {
        std::ofstream(r.path, std::ios::binary | std::ios::trunc)
            .write(pristine.data(), static_cast<std::streamsize>(pristine.size()));
    };
    // The layout block at 2048: twelve little-endian u32 (see shared_region.hpp).
    const std::size_t layout = 2048;
    poke_u32(r.path, layout + 4 * 4, 256); // another write-cursor size
    std::string e = open_error(r.path, cfg);
    CHECK(e.find("another memory layout") != std::string::npos);
    CHECK(e.find("cursor bytes is 256") != std::string::npos);
    CHECK(e.find("keyspace " KEYSPACE_VERSION_STRING) != std::string::npos);
    CHECK(file_bytes(r.path) != pristine); // our poke only: the open wrote nothing
    restore();
    poke_u32(r.path, layout + 8 * 4, 1024); // another claim step
    CHECK(open_error(r.path, cfg).find("IDs per claim step is 1024") != std::string::npos);
    restore();
    poke_u32(r.path, layout + 6 * 4, 0); // the progress counter elsewhere in the cursor
    CHECK(open_error(r.path, cfg).find("cursor progress offset is 0") != std::string::npos);
    restore();
    // Made by a later keyspace with the same format and layout: shared.
    poke_u32(r.path, layout + 9 * 4, 7);
    poke_u32(r.path, layout + 10 * 4, 8);
    poke_u32(r.path, layout + 11 * 4, 9);
    CHECK(SharedKeyspace::open(r.path, cfg)->exists(42));
    poke_u32(r.path, layout + 4 * 4, 64);
    CHECK(open_error(r.path, cfg).find("by keyspace 7.8.9") != std::string::npos);
    restore();
    // Made by keyspace 0.1.0 (format 1, no layout block).
    poke_u32(r.path, 8, 1);
    e = open_error(r.path, cfg);
    CHECK(e.find("region format 1") != std::string::npos);
    CHECK(e.find("incompatible version") != std::string::npos);
    restore();
    CHECK(SharedKeyspace::open(r.path, cfg)->exists(42));
}

TEST_CASE("shared: a region file made on x86-64 opens on every architecture", "[shared][portability]") {
    // tests/data/region_v2_x86_64.ksr: made by an x86-64 build for prefix "fixture:region", max_id 1000, holding
    // IDs 0, 7, 500..563 and 999, the shared write progress at its start. Little-endian fields and words: the
    // tests open it on AArch64 (under qemu) too.
    TempRegion r("fixture");
    std::filesystem::copy_file(std::filesystem::path(__FILE__).parent_path() / "data" / "region_v2_x86_64.ksr", r.path,
                               std::filesystem::copy_options::overwrite_existing);
    const auto cfg = TrackerConfig::simple("fixture:region").with_max_id(1000);
    const auto t = SharedKeyspace::open(r.path, cfg);
    CHECK(t->count() == 67u);
    CHECK(t->exists(0));
    CHECK(t->exists(7));
    CHECK(t->exists(530));
    CHECK(t->exists(999));
    CHECK_FALSE(t->exists(8));
    std::uint64_t claimed = 0;
    for (const auto key : t->iter().continue_write()) {
        (void)key;
        ++claimed;
    }
    CHECK(claimed == 1000u - 67u);
    CHECK(t->count() == 1000u);
}

#if !KEYSPACE_TSAN

TEST_CASE("shared: forked processes claiming with continue_write get every ID exactly once", "[shared][process]") {
    TempRegion r("claim");
    const auto cfg = TrackerConfig::simple("user:").with_max_id(300'000);
    { auto t = SharedKeyspace::create(r.path, cfg); }
    std::vector<std::pair<pid_t, int>> kids;
    for (int i = 0; i < 3; ++i)
        kids.push_back(spawn([&](int out) {
            auto t = SharedKeyspace::open(r.path, cfg);
            std::vector<std::uint64_t> mine;
            for (auto k : t->iter().continue_write()) mine.push_back(k.id);
            write_all(out, mine.data(), mine.size() * 8);
            return 0;
        }));
    std::vector<std::uint64_t> all;
    std::vector<std::size_t> per_child;
    for (auto [pid, fd] : kids) {
        const auto ids = read_ids(fd);
        ::close(fd);
        CHECK(wait_exit(pid) == 0);
        per_child.push_back(ids.size());
        all.insert(all.end(), ids.begin(), ids.end());
    }
    std::sort(all.begin(), all.end());
    CHECK(all.size() == 300'000);
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    CHECK(all.front() == 0);
    CHECK(all.back() == 299'999);
    CHECK(SharedKeyspace::open(r.path, cfg)->count() == 300'000);
}

TEST_CASE("shared: one process adds while another iterates", "[shared][process]") {
    TempRegion r("iterate");
    const auto cfg = TrackerConfig::simple("k:").with_max_id(2'000'000);
    auto t = SharedKeyspace::create(r.path, cfg);
    // The child adds the even IDs below 10^6, says "h", waits for the parent's "go" (sent once a whole pass has run
    // after the "h"), adds the rest and says "x": at least one pass is certain to overlap the adds, however the
    // two processes are scheduled.
    int go[2];
    REQUIRE(::pipe(go) == 0);
    auto [pid, fd] = spawn([&](int out) {
        ::close(go[1]);
        auto c = SharedKeyspace::open(r.path, cfg);
        for (std::uint64_t id = 0; id < 1'000'000; id += 2) c->add(id); // even IDs, ascending
        write_all(out, "h", 1);
        char g = 0;
        if (::read(go[0], &g, 1) != 1) return 1;
        for (std::uint64_t id = 1'000'000; id < 2'000'000; id += 2) c->add(id);
        write_all(out, "x", 1);
        return 0;
    });
    ::close(go[0]);
    // Each pass sees only even IDs, ascending, and never fewer than the previous pass's count.
    REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    std::uint64_t previous = 0;
    int passes_while_adding = 0;
    bool half = false, sent_go = false, finished = false;
    for (int passes = 0; !finished && passes < 1'000'000; ++passes) {
        char c = 0;
        while (::read(fd, &c, 1) == 1) { // the child's messages, read after it wrote them
            if (c == 'h') half = true;
            if (c == 'x') finished = true;
        }
        std::uint64_t seen = 0, last = 0;
        bool ascending = true, even = true;
        for (auto k : t->iter().set_only().sequential()) {
            ascending = ascending && (seen == 0 || k.id > last);
            even = even && k.id % 2 == 0;
            last = k.id;
            ++seen;
        }
        REQUIRE(ascending);
        REQUIRE(even);
        REQUIRE(seen >= previous);
        previous = seen;
        if (half && !finished) {
            ++passes_while_adding;
            if (!sent_go) sent_go = ::write(go[1], "g", 1) == 1;
        }
    }
    ::close(go[1]);
    ::close(fd);
    CHECK(wait_exit(pid) == 0);
    CHECK(finished);
    CHECK(t->count() == 1'000'000);
    // The last pass may have run before the final adds were all visible: count once more.
    std::uint64_t final_seen = 0;
    for ([[maybe_unused]] auto k : t->iter().set_only().sequential()) ++final_seen;
    CHECK(final_seen == 1'000'000);
    CHECK(passes_while_adding >= 1);
}

TEST_CASE("shared: a claimer killed mid-run leaves a region the others finish, no ID twice", "[shared][process]") {
    TempRegion r("kill");
    const auto cfg = TrackerConfig::simple("k:").with_max_id(1'000'000);
    auto t = SharedKeyspace::create(r.path, cfg);
    auto [pid, fd] = spawn([&](int out) {
        auto c = SharedKeyspace::open(r.path, cfg);
        for (auto k : c->iter().continue_write()) write_all(out, &k.id, 8); // reports each claim, until killed
        return 0;
    });
    // Wait for some claims, then SIGKILL the child in the middle of its run.
    std::vector<std::uint64_t> reported;
    std::uint64_t buf[256];
    while (reported.size() < 20'000) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        REQUIRE(n > 0);
        reported.insert(reported.end(), buf, buf + n / 8); // the child writes whole ids; pipe writes of 8 are atomic
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    const auto rest = read_ids(fd); // what it reported before dying
    reported.insert(reported.end(), rest.begin(), rest.end());
    ::close(fd);
    // The survivor claims everything left: nothing the child claimed, every other ID.
    std::vector<std::uint64_t> mine;
    for (auto k : t->iter().continue_write()) mine.push_back(k.id);
    std::sort(mine.begin(), mine.end());
    std::sort(reported.begin(), reported.end());
    CHECK(std::adjacent_find(mine.begin(), mine.end()) == mine.end());
    CHECK(std::adjacent_find(reported.begin(), reported.end()) == reported.end());
    std::vector<std::uint64_t> both;
    std::set_intersection(mine.begin(), mine.end(), reported.begin(), reported.end(), std::back_inserter(both));
    CHECK(both.empty());
    CHECK(t->count() == 1'000'000); // recomputed from the bits: the child's unreported claims included
    // The child reports each claim right after making it: at most the one in flight when it died is unreported.
    CHECK(mine.size() + reported.size() <= 1'000'000);
    CHECK(mine.size() + reported.size() >= 1'000'000 - 1);
}

#endif
