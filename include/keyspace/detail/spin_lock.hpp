/** @file keyspace/detail/spin_lock.hpp
 *  SpinLock: a lock for cold paths (registries, stream set-up) that needs no <mutex> or <thread>: an atomic_flag
 *  whose waiters sleep in atomic_flag::wait (a futex on Linux) rather than spin. Constant-initialisable. */
#pragma once

#include <keyspace/config.hpp>

#include <atomic> // for std::atomic_flag, std::memory_order

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

class SpinLock {
public:
    constexpr SpinLock() noexcept = default;
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    void lock() noexcept {
        // Acquire pairs with the release in unlock(): the previous holder's writes are visible.
        while (flag_.test_and_set(std::memory_order_acquire)) flag_.wait(true, std::memory_order_relaxed);
    }
    void unlock() noexcept {
        flag_.clear(std::memory_order_release);
        flag_.notify_one();
    }

private:
    std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

/// Holds a SpinLock for a scope.
class SpinGuard {
public:
    explicit SpinGuard(SpinLock& l) noexcept : l_(l) { l_.lock(); }
    ~SpinGuard() { l_.unlock(); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

private:
    SpinLock& l_;
};

} // namespace detail
KEYSPACE_END_NAMESPACE
