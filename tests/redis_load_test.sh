#!/usr/bin/env bash
# Runs examples/redis_load against a private redis-server and checks the server's truth against the trackers':
#   - redis_load's own checks (every reply as the tracker predicted, DBSIZE, a sample of IDs both ways);
#   - independently, through redis-cli: DBSIZE equals the "tracker total" redis_load printed, and every key of the
#     sample it wrote exists on the server exactly when the tracker held it.
# With --shared (see examples/CMakeLists.txt) the same checks cover the shared mode: one tracker for every thread,
# several pipelined connections each, every command an operation in flight.
# Usage: tests/redis_load_test.sh <path to redis_load> [redis_load options]
# Exit status 77 (CTest SKIP_RETURN_CODE) when redis-server or redis-cli is not installed.
set -euo pipefail
redis_load=$1
shift
for tool in redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIPPED: $tool is not installed (Debian: redis-server; scripts/deps.sh lists it)"
        exit 77
    fi
done

dir=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT

# A free loopback port: a random one nothing listens on; the server must then answer PING *as itself* (its
# process_id), so a server someone else starts on the same port in between is never mistaken for ours.
for attempt in $(seq 20); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi # taken
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no --daemonize no \
        --logfile "$dir/redis.log" &
    pid=$!
    for _ in $(seq 200); do
        if redis-cli -p "$port" info server 2>/dev/null | grep -q "^process_id:$pid"; then break 2; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.05
    done
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=
done
if [ -z "$pid" ]; then
    echo "FAILED: redis-server did not start"; cat "$dir/redis.log" || true; exit 1
fi
echo "redis-server $(redis-server --version | grep -o 'v=[^ ]*') on 127.0.0.1:$port"

"$redis_load" --port "$port" --keys 20000 --threads 3 --ops 200000 --sample-out "$dir/sample.txt" "$@" \
    | tee "$dir/out.txt"

tracker_total=$(sed -n 's/^tracker total: //p' "$dir/out.txt")
dbsize=$(redis-cli -p "$port" dbsize)
echo "redis-cli DBSIZE: $dbsize, tracker total: $tracker_total"
if [ -z "$tracker_total" ] || [ "$dbsize" != "$tracker_total" ]; then
    echo "FAILED: DBSIZE $dbsize differs from the trackers' total '$tracker_total'"; exit 1
fi
if [ "$tracker_total" -eq 0 ]; then echo "FAILED: nothing left to compare"; exit 1; fi

# The sample, checked by another client: EXISTS for every key, in one pipe.
awk '{ print "EXISTS " $1 }' "$dir/sample.txt" | redis-cli -p "$port" >"$dir/exists.txt"
paste -d' ' "$dir/sample.txt" "$dir/exists.txt" >"$dir/both.txt"
total=$(wc -l <"$dir/both.txt")
present=$(awk '$2 == 1' "$dir/both.txt" | wc -l)
bad=$(awk '$2 != $3' "$dir/both.txt" | wc -l)
echo "sample: $total keys ($present present in the tracker), $bad disagree with the server"
if [ "$total" -lt 100 ] || [ "$present" -eq 0 ] || [ "$present" -eq "$total" ] || [ "$bad" -ne 0 ]; then
    awk '$2 != $3' "$dir/both.txt" | head
    echo "FAILED: the sample does not agree (or is not a mix of present and absent keys)"; exit 1
fi
echo "PASSED: the server agrees with the trackers"
