// server.hpp: an in-memory key-value server with a pipelined client, standing in for a real database in the
// integration guide's programs (docs/integration.md), so they run and check themselves without one. Its client has
// the shape of a hiredis connection: append commands, then read their replies in order (examples/redis_load.cpp
// does the same against a real Redis).
#pragma once

#include <cstddef>       // for std::size_t
#include <deque>         // for std::deque
#include <mutex>         // for std::mutex, std::lock_guard
#include <string>        // for std::string
#include <string_view>   // for std::string_view
#include <unordered_set> // for std::unordered_set
#include <utility>       // for std::pair

namespace guide {

/// The commands of the guide's load generators.
enum class Command { Set, Get, Del };

/// The keys a server holds; every command is atomic.
class Server {
public:
    /// Runs one command; its reply as an integer: SET 1 (OK), GET 1 (a value) or 0 (nil), DEL the keys deleted.
    long long run(Command c, std::string_view key) {
        std::lock_guard<std::mutex> lock(mutex_);
        switch (c) {
        case Command::Set: keys_.emplace(key); return 1;
        case Command::Get: return keys_.count(std::string(key)) != 0 ? 1 : 0;
        case Command::Del: return static_cast<long long>(keys_.erase(std::string(key)));
        }
        return -1;
    }
    [[nodiscard]] std::size_t size() {
        std::lock_guard<std::mutex> lock(mutex_);
        return keys_.size();
    }
    [[nodiscard]] bool has(std::string_view key) { return run(Command::Get, key) == 1; }

private:
    std::mutex mutex_;
    std::unordered_set<std::string> keys_;
};

/// One connection: append() queues a command (sent), reply() runs the oldest queued one and returns its reply, as a
/// pipelined client reads replies in the order of its commands.
class Connection {
public:
    explicit Connection(Server& server) : server_(&server) {}
    void append(Command c, std::string_view key) { queued_.emplace_back(c, std::string(key)); }
    long long reply() {
        const auto [c, key] = queued_.front();
        queued_.pop_front();
        return server_->run(c, key);
    }
    /// One command, waiting for its reply.
    long long run(Command c, std::string_view key) {
        append(c, key);
        return reply();
    }
    [[nodiscard]] std::size_t in_flight() const noexcept { return queued_.size(); }

private:
    Server* server_;
    std::deque<std::pair<Command, std::string>> queued_;
};

} // namespace guide
