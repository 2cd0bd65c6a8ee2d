#!/usr/bin/env bash
# bench/conn_memory.sh - the server's RSS under hostile clients, with the default settings
# (issue 27): 5,000 idle Kafka connections (each after one ApiVersions), then 10 connections
# that send 99 MB of a 100 MB request and hold it while kcat asks for metadata, then the rest
# is sent and every held request must be answered; the same for HTTP with 950 idle
# connections (http.max.connections) and 50 bodies of 15 MB of 16 MB (http.max.body.bytes).
# Prints VmRSS at each step (tests/integration/conn_flood.py reads /proc/PID/status).
#   bench/conn_memory.sh [WEIR_BINARY]
set -euo pipefail
WEIR=${1:-build/weir}
here=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/weir-bench-mem.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
ulimit -n 20000
"$WEIR" server --data-dir "$DIR/data" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --property log.flush.policy=none >"$DIR/log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q 'started: kafka' "$DIR/log" && break; sleep 0.1; done
K=$(sed -n 's/.*kafka=[^ ]*:\([0-9]*\) .*/\1/p' "$DIR/log")
H=$(sed -n 's/.*http=[^ ]*:\([0-9]*\) .*/\1/p' "$DIR/log")
flood="python3 $here/../tests/integration/conn_flood.py"
echo "== kafka: 5000 idle connections, 10 x 99 MB of a 100 MB request held (defaults)"
$flood "$PID" kafka "$K" --idle 5000 --idle-request --partial 10 --size 100000000 \
    --send 99000000 --normal "kcat -b 127.0.0.1:$K -L -m 5 >/dev/null" --complete
echo "== http: 950 idle connections, 50 x 15 MB of a 16 MB body held (defaults)"
$flood "$PID" http "$H" --idle 950 --idle-request --partial 50 --size 16000000 \
    --send 15000000 --normal "curl -sf -m 10 http://127.0.0.1:$H/info >/dev/null" --complete
grep VmHWM "/proc/$PID/status"
