#!/usr/bin/env bash
# Cuts a release archive: keyspace-<version>.tar.gz of a commit (default HEAD) and its SHA-256.
#   scripts/release.sh [--out DIR] [REF]          (DIR default: build/dist)
# Writes DIR/keyspace-<version>.tar.gz and DIR/keyspace-<version>.tar.gz.sha256 (`sha256sum -c` format), and prints
# the FetchContent lines that pin it.
#
# What the archive holds: every file tracked by git at REF (the library, its CMake package files, tests, benchmarks,
# examples, packaging, README, LICENSE) but the CI entry point (.ci/) and .gitignore, under one top directory
# keyspace-<version>/. Its bytes depend only on the commit: `git archive` stores the files in git's order, owned by
# root (uid 0) with modes 0644/0755 and the commit's time as every mtime, and `gzip -n` records no name or time. So
# the same commit gives the same archive and the same hash again (with the same git and gzip versions).
#
# The archive is always of a commit, never of uncommitted changes: the script refuses a tree whose tracked files
# differ from REF's unless KEYSPACE_RELEASE_ALLOW_DIRTY=1 (the tests set it; what they archive is still REF). The
# version comes from project(VERSION) in CMakeLists.txt, which must match KEYSPACE_VERSION_STRING in config.hpp.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/dist
ref=HEAD
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --out=*) out=${1#--out=}; shift ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        -*) echo "release.sh: unknown option $1" >&2; exit 2 ;;
        *) ref=$1; shift ;;
    esac
done

for tool in git gzip sha256sum; do
    command -v "$tool" >/dev/null || { echo "release.sh: $tool is required" >&2; exit 1; }
done
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "release.sh: $(pwd) is not a git checkout: a release is cut from a commit" >&2
    exit 1
fi
commit=$(git rev-parse --verify "$ref^{commit}")
if [ "${KEYSPACE_RELEASE_ALLOW_DIRTY:-0}" != 1 ] && ! git diff --quiet "$commit" --; then
    echo "release.sh: tracked files differ from $ref; commit them first (the archive holds $ref, not the tree)" >&2
    exit 1
fi

# The version as the commit states it.
version=$(git show "$commit:CMakeLists.txt" | sed -n 's/^ *VERSION \([0-9][0-9.]*\)$/\1/p' | head -1)
header_version=$(git show "$commit:include/keyspace/config.hpp" |
    sed -n 's/^#define KEYSPACE_VERSION_STRING "\(.*\)"$/\1/p')
if [ -z "$version" ] || [ "$version" != "$header_version" ]; then
    echo "release.sh: CMakeLists.txt says '$version', config.hpp says '$header_version'" >&2
    exit 1
fi

name=keyspace-$version
mkdir -p "$out"
archive="$out/$name.tar.gz"
# Settings that would change the bytes are fixed here rather than taken from the user's git configuration.
git -c tar.umask=0022 -c core.autocrlf=false archive --format=tar --prefix="$name/" "$commit" -- \
    . ':(exclude).ci' ':(exclude).gitignore' | gzip -n -9 >"$archive.tmp"
mv "$archive.tmp" "$archive"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
hash=$(cut -d' ' -f1 "$archive.sha256")

echo "keyspace $version from $commit"
echo "$archive"
echo "$archive.sha256: $hash"
echo "FetchContent: URL <where it is published>/$name.tar.gz  URL_HASH SHA256=$hash"
