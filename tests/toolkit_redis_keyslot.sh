#!/usr/bin/env bash
# Compares keyspace::key_slot with a real server's CLUSTER KEYSLOT for a few thousand keys.
# Usage: toolkit_redis_keyslot.sh <path to toolkit_key_slot_dump>
# Starts `redis-server --cluster-enabled yes` on loopback in a temporary directory (no persistence) and stops it.
# Exits 77 (CTest: skipped) with a message when redis-server or redis-cli is not installed.
set -euo pipefail
dump=$1
for tool in redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIPPED: $tool not found (Debian packages redis-server and redis-tools); key_slot not checked against a server"
        exit 77
    fi
done

dir=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT

started=""
for attempt in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM + $$ + attempt * 7919) % 40000 ))
    if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then continue; fi # taken
    (cd "$dir" && exec redis-server --cluster-enabled yes --port "$port" --bind 127.0.0.1 --save '' \
        --appendonly no --cluster-config-file "nodes-$port.conf" --dir "$dir" --daemonize no \
        --logfile "$dir/redis.log") &
    pid=$!
    for _ in $(seq 1 100); do
        if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then started=yes; break; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.05
    done
    [ -n "$started" ] && break
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
done
if [ -z "$started" ]; then
    echo "FAILED: could not start redis-server on loopback"; cat "$dir/redis.log" 2>/dev/null || true; exit 1
fi

"$dump" > "$dir/ours.txt"
cut -d' ' -f1 "$dir/ours.txt" | sed 's/^/CLUSTER KEYSLOT /' | redis-cli -h 127.0.0.1 -p "$port" > "$dir/theirs.txt"
paste -d' ' <(cut -d' ' -f1 "$dir/ours.txt") "$dir/theirs.txt" > "$dir/server.txt"
n=$(wc -l < "$dir/ours.txt")
if ! diff -q "$dir/ours.txt" "$dir/server.txt" >/dev/null; then
    echo "FAILED: key_slot differs from CLUSTER KEYSLOT:"; diff "$dir/ours.txt" "$dir/server.txt" | head -20; exit 1
fi
echo "key_slot matches CLUSTER KEYSLOT for all $n keys"
