// The benchmark runner's main: Google Benchmark's, plus context lines naming the CPU, the compiler, the flags this
// executable was built with and the keyspace kernel set they selected (so a saved result names what it measured).
#include <keyspace/atomic_bitmap.hpp>

#include <benchmark/benchmark.h>

#include <fstream> // for std::ifstream (/proc/cpuinfo)
#include <string>  // for std::string, std::getline

#ifndef KEYSPACE_BENCH_COMPILER
#define KEYSPACE_BENCH_COMPILER __VERSION__
#endif
#ifndef KEYSPACE_BENCH_FLAGS
#define KEYSPACE_BENCH_FLAGS "(unknown)"
#endif

namespace {

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "(unknown)";
}

} // namespace

int main(int argc, char** argv) {
    benchmark::AddCustomContext("cpu_model", cpu_model());
    benchmark::AddCustomContext("compiler", KEYSPACE_BENCH_COMPILER);
    benchmark::AddCustomContext("bench_flags", KEYSPACE_BENCH_FLAGS);
    benchmark::AddCustomContext("keyspace_kernels", keyspace::simd_kernel_name());
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
