// The integration guide's several processes (docs/integration.md): forked load-generator processes open one
// SharedKeyspace region and claim from it; each reports how many IDs it claimed through a pipe. Every ID must be
// claimed exactly once across the processes: the region ends full and the claims add up to its size.
#include <keyspace/keyspace.hpp>
#include <keyspace/shared_region.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

// [guide:process]
/// The body of one load-generator process. Every process runs the same code: open_or_create lets one of them make
/// the region and the others map it. A registry adopts the region's tracker beside the process's own ones.
std::uint64_t run_process(const std::string& path, std::uint64_t keys) {
    const auto cfg = keyspace::TrackerConfig::simple("user:").with_max_id(keys);
    std::shared_ptr<keyspace::PrefixTracker> users = keyspace::SharedKeyspace::open_or_create(path, cfg);

    keyspace::PrefixGroupsTracker groups;
    groups.adopt(users); // groups.get("user:") is the shared tracker
    groups.add(keyspace::TrackerConfig::simple("session:").with_max_id(1000)); // this process's alone

    std::uint64_t claimed = 0;
    for (auto key : groups.get("user:")->iter().continue_write()) { // disjoint runs of IDs across processes
        (void)key; // SET user:<key.id> ...
        ++claimed;
    }
    return claimed;
}
// [/guide:process]

} // namespace

int main() {
    const std::string path = "/tmp/keyspace-guide-processes-" + std::to_string(::getpid());
    keyspace::SharedKeyspace::remove(path);
    const std::uint64_t keys = 2'000'000;
    const int procs = 3;
    std::vector<int> pipes;
    std::vector<pid_t> children;
    for (int p = 0; p < procs; ++p) {
        int fds[2];
        if (::pipe(fds) != 0) return 2;
        const pid_t pid = ::fork();
        if (pid < 0) return 2;
        if (pid == 0) {
            ::close(fds[0]);
            const std::uint64_t n = run_process(path, keys);
            const bool written = ::write(fds[1], &n, sizeof n) == static_cast<ssize_t>(sizeof n);
            ::_exit(written ? 0 : 3);
        }
        ::close(fds[1]);
        pipes.push_back(fds[0]);
        children.push_back(pid);
    }
    std::uint64_t total = 0;
    bool ok = true;
    for (int p = 0; p < procs; ++p) {
        std::uint64_t n = 0;
        ok = ok && ::read(pipes[static_cast<std::size_t>(p)], &n, sizeof n) == static_cast<ssize_t>(sizeof n);
        ::close(pipes[static_cast<std::size_t>(p)]);
        int status = 0;
        ::waitpid(children[static_cast<std::size_t>(p)], &status, 0);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("process %d claimed %llu IDs\n", p, static_cast<unsigned long long>(n));
        total += n;
    }
    const auto users = keyspace::SharedKeyspace::open(path, keyspace::TrackerConfig::simple("user:").with_max_id(keys));
    std::printf("claims: %llu in all; the region holds %llu of %llu\n", static_cast<unsigned long long>(total),
                static_cast<unsigned long long>(users->count()), static_cast<unsigned long long>(keys));
    keyspace::SharedKeyspace::remove(path);
    ok = ok && total == keys && users->count() == keys;
    std::puts(ok ? "every ID claimed exactly once across the processes" : "MISMATCH");
    return ok ? 0 : 1;
}
