#!/usr/bin/env bash
# kafka_txn_copier.sh BINARY [KILLS] - Kafka's transactions_test on weir, with kill -9: two
# transactional copiers (one per input partition, 200 records a transaction, offsets sent with
# the transaction) copy 20,000 records from `in` to `out` while the server and the copiers are
# killed with SIGKILL at random moments (KILLS times, default 12, alternating) and restarted. At
# the end `out` must equal `in` record for record per partition, and a read_committed reader
# that ran throughout must have seen no duplicate (an aborted or doubled record).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
bin=$1 kills=${2:-12} n=20000
dir=$(mktemp -d /tmp/weir-txn-copier.XXXXXX)
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
boot=127.0.0.1:$port
spid= wpid=
declare -A cpid
cleanup() {
    for p in ${cpid[@]:-} $wpid $spid; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

start_server() {
    "$bin" server --data-dir "$dir/data" --kafka-listen "$boot" --http-listen 127.0.0.1:0 \
        --property num.partitions=2 >>"$dir/server.log" 2>&1 &
    spid=$!
    for _ in $(seq 1 300); do
        "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && return 0
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.1
    done
    echo "server did not start"; tail -20 "$dir/server.log"; exit 1
}
start_copier() {
    COPIER_PAUSE=0.5 "$PY" "$here/kafka_txn_copier.py" copier "$boot" "$1" >>"$dir/copier$1.log" 2>&1 &
    cpid[$1]=$!
}
# restarts copiers that died; prints how many are still running or to be run
copiers_left() {
    local left=0
    for p in 0 1; do
        if [ -n "${cpid[$p]}" ] && ! kill -0 "${cpid[$p]}" 2>/dev/null; then
            if wait "${cpid[$p]}"; then cpid[$p]=; else start_copier "$p"; fi
        fi
        [ -n "${cpid[$p]}" ] && left=$((left + 1))
    done
    echo $left
}

start_server
"$bin" topic create in --partitions 2 --bootstrap-server "$boot" >/dev/null
"$bin" topic create out --partitions 2 --bootstrap-server "$boot" >/dev/null
"$PY" - "$boot" "$n" <<'PY'
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'partitioner': 'murmur2_random',
              'linger.ms': 20})
for i in range(int(sys.argv[2])):
    p.produce('in', key='k%d' % i, value='v%06d' % i)
    if i % 1000 == 0:
        p.poll(0)
assert p.flush(30) == 0
PY
"$PY" "$here/kafka_txn_copier.py" watch "$boot" "$dir/watched" >"$dir/watch.log" 2>&1 &
wpid=$!
start_copier 0
start_copier 1

RANDOM=42
for k in $(seq 1 "$kills"); do
    sleep "$((RANDOM % 3 + 1)).$((RANDOM % 10))"
    [ "$(copiers_left)" -gt 0 ] || { echo "copiers finished before kill $k"; break; }
    if [ $((k % 2)) -eq 1 ]; then
        echo "kill $k: the server"
        kill -9 "$spid"; wait "$spid" 2>/dev/null || true
        start_server
    else
        victim=$((RANDOM % 2))
        if [ -n "${cpid[$victim]}" ]; then
            echo "kill $k: copier $victim"
            kill -9 "${cpid[$victim]}"; wait "${cpid[$victim]}" 2>/dev/null || true
            start_copier "$victim"
        fi
    fi
done
deadline=$((SECONDS + 240))
while [ "$(copiers_left)" -gt 0 ]; do
    [ $SECONDS -lt $deadline ] || { echo "copiers did not finish"; tail -5 "$dir"/copier*.log; exit 1; }
    sleep 0.5
done
# the concurrent reader catches up (it reconnects after each restart of the server)
for _ in $(seq 1 300); do
    [ "$(wc -l <"$dir/watched" 2>/dev/null || echo 0)" -ge "$n" ] && break
    sleep 0.1
done
sleep 1 # a duplicate would arrive now
kill "$wpid" 2>/dev/null || true
"$PY" "$here/kafka_txn_copier.py" check "$boot" "$n" "$dir/watched" || {
    tail -20 "$dir/server.log"; tail -5 "$dir"/copier*.log; exit 1; }
grep -c 'committed up to' "$dir"/copier*.log | sed 's/^/transactions committed: /'
