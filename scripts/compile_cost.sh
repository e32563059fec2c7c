#!/usr/bin/env bash
# What including each public header costs a translation unit: for every header, a file that includes just it is
# compiled (-c, -O2, C++20) RUNS times; the median wall time, CPU time (user + system) and peak RSS are printed beside
# those of a baseline file including <vector> <string> <atomic>, with the difference from the baseline.
#   scripts/compile_cost.sh [header-substring...]    e.g. scripts/compile_cost.sh sampling keyspace.hpp
# Environment: CXX (default g++), RUNS (default 3), CXXFLAGS (extra flags, e.g. -march=native or -DKEYSPACE_NO_SIMD).
# Measured with GNU time (/usr/bin/time -v; Debian package 'time'). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
keyspace_require time libxsimd-dev

cxx=${CXX:-g++}
runs=${RUNS:-3}
read -r -a extra <<<"${CXXFLAGS:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# measure NAME SOURCE-TEXT: prints "wall cpu rss_kb", each the median over the runs.
measure() {
    local src="$work/$1.cpp" walls=() cpus=() rsss=() i out
    printf '%s\n' "$2" >"$src"
    for ((i = 0; i < runs; i++)); do
        if ! /usr/bin/time -v -o "$work/time.txt" "$cxx" -std=c++20 -O2 "${extra[@]}" -Iinclude -c "$src" \
            -o "$work/out.o" 2>"$work/err.txt"; then
            echo "compile_cost: $1 does not compile:" >&2
            cat "$work/err.txt" >&2
            exit 1
        fi
        out=$(awk -F': ' '
            /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (k = 1; k <= n; k++) w = w * 60 + t[k] }
            /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { r = $2 }
            END { printf "%.3f %.3f %d", w, u + s, r }' "$work/time.txt")
        read -r w c r <<<"$out"
        walls+=("$w"); cpus+=("$c"); rsss+=("$r")
    done
    printf '%s %s %s\n' "$(median "${walls[@]}")" "$(median "${cpus[@]}")" "$(median "${rsss[@]}")"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

mapfile -t headers < <(cd include && find keyspace -name '*.hpp' ! -path '*/detail/*' | sort)
if [ $# -gt 0 ]; then
    selected=()
    for h in "${headers[@]}"; do
        for pattern in "$@"; do [[ $h == *"$pattern"* ]] && selected+=("$h") && break; done
    done
    headers=("${selected[@]}")
fi

echo "compiler: $("$cxx" --version | head -1); flags: -std=c++20 -O2 ${extra[*]:-}; median of $runs runs"
read -r bw bc br < <(measure baseline $'#include <vector>\n#include <string>\n#include <atomic>')
printf '| %-44s | %7s | %7s | %8s | %9s | %9s |\n' "file includes" "wall s" "cpu s" "peak MB" "+cpu s" "+peak MB"
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "---------" "---------" "----------" "-----------" \
    "-----------"
printf '| %-44s | %7.2f | %7.2f | %8.0f | %9s | %9s |\n' "<vector> <string> <atomic> (baseline)" "$bw" "$bc" \
    "$(awk -v r="$br" 'BEGIN { print r / 1024 }')" "" ""
for h in "${headers[@]}"; do
    id=$(echo "$h" | tr '/.' '__')
    read -r w c r < <(measure "$id" "#include <$h>")
    printf '| %-44s | %7.2f | %7.2f | %8.0f | %+9.2f | %+9.0f |\n' "<$h>" "$w" "$c" \
        "$(awk -v r="$r" 'BEGIN { print r / 1024 }')" "$(awk -v a="$c" -v b="$bc" 'BEGIN { print a - b }')" \
        "$(awk -v a="$r" -v b="$br" 'BEGIN { print (a - b) / 1024 }')"
done
