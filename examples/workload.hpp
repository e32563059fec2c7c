// workload.hpp: the benchmark-shaped workload shared by workload_demo (in memory) and redis_load (a real Redis).
//
// Several key prefixes, each tracked by a bounded keyspace::PrefixTracker:
//   load    threads claim IDs [0, keys) of every prefix through continue_write() streams and write each key;
//   mix     --ops operations, --read-pct % reads of an ID drawn from --dist over the loaded IDs (answered by the
//           tracker, so a load generator knows whether to expect a hit) and the rest inserts of new IDs claimed
//           beyond them (room for the expected inserts plus 10 %: see id_range);
//   delete  each thread walks its partition(t, threads) of every prefix's present IDs and deletes a sample of them.
// After each phase the tracker counts are checked against what the threads did. A Session (one per thread) sends
// the operations somewhere: nowhere for the demo, to Redis for redis_load.
#pragma once

#include <keyspace/keyspace.hpp>

#include <algorithm>  // for std::sort, std::max
#include <atomic>     // for std::atomic
#include <chrono>     // for std::chrono::steady_clock
#include <cstdint>    // for std::uint64_t
#include <cstdio>     // for std::printf, std::fprintf
#include <cstdlib>    // for std::exit, std::strtoull, std::strtod
#include <cstring>    // for std::strcmp
#include <functional> // for std::function
#include <memory>     // for std::unique_ptr
#include <optional>   // for std::optional
#include <string>     // for std::string
#include <thread>     // for std::thread
#include <vector>     // for std::vector
#include <unistd.h>   // for isatty

namespace workload {

enum class Dist { zipf, uniform, hotspot, latest };

struct Options {
    std::uint64_t keys = 1'000'000; // loaded IDs per prefix
    std::uint64_t prefixes = 4;
    std::uint64_t threads = 2;
    std::uint64_t ops = 50'000'000; // operations of the mix phase, all threads together
    std::uint64_t read_pct = 90;
    Dist dist = Dist::zipf;
    double skew = 0.99;
    bool scramble = false;          // map ranks to IDs through a keyspace::Permutation
    double delete_fraction = 0.5;
    std::uint64_t seed = 42;
};

inline const char* dist_name(Dist d) {
    switch (d) {
    case Dist::zipf: return "zipf";
    case Dist::uniform: return "uniform";
    case Dist::hotspot: return "hotspot";
    case Dist::latest: return "latest";
    }
    return "?";
}

inline const char* common_usage =
    "  --keys N          IDs loaded per prefix (default 1000000; at most 50000000)\n"
    "  --prefixes N      key prefixes (default 4; at most 26)\n"
    "  --threads N       worker threads (default 2; at most 256)\n"
    "  --ops N           operations in the read/write mix (default 50000000)\n"
    "  --read-pct P      percentage of reads in the mix (default 90)\n"
    "  --dist D          read distribution: zipf (default), uniform, hotspot (80% of reads on 20% of keys),\n"
    "                    latest (Zipf over recency: the last loaded IDs are the hottest)\n"
    "  --skew S          Zipf skew for zipf and latest (default 0.99; any value >= 0)\n"
    "  --scramble        spread the hot keys over the ID range (a keyed permutation of the ranks)\n"
    "  --delete-pct P    percentage of the present keys the delete phase removes (default 50)\n"
    "  --seed N          seed of every random choice (default 42)\n"
    "  --help            this text\n";

/// Prints the error and the usage, exits 2.
[[noreturn]] inline void fail_usage(const char* tool, const std::string& why, const char* usage) {
    std::fprintf(stderr, "%s: %s\nusage: %s [options]\n%s", tool, why.c_str(), tool, usage);
    std::exit(2);
}

inline std::uint64_t parse_uint(const char* tool, const char* usage, const char* flag, const char* text,
                                std::uint64_t lo, std::uint64_t hi) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == '-' || v < lo || v > hi)
        fail_usage(tool, std::string(flag) + " takes a whole number from " + std::to_string(lo) + " to " +
                             std::to_string(hi) + ", got '" + text + "'", usage);
    return v;
}

inline double parse_double(const char* tool, const char* usage, const char* flag, const char* text, double lo,
                           double hi) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= lo && v <= hi))
        fail_usage(tool, std::string(flag) + " takes a number from " + std::to_string(lo) + " to " +
                             std::to_string(hi) + ", got '" + text + "'", usage);
    return v;
}

/// Parses the common options; `extra(flag, value)` handles a tool's own flags (value is the next argument or
/// nullptr) and returns how many arguments it consumed (0: not its flag).
inline Options parse(int argc, char** argv, const char* tool, const char* usage,
                     const std::function<int(const char*, const char*)>& extra = {}) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const char* flag = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        auto need = [&]() -> const char* {
            if (value == nullptr) fail_usage(tool, std::string(flag) + " needs a value", usage);
            ++i;
            return value;
        };
        if (std::strcmp(flag, "--help") == 0 || std::strcmp(flag, "-h") == 0) {
            std::printf("usage: %s [options]\n%s", tool, usage);
            std::exit(0);
        } else if (std::strcmp(flag, "--keys") == 0) {
            o.keys = parse_uint(tool, usage, flag, need(), 1, 50'000'000);
        } else if (std::strcmp(flag, "--prefixes") == 0) {
            o.prefixes = parse_uint(tool, usage, flag, need(), 1, 26);
        } else if (std::strcmp(flag, "--threads") == 0) {
            o.threads = parse_uint(tool, usage, flag, need(), 1, 256);
        } else if (std::strcmp(flag, "--ops") == 0) {
            o.ops = parse_uint(tool, usage, flag, need(), 0, 10'000'000'000);
        } else if (std::strcmp(flag, "--read-pct") == 0) {
            o.read_pct = parse_uint(tool, usage, flag, need(), 0, 100);
        } else if (std::strcmp(flag, "--dist") == 0) {
            const std::string d = need();
            if (d == "zipf") o.dist = Dist::zipf;
            else if (d == "uniform") o.dist = Dist::uniform;
            else if (d == "hotspot") o.dist = Dist::hotspot;
            else if (d == "latest") o.dist = Dist::latest;
            else fail_usage(tool, "--dist takes zipf, uniform, hotspot or latest, got '" + d + "'", usage);
        } else if (std::strcmp(flag, "--skew") == 0) {
            o.skew = parse_double(tool, usage, flag, need(), 0.0, 100.0);
        } else if (std::strcmp(flag, "--scramble") == 0) {
            o.scramble = true;
        } else if (std::strcmp(flag, "--delete-pct") == 0) {
            o.delete_fraction = static_cast<double>(parse_uint(tool, usage, flag, need(), 0, 100)) / 100.0;
        } else if (std::strcmp(flag, "--seed") == 0) {
            o.seed = parse_uint(tool, usage, flag, need(), 0, ~0ull);
        } else if (int used = extra ? extra(flag, value) : 0; used > 0) {
            i += used - 1;
        } else {
            fail_usage(tool, std::string("unknown option '") + flag + "'", usage);
        }
    }
    return o;
}

/// The IDs the reads touch: a rank from the chosen distribution over [0, keys), optionally through a Permutation.
class KeyChooser {
public:
    KeyChooser(const Options& o, keyspace::Rng rng)
        : dist_(o.dist), n_(o.keys), rng_(rng), zipf_(o.keys, o.skew), uniform_(o.keys),
          hotspot_(o.keys, 0.2, 0.8), latest_(o.keys, o.skew) {
        if (o.scramble) perm_.emplace(o.keys, o.seed);
    }
    std::uint64_t next() {
        std::uint64_t id = 0;
        switch (dist_) {
        case Dist::zipf: id = zipf_(rng_); break;
        case Dist::uniform: id = uniform_(rng_); break;
        case Dist::hotspot: id = hotspot_(rng_); break;
        case Dist::latest: id = n_ - 1 - latest_(rng_); break; // rank 0 = the newest loaded ID
        }
        return perm_ ? perm_->at(id) : id;
    }

private:
    Dist dist_;
    std::uint64_t n_;
    keyspace::Rng rng_;
    keyspace::ZipfDistribution zipf_;
    keyspace::UniformDistribution uniform_;
    keyspace::HotspotDistribution hotspot_;
    keyspace::LatestZipfDistribution latest_;
    std::optional<keyspace::Permutation> perm_;
};

/// What one thread did; each thread owns one (padded, so progress reads never share a line with another writer).
struct alignas(keyspace::cache_line_size) ThreadStats {
    std::atomic<std::uint64_t> progress{0}; // ops of the current phase, stored by the owner every 1024 ops
    std::uint64_t loaded = 0, reads = 0, hits = 0, inserts = 0, full = 0, deleted = 0;
    std::vector<std::uint32_t> accesses;    // reads per ID, all prefixes together
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Runs body(t) on every thread and, while they run, prints a progress line every second once the phase has
/// lasted a second (total: the phase's expected ops, 0 if unknown). Returns the seconds taken.
template <class Body>
double run_phase(const char* name, std::vector<ThreadStats>& stats, std::uint64_t total, Body body) {
    for (auto& s : stats) s.progress.store(0, std::memory_order_relaxed);
    std::atomic<std::uint64_t> running{stats.size()};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    std::vector<std::chrono::steady_clock::time_point> ends(stats.size()); // the phase ends with its last thread
    for (std::size_t t = 0; t < stats.size(); ++t)
        threads.emplace_back([&, t] {
            body(t);
            ends[t] = std::chrono::steady_clock::now();
            // Release pairs with the acquire load below: the phase's results are visible once running reads 0.
            running.fetch_sub(1, std::memory_order_release);
        });
    const bool tty = isatty(fileno(stderr)) != 0;
    double next_report = 1.0;
    bool reported = false;
    while (running.load(std::memory_order_acquire) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const double el = seconds_since(t0);
        if (el < next_report) continue;
        next_report = el + 1.0;
        std::uint64_t done = 0;
        for (auto& s : stats) done += s.progress.load(std::memory_order_relaxed);
        if (total > 0)
            std::fprintf(stderr, "%s  %-6s %5.1f%%  %llu ops  %.2f M ops/s%s", tty ? "\r" : "", name,
                         100.0 * static_cast<double>(done) / static_cast<double>(total),
                         static_cast<unsigned long long>(done), static_cast<double>(done) / el / 1e6, tty ? "" : "\n");
        else
            std::fprintf(stderr, "%s  %-6s %llu ops  %.2f M ops/s%s", tty ? "\r" : "", name,
                         static_cast<unsigned long long>(done), static_cast<double>(done) / el / 1e6, tty ? "" : "\n");
        reported = true;
    }
    for (auto& th : threads) th.join();
    if (reported && tty) std::fprintf(stderr, "\r%60s\r", "");
    return std::chrono::duration<double>(*std::max_element(ends.begin(), ends.end()) - t0).count();
}

/// IDs per prefix: the loaded [0, keys), then room for the mix's inserts (their expected number plus 10 %).
inline std::uint64_t id_range(const Options& o) {
    const std::uint64_t inserts = o.ops / 100 * (100 - o.read_pct) / o.prefixes;
    return o.keys + std::max(o.keys, inserts + inserts / 10 + 1024);
}

inline std::string prefix_name(std::uint64_t p) { return std::string("p") + static_cast<char>('a' + p) + ":"; }

/// Prints reads per ID bucket as bars, then how concentrated the reads were.
inline void print_histogram(const std::vector<std::uint32_t>& accesses) {
    const std::uint64_t n = accesses.size();
    const std::uint64_t buckets = std::min<std::uint64_t>(20, n);
    std::vector<std::uint64_t> per(buckets, 0);
    std::uint64_t total = 0;
    for (std::uint64_t id = 0; id < n; ++id) {
        per[id * buckets / n] += accesses[id];
        total += accesses[id];
    }
    if (total == 0) return;
    const std::uint64_t peak = *std::max_element(per.begin(), per.end());
    std::printf("key accesses (reads per ID range, all prefixes):\n");
    for (std::uint64_t b = 0; b < buckets; ++b) {
        const std::uint64_t lo = (b * n + buckets - 1) / buckets, hi = ((b + 1) * n + buckets - 1) / buckets;
        const int width = static_cast<int>(50 * per[b] / std::max<std::uint64_t>(peak, 1));
        std::printf("  [%9llu, %9llu) %5.1f%% %s\n", static_cast<unsigned long long>(lo),
                    static_cast<unsigned long long>(hi),
                    100.0 * static_cast<double>(per[b]) / static_cast<double>(total), std::string(static_cast<std::size_t>(width), '#').c_str());
    }
    std::vector<std::uint32_t> sorted(accesses);
    std::sort(sorted.begin(), sorted.end(), [](std::uint32_t a, std::uint32_t b) { return a > b; });
    auto share_of_top = [&](std::uint64_t k) {
        std::uint64_t s = 0;
        for (std::uint64_t i = 0; i < std::min(k, n); ++i) s += sorted[i];
        return 100.0 * static_cast<double>(s) / static_cast<double>(total);
    };
    std::printf("hottest key: %.1f%% of reads; hottest 0.1%% of keys: %.1f%%; 1%%: %.1f%%; 10%%: %.1f%%\n",
                share_of_top(1), share_of_top(std::max<std::uint64_t>(1, n / 1000)),
                share_of_top(std::max<std::uint64_t>(1, n / 100)), share_of_top(std::max<std::uint64_t>(1, n / 10)));
}

/// Runs the three phases with one Session per thread (make_session(t)); Session has
/// set(prefix, id), get(prefix, id, expect_present), del(prefix, id), flush() and errors() (replies that
/// disagreed with the tracker, or failed). Returns the trackers; `ok` says whether every check passed.
template <class MakeSession>
std::vector<std::unique_ptr<keyspace::PrefixTracker>> run(const Options& o, MakeSession make_session, bool& ok) {
    ok = true;
    std::vector<std::unique_ptr<keyspace::PrefixTracker>> trackers;
    for (std::uint64_t p = 0; p < o.prefixes; ++p)
        trackers.push_back(std::make_unique<keyspace::PrefixTracker>(prefix_name(p), id_range(o)));
    std::vector<ThreadStats> stats(o.threads);
    using Session = decltype(make_session(std::size_t{0}));
    std::vector<std::unique_ptr<Session>> sessions;
    for (std::size_t t = 0; t < o.threads; ++t) sessions.push_back(std::make_unique<Session>(make_session(t)));
    auto sum = [&](std::uint64_t ThreadStats::*field) {
        std::uint64_t s = 0;
        for (auto& st : stats) s += st.*field;
        return s;
    };
    auto tracker_total = [&] {
        std::uint64_t s = 0;
        for (auto& tr : trackers) s += tr->count();
        return s;
    };
    auto check = [&](const char* what, std::uint64_t got, std::uint64_t want) {
        if (got == want) return;
        std::printf("MISMATCH: %s: %llu, expected %llu\n", what, static_cast<unsigned long long>(got),
                    static_cast<unsigned long long>(want));
        ok = false;
    };

    // ---- load: every thread joins the continue_write() streams of every prefix until [0, keys) is claimed.
    double secs = run_phase("load", stats, o.keys * o.prefixes, [&](std::size_t t) {
        ThreadStats& s = stats[t];
        Session& session = *sessions[t];
        for (std::uint64_t i = 0; i < o.prefixes; ++i) {
            const std::uint64_t p = (t + i) % o.prefixes; // threads start on different prefixes
            auto writer = trackers[p]->iter().range(0, o.keys).continue_write();
            while (auto key = writer.next()) {
                session.set(p, key->id);
                if ((++s.loaded & 1023) == 0) s.progress.store(s.loaded, std::memory_order_relaxed);
            }
        }
        session.flush();
    });
    const std::uint64_t loaded = sum(&ThreadStats::loaded);
    std::printf("load    %10llu keys in %6.3f s: %7.2f M keys/s\n", static_cast<unsigned long long>(loaded), secs,
                static_cast<double>(loaded) / secs / 1e6);
    check("keys loaded", loaded, o.keys * o.prefixes);
    check("tracker count after load", tracker_total(), o.keys * o.prefixes);

    // ---- mix: reads from the distribution, inserts claimed past the loaded range.
    secs = run_phase("mix", stats, o.ops, [&](std::size_t t) {
        ThreadStats& s = stats[t];
        Session& session = *sessions[t];
        s.accesses.assign(o.keys, 0);
        keyspace::Rng rng = keyspace::Rng::stream(o.seed, t);
        KeyChooser chooser(o, keyspace::Rng::stream(o.seed ^ 0x5eed, t));
        std::vector<keyspace::WriteIter> writers;
        for (auto& tr : trackers) writers.push_back(tr->iter().range(o.keys, id_range(o)).continue_write());
        const std::uint64_t mine = o.ops / o.threads + (t < o.ops % o.threads ? 1 : 0);
        for (std::uint64_t op = 0; op < mine; ++op) {
            const std::uint64_t p = rng.below(o.prefixes);
            if (rng.below(100) < o.read_pct) {
                const std::uint64_t id = chooser.next();
                const bool present = trackers[p]->exists(id);
                ++s.reads;
                s.hits += present ? 1 : 0;
                ++s.accesses[id];
                session.get(p, id, present);
            } else if (auto key = writers[p].next()) {
                ++s.inserts;
                session.set(p, key->id);
            } else {
                ++s.full; // this prefix's insert range is used up
            }
            if ((op & 1023) == 1023) s.progress.store(op + 1, std::memory_order_relaxed);
        }
        session.flush();
    });
    const std::uint64_t reads = sum(&ThreadStats::reads), hits = sum(&ThreadStats::hits);
    const std::uint64_t inserts = sum(&ThreadStats::inserts);
    std::printf("mix     %10llu ops  in %6.3f s: %7.2f M ops/s (%llu reads, %.1f%% hits; %llu inserts",
                static_cast<unsigned long long>(o.ops), secs, static_cast<double>(o.ops) / secs / 1e6,
                static_cast<unsigned long long>(reads),
                reads ? 100.0 * static_cast<double>(hits) / static_cast<double>(reads) : 0.0,
                static_cast<unsigned long long>(inserts));
    if (const std::uint64_t full = sum(&ThreadStats::full)) std::printf(", %llu refused: range full", static_cast<unsigned long long>(full));
    std::printf(")\n");
    check("reads that missed a loaded key", reads - hits, 0);
    check("tracker count after the mix", tracker_total(), loaded + inserts);

    // ---- delete: each thread its partition of every prefix, a seeded sample of the present keys.
    const std::uint64_t before_delete = tracker_total();
    secs = run_phase("delete", stats, 0, [&](std::size_t t) {
        ThreadStats& s = stats[t];
        Session& session = *sessions[t];
        for (std::uint64_t p = 0; p < o.prefixes; ++p) {
            for (auto key : trackers[p]->iter().set_only().sample(o.delete_fraction).seed(o.seed + p)
                                .partition(t, o.threads)) {
                if (!trackers[p]->remove(key.id)) continue;
                session.del(p, key.id);
                if ((++s.deleted & 1023) == 0) s.progress.store(s.deleted, std::memory_order_relaxed);
            }
        }
        session.flush();
    });
    const std::uint64_t deleted = sum(&ThreadStats::deleted);
    std::printf("delete  %10llu keys in %6.3f s: %7.2f M keys/s\n", static_cast<unsigned long long>(deleted), secs,
                static_cast<double>(deleted) / secs / 1e6);
    check("tracker count after deletes", tracker_total(), before_delete - deleted);

    std::uint64_t errors = 0;
    for (auto& session : sessions) errors += session->errors();
    check("operations whose reply disagreed with the tracker", errors, 0);

    std::vector<std::uint32_t> accesses(o.keys, 0);
    for (auto& s : stats)
        for (std::uint64_t id = 0; id < s.accesses.size(); ++id) accesses[id] += s.accesses[id];
    print_histogram(accesses);
    return trackers;
}

} // namespace workload
