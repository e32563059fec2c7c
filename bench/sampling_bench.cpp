// Samplers: ns per draw of every distribution at n = 10^6 and 10^12, beside the baseline of
// std::uniform_int_distribution on std::mt19937_64 in the same run; set-up time at n = 10^12 (with YCSB's O(n) ζ(n)
// at 10^6 for contrast); Permutation::at and inverse. Draws come 256 to an iteration from one keyspace::Rng; the
// counter ns_per_sample is the wall time per draw (throughput: independent draws overlap in the pipeline). Raw
// generator cost: the draw engine's wyrand beside Rng.
#include <keyspace/sampling.hpp>

#include <benchmark/benchmark.h>

#include <cmath>   // for std::pow (the Gray set-up baseline)
#include <cstdint> // for std::uint64_t
#include <random>  // for std::mt19937_64, std::uniform_int_distribution (the baseline)
#include <string>  // for std::string

namespace {

using u64 = std::uint64_t;
constexpr int batch = 256;

void per_sample(benchmark::State& st, double per_iteration, const char* counter = "ns_per_sample") {
    st.counters[counter] = benchmark::Counter(per_iteration * static_cast<double>(st.iterations()),
                                              benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Draws from a distribution (anything callable with an Rng&).
template <class D>
void draws(benchmark::State& st, D d) {
    keyspace::Rng g(12345);
    u64 sink = 0;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) sink += d(g);
        benchmark::DoNotOptimize(sink);
    }
    per_sample(st, batch);
}

/// Raw generator cost: 64-bit outputs, or bounded draws (uniform_below, n = 10^6), of G.
template <class G>
void raw(benchmark::State& st, bool bounded) {
    G g(12345);
    u64 sink = 0;
    for (auto _ : st) {
        if (bounded)
            for (int i = 0; i < batch; ++i) sink += keyspace::detail::uniform_below(g, 1'000'000);
        else
            for (int i = 0; i < batch; ++i) sink += g();
        benchmark::DoNotOptimize(sink);
    }
    per_sample(st, batch);
}

/// The baseline: std::uniform_int_distribution<uint64_t> on std::mt19937_64.
void base_mt19937_64(benchmark::State& st, u64 n) {
    std::mt19937_64 mt(12345);
    std::uniform_int_distribution<u64> u(0, n - 1);
    u64 sink = 0;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) sink += u(mt);
        benchmark::DoNotOptimize(sink);
    }
    per_sample(st, batch);
}

/// Constructs the sampler for n once per iteration. n and the parameters a, b are opaque to the optimiser, which
/// would otherwise fold the constants that depend on the parameters alone (e.g. Zipf's H(3/2) for a literal skew).
template <class Make>
void setup(benchmark::State& st, u64 n, double a, double b, Make make) {
    for (auto _ : st) {
        u64 size = n;
        double pa = a, pb = b;
        benchmark::DoNotOptimize(size);
        benchmark::DoNotOptimize(pa);
        benchmark::DoNotOptimize(pb);
        auto d = make(size, pa, pb);
        benchmark::DoNotOptimize(d);
        benchmark::ClobberMemory();
    }
    per_sample(st, 1, "ns_per_setup");
}

/// YCSB's zipfian set-up: ζ(n, θ) summed term by term.
void base_gray_zeta(benchmark::State& st, u64 n) {
    for (auto _ : st) {
        double zeta = 0;
        for (u64 i = 1; i <= n; ++i) zeta += 1.0 / std::pow(static_cast<double>(i), 0.99);
        benchmark::DoNotOptimize(zeta);
    }
    per_sample(st, 1, "ns_per_setup");
}

/// Permutation::at over consecutive k (what a permutation walk does), or inverse.
void permutation(benchmark::State& st, u64 n, bool inverse) {
    const keyspace::Permutation p(n, 7);
    u64 k = 0, sink = 0;
    for (auto _ : st) {
        for (int i = 0; i < batch; ++i) {
            sink += inverse ? p.inverse(k) : p.at(k);
            k = k + 1 == n ? 0 : k + 1;
        }
        benchmark::DoNotOptimize(sink);
    }
    per_sample(st, batch);
}

std::string size_name(u64 n) { return n == 1'000'000 ? "1e6" : n == 1'000'000'000'000ull ? "1e12" : std::to_string(n); }

[[maybe_unused]] const bool registered = [] {
    using namespace keyspace;
    for (const u64 n : {1'000'000ull, 1'000'000'000'000ull}) {
        const std::string s = std::string("/").append(size_name(n));
        auto reg = [&](const std::string& name, auto d) {
            benchmark::RegisterBenchmark((std::string("sampling/draw/") + name + s).c_str(),
                                         [d](benchmark::State& st) { draws(st, d); });
        };
        benchmark::RegisterBenchmark((std::string("sampling/base_mt19937_64_uniform_int") + s).c_str(),
                                     base_mt19937_64, n);
        reg("uniform", UniformDistribution(n));
        reg("zipf_0.99", ZipfDistribution(n, 0.99));
        reg("zipf_1", ZipfDistribution(n, 1.0));
        reg("zipf_0.5", ZipfDistribution(n, 0.5));
        reg("zipf_2", ZipfDistribution(n, 2.0));
        reg("scrambled_zipf_0.99", ScrambledZipfDistribution(n, 0.99, 7));
        reg("hotspot_0.2_0.8", HotspotDistribution(n, 0.2, 0.8));
        reg("latest_0.1_0.9", LatestDistribution(n, 0.1, 0.9));
        reg("latest_zipf_0.99", LatestZipfDistribution(n, 0.99));
        reg("exponential_0.1", ExponentialDistribution(n, 0.1));
        reg("normal_0.5_0.1", NormalDistribution(n, 0.5, 0.1));
        reg("sampler_zipfian_0.99", AccessDistribution::zipfian(0.99).make_sampler(n));
        reg("sampler_hotspot_0.2_0.8", AccessDistribution::hotspot(0.2, 0.8).make_sampler(n));
    }

    const u64 big = 1'000'000'000'000ull;
    auto reg_setup = [&](const std::string& name, double a, double b, auto make) {
        benchmark::RegisterBenchmark((std::string("sampling/setup/") + name + "/1e12").c_str(),
                                     [make, big, a, b](benchmark::State& st) { setup(st, big, a, b, make); });
    };
    reg_setup("uniform", 0, 0, [](u64 n, double, double) { return UniformDistribution(n); });
    reg_setup("zipf_0.99", 0.99, 0, [](u64 n, double s, double) { return ZipfDistribution(n, s); });
    reg_setup("scrambled_zipf_0.99", 0.99, 0,
              [](u64 n, double s, double) { return ScrambledZipfDistribution(n, s, 7); });
    reg_setup("hotspot_0.2_0.8", 0.2, 0.8, [](u64 n, double a, double b) { return HotspotDistribution(n, a, b); });
    reg_setup("latest_zipf_0.99", 0.99, 0, [](u64 n, double s, double) { return LatestZipfDistribution(n, s); });
    reg_setup("exponential_0.1", 0.1, 0, [](u64 n, double a, double) { return ExponentialDistribution(n, a); });
    reg_setup("normal_0.5_0.1", 0.5, 0.1, [](u64 n, double a, double b) { return NormalDistribution(n, a, b); });
    reg_setup("sampler_zipfian_0.99", 0.99, 0,
              [](u64 n, double s, double) { return AccessDistribution::zipfian(s).make_sampler(n); });
    benchmark::RegisterBenchmark("sampling/setup/base_gray_zeta/1e6", base_gray_zeta, u64{1'000'000})
        ->Unit(benchmark::kMillisecond);

    // The draw engine's generator (wyrand) beside Rng (xoshiro256**), the public generator it replaced there.
    for (const bool bounded : {false, true}) {
        const std::string what = bounded ? "below_1e6" : "u64";
        benchmark::RegisterBenchmark(("sampling/raw/wyrand_" + what).c_str(), raw<keyspace::detail::WyRand>, bounded);
        benchmark::RegisterBenchmark(("sampling/raw/base_rng_" + what).c_str(), raw<keyspace::Rng>, bounded);
    }

    for (const u64 n : {1'000'000ull, 1'000'000'000'000ull}) {
        const std::string s = size_name(n);
        benchmark::RegisterBenchmark((std::string("sampling/permutation_at/") + s).c_str(), permutation, n, false);
        benchmark::RegisterBenchmark((std::string("sampling/permutation_inverse/") + s).c_str(), permutation, n, true);
    }
    return true;
}();

} // namespace
