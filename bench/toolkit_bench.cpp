// The benchmark-tool toolkit: KeyFormatter (ns per key) beside std::snprintf in the same run, in-place ID patching,
// key_slot; OpMix::choose (ns per choice) beside std::discrete_distribution on the same generator; snapshot copy and
// added_since over a 2^24-ID tracker (ns per 64-ID word). Keys and choices come 256 to an iteration; the counters
// ns_per_key / ns_per_choice / ns_per_word are wall time per item.
#include <keyspace/toolkit.hpp>

#include <benchmark/benchmark.h>

#include <array>   // for std::array
#include <cstdint> // for std::uint64_t
#include <cstdio>  // for std::snprintf (the baseline)
#include <random>  // for std::discrete_distribution (the baseline)
#include <string>  // for std::string

namespace {

using u64 = std::uint64_t;
constexpr int batch = 256;

void per_item(benchmark::State& st, double per_iteration, const char* counter) {
    st.counters[counter] = benchmark::Counter(per_iteration * static_cast<double>(st.iterations()),
                                              benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// IDs below 10^12 (12-digit keys), a cheap stream so the ID source costs little beside the formatting.
struct Ids {
    u64 s = 0x9e3779b97f4a7c15ull;
    u64 next() noexcept {
        s += 0x9e3779b97f4a7c15ull;
        return (s >> 24) % 1'000'000'000'000ull;
    }
};

void toolkit_format_keyformatter(benchmark::State& st) {
    const keyspace::KeyFormatter f("bench", "", ":", 12);
    std::array<char, 64> buf{};
    Ids ids;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) {
            benchmark::DoNotOptimize(f.format(ids.next(), buf));
            benchmark::ClobberMemory();
        }
    }
    per_item(st, batch, "ns_per_key");
}
BENCHMARK(toolkit_format_keyformatter);

void toolkit_format_snprintf_baseline(benchmark::State& st) {
    std::array<char, 64> buf{};
    Ids ids;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) {
            benchmark::DoNotOptimize(
                std::snprintf(buf.data(), buf.size(), "bench:%012llu", static_cast<unsigned long long>(ids.next())));
            benchmark::ClobberMemory();
        }
    }
    per_item(st, batch, "ns_per_key");
}
BENCHMARK(toolkit_format_snprintf_baseline);

void toolkit_format_tagged(benchmark::State& st) { // the key with SlotTags' per-ID hash tag
    const keyspace::KeyFormatter f("bench");
    const keyspace::SlotTags& tags = keyspace::SlotTags::instance();
    std::array<char, 64> buf{};
    Ids ids;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) {
            const u64 id = ids.next();
            benchmark::DoNotOptimize(f.format(id, tags.tag_for_id(id), buf));
            benchmark::ClobberMemory();
        }
    }
    per_item(st, batch, "ns_per_key");
}
BENCHMARK(toolkit_format_tagged);

void toolkit_patch_id_in_resp(benchmark::State& st) { // rewrite the 12 ID digits of a pre-encoded GET
    const keyspace::KeyFormatter f("bench");
    const std::string key = f.to_string(0);
    std::string resp = "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    char* digits = resp.data() + resp.find(key) + f.id_offset();
    Ids ids;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) {
            f.write_id_digits(digits, ids.next());
            benchmark::ClobberMemory();
        }
    }
    benchmark::DoNotOptimize(resp.data());
    per_item(st, batch, "ns_per_key");
}
BENCHMARK(toolkit_patch_id_in_resp);

void toolkit_key_slot(benchmark::State& st) {
    const keyspace::KeyFormatter f("bench");
    std::array<std::string, batch> keys;
    Ids ids;
    for (auto& k : keys) k = f.to_string(ids.next());
    for (auto _ : st) {
        for (const auto& k : keys) benchmark::DoNotOptimize(keyspace::key_slot(k));
    }
    per_item(st, batch, "ns_per_key");
}
BENCHMARK(toolkit_key_slot);

void toolkit_opmix_choose(benchmark::State& st) {
    const keyspace::OpMix mix = keyspace::OpMix::parse("get:0.7,set:0.15,insert:0.1,delete:0.05");
    keyspace::Rng g(7);
    unsigned sink = 0;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) sink += static_cast<unsigned>(mix.choose(g));
        benchmark::DoNotOptimize(sink);
    }
    per_item(st, batch, "ns_per_choice");
}
BENCHMARK(toolkit_opmix_choose);

void toolkit_opmix_discrete_distribution_baseline(benchmark::State& st) {
    std::discrete_distribution<unsigned> d({0.7, 0.15, 0.1, 0.05});
    keyspace::Rng g(7);
    unsigned sink = 0;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) sink += d(g);
        benchmark::DoNotOptimize(sink);
    }
    per_item(st, batch, "ns_per_choice");
}
BENCHMARK(toolkit_opmix_discrete_distribution_baseline);

constexpr u64 diff_ids = 1ull << 24;

keyspace::PrefixTracker& half_full() {
    static keyspace::PrefixTracker t("bench:", diff_ids);
    static const bool once = [] {
        keyspace::Shape::random_holes(0.5).apply(t, 0, diff_ids, 1);
        return true;
    }();
    (void)once;
    return t;
}

void toolkit_snapshot_copy(benchmark::State& st) {
    auto& t = half_full();
    for (auto _ : st) {
        const keyspace::Snapshot s(t);
        benchmark::DoNotOptimize(s.count());
    }
    per_item(st, diff_ids / 64, "ns_per_word");
}
BENCHMARK(toolkit_snapshot_copy)->Unit(benchmark::kMillisecond);

void toolkit_added_since_count(benchmark::State& st) {
    auto& t = half_full();
    const keyspace::Snapshot s(t);
    for (auto _ : st) benchmark::DoNotOptimize(keyspace::added_since(t, s).count());
    per_item(st, diff_ids / 64, "ns_per_word");
}
BENCHMARK(toolkit_added_since_count)->Unit(benchmark::kMillisecond);

} // namespace
