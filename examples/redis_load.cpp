// redis_load: the workload of workload_demo (examples/workload.hpp) against a real Redis server through hiredis.
// Keys are "<prefix>NNNNNNNNNNNN" (pa:000000000042); every thread has its own connection and pipelines its
// commands. The tracker decides what each command should find, and every reply is checked against it: SET must
// answer OK, GET must find a value exactly when the tracker says the key exists, DEL must delete exactly one key.
// At the end the server's DBSIZE must equal the trackers' total count, and a random sample of IDs (present and
// absent) must agree on existence both ways (EXISTS against PrefixTracker::exists).
// --shared: one tracker and one Zipf distribution shared by every thread, no partitioning, several pipelined
// connections per thread (--connections); each command's operation is begun in a keyspace::InFlight when it is
// sent and committed when its reply arrives, so every reply is still predicted exactly. --fields F: the same over
// hashes of up to F fields (a hierarchical tracker): HGET, HSETNX, HSET, HDEL, and HLEN against sub_count.
// Usage: redis_load [--host H] [--port P] [--pipeline N] [--flushdb] [--sample-out FILE] [--shared
//                   [--connections C] [--fields F]] [workload options]
#include "workload.hpp"

#include <keyspace/in_flight.hpp>

#include <hiredis/hiredis.h>

#include <cstdio>  // for std::snprintf, std::fopen
#include <cstring> // for std::strcmp
#include <chrono>  // for std::chrono::steady_clock
#include <deque>   // for std::deque
#include <string>  // for std::string
#include <thread>  // for std::thread
#include <utility> // for std::exchange
#include <vector>  // for std::vector

namespace {

const char* usage_text =
    "  --host H          Redis host (default 127.0.0.1)\n"
    "  --port P          Redis port (default 6379)\n"
    "  --pipeline N      commands in flight per connection (default 64)\n"
    "  --flushdb         empty the database first (otherwise a non-empty database is refused)\n"
    "  --sample-out FILE write '<key> <0|1>' lines: sampled keys and whether the tracker holds them\n"
    "  --shared          one tracker (prefix pa:) and one distribution for every thread, no partitioning: each\n"
    "                    command is an operation in flight (keyspace::InFlight) until its reply; the mix is\n"
    "                    reads (--read-pct; 1 in 10 of them hit or miss evenly), then inserts of new keys,\n"
    "                    deletes and overwrites in equal parts\n"
    "  --connections C   with --shared: pipelined connections per thread (default 4)\n"
    "  --fields F        with --shared: hashes (prefix ph:) of up to F fields, a hierarchical tracker; HGET, HSETNX\n"
    "                    of new fields, HSET overwrites, HDEL; at the end HLEN against sub_count for a sample\n";

struct RedisOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::size_t pipeline = 64;
    bool flushdb = false;
    std::string sample_out;
    bool shared = false;
    std::size_t connections = 4;
    std::uint64_t fields = 0; // --fields F: --shared over a hierarchical tracker, F fields per hash
};

redisContext* connect(const RedisOptions& r) {
    redisContext* c = redisConnect(r.host.c_str(), r.port);
    if (c == nullptr || c->err) {
        std::fprintf(stderr, "redis_load: cannot connect to %s:%d: %s\n", r.host.c_str(), r.port,
                     c ? c->errstr : "out of memory");
        std::exit(3);
    }
    return c;
}

/// One command, synchronously; exits on a connection error.
redisReply* command(redisContext* c, const char* fmt, const char* key = nullptr, std::size_t len = 0) {
    void* reply = key ? redisCommand(c, fmt, key, len) : redisCommand(c, fmt);
    if (reply == nullptr) {
        std::fprintf(stderr, "redis_load: connection error: %s\n", c->errstr);
        std::exit(3);
    }
    return static_cast<redisReply*>(reply);
}

long long integer_command(redisContext* c, const char* fmt, const char* key = nullptr, std::size_t len = 0) {
    redisReply* r = command(c, fmt, key, len);
    const long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

/// "pa:000000000042"
std::size_t format_key(char* buf, std::uint64_t prefix, std::uint64_t id) {
    const int n = std::snprintf(buf, 64, "%s%012llu", workload::prefix_name(prefix).c_str(),
                                static_cast<unsigned long long>(id));
    return static_cast<std::size_t>(n);
}

/// One thread's connection: commands are appended and their replies checked every `pipeline` commands.
class RedisSession {
public:
    explicit RedisSession(const RedisOptions& r) : c_(connect(r)), pipeline_(r.pipeline) {}
    RedisSession(RedisSession&& o) noexcept
        : c_(std::exchange(o.c_, nullptr)), pipeline_(o.pipeline_), pending_(std::move(o.pending_)),
          errors_(o.errors_) {}
    RedisSession(const RedisSession&) = delete;
    RedisSession& operator=(const RedisSession&) = delete;
    RedisSession& operator=(RedisSession&&) = delete;
    ~RedisSession() {
        if (c_) redisFree(c_);
    }

    void set(std::uint64_t p, std::uint64_t id) { append(Op::set, p, id, true); }
    void get(std::uint64_t p, std::uint64_t id, bool present) { append(Op::get, p, id, present); }
    void del(std::uint64_t p, std::uint64_t id) { append(Op::del, p, id, true); }
    [[nodiscard]] std::uint64_t errors() const { return errors_; }

    void flush() {
        for (const Pending& op : pending_) {
            void* raw = nullptr;
            if (redisGetReply(c_, &raw) != REDIS_OK || raw == nullptr) {
                std::fprintf(stderr, "redis_load: connection error: %s\n", c_->errstr);
                std::exit(3);
            }
            auto* r = static_cast<redisReply*>(raw);
            bool good = false;
            switch (op.op) {
            case Op::set: good = r->type == REDIS_REPLY_STATUS && std::strcmp(r->str, "OK") == 0; break;
            case Op::get: good = (r->type == REDIS_REPLY_STRING) == op.expect; break;
            case Op::del: good = r->type == REDIS_REPLY_INTEGER && r->integer == 1; break;
            }
            if (!good && errors_++ < 5) {
                char key[64];
                format_key(key, op.prefix, op.id);
                std::fprintf(stderr, "redis_load: unexpected reply to %s %s (reply type %d)\n",
                             op.op == Op::set ? "SET" : op.op == Op::get ? "GET" : "DEL", key, r->type);
            }
            freeReplyObject(r);
        }
        pending_.clear();
    }

private:
    enum class Op { set, get, del };
    struct Pending {
        Op op;
        std::uint64_t prefix, id;
        bool expect;
    };

    void append(Op op, std::uint64_t p, std::uint64_t id, bool expect) {
        char key[64];
        const std::size_t len = format_key(key, p, id);
        switch (op) {
        case Op::set: redisAppendCommand(c_, "SET %b %b", key, len, key, len); break; // the value is the key
        case Op::get: redisAppendCommand(c_, "GET %b", key, len); break;
        case Op::del: redisAppendCommand(c_, "DEL %b", key, len); break;
        }
        pending_.push_back({op, p, id, expect});
        if (pending_.size() >= pipeline_) flush();
    }

    redisContext* c_;
    std::size_t pipeline_;
    std::vector<Pending> pending_;
    std::uint64_t errors_ = 0;
};

// ---- --shared: every thread over every key, operations in flight --------------------------------------------------

/// One pipelined connection of a shared-mode thread: each command sent carries the ticket of its operation, and its
/// reply is checked against the ticket, then commits it.
class SharedConnection {
public:
    SharedConnection(const RedisOptions& r, keyspace::InFlight& ops)
        : c_(connect(r)), hierarchical_(ops.tracker().is_hierarchical()) {}
    SharedConnection(SharedConnection&& o) noexcept
        : c_(std::exchange(o.c_, nullptr)), hierarchical_(o.hierarchical_), pending_(std::move(o.pending_)),
          errors_(o.errors_) {}
    SharedConnection(const SharedConnection&) = delete;
    SharedConnection& operator=(const SharedConnection&) = delete;
    SharedConnection& operator=(SharedConnection&&) = delete;
    ~SharedConnection() {
        if (c_) redisFree(c_);
    }

    /// Sends the command of t's operation: GET, SET NX (an insert: the key must be new), SET XX (an overwrite: the
    /// key must exist) or DEL.
    void send(keyspace::InFlight::Ticket t) {
        char key[64];
        const std::size_t len = format_key(key, hash_prefix(), t.id());
        if (hierarchical_) {
            char field[32];
            const auto flen = static_cast<std::size_t>(
                std::snprintf(field, sizeof field, "f%llu", static_cast<unsigned long long>(t.key().sub_id)));
            switch (t.kind()) {
            case keyspace::InFlight::Kind::Read: redisAppendCommand(c_, "HGET %b %b", key, len, field, flen); break;
            case keyspace::InFlight::Kind::Insert:
                redisAppendCommand(c_, "HSETNX %b %b %b", key, len, field, flen, key, len);
                break;
            case keyspace::InFlight::Kind::Update:
                redisAppendCommand(c_, "HSET %b %b %b", key, len, field, flen, key, len);
                break;
            case keyspace::InFlight::Kind::Delete: redisAppendCommand(c_, "HDEL %b %b", key, len, field, flen); break;
            }
            pending_.push_back(std::move(t));
            return;
        }
        switch (t.kind()) {
        case keyspace::InFlight::Kind::Read: redisAppendCommand(c_, "GET %b", key, len); break;
        case keyspace::InFlight::Kind::Insert: redisAppendCommand(c_, "SET %b %b NX", key, len, key, len); break;
        case keyspace::InFlight::Kind::Update: redisAppendCommand(c_, "SET %b %b XX", key, len, key, len); break;
        case keyspace::InFlight::Kind::Delete: redisAppendCommand(c_, "DEL %b", key, len); break;
        }
        pending_.push_back(std::move(t));
    }
    [[nodiscard]] std::size_t in_flight() const noexcept { return pending_.size(); }
    /// Reads the oldest reply, checks it against its ticket and commits the ticket.
    void receive() {
        keyspace::InFlight::Ticket t = std::move(pending_.front());
        pending_.pop_front();
        void* raw = nullptr;
        if (redisGetReply(c_, &raw) != REDIS_OK || raw == nullptr) {
            std::fprintf(stderr, "redis_load: connection error: %s\n", c_->errstr);
            std::exit(3); // (a tool that reconnects would abort() the tickets of the lost commands)
        }
        auto* r = static_cast<redisReply*>(raw);
        const bool ok_status = r->type == REDIS_REPLY_STATUS && std::strcmp(r->str, "OK") == 0;
        bool good = false;
        const auto integer = [r](long long v) { return r->type == REDIS_REPLY_INTEGER && r->integer == v; };
        switch (t.kind()) {
        case keyspace::InFlight::Kind::Read: good = (r->type == REDIS_REPLY_STRING) == t.expect_hit(); break;
        case keyspace::InFlight::Kind::Insert: good = hierarchical_ ? integer(1) : ok_status; break; // HSETNX: 1 = new
        case keyspace::InFlight::Kind::Update: good = hierarchical_ ? integer(0) : ok_status; break; // HSET: 0 added
        case keyspace::InFlight::Kind::Delete: good = integer(1); break;
        }
        if (!good && errors_++ < 5) {
            char key[64];
            format_key(key, hash_prefix(), t.id());
            static const char* const names[] = {"SET NX", "DEL", "GET", "SET XX"};
            static const char* const hnames[] = {"HSETNX", "HDEL", "HGET", "HSET"};
            std::fprintf(stderr, "redis_load: unexpected reply to %s %s (field %llu, reply type %d, expected %s)\n",
                         (hierarchical_ ? hnames : names)[static_cast<int>(t.kind())], key,
                         static_cast<unsigned long long>(t.key().sub_id), r->type, t.expect_hit() ? "hit" : "miss");
        }
        freeReplyObject(r);
        t.commit(); // the server applied it (NX/XX that answered nil applied nothing, but then errors_ counts it)
    }
    [[nodiscard]] std::uint64_t errors() const noexcept { return errors_; }

private:
    [[nodiscard]] std::uint64_t hash_prefix() const noexcept { return hierarchical_ ? 7 : 0; } // ph: or pa:

    redisContext* c_;
    bool hierarchical_;
    std::deque<keyspace::InFlight::Ticket> pending_;
    std::uint64_t errors_ = 0;
};

struct SharedResult {
    std::uint64_t ops = 0, not_begun = 0, errors = 0, hits = 0, misses = 0;
};

/// One thread of --shared: `connections` pipelined connections, `ops` operations over the whole tracker.
SharedResult shared_worker(keyspace::InFlight& ops, const RedisOptions& r, const workload::Options& o,
                           std::uint64_t thread, std::uint64_t n_ops) {
    keyspace::PrefixTracker& t = ops.tracker();
    std::vector<SharedConnection> conns;
    for (std::size_t i = 0; i < r.connections; ++i) conns.emplace_back(r, ops);
    auto reads = t.iter().set_only().distribution(keyspace::AccessDistribution::zipfian(o.skew)).seed(o.seed + thread)
                     .random();
    auto any = t.iter().mixed_ratio(0.5).seed(o.seed + 100 + thread).random(); // GETs that hit or miss, 1 in 10
    auto inserts = t.iter().continue_write();
    keyspace::Rng rng(o.seed * 1000 + thread);
    SharedResult res;
    std::size_t next = 0;
    for (std::uint64_t i = 0; i < n_ops; ++i) {
        const std::uint64_t dice = rng.below(100), w = (100 - o.read_pct) / 3; // inserts and deletes: w% each
        std::optional<keyspace::InFlight::Ticket> tk;
        if (dice < o.read_pct) tk = dice % 10 == 0 ? ops.begin_read(any) : ops.begin_read(reads);
        else if (dice < o.read_pct + w) tk = ops.begin_insert(inserts);
        else if (dice < o.read_pct + 2 * w) tk = ops.begin_delete(reads);
        else tk = ops.begin_update(reads);
        if (!tk) {
            ++res.not_begun;
            continue;
        }
        if (tk->kind() == keyspace::InFlight::Kind::Read) ++(tk->expect_hit() ? res.hits : res.misses);
        SharedConnection& c = conns[next];
        next = (next + 1) % conns.size();
        c.send(std::move(*tk));
        if (c.in_flight() > r.pipeline) c.receive();
        ++res.ops;
    }
    for (auto& c : conns) {
        while (c.in_flight() > 0) c.receive();
        res.errors += c.errors();
    }
    return res;
}

/// --shared: load `keys` keys, run the mix from every thread over every key, then compare with the server.
int run_shared(const workload::Options& o, const RedisOptions& r, redisContext* admin) {
    // Keys (simple IDs, or (hash, field) pairs): twice those loaded, room to insert; deletes free more.
    const bool hier = r.fields != 0;
    const std::uint64_t ids = hier ? std::max<std::uint64_t>(1, 2 * o.keys / r.fields) : 2 * o.keys;
    keyspace::PrefixTracker t(hier ? keyspace::TrackerConfig::hierarchical(workload::prefix_name(7))
                                         .with_max_id(ids)
                                         .with_max_sub_id(r.fields)
                                   : keyspace::TrackerConfig::simple(workload::prefix_name(0)).with_max_id(ids));
    keyspace::InFlight ops(t);
    std::printf("redis_load --shared: %s:%d, %llu keys loaded of %llu %s, %llu threads x %zu connections "
                "(pipeline %zu), %llu ops, %llu%% reads, zipf %.2f over every key\n",
                r.host.c_str(), r.port, static_cast<unsigned long long>(o.keys),
                static_cast<unsigned long long>(hier ? ids * r.fields : ids), hier ? "(hash, field) pairs" : "IDs",
                static_cast<unsigned long long>(o.threads), r.connections, r.pipeline,
                static_cast<unsigned long long>(o.ops), static_cast<unsigned long long>(o.read_pct), o.skew);
    { // load: inserts of the first `keys` IDs, through the same tickets
        SharedConnection c(r, ops);
        auto load = t.iter().limit(o.keys).write(); // the first `keys` keys
        while (auto tk = ops.begin_insert(load)) {
            c.send(std::move(*tk));
            if (c.in_flight() > r.pipeline) c.receive();
        }
        while (c.in_flight() > 0) c.receive();
        if (c.errors() != 0 || t.count() != o.keys) {
            std::printf("MISMATCH: the load phase failed\n");
            return 1;
        }
    }
    std::vector<SharedResult> results(o.threads);
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < o.threads; ++i)
        threads.emplace_back([&, i] {
            results[i] = shared_worker(ops, r, o, i, o.ops / o.threads + (i < o.ops % o.threads ? 1 : 0));
        });
    for (auto& th : threads) th.join();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    SharedResult sum;
    for (const auto& x : results) {
        sum.ops += x.ops, sum.not_begun += x.not_begun, sum.errors += x.errors;
        sum.hits += x.hits, sum.misses += x.misses;
    }
    std::printf("mix: %llu operations in %.2f s (%.0f/s), %llu draws not begun (busy keys), reads %llu hit / %llu "
                "miss, %llu unexpected replies\n",
                static_cast<unsigned long long>(sum.ops), secs, static_cast<double>(sum.ops) / secs,
                static_cast<unsigned long long>(sum.not_begun), static_cast<unsigned long long>(sum.hits),
                static_cast<unsigned long long>(sum.misses), static_cast<unsigned long long>(sum.errors));
    bool ok = sum.errors == 0 && ops.idle();

    // Server keys: IDs (simple) or hashes with at least one field (hierarchical).
    std::uint64_t keys_held = t.count();
    if (hier) {
        keys_held = 0;
        for (std::uint64_t id = 0; id < ids; ++id) keys_held += t.id_exists(id) ? 1 : 0;
    }
    const long long dbsize = integer_command(admin, "DBSIZE");
    std::printf("tracker total: %llu\nserver DBSIZE: %lld\n", static_cast<unsigned long long>(keys_held), dbsize);
    if (dbsize < 0 || static_cast<std::uint64_t>(dbsize) != keys_held) {
        std::printf("MISMATCH: DBSIZE differs from the tracker's count\n");
        ok = false;
    }
    std::FILE* sample_file = r.sample_out.empty() ? nullptr : std::fopen(r.sample_out.c_str(), "w");
    keyspace::Rng rng(o.seed ^ 0xc0ffee);
    std::uint64_t present = 0, disagree = 0;
    constexpr int samples = 2000;
    const std::uint64_t prefix = hier ? 7 : 0;
    for (int i = 0; i < samples; ++i) {
        const std::uint64_t id = rng.below(ids);
        char key[64];
        const std::size_t len = format_key(key, prefix, id);
        const bool in_tracker = hier ? t.id_exists(id) : t.exists(id);
        const bool in_server = integer_command(admin, "EXISTS %b", key, len) == 1;
        present += in_tracker ? 1 : 0;
        if (in_tracker != in_server && disagree++ < 5)
            std::printf("MISMATCH: %s: tracker %d, server %d\n", key, in_tracker, in_server);
        if (sample_file) std::fprintf(sample_file, "%s %d\n", key, in_tracker ? 1 : 0);
        if (hier) { // the hash's length and one of its fields
            redisReply* hl = command(admin, "HLEN %b", key, len);
            const long long hlen = hl->type == REDIS_REPLY_INTEGER ? hl->integer : -1;
            freeReplyObject(hl);
            if (hlen < 0 || static_cast<std::uint64_t>(hlen) != t.sub_count(id)) {
                if (disagree++ < 5)
                    std::printf("MISMATCH: HLEN %s = %lld, sub_count %llu\n", key, hlen,
                                static_cast<unsigned long long>(t.sub_count(id)));
            }
            const std::uint64_t sub = rng.below(r.fields);
            char field[32];
            const int flen = std::snprintf(field, sizeof field, "f%llu", static_cast<unsigned long long>(sub));
            auto* he = static_cast<redisReply*>(redisCommand(admin, "HEXISTS %b %b", key, len, field,
                                                             static_cast<std::size_t>(flen)));
            const bool field_in_server = he != nullptr && he->type == REDIS_REPLY_INTEGER && he->integer == 1;
            if (he != nullptr) freeReplyObject(he);
            if (field_in_server != t.exists_pair(id, sub) && disagree++ < 5)
                std::printf("MISMATCH: %s field f%llu: tracker %d, server %d\n", key,
                            static_cast<unsigned long long>(sub), t.exists_pair(id, sub), field_in_server);
        }
    }
    if (sample_file) std::fclose(sample_file);
    std::printf("sampled %d IDs (%llu present): %llu disagree\n", samples, static_cast<unsigned long long>(present),
                static_cast<unsigned long long>(disagree));
    if (disagree != 0) ok = false;
    std::printf(ok ? "the server agrees with the tracker\n" : "VERIFICATION FAILED\n");
    return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    const std::string usage = std::string(workload::common_usage) + usage_text;
    RedisOptions r;
    const workload::Options o = workload::parse(argc, argv, "redis_load", usage.c_str(),
        [&](const char* flag, const char* value) -> int {
            auto need = [&] {
                if (value == nullptr) workload::fail_usage("redis_load", std::string(flag) + " needs a value", usage.c_str());
                return value;
            };
            if (std::strcmp(flag, "--host") == 0) { r.host = need(); return 2; }
            if (std::strcmp(flag, "--port") == 0) {
                r.port = static_cast<int>(workload::parse_uint("redis_load", usage.c_str(), flag, need(), 1, 65535));
                return 2;
            }
            if (std::strcmp(flag, "--pipeline") == 0) {
                r.pipeline = workload::parse_uint("redis_load", usage.c_str(), flag, need(), 1, 100000);
                return 2;
            }
            if (std::strcmp(flag, "--flushdb") == 0) { r.flushdb = true; return 1; }
            if (std::strcmp(flag, "--sample-out") == 0) { r.sample_out = need(); return 2; }
            if (std::strcmp(flag, "--shared") == 0) { r.shared = true; return 1; }
            if (std::strcmp(flag, "--fields") == 0) {
                r.fields = workload::parse_uint("redis_load", usage.c_str(), flag, need(), 1, 1024);
                return 2;
            }
            if (std::strcmp(flag, "--connections") == 0) {
                r.connections = workload::parse_uint("redis_load", usage.c_str(), flag, need(), 1, 1024);
                return 2;
            }
            return 0;
        });

    redisContext* admin = connect(r);
    if (r.flushdb) freeReplyObject(command(admin, "FLUSHDB"));
    if (const long long size = integer_command(admin, "DBSIZE"); size != 0) {
        std::fprintf(stderr, "redis_load: the database at %s:%d holds %lld keys; refusing to mix with them "
                             "(--flushdb empties it first)\n", r.host.c_str(), r.port, size);
        return 3;
    }
    if (r.shared) {
        const int status = run_shared(o, r, admin);
        redisFree(admin);
        return status;
    }
    std::printf("redis_load: %s:%d, %llu prefixes x %llu keys, %llu threads (one connection each, pipeline %zu), "
                "%llu ops, %llu%% reads %s\n", r.host.c_str(), r.port, static_cast<unsigned long long>(o.prefixes),
                static_cast<unsigned long long>(o.keys), static_cast<unsigned long long>(o.threads), r.pipeline,
                static_cast<unsigned long long>(o.ops), static_cast<unsigned long long>(o.read_pct),
                workload::dist_name(o.dist));

    bool ok = false;
    const auto trackers = workload::run(o, [&](std::size_t) { return RedisSession(r); }, ok);

    // The server's truth against the trackers'.
    std::uint64_t total = 0;
    for (const auto& t : trackers) total += t->count();
    const long long dbsize = integer_command(admin, "DBSIZE");
    std::printf("tracker total: %llu\nserver DBSIZE: %lld\n", static_cast<unsigned long long>(total), dbsize);
    if (dbsize < 0 || static_cast<std::uint64_t>(dbsize) != total) {
        std::printf("MISMATCH: DBSIZE differs from the trackers' total\n");
        ok = false;
    }
    std::FILE* sample_file = r.sample_out.empty() ? nullptr : std::fopen(r.sample_out.c_str(), "w");
    if (!r.sample_out.empty() && sample_file == nullptr) {
        std::fprintf(stderr, "redis_load: cannot write %s\n", r.sample_out.c_str());
        return 3;
    }
    keyspace::Rng rng(o.seed ^ 0xc0ffee);
    std::uint64_t sampled = 0, present = 0, disagree = 0;
    for (std::uint64_t p = 0; p < trackers.size(); ++p) {
        for (int i = 0; i < 500; ++i) {
            const std::uint64_t id = rng.below(2 * o.keys); // loaded, inserted, deleted and never-used IDs alike
            char key[64];
            const std::size_t len = format_key(key, p, id);
            const bool in_tracker = trackers[p]->exists(id);
            const bool in_server = integer_command(admin, "EXISTS %b", key, len) == 1;
            ++sampled;
            present += in_tracker ? 1 : 0;
            if (in_tracker != in_server) {
                if (disagree++ < 5)
                    std::printf("MISMATCH: %s: tracker %d, server %d\n", key, in_tracker, in_server);
            }
            if (sample_file) std::fprintf(sample_file, "%s %d\n", key, in_tracker ? 1 : 0);
        }
    }
    if (sample_file) std::fclose(sample_file);
    std::printf("sampled %llu IDs (%llu present, %llu absent): %llu disagree\n", static_cast<unsigned long long>(sampled),
                static_cast<unsigned long long>(present), static_cast<unsigned long long>(sampled - present),
                static_cast<unsigned long long>(disagree));
    if (disagree != 0) ok = false;
    redisFree(admin);
    std::printf(ok ? "the server agrees with the trackers\n" : "VERIFICATION FAILED\n");
    return ok ? 0 : 1;
}
