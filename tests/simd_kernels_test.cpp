// The read kernels of the compiled instruction set agree with the scalar reference on every length and offset.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/detail/simd.hpp>

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <vector>

namespace simd = keyspace::detail::simd;
using keyspace_test::SplitMix;

namespace {

std::unique_ptr<simd::atomic_word[]> random_words(std::size_t n, int density_shift, std::uint64_t seed) {
    auto words = std::make_unique<simd::atomic_word[]>(n);
    SplitMix rng{seed};
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t w = rng.next();
        for (int k = 0; k < density_shift; ++k) w &= rng.next(); // density 2^-shift per bit
        words[i].store(w, std::memory_order_relaxed);
    }
    return words;
}

} // namespace

TEST_CASE("the compiled kernels agree with the scalar reference", "[simd]") {
    INFO("kernel set: " << simd::kernel_name());
    for (int density : {0, 3, 7, 64}) {
        constexpr std::size_t n = 1100;
        auto words = random_words(n, density, static_cast<std::uint64_t>(density) + 1);
        for (std::size_t off = 0; off < 9; ++off) {
            for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{8},
                                    std::size_t{15}, std::size_t{16}, std::size_t{31}, std::size_t{33},
                                    std::size_t{127}, std::size_t{128}, std::size_t{129}, std::size_t{513},
                                    n - off}) {
                if (off + len > n) continue;
                const auto* p = words.get() + off;
                INFO("density 2^-" << density << " offset " << off << " length " << len);
                REQUIRE(simd::popcount(p, len) == simd::popcount_scalar(p, len));
                REQUIRE(simd::find_first(p, len, 0) == simd::find_first_scalar(p, len, 0));
                REQUIRE(simd::find_first(p, len, ~0ull) == simd::find_first_scalar(p, len, ~0ull));
                REQUIRE(simd::find_last_nonzero(p, len) == simd::find_last_nonzero_scalar(p, len));
            }
        }
    }
}

TEST_CASE("popcount over a range long enough for the streaming kernel agrees with the scalar reference", "[simd]") {
    const std::size_t n = simd::popcount_streaming_words + 300;
    auto words = random_words(n, 1, 99);
    for (std::size_t off : {std::size_t{0}, std::size_t{3}, std::size_t{8}}) {
        for (std::size_t len : {simd::popcount_streaming_words - 1, simd::popcount_streaming_words,
                                simd::popcount_streaming_words + 8, simd::popcount_streaming_words + 37, n - off}) {
            if (off + len > n) continue;
            INFO("offset " << off << " length " << len);
            REQUIRE(simd::popcount(words.get() + off, len) == simd::popcount_scalar(words.get() + off, len));
        }
    }
}

TEST_CASE("the vector part of popcount starts on a cache-line boundary", "[simd]") {
    auto words = random_words(64, 0, 7);
    for (std::size_t off = 0; off < 16; ++off) {
        for (std::size_t len : {std::size_t{0}, std::size_t{3}, std::size_t{40}}) {
            const auto* p = words.get() + off;
            const std::size_t head = simd::words_before_line(p, len);
            INFO("offset " << off << " length " << len << " head " << head);
            REQUIRE(head <= 7);
            REQUIRE(head <= len);
            if (head < len) REQUIRE(reinterpret_cast<std::uintptr_t>(p + head) % 64 == 0);
            if (head > 0) REQUIRE(reinterpret_cast<std::uintptr_t>(p + head - 1) % 64 != 0);
        }
    }
}

TEST_CASE("the kernels find a lone bit at every word of a long run", "[simd]") {
    constexpr std::size_t n = 300;
    auto words = std::make_unique<simd::atomic_word[]>(n);
    for (std::size_t i = 0; i < n; ++i) words[i].store(0);
    for (std::size_t i = 0; i < n; ++i) {
        words[i].store(1ull << (i % 64));
        REQUIRE(simd::popcount(words.get(), n) == 1);
        REQUIRE(simd::find_first(words.get(), n, 0) == i);
        REQUIRE(simd::find_last_nonzero(words.get(), n) == i);
        words[i].store(0);
        REQUIRE(simd::find_first(words.get(), n, 0) == n);
        REQUIRE(simd::find_last_nonzero(words.get(), n) == n);
    }
}

TEST_CASE("set-bit extraction yields every set bit in order, masks applied, at every density", "[simd]") {
    for (int density : {0, 1, 4, 7}) {
        constexpr std::size_t n = 700;
        auto words = random_words(n, density, 100 + static_cast<std::uint64_t>(density));
        const std::uint64_t first_mask = ~0ull << 13, last_mask = (1ull << 40) - 1;
        std::vector<std::uint64_t> want, got;
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t w = words[i].load();
            if (i == 0) w &= first_mask;
            if (i == n - 1) w &= last_mask;
            for (; w != 0; w &= w - 1) want.push_back(1000 + 64 * i + static_cast<std::uint64_t>(std::countr_zero(w)));
        }
        auto f = [&](std::uint64_t id) { got.push_back(id); };
        CHECK(simd::for_each_set_bit(words.get(), n, 1000, first_mask, last_mask, f));
        CHECK(got == want);
    }
}
