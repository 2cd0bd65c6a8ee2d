#!/usr/bin/env bash
# conn_limits.sh BINARY - memory bounds under hostile clients, on the real `weir server`
# (conn_flood.py drives the clients and reads the server's VmRSS):
#  1. Kafka, queued.max.request.bytes=16MB: 300 idle connections (after one request each) and
#     10 connections holding 9 MB of a 10 MB request add less than 40 MB of RSS (without the
#     budget: ~90 MB); kcat's metadata, produce and consume are served meanwhile; once the rest
#     is sent every held request is answered (none lost).
#  2. HTTP, http.queued.max.request.bytes=16MB: the same with 10 bodies of 10 MB; curl is
#     served meanwhile.
#  3. max.connections=20: of 30 connections 20 stay open; max.connections.per.ip=5 with an
#     override 127.0.0.2:8; http.max.connections.per.ip=4 (the others get 503).
#  4. connections.max.idle.ms=300 closes idle Kafka connections; http.idle.timeout.ms=300
#     closes an HTTP request whose body stopped coming.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/server_lib.sh"
bin=$1
dir=$(mktemp -d /tmp/weir-conn-limits.XXXXXX)
trap 'kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
ulimit -n 4096 2>/dev/null || true
flood="python3 $here/conn_flood.py"
fail() { echo "FAIL: $*"; tail -20 "$dir/server.log"; exit 1; }
val() { sed -n "s/^$1 \([0-9]*\).*/\1/p" "$2" | head -1; }

weir_start "$bin" "$dir" --property log.flush.policy=none \
    --property queued.max.request.bytes=16777216 \
    --property http.queued.max.request.bytes=16777216
normal="kcat -b 127.0.0.1:$KPORT -L -m 5 >/dev/null && echo hello | kcat -b 127.0.0.1:$KPORT -P -t t1 \
 && [ \"\$(kcat -b 127.0.0.1:$KPORT -C -t t1 -c 1 -e -q)\" = hello ]"
$flood "$PID" kafka "$KPORT" --idle 300 --idle-request --partial 10 --size 10000000 \
    --send 9000000 --normal "$normal" --complete >"$dir/k.out" || { cat "$dir/k.out"; fail kafka flood; }
cat "$dir/k.out"
grow=$(( $(val rss_held_kb "$dir/k.out") - $(val rss_start_kb "$dir/k.out") ))
echo "kafka: RSS grew by $((grow / 1024)) MB while held"
[ "$grow" -lt $((40 * 1024)) ] || fail "kafka RSS grew by $grow KB (bound 40 MB)"
grep -q '^answered 10 of 10' "$dir/k.out" || fail "kafka held requests lost"
grep -q '^idle_open 300 of 300' "$dir/k.out" || fail "kafka idle connections dropped"

$flood "$PID" http "$HPORT" --idle 100 --idle-request --partial 10 --size 10000000 \
    --send 9000000 --normal "curl -sf -m 10 http://127.0.0.1:$HPORT/info >/dev/null" \
    --complete >"$dir/h.out" || { cat "$dir/h.out"; fail http flood; }
cat "$dir/h.out"
grow=$(( $(val rss_held_kb "$dir/h.out") - $(val rss_start_kb "$dir/h.out") ))
echo "http: RSS grew by $((grow / 1024)) MB while held"
[ "$grow" -lt $((40 * 1024)) ] || fail "http RSS grew by $grow KB (bound 40 MB)"
grep -q '^answered 10 of 10' "$dir/h.out" || fail "http held requests lost"
kill "$PID"; wait "$PID" 2>/dev/null || true

weir_start "$bin" "$dir" --property log.flush.policy=none --property max.connections=20 \
    --property http.max.connections.per.ip=4 --property connections.max.idle.ms=300 \
    --property http.idle.timeout.ms=300
$flood "$PID" kafka "$KPORT" --idle 30 --wait 0.1 >"$dir/m.out"
grep -q '^idle_open 20 of 30' "$dir/m.out" || { cat "$dir/m.out"; fail "max.connections"; }
$flood "$PID" http "$HPORT" --idle 6 --wait 0.1 >"$dir/hm.out"
grep -q '^idle_open 4 of 6' "$dir/hm.out" || { cat "$dir/hm.out"; fail "http.max.connections.per.ip"; }
# idle: connections kept past connections.max.idle.ms are closed by the server
$flood "$PID" kafka "$KPORT" --idle 5 --idle-request --wait 1.5 >"$dir/i.out"
grep -q '^idle_open 0 of 5' "$dir/i.out" || { cat "$dir/i.out"; fail "connections.max.idle.ms"; }
python3 - "$HPORT" <<'PY' || fail "http.idle.timeout.ms did not close a stalled body"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /ksql HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"ksql\"")
s.settimeout(5)
t = time.monotonic()
while s.recv(4096):
    pass
sys.exit(0 if time.monotonic() - t < 4 else 1)
PY
kill "$PID"; wait "$PID" 2>/dev/null || true

weir_start "$bin" "$dir" --property log.flush.policy=none --property max.connections.per.ip=5 \
    --property max.connections.per.ip.overrides=127.0.0.2:8
$flood "$PID" kafka "$KPORT" --idle 7 --wait 0.1 >"$dir/p1.out"
grep -q '^idle_open 5 of 7' "$dir/p1.out" || { cat "$dir/p1.out"; fail "max.connections.per.ip"; }
$flood "$PID" kafka "$KPORT" --idle 10 --wait 0.1 --source 127.0.0.2 >"$dir/p2.out"
grep -q '^idle_open 8 of 10' "$dir/p2.out" || { cat "$dir/p2.out"; fail "max.connections.per.ip.overrides"; }
grep -q 'refused a connection: max.connections.per.ip' "$dir/server.log" || fail "no refusal logged"
echo "conn_limits: all checks passed"
