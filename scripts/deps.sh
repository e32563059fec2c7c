#!/usr/bin/env bash
# Sourced by the other scripts: keyspace_require PACKAGE... makes sure Debian packages are installed.
# As root it installs what is missing with apt-get; otherwise it prints the exact command and stops.

keyspace_require() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "keyspace: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "keyspace: missing Debian packages. Install them with:" >&2
        echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
}

# What building the library, its tests and its examples needs.
KEYSPACE_BUILD_PACKAGES=(cmake make g++ libxsimd-dev catch2)
# What the full test run adds: clang and its sanitizer runtimes, the AArch64 cross toolchain and emulator,
# the benchmark libraries (the benchmarks are compiled as part of the release stage).
KEYSPACE_TEST_PACKAGES=(clang-14 libclang-rt-14-dev g++-aarch64-linux-gnu qemu-user libbenchmark-dev libroaring-dev)
# The consumer tests: builds through pkg-config (plain and autotools: PKG_CHECK_MODULES); scripts/release.sh.
KEYSPACE_TEST_PACKAGES+=(pkg-config autoconf automake git gzip)
# The API reference check (tests/doxygen_test.cmake, release preset).
KEYSPACE_TEST_PACKAGES+=(doxygen)
# examples/redis_load and its test against a real server (tests/redis_load_test.sh skips without redis-server).
KEYSPACE_TEST_PACKAGES+=(libhiredis-dev redis-server redis-tools)
