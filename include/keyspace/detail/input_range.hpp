/** @file keyspace/detail/input_range.hpp
 *  InputRange: the C++20 input range over a pull iterator's next(); IteratorBase: what every tracker iterator has on
 *  top of next() (next_id, next_batch); MoveFlag: the flag that ends a moved-from iterator. */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/detail/isa.hpp>
#include <keyspace/key.hpp>

#include <cstddef>  // for std::size_t, std::ptrdiff_t
#include <cstdint>  // for std::uint64_t
#include <iterator> // for std::input_iterator_tag, std::default_sentinel_t
#include <optional> // for std::optional
#include <span>     // for std::span
#include <utility>  // for std::exchange

KEYSPACE_BEGIN_NAMESPACE
namespace detail {

/** An input range over a pull iterator: `for (auto x : it)` calls Derived::next(), which returns
 *  std::optional<Item>, until it is empty. Shared by the tracker iterators (Item = Key) and the group iterators. */
template <class Derived, class Item>
class InputRange {
public:
    class iterator {
    public:
        using value_type = Item;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;
        iterator() = default;
        KEYSPACE_ISA_ABI
        explicit iterator(Derived* it) : it_(it), cur_(it->next()) {}
        const Item& operator*() const noexcept { return *cur_; }
        const Item* operator->() const noexcept { return &*cur_; }
        KEYSPACE_ISA_ABI
        iterator& operator++() {
            cur_ = it_->next();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& i, std::default_sentinel_t) noexcept { return !i.cur_.has_value(); }

    private:
        Derived* it_ = nullptr;
        std::optional<Item> cur_;
    };
    KEYSPACE_ISA_ABI
    iterator begin() { return iterator(static_cast<Derived*>(this)); }
    std::default_sentinel_t end() const noexcept { return {}; }
};

/** A bool whose move leaves AfterMove in the source. The tracker iterators keep their "ended" flag in one (true after
 *  a move), so that a moved-from iterator yields nothing, as their move constructors promise, with the moves
 *  themselves defaulted. */
template <bool AfterMove>
class MoveFlag {
public:
    MoveFlag() = default;
    MoveFlag(bool v) noexcept : v_(v) {} // converts as the bool it stands for (`done_ = true`)
    MoveFlag(MoveFlag&& o) noexcept : v_(std::exchange(o.v_, AfterMove)) {}
    MoveFlag& operator=(MoveFlag&& o) noexcept {
        v_ = std::exchange(o.v_, AfterMove);
        return *this;
    }
    MoveFlag& operator=(bool v) noexcept {
        v_ = v;
        return *this;
    }
    operator bool() const noexcept { return v_; }

private:
    bool v_ = false;
};

/** What every tracker iterator has on top of next(): next_id, next_batch, and an input range of Key. */
template <class Derived>
class IteratorBase : public InputRange<Derived, Key> {
public:
    /// The next key's ID (its sub-ID dropped), or nullopt.
    KEYSPACE_ISA_ABI
    std::optional<std::uint64_t> next_id() {
        auto k = self().next();
        return k ? std::optional<std::uint64_t>(k->id) : std::nullopt;
    }
    /// Fills up to out.size() keys; returns how many.
    KEYSPACE_ISA_ABI
    std::size_t next_batch(std::span<Key> out) {
        std::size_t n = 0;
        for (; n < out.size(); ++n) {
            auto k = self().next();
            if (!k) break;
            out[n] = *k;
        }
        return n;
    }

private:
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

} // namespace detail
KEYSPACE_END_NAMESPACE
