/** @file keyspace/sampling/weighted_picker.hpp
 *  WeightedPicker: draws indices by weight among those still alive (knows no bitmap). */
#pragma once

#include <keyspace/config.hpp>
#include <keyspace/sampling/rng.hpp>

#include <algorithm> // for std::upper_bound
#include <cstddef>   // for std::size_t
#include <cstdint>   // for std::uint64_t
#include <utility>   // for std::move
#include <vector>    // for std::vector

KEYSPACE_BEGIN_NAMESPACE

/** Draws indices in [0, k) with probability ∝ weight among the alive ones (uniformly among them when their
 *  weights sum to zero). Cumulative weights are rebuilt only when an index dies: a draw is one uniform and a
 *  binary search. */
class WeightedPicker {
public:
    WeightedPicker() = default;
    /// A picker over the indices of weights: index i is drawn in proportion to weights[i].
    explicit WeightedPicker(std::vector<double> weights)
        : weights_(std::move(weights)), alive_(weights_.size(), 1), alive_count_(weights_.size()) {
        rebuild();
    }
    /// A draw ∝ other weights (one per index) among the alive indices, in O(k) without touching the table.
    std::size_t pick_with(Rng& rng, const std::vector<double>& w) {
        double total = 0;
        for (std::size_t i = 0; i < w.size(); ++i)
            if (alive_[i] && w[i] > 0) total += w[i];
        if (total > 0) {
            const double u = rng.uniform01() * total;
            double acc = 0;
            std::size_t last = 0;
            for (std::size_t i = 0; i < w.size(); ++i) {
                if (!alive_[i] || !(w[i] > 0)) continue;
                acc += w[i];
                last = i;
                if (u < acc) return i;
            }
            return last; // u rounded up to total
        }
        std::uint64_t k = rng.below(alive_count_);
        for (std::size_t i = 0; i < alive_.size(); ++i)
            if (alive_[i] && k-- == 0) return i;
        return 0; // unreachable: alive_count_ counts alive_
    }
    /// Indices not killed.
    [[nodiscard]] std::size_t alive_count() const noexcept { return alive_count_; }
    /// Whether index i may still be picked.
    [[nodiscard]] bool alive(std::size_t i) const noexcept { return alive_[i] != 0; }
    /// Index i is not picked again (until revive(i)).
    void kill(std::size_t i) {
        if (!alive_[i]) return;
        alive_[i] = 0;
        --alive_count_;
        rebuild();
    }
    /// Index i may be picked again (undoes kill(i)).
    void revive(std::size_t i) {
        if (alive_[i]) return;
        alive_[i] = 1;
        ++alive_count_;
        rebuild();
    }
    /// Requires alive_count() > 0.
    std::size_t pick(Rng& rng) {
        if (uniform_) return alive_list_[static_cast<std::size_t>(rng.below(alive_list_.size()))];
        const double u = rng.uniform01() * total_; // total_ > 0 here
        const auto it = std::upper_bound(cum_.begin(), cum_.end(), u); // dead indices add no width
        if (it != cum_.end()) return static_cast<std::size_t>(it - cum_.begin());
        return last_; // u rounded up to total_
    }

private:
    // Equal weights among the alive (or all zero): a draw is one bounded integer, no search.
    void rebuild() {
        cum_.resize(weights_.size());
        alive_list_.clear();
        total_ = 0;
        uniform_ = true;
        for (std::size_t i = 0; i < weights_.size(); ++i) {
            if (alive_[i]) {
                if (!alive_list_.empty() && weights_[i] != weights_[alive_list_.front()]) uniform_ = false;
                alive_list_.push_back(i);
            }
            if (alive_[i] && weights_[i] > 0) {
                total_ += weights_[i];
                last_ = i;
            }
            cum_[i] = total_;
        }
        if (total_ <= 0) uniform_ = true;
    }

    std::vector<double> weights_, cum_;
    std::vector<std::size_t> alive_list_;
    bool uniform_ = true;
    std::vector<char> alive_;
    std::size_t alive_count_ = 0, last_ = 0;
    double total_ = 0;
};

KEYSPACE_END_NAMESPACE
