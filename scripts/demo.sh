#!/usr/bin/env bash
# Builds and runs the demo. Usage: scripts/demo.sh [demo options...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
keyspace_require "${KEYSPACE_BUILD_PACKAGES[@]}"
cmake --workflow --preset demo >/dev/null
exec build/demo/examples/bitmap_demo "$@"
