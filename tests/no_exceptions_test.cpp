// Built with -fno-exceptions: the whole library compiles, works, and an error that would have been thrown prints
// "keyspace: <the message>" to stderr and aborts. Each error is provoked in a child process.
#include <keyspace/keyspace.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::printf("FAILED: %s\n", what);
        ++failures;
    }
}

// Runs f in a child; expects it to abort with `expected` in its stderr.
template <class F>
void expect_abort(const char* what, const char* expected, F f) {
    int fds[2];
    if (::pipe(fds) != 0) return check(false, "pipe");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 2);
        ::close(fds[0]);
        f();
        ::_exit(0); // not reached when f aborts
    }
    ::close(fds[1]);
    std::string err;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    const bool said = err.find(expected) != std::string::npos && err.rfind("keyspace: ", 0) == 0;
    if (!aborted || !said) std::printf("  stderr was: %s", err.c_str());
    check(aborted && said, what);
}

} // namespace

int main() {
    // The library works as usual.
    keyspace::PrefixTracker t("user:", 1000);
    t.add_range(10, 20);
    std::uint64_t n = 0;
    for (auto k : t.iter().set_only().sequential()) n += k.id >= 10 && k.id < 20 ? 1 : 0;
    check(n == 10, "sequential iteration");
    auto w = t.iter().continue_write();
    check(w.next_id() == 0u, "a claim");
    check(keyspace::OpMix::parse("get:0.8,set:0.2").probability(keyspace::Op::Read) > 0.79, "OpMix::parse");

    // Errors abort with the message that would have been thrown.
    expect_abort("bad max_id", "TrackerConfig::with_max_id: max_id must be in [1, 2^63], got 0",
                 [] { (void)keyspace::TrackerConfig::simple("a:").with_max_id(0); });
    expect_abort("reversed range", "begin (5) is greater than end (4)", [&] { (void)t.add_range(5, 4); });
    expect_abort("pair member on a simple tracker", "needs a hierarchical tracker", [&] { (void)t.add_pair(1, 2); });
    expect_abort("bad probability", "p must be in [0, 1], got 2", [&] { (void)t.iter().sample(2.0); });
    expect_abort("bad op mix", "OpMix::parse", [] { (void)keyspace::OpMix::parse("get:x"); });
    expect_abort("missing file", "cannot open for reading", [] { (void)keyspace::load_tracker("/nonexistent/x.ksp"); });
    std::printf("%s\n", failures == 0 ? "no-exceptions build: every check passed" : "no-exceptions build: FAILED");
    return failures == 0 ? 0 : 1;
}
