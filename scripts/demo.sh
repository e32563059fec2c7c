#!/usr/bin/env bash
# Builds the examples and runs the workload demo. Usage: scripts/demo.sh [workload_demo options...] (--help lists them)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
keyspace_require "${KEYSPACE_BUILD_PACKAGES[@]}"
cmake --workflow --preset demo >/dev/null
exec build/demo/examples/workload_demo "$@"
