#!/usr/bin/env bash
# Builds and runs every test, stage by stage, printing each stage's duration and ctest's summary.
#   release  g++: the whole suite on the default (SSE2), scalar and AVX2 kernel paths; examples run as tests;
#            benchmarks compiled
#   native   clang 14 with -march=native (the AVX-512 kernels on this machine)
#   tsan     clang 14 with ThreadSanitizer, stress tests included
#   asan     clang 14 with AddressSanitizer + UndefinedBehaviorSanitizer
#   fuzz     clang 14 libFuzzer harness (ASan + UBSan): replays tests/fuzz/corpus, then fuzzes a copy of it for
#            KEYSPACE_FUZZ_SECONDS (default 60) seconds; a crash or a divergence from the model fails the stage
#   aarch64  g++ cross-compiled for AArch64 (the NEON kernels), run under qemu-user
# KEYSPACE_STAGES="release tsan" picks stages.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
keyspace_require "${KEYSPACE_BUILD_PACKAGES[@]}" "${KEYSPACE_TEST_PACKAGES[@]}"

stages=${KEYSPACE_STAGES:-release native tsan asan fuzz aarch64}
summary=()
passed=0
failed=0
total_start=$(date +%s)
for stage in $stages; do
    echo "==== stage $stage"
    start=$(date +%s)
    log="build/$stage.log"
    mkdir -p build
    if cmake --workflow --preset "$stage" >"$log" 2>&1; then status=ok; else status=FAILED; fi
    if [ "$stage" = fuzz ] && [ "$status" = ok ]; then
        # Bounded fuzzing over a scratch copy of the corpus (new inputs stay in build/, the committed corpus is
        # left alone); crash/divergence inputs are written to build/fuzz/artifacts/.
        rm -rf build/fuzz/corpus-run build/fuzz/artifacts && mkdir -p build/fuzz/artifacts
        cp -r tests/fuzz/corpus build/fuzz/corpus-run
        if UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" build/fuzz/tests/fuzz/keyspace_fuzz build/fuzz/corpus-run \
            -max_total_time="${KEYSPACE_FUZZ_SECONDS:-60}" -max_len=512 -timeout=30 -rss_limit_mb=2048 \
            -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 >>"$log" 2>&1; then :; else status=FAILED; fi
        grep -E "^Done [0-9]+ runs" "$log" | tail -1 || true
    fi
    grep -E "tests passed|tests failed" "$log" | tail -1 || true
    line="stage $stage: $status in $(( $(date +%s) - start ))s — $(grep -E 'tests passed' "$log" | tail -1 || true)"
    summary+=("$line")
    # ctest: "100% tests passed, 0 tests failed out of 26"
    if counts=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | tail -1); then
        f=$(echo "$counts" | awk '{print $1}'); n=$(echo "$counts" | awk '{print $NF}')
        failed=$((failed + f)); passed=$((passed + n - f))
    fi
    echo "$line"
    if [ "$status" != ok ]; then
        tail -n 80 "$log"
        echo "keyspace: stage $stage failed (full log: $log)" >&2
        exit 1
    fi
done
echo "==== summary ($(( $(date +%s) - total_start ))s)"
printf '%s\n' "${summary[@]}"
echo "keyspace: $passed passed, $failed failed"
