// The samplers, statistically: chi-square and Kolmogorov–Smirnov tests of every distribution against its exact pmf,
// computed here independently of the samplers (the Zipf normaliser by an Euler–Maclaurin sum, the others in closed
// form), plus tests that show the checks can fail: Gray's method (YCSB's zipfian), a modulo-reduced uniform, a linear
// "permutation" and YCSB's fnv-hash scrambling all fail where the samplers pass.
//
// Thresholds. Each check compares its statistic with its quantile at p = 1e-7 (chi-square, bins merged until each
// expects 50 draws: the Wilson–Hilferty approximation, whose true tail probability is 0.7e-8 to 0.99e-7 for df from 1
// to 1000, i.e. it errs on the safe side; KS: the Dvoretzky–Kiefer–Wolfowitz–Massart bound, valid for discrete
// distributions too; binomial: the normal approximation at 5.33 sigma). With about 200 checks, a correct sampler
// fails a run with probability below 2e-5, i.e. less than once in 10^4 runs over seeds; the seeds here are fixed, so
// a run is deterministic. Run with -s to see every statistic beside its threshold.
#include "catch.hpp"
#include "model.hpp"

#include <keyspace/detail/random_bits.hpp>
#include <keyspace/iterators.hpp>
#include <keyspace/sampling.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using keyspace::AccessDistribution;
using keyspace::ExponentialDistribution;
using keyspace::HotspotDistribution;
using keyspace::LatestDistribution;
using keyspace::LatestZipfDistribution;
using keyspace::NormalDistribution;
using keyspace::Permutation;
using keyspace::Rng;
using keyspace::ScrambledZipfDistribution;
using keyspace::UniformDistribution;
using keyspace::ZipfDistribution;

namespace {

using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128; // the tests build with GCC and Clang only

constexpr double samples = 1'000'000;

// ---- thresholds ---------------------------------------------------------------------------------------------------

constexpr double alpha = 1e-7;                    // the false-failure probability of one check
constexpr double z_one_sided = 5.199337582187471; // the standard normal quantile at 1 - alpha
constexpr double z_two_sided = 5.326723886480144; // at 1 - alpha / 2

/// The chi-square quantile at p = alpha (Wilson–Hilferty).
double chi2_critical(double df) { return keyspace_test::chi2_quantile(df, z_one_sided); }

/// sup |F_N - F| exceeds this with probability at most alpha (DKW with Massart's constant), for any F.
double ks_critical(double n) { return std::sqrt(std::log(2.0 / alpha) / (2.0 * n)); }

/// |successes - n p| within this, unless p(1 - p) n is tiny.
double binomial_tolerance(double n, double p) { return z_two_sided * std::sqrt(n * p * (1.0 - p)) + 1.0; }

// ---- the reference pmfs -------------------------------------------------------------------------------------------

/// Σ_{k=a}^{b} k^-s, a >= 1: 32 terms summed directly, the rest by Euler–Maclaurin with three Bernoulli corrections
/// (remainder below 1e-15 relative for s <= 3). O(1) for any b.
long double power_sum(u64 a, u64 b, long double s) {
    if (a > b) return 0;
    auto f = [s](long double x) { return std::pow(x, -s); };
    long double sum = 0;
    if (b - a < 64) {
        for (u64 k = a; k <= b; ++k) sum += f(static_cast<long double>(k));
        return sum;
    }
    for (u64 k = a; k < a + 32; ++k) sum += f(static_cast<long double>(k));
    const long double m = static_cast<long double>(a + 32), e = static_cast<long double>(b);
    const long double integral =
        s == 1 ? std::log(e / m) : (std::pow(e, 1 - s) - std::pow(m, 1 - s)) / (1 - s);
    // f^(2j-1)(x) = -s (s+1) ... (s+2j-2) x^(-s-2j+1)
    auto d1 = [s](long double x) { return -s * std::pow(x, -s - 1); };
    auto d3 = [s](long double x) { return -s * (s + 1) * (s + 2) * std::pow(x, -s - 3); };
    auto d5 = [s](long double x) { return -s * (s + 1) * (s + 2) * (s + 3) * (s + 4) * std::pow(x, -s - 5); };
    sum += integral + (f(m) + f(e)) / 2 + (d1(e) - d1(m)) / 12 - (d3(e) - d3(m)) / 720 + (d5(e) - d5(m)) / 30240;
    return sum;
}

/// P(rank in [lo, hi)) for ranks [0, n) with P(r) ∝ (r + 1)^-s.
std::function<long double(u64, u64)> zipf_mass(u64 n, double s) {
    const long double zeta = power_sum(1, n, s);
    return [=](u64 lo, u64 hi) { return power_sum(lo + 1, hi, s) / zeta; };
}

/// P(rank in [lo, hi)) for P(r) ∝ exp(-r / (lambda n)) on [0, n).
std::function<long double(u64, u64)> exponential_mass(u64 n, double lambda) {
    const long double c = 1.0L / (static_cast<long double>(lambda) * static_cast<long double>(n));
    const long double norm = -std::expm1(-static_cast<long double>(n) * c);
    return [=](u64 lo, u64 hi) {
        return std::exp(-static_cast<long double>(lo) * c) * -std::expm1(-static_cast<long double>(hi - lo) * c) / norm;
    };
}

/// P(rank in [lo, hi)) for floor(normal(mean n, sd n)) conditioned on [0, n).
std::function<long double(u64, u64)> normal_mass(u64 n, double mean_pct, double std_pct) {
    const long double mu = static_cast<long double>(mean_pct) * static_cast<long double>(n);
    const long double sigma = static_cast<long double>(std_pct) * static_cast<long double>(n);
    auto upper = [](long double z) { return std::erfc(z / std::sqrt(2.0L)) / 2; }; // P(Z > z)
    auto between = [upper](long double a, long double b) {                          // P(a <= Z < b), accurately
        if (a >= 0) return upper(a) - upper(b);
        if (b <= 0) return upper(-b) - upper(-a);
        return 1 - upper(-a) - upper(b);
    };
    const long double norm = between(-mu / sigma, (static_cast<long double>(n) - mu) / sigma);
    return [=](u64 lo, u64 hi) {
        return between((static_cast<long double>(lo) - mu) / sigma, (static_cast<long double>(hi) - mu) / sigma) /
               norm;
    };
}

// ---- histograms and tests -----------------------------------------------------------------------------------------

/// Bins over ranks [0, n): one per rank below `singles`, then widths growing by 3 % to n.
std::vector<u64> rank_edges(u64 n, u64 singles = 500) {
    std::vector<u64> edges;
    for (u64 r = 0; r < n && r < singles; ++r) edges.push_back(r);
    for (u64 e = std::min(n, singles); e < n;) {
        edges.push_back(e);
        const u64 next = static_cast<u64>(static_cast<double>(e) * 1.03);
        e = next > e ? next : e + 1;
    }
    edges.push_back(n);
    return edges;
}

struct Histogram {
    std::vector<u64> edges; // bin i = [edges[i], edges[i + 1]), edges[0] = 0
    std::vector<double> counts;
    double total = 0;
    double out_of_range = 0; // draws >= n

    explicit Histogram(std::vector<u64> e) : edges(std::move(e)), counts(edges.size() - 1) {}
    void add(u64 r) {
        const auto it = std::upper_bound(edges.begin(), edges.end(), r);
        if (it == edges.end()) {
            out_of_range += 1;
            return;
        }
        counts[static_cast<std::size_t>(it - edges.begin() - 1)] += 1;
        total += 1;
    }
};

template <class Draw>
Histogram histogram(std::vector<u64> edges, double n_samples, Draw&& draw) {
    Histogram h(std::move(edges));
    for (double i = 0; i < n_samples; ++i) h.add(draw());
    CHECK(h.out_of_range == 0);
    return h;
}

struct TestResult {
    double stat = 0, critical = 0, df = 0;
    std::string text() const {
        std::ostringstream out;
        out << "statistic " << stat << " vs critical " << critical << " (df " << df << ")";
        return out.str();
    }
};

/// Pearson's chi-square of the histogram against mass(lo, hi), adjacent bins merged until each expects >= 50.
TestResult chi_square(const Histogram& h, const std::function<long double(u64, u64)>& mass) {
    std::vector<double> observed, expected;
    double o = 0;
    long double e = 0;
    for (std::size_t i = 0; i + 1 < h.edges.size(); ++i) {
        o += h.counts[i];
        e += mass(h.edges[i], h.edges[i + 1]) * h.total;
        if (e >= 50) {
            observed.push_back(o);
            expected.push_back(static_cast<double>(e));
            o = 0;
            e = 0;
        }
    }
    if (!observed.empty()) {
        observed.back() += o;
        expected.back() += static_cast<double>(e);
    } else {
        observed.push_back(o);
        expected.push_back(static_cast<double>(e));
    }
    TestResult r;
    for (std::size_t i = 0; i < observed.size(); ++i)
        r.stat += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
    r.df = static_cast<double>(observed.size()) - 1;
    r.critical = r.df > 0 ? chi2_critical(r.df) : 1e-9; // one bin: the statistic must be 0
    return r;
}

/// Kolmogorov–Smirnov: sup over the bin edges of |empirical CDF - CDF| (a sup over fewer points: conservative).
TestResult kolmogorov_smirnov(const Histogram& h, const std::function<long double(u64, u64)>& mass) {
    TestResult r;
    double emp = 0;
    long double cdf = 0;
    for (std::size_t i = 0; i + 1 < h.edges.size(); ++i) {
        emp += h.counts[i] / h.total;
        cdf += mass(h.edges[i], h.edges[i + 1]);
        r.stat = std::max(r.stat, std::fabs(emp - static_cast<double>(cdf)));
    }
    r.critical = ks_critical(h.total);
    return r;
}

/// YCSB's ZipfianGenerator (Gray et al. 1994, "Quickly generating billion-record synthetic databases"), the
/// reference of what not to do: O(n) set-up for ζ(n), then an approximate inversion that is exact for ranks 0 and 1
/// only.
struct GrayZipf {
    u64 n;
    double theta, zeta_n, alpha, eta;
    GrayZipf(u64 items, double skew) : n(items), theta(skew) {
        zeta_n = 0;
        for (u64 i = 1; i <= n; ++i) zeta_n += 1.0 / std::pow(static_cast<double>(i), theta);
        const double zeta_2 = 1.0 + std::pow(0.5, theta);
        alpha = 1.0 / (1.0 - theta);
        eta = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta_2 / zeta_n);
    }
    u64 operator()(Rng& g) const {
        const double u = g.uniform01();
        const double uz = u * zeta_n;
        if (uz < 1.0) return 0;
        if (uz < 1.0 + std::pow(0.5, theta)) return 1;
        return static_cast<u64>(static_cast<double>(n) * std::pow(eta * u - eta + 1.0, alpha));
    }
};

/// YCSB's fnvhash64 (FNV-1a over the 8 bytes of the value, then the absolute value as a Java long).
u64 ycsb_fnv64(u64 v) {
    u64 h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 8; ++i) {
        h ^= v & 0xff;
        v >>= 8;
        h *= 1099511628211ull;
    }
    return h >> 63 ? 0 - h : h;
}

/// Partition [0, size) into `bins` buckets: bucket(x) = floor(x * bins / size), with exact bucket sizes.
struct Buckets {
    u64 size, bins;
    u64 of(u64 x) const { return static_cast<u64>(static_cast<u128>(x) * bins / size); }
    u64 start(u64 b) const { return static_cast<u64>((static_cast<u128>(b) * size + bins - 1) / bins); }
    double share(u64 b) const { return static_cast<double>(start(b + 1) - start(b)) / static_cast<double>(size); }
};

/// Chi-square of draws in [lo, lo + size) being uniform there (at most 64 buckets).
TestResult uniform_within(const std::vector<u64>& xs, u64 lo, u64 size) {
    const Buckets b{size, std::min<u64>(size, 64)};
    std::vector<double> counts(b.bins);
    double outside = 0;
    for (u64 x : xs) {
        if (x - lo < size) counts[b.of(x - lo)] += 1;
        else outside += 1;
    }
    CHECK(outside == 0);
    TestResult r;
    for (u64 i = 0; i < b.bins; ++i) {
        const double e = static_cast<double>(xs.size()) * b.share(i);
        r.stat += (counts[i] - e) * (counts[i] - e) / e;
    }
    r.df = static_cast<double>(b.bins) - 1;
    r.critical = r.df > 0 ? chi2_critical(r.df) : 1e-9;
    return r;
}

/// The hot/cold test of a hotspot-shaped sampler: the hot share is binomial(hot_prob), each set uniform.
template <class Draw>
void check_hot_cold(Draw&& draw, u64 n, u64 hot, double hot_prob) {
    std::vector<u64> hot_draws, cold_draws;
    double out_of_range = 0;
    for (double i = 0; i < samples; ++i) {
        const u64 r = draw();
        if (r >= n) out_of_range += 1;
        else (r < hot ? hot_draws : cold_draws).push_back(r);
    }
    CHECK(out_of_range == 0);
    const double expected_hot = hot == n ? 1.0 : hot_prob;
    const double observed_hot = static_cast<double>(hot_draws.size());
    INFO("n " << n << ", hot " << hot << ": hot draws " << observed_hot << " vs " << expected_hot * samples
              << " +- " << binomial_tolerance(samples, expected_hot));
    CHECK(std::fabs(observed_hot - expected_hot * samples) <= binomial_tolerance(samples, expected_hot));
    if (hot_draws.size() > 1000) {
        const TestResult r = uniform_within(hot_draws, 0, hot);
        INFO("uniform inside the hot set: " << r.text());
        CHECK(r.stat <= r.critical);
    }
    if (cold_draws.size() > 1000) {
        const TestResult r = uniform_within(cold_draws, hot, n - hot);
        INFO("uniform inside the cold set: " << r.text());
        CHECK(r.stat <= r.critical);
    }
}

const std::vector<double> skews{0.0, 0.5, 0.99, 1.0, 1.2, 2.0, 3.0};
const std::vector<u64> sizes{1, 2, 1000, 1'000'000, 1ull << 40};

} // namespace

// ---- Zipf ---------------------------------------------------------------------------------------------------------

TEST_CASE("Zipf draws pass a chi-square test against the exact pmf for every skew and size", "[stats][zipf]") {
    u64 seed = 100;
    for (double s : skews) {
        for (u64 n : sizes) {
            ZipfDistribution z(n, s);
            Rng g(++seed);
            const Histogram h = histogram(rank_edges(n), samples, [&] { return z(g); });
            const TestResult r = chi_square(h, zipf_mass(n, s));
            INFO("Zipf s = " << s << ", n = " << n << ": chi-square " << r.text());
            CHECK(r.stat <= r.critical);
        }
    }
}

TEST_CASE("Zipf draws pass a Kolmogorov-Smirnov test against the exact CDF for every skew and size",
          "[stats][zipf]") {
    u64 seed = 200;
    for (double s : skews) {
        for (u64 n : sizes) {
            ZipfDistribution z(n, s);
            Rng g(++seed);
            const Histogram h = histogram(rank_edges(n), samples, [&] { return z(g); });
            const TestResult r = kolmogorov_smirnov(h, zipf_mass(n, s));
            INFO("Zipf s = " << s << ", n = " << n << ": KS " << r.text());
            CHECK(r.stat <= r.critical);
        }
    }
}

TEST_CASE("Gray's method (YCSB's zipfian) fails the chi-square test that the exact sampler passes", "[stats][zipf]") {
    const u64 n = 1'000'000;
    const double s = 0.99;
    const auto mass = zipf_mass(n, s);
    const GrayZipf gray(n, s);
    Rng g1(300), g2(300);
    const Histogram bad = histogram(rank_edges(n), samples, [&] { return gray(g1); });
    ZipfDistribution exact(n, s);
    const Histogram good = histogram(rank_edges(n), samples, [&] { return exact(g2); });
    const TestResult r_bad = chi_square(bad, mass), r_good = chi_square(good, mass);
    auto ratio = [&](u64 r) { return bad.counts[r] / static_cast<double>(mass(r, r + 1) * samples); };
    INFO("Gray: chi-square " << r_bad.text() << "; observed/expected at ranks 1..4: " << ratio(1) << ", "
                             << ratio(2) << ", " << ratio(3) << ", " << ratio(4));
    INFO("rejection-inversion: chi-square " << r_good.text());
    CHECK(r_bad.stat > r_bad.critical);
    CHECK(r_good.stat <= r_good.critical);
    CHECK(ratio(2) > 1.1); // ~21,900 expected draws: 10 % is ~15 sigma
    const TestResult ks_bad = kolmogorov_smirnov(bad, mass);
    INFO("Gray: KS " << ks_bad.text());
    CHECK(ks_bad.stat > ks_bad.critical);
}

TEST_CASE("Zipf draws with 32-bit and non-power-of-two generators pass the chi-square test", "[stats][zipf]") {
    const u64 n = 1000;
    const auto mass = zipf_mass(n, 0.99);
    ZipfDistribution z(n, 0.99);
    std::mt19937 mt(400);
    std::minstd_rand lcg(400);
    const TestResult r_mt = chi_square(histogram(rank_edges(n), samples, [&] { return z(mt); }), mass);
    const TestResult r_lcg = chi_square(histogram(rank_edges(n), samples, [&] { return z(lcg); }), mass);
    INFO("mt19937: " << r_mt.text() << "; minstd_rand: " << r_lcg.text());
    CHECK(r_mt.stat <= r_mt.critical);
    CHECK(r_lcg.stat <= r_lcg.critical);
}

TEST_CASE("Zipf draws through an AccessDistribution sampler pass the chi-square test", "[stats][zipf]") {
    for (const auto& a : {AccessDistribution::zipfian(0.99), AccessDistribution::latest_zipfian(1.2)}) {
        const u64 n = 1'000'000;
        keyspace::Sampler sampler = a.make_sampler(n, 9);
        Rng g(500);
        const TestResult r =
            chi_square(histogram(rank_edges(n), samples, [&] { return sampler(g); }), zipf_mass(n, a.skew()));
        INFO("skew " << a.skew() << ": " << r.text());
        CHECK(r.stat <= r.critical);
    }
}

// ---- scrambled Zipf -----------------------------------------------------------------------------------------------

TEST_CASE("scrambled Zipf ranks, mapped back through the permutation, are exactly Zipf", "[stats][scrambled]") {
    u64 seed = 600;
    for (u64 n : {1000ull, 4096ull, 1'000'000ull}) {
        for (double s : {0.5, 0.99, 2.0}) {
            ScrambledZipfDistribution z(n, s, ++seed);
            const Permutation& p = z.permutation();
            Rng g(seed);
            const TestResult r =
                chi_square(histogram(rank_edges(n), samples, [&] { return p.inverse(z(g)); }), zipf_mass(n, s));
            INFO("n " << n << ", s " << s << ": " << r.text());
            CHECK(r.stat <= r.critical);
        }
    }
}

TEST_CASE("scrambled Zipf keeps the Zipf frequency profile, with the hot keys scattered", "[stats][scrambled]") {
    const u64 n = 1'000'000;
    const double s = 0.99, n_draws = 1e7;
    ScrambledZipfDistribution z(n, s, 77);
    Rng g(700);
    std::vector<std::uint32_t> counts(n);
    double out_of_range = 0;
    for (double i = 0; i < n_draws; ++i) {
        const u64 v = z(g);
        if (v < n) ++counts[v];
        else out_of_range += 1;
    }
    CHECK(out_of_range == 0);
    std::vector<u64> keys(n);
    std::iota(keys.begin(), keys.end(), u64{0});
    std::partial_sort(keys.begin(), keys.begin() + n / 100, keys.end(),
                      [&](u64 a, u64 b) { return counts[a] > counts[b]; });
    // The ten hottest keys are the images of ranks 0..9, in order (neighbours differ by ~20 sigma or more).
    for (u64 r = 0; r < 10; ++r) CHECK(keys[r] == z.permutation().at(r));
    // ... and they are scattered: no 1 % of the range holds 4 of them. (Ten independent uniform keys put 4 in some
    // 1 % window with probability below 0.5 %; unscrambled ranks put all ten in the first one.)
    std::vector<u64> hottest(keys.begin(), keys.begin() + 10);
    std::sort(hottest.begin(), hottest.end());
    for (std::size_t i = 3; i < hottest.size(); ++i) CHECK(hottest[i] - hottest[i - 3] > n / 100);
    // The hottest 1 % of the keys by count take the share Zipf gives the first 1 % of the ranks. Sorting by count
    // biases this upwards by a little (order statistics near the cut); the allowance is 5 sigma + 0.001.
    double top = 0;
    for (u64 i = 0; i < n / 100; ++i) top += counts[keys[i]];
    const double share = top / n_draws;
    const double expected = static_cast<double>(zipf_mass(n, s)(0, n / 100));
    const double tolerance = z_two_sided * std::sqrt(expected * (1 - expected) / n_draws) + 0.001;
    INFO("hottest 1 % of the keys: " << share << " of the draws, Zipf: " << expected << " +- " << tolerance);
    CHECK(std::fabs(share - expected) <= tolerance);
}

TEST_CASE("YCSB's fnv64 % n scrambling is not a bijection and flattens the hot set", "[stats][scrambled]") {
    // YCSB's ScrambledZipfianGenerator: a zipfian rank over 10^10 items, hashed by fnv64 and reduced mod n. Ranks
    // collide, so the hottest keys no longer carry the Zipf share: the profile test above would fail.
    const u64 n = 1'000'000;
    ZipfDistribution z(10'000'000'000ull, 0.99);
    Rng g(800);
    std::vector<std::uint32_t> counts(n);
    const double n_draws = 1e7;
    for (double i = 0; i < n_draws; ++i) ++counts[ycsb_fnv64(z(g)) % n];
    std::partial_sort(counts.begin(), counts.begin() + n / 100, counts.end(), std::greater<>());
    const double share = std::accumulate(counts.begin(), counts.begin() + n / 100, 0.0) / n_draws;
    const double expected = static_cast<double>(zipf_mass(n, 0.99)(0, n / 100));
    INFO("YCSB scrambled: hottest 1 % of the keys get " << share << " of the draws; Zipf(n = 10^6) gives " << expected);
    CHECK(share < expected - 0.1);
}

// ---- uniform, hotspot, latest -------------------------------------------------------------------------------------

TEST_CASE("uniform draws have no modulo bias at n = 3 * 2^61, where x % n does", "[stats][uniform]") {
    const u64 n = 3ull << 61, cut = 1ull << 62; // P(x < 2^62) = 2/3 exactly
    UniformDistribution u(n);
    Rng g(900), g_mod(900);
    std::mt19937 mt(900);
    double below = 0, below_mt = 0, below_mod = 0, below_rng = 0;
    Rng g_rng(901);
    for (double i = 0; i < samples; ++i) {
        below += u(g) < cut ? 1 : 0;
        below_mt += u(mt) < cut ? 1 : 0;
        below_rng += g_rng.below(n) < cut ? 1 : 0;
        // 2^64 = 2n + 2^62: residues in [0, 2^62) have three preimages, the others two, so x % n < 2^62 with
        // probability 3 * 2^62 / 2^64 = 3/4.
        below_mod += g_mod() % n < cut ? 1 : 0;
    }
    const double tol = binomial_tolerance(samples, 2.0 / 3.0);
    INFO("fraction below 2^62: Lemire " << below / samples << ", with mt19937 " << below_mt / samples
                                        << ", Rng::below " << below_rng / samples << ", modulo " << below_mod / samples
                                        << "; expected 2/3 +- " << tol / samples);
    CHECK(std::fabs(below - samples * 2 / 3) <= tol);
    CHECK(std::fabs(below_mt - samples * 2 / 3) <= tol);
    CHECK(std::fabs(below_rng - samples * 2 / 3) <= tol);
    CHECK(std::fabs(below_mod - samples * 2 / 3) > tol); // the modulo reduction fails the same test
    CHECK(std::fabs(below_mod - samples * 3 / 4) <= binomial_tolerance(samples, 0.75)); // it lands at 3/4
}

TEST_CASE("32-bit draws have no bias at n = 3 * 2^30, where the multiply-shift alone has", "[stats][uniform]") {
    // uniform_below32 (two draws from one 64-bit output, as the chunk tries of mixed_ratio streams take them). At
    // n = 3 * 2^30 the high half of x * n is floor(3x / 4): multiples of 3 have two preimages, the others one, so
    // without the rejection (a quarter of the draws here) a multiple of 3 comes with probability 1/2, not 1/3.
    const u64 n = 3ull << 30;
    keyspace::detail::WyRand g(950), g_plain(950);
    double third = 0, third_low = 0, third_plain = 0;
    for (double i = 0; i < samples; ++i) {
        const u64 x = g();
        third += keyspace::detail::uniform_below32(g, static_cast<std::uint32_t>(x >> 32), n) % 3 == 0 ? 1 : 0;
        third_low += keyspace::detail::uniform_below32(g, static_cast<std::uint32_t>(x), n) % 3 == 0 ? 1 : 0;
        third_plain += ((g_plain() >> 32) * n >> 32) % 3 == 0 ? 1 : 0;
    }
    const double tol = binomial_tolerance(samples, 1.0 / 3.0);
    INFO("fraction of multiples of 3: high halves " << third / samples << ", low halves " << third_low / samples
                                                    << ", multiply-shift alone " << third_plain / samples);
    CHECK(std::fabs(third - samples / 3) <= tol);
    CHECK(std::fabs(third_low - samples / 3) <= tol);
    CHECK(std::fabs(third_plain - samples / 2) <= binomial_tolerance(samples, 0.5)); // the same test fails it
}

TEST_CASE("the two 32-bit draws from one output are jointly uniform", "[stats][uniform]") {
    // Chi-square of the pairs (a < 7, b < 11) over their 77 cells, and of pairs from large ranges (one with a
    // rejection zone of a quarter, one of 2^32) over cells 2^29 + 1 wide (6 x 8, the last ones narrower).
    struct Ranges {
        u64 na, nb, cells;
    };
    keyspace::detail::WyRand g(951);
    for (const Ranges& t : {Ranges{7, 11, 1}, Ranges{(3ull << 30) + 5, 1ull << 32, (1ull << 29) + 1}}) {
        const u64 na = t.na, nb = t.nb, cells = t.cells;
        const u64 rows = (na + cells - 1) / cells, cols = (nb + cells - 1) / cells;
        std::vector<double> count(rows * cols), expected(rows * cols);
        for (u64 r = 0; r < rows; ++r)
            for (u64 c = 0; c < cols; ++c) {
                const double wa = static_cast<double>(std::min(na, (r + 1) * cells) - r * cells);
                const double wb = static_cast<double>(std::min(nb, (c + 1) * cells) - c * cells);
                expected[r * cols + c] = samples * wa / static_cast<double>(na) * wb / static_cast<double>(nb);
            }
        for (double i = 0; i < samples; ++i) {
            const u64 x = g();
            const u64 a = keyspace::detail::uniform_below32(g, static_cast<std::uint32_t>(x >> 32), na);
            const u64 b = keyspace::detail::uniform_below32(g, static_cast<std::uint32_t>(x), nb);
            REQUIRE(a < na);
            REQUIRE(b < nb);
            count[a / cells * cols + b / cells] += 1;
        }
        double stat = 0;
        for (std::size_t k = 0; k < count.size(); ++k)
            stat += (count[k] - expected[k]) * (count[k] - expected[k]) / expected[k];
        const double critical = chi2_critical(static_cast<double>(count.size() - 1));
        INFO("ranges " << na << " x " << nb << ": statistic " << stat << " vs critical " << critical);
        CHECK(stat <= critical);
    }
}

TEST_CASE("uniform draws are uniform over small and huge ranges", "[stats][uniform]") {
    u64 seed = 1000;
    for (u64 n : {2ull, 1000ull, (1ull << 40) + 3, (1ull << 63) + 12345, ~0ull}) {
        UniformDistribution u(n);
        Rng g(++seed);
        std::vector<u64> xs;
        for (double i = 0; i < samples; ++i) xs.push_back(u(g));
        const TestResult r = uniform_within(xs, 0, n);
        INFO("n " << n << ": " << r.text());
        CHECK(r.stat <= r.critical);
    }
}

TEST_CASE("hotspot draws: the hot share is binomial and each set is uniform", "[stats][hotspot]") {
    struct Case {
        u64 n;
        double pct, prob;
    };
    u64 seed = 1100;
    for (const Case c : {Case{1000, 0.2, 0.8}, Case{10, 0.25, 0.9}, Case{1ull << 62, 0.01, 0.99},
                         Case{(3ull << 61) + 1, 0.5, 0.5}, Case{7, 1.0, 0.3}, Case{1'000'000, 0.001, 0.05}}) {
        HotspotDistribution h(c.n, c.pct, c.prob);
        Rng g(++seed);
        check_hot_cold([&] { return h(g); }, c.n, h.hot_count(), c.prob);
    }
}

TEST_CASE("latest draws after growth follow the distribution at the final size", "[stats][latest]") {
    LatestDistribution latest(100, 0.1, 0.9);
    for (u64 n = 100; n < 1'000'000; n = n * 2 + 7) latest.set_n(n);
    latest.set_n(1'000'000);
    Rng g(1200);
    check_hot_cold([&] { return latest(g); }, 1'000'000, 100'000, 0.9);

    LatestZipfDistribution latest_zipf(10, 0.99);
    for (u64 n = 10; n < 1'000'000; n = n * 2 + 7) latest_zipf.set_n(n);
    latest_zipf.set_n(1'000'000);
    Rng g2(1201);
    const Histogram h = histogram(rank_edges(1'000'000), samples, [&] { return latest_zipf(g2); });
    const TestResult r = chi_square(h, zipf_mass(1'000'000, 0.99));
    INFO("latest_zipfian grown to 10^6: " << r.text());
    CHECK(r.stat <= r.critical);
}

// ---- exponential, normal ------------------------------------------------------------------------------------------

TEST_CASE("exponential draws pass a chi-square test against the truncated geometric pmf", "[stats][exponential]") {
    u64 seed = 1300;
    for (double lambda : {0.01, 0.1, 1.0}) {
        for (u64 n : sizes) {
            ExponentialDistribution e(n, lambda);
            Rng g(++seed);
            const Histogram h = histogram(rank_edges(n), samples, [&] { return e(g); });
            const auto mass = exponential_mass(n, lambda);
            const TestResult r = chi_square(h, mass), ks = kolmogorov_smirnov(h, mass);
            INFO("lambda " << lambda << ", n " << n << ": chi-square " << r.text() << "; KS " << ks.text());
            CHECK(r.stat <= r.critical);
            CHECK(ks.stat <= ks.critical);
        }
    }
}

TEST_CASE("normal draws pass a chi-square test against the truncated, floored normal pmf", "[stats][normal]") {
    struct Case {
        double mean, sd;
    };
    u64 seed = 1400;
    for (const Case c : {Case{0.5, 0.1}, Case{0.0, 0.2}, Case{1.0, 0.05}, Case{0.3, 1.0}}) {
        for (u64 n : {1ull, 1000ull, 1'000'000ull, 1ull << 40}) {
            NormalDistribution d(n, c.mean, c.sd);
            Rng g(++seed);
            // Bins of equal width (the mass is in the middle of the range, not at its start).
            std::vector<u64> edges;
            const u64 bins = std::min<u64>(n, 400);
            for (u64 b = 0; b <= bins; ++b) edges.push_back(Buckets{n, bins}.start(b));
            const Histogram h = histogram(edges, samples, [&] { return d(g); });
            const auto mass = normal_mass(n, c.mean, c.sd);
            const TestResult r = chi_square(h, mass), ks = kolmogorov_smirnov(h, mass);
            INFO("mean " << c.mean << ", sd " << c.sd << ", n " << n << ": chi-square " << r.text() << "; KS "
                         << ks.text());
            CHECK(r.stat <= r.critical);
            CHECK(ks.stat <= ks.critical);
        }
    }
}

// ---- Permutation --------------------------------------------------------------------------------------------------

TEST_CASE("consecutive Permutation outputs pass a serial-pair chi-square test that a linear map fails",
          "[stats][permutation]") {
    // A 16 x 16 table of (sixteenth of at(k), sixteenth of at(k + 1)) over 2^20 consecutive k, against independence.
    auto serial = [](auto&& at, u64 n) {
        const Buckets b{n, 16};
        std::vector<double> table(256);
        const u64 pairs = std::min<u64>(n - 1, 1ull << 20);
        u64 prev = at(0);
        for (u64 k = 1; k <= pairs; ++k) {
            const u64 cur = at(k);
            table[b.of(prev) * 16 + b.of(cur)] += 1;
            prev = cur;
        }
        TestResult r;
        for (u64 i = 0; i < 16; ++i)
            for (u64 j = 0; j < 16; ++j) {
                const double e = static_cast<double>(pairs) * b.share(i) * b.share(j);
                r.stat += (table[i * 16 + j] - e) * (table[i * 16 + j] - e) / e;
            }
        r.df = 255;
        r.critical = chi2_critical(r.df);
        return r;
    };
    for (u64 n : {(1ull << 20) + 1, 1'000'003ull, 3ull << 30, (1ull << 40) + 7, 1ull << 63}) {
        for (u64 seed : {1ull, 2ull}) {
            const Permutation p(n, seed);
            const TestResult r = serial([&](u64 k) { return p.at(k); }, n);
            INFO("n " << n << ", seed " << seed << ": " << r.text());
            CHECK(r.stat <= r.critical);
        }
        // A multiplicative (LCG-like) bijection x -> (a x + c) mod n: consecutive outputs differ by a constant.
        const u64 a = 0x9e3779b97f4a7c15ull % n | 1, c = 12345;
        const TestResult lin = serial([&](u64 k) { return static_cast<u64>((static_cast<u128>(a) * k + c) % n); }, n);
        INFO("n " << n << ", linear map: " << lin.text());
        CHECK(lin.stat > lin.critical);
    }
}

// ---- over a tracker: random() with a distribution -----------------------------------------------------------------
// The stream maps rank r to the r-th key of the range and redraws keys that fail the filter (rejection sampling),
// so over a dense tracker the IDs must follow the sampler's pmf restricted to the matching keys. (The fallback after
// 64 consecutive misses has probability 0.1^64 here.)

TEST_CASE("Zipf draws through a full tracker's random() stream pass the chi-square and KS tests", "[stats][tracker]") {
    const u64 n = 10'000, base = 3'000;
    keyspace::PrefixTracker t(keyspace::TrackerConfig::simple("k:").with_max_id(base + n + 500));
    t.add_range(0, base + n + 500);
    u64 seed = 1500;
    for (double s : {0.0, 0.5, 0.99, 1.0, 1.2, 2.0}) {
        auto it = t.iter().set_only().range(base, base + n).seed(++seed).distribution(AccessDistribution::zipfian(s)).random();
        const Histogram h = histogram(rank_edges(n), samples, [&] { return it.next()->id - base; });
        const TestResult r = chi_square(h, zipf_mass(n, s)), ks = kolmogorov_smirnov(h, zipf_mass(n, s));
        INFO("tracker Zipf s = " << s << ": chi-square " << r.text() << "; KS " << ks.text());
        CHECK(r.stat <= r.critical);
        CHECK(ks.stat <= ks.critical);
    }
}

TEST_CASE("Zipf draws over a tracker with 10% holes follow the pmf restricted to the set keys", "[stats][tracker]") {
    const u64 n = 20'000;
    keyspace::PrefixTracker t(keyspace::TrackerConfig::simple("k:").with_max_id(n));
    keyspace_test::SplitMix holes{77};
    std::vector<bool> set(n);
    for (u64 i = 0; i < n; ++i)
        if (holes.next() % 10 != 0) {
            t.add(i);
            set[i] = true;
        }
    u64 seed = 1600;
    for (double s : {0.5, 0.99, 1.5}) {
        std::vector<long double> cum(n + 1);
        for (u64 r = 0; r < n; ++r)
            cum[r + 1] = cum[r] + (set[r] ? std::pow(static_cast<long double>(r + 1), -static_cast<long double>(s)) : 0);
        const long double total = cum[n];
        const auto mass = [&](u64 lo, u64 hi) { return (cum[hi] - cum[lo]) / total; };
        auto it = t.iter().set_only().seed(++seed).distribution(AccessDistribution::zipfian(s)).random();
        const Histogram h = histogram(rank_edges(n), samples, [&] {
            const u64 id = it.next()->id;
            CHECK(set[id]);
            return id;
        });
        const TestResult r = chi_square(h, mass);
        INFO("tracker with holes, Zipf s = " << s << ": chi-square " << r.text());
        CHECK(r.stat <= r.critical);
    }
}

TEST_CASE("hotspot, exponential and normal draws through a full tracker follow their pmfs", "[stats][tracker]") {
    const u64 n = 50'000;
    keyspace::PrefixTracker t(keyspace::TrackerConfig::simple("k:").with_max_id(n));
    t.add_range(0, n);
    auto hot = t.iter().set_only().seed(1700).distribution(AccessDistribution::hotspot(0.2, 0.7)).random();
    check_hot_cold([&] { return hot.next()->id; }, n, 10'000, 0.7);
    auto ex = t.iter().set_only().seed(1701).distribution(AccessDistribution::exponential(0.1)).random();
    const Histogram he = histogram(rank_edges(n), samples, [&] { return ex.next()->id; });
    const TestResult re = chi_square(he, exponential_mass(n, 0.1));
    INFO("tracker exponential: " << re.text());
    CHECK(re.stat <= re.critical);
    auto no = t.iter().set_only().seed(1702).distribution(AccessDistribution::normal(0.3, 0.1)).random();
    const Histogram hn = histogram(rank_edges(n), samples, [&] { return no.next()->id; });
    const TestResult rn = chi_square(hn, normal_mass(n, 0.3, 0.1));
    INFO("tracker normal: " << rn.text());
    CHECK(rn.stat <= rn.critical);
}

TEST_CASE("latest draws through a growing tracker count down from the highest set ID", "[stats][tracker][latest]") {
    keyspace::PrefixTracker t(keyspace::TrackerConfig::simple("k:").with_max_id(100'000));
    t.add_range(0, 5'000);
    auto it = t.iter().seed(1800).distribution(AccessDistribution::latest(0.1, 0.9)).random();
    check_hot_cold([&] { return 4'999 - it.next()->id; }, 5'000, 500, 0.9);
    t.add_range(5'000, 8'000); // the stream follows the new newest key at its next draw
    check_hot_cold([&] { return 7'999 - it.next()->id; }, 8'000, 800, 0.9);
    auto z = t.iter().seed(1801).distribution(AccessDistribution::latest_zipfian(0.99)).random();
    const Histogram h = histogram(rank_edges(8'000), samples, [&] { return 7'999 - z.next()->id; });
    const TestResult r = chi_square(h, zipf_mass(8'000, 0.99));
    INFO("tracker latest_zipfian: " << r.text());
    CHECK(r.stat <= r.critical);
}
