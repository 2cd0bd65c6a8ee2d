#!/usr/bin/env bash
# bench/http.sh - the HTTP API under load, with Debian's wrk (HTTP/1.1) and h2load (HTTP/2,
# prior knowledge). Starts `weir server` on a fresh data directory, then measures:
#   /livez          the cheapest answer the server has: the HTTP layer's own ceiling
#   /info           a JSON answer built on the loop thread
#   pull query      POST /query-stream "SELECT * FROM S WHERE ID = 7;" over a 100-row stream:
#                   a trip through the SQL worker thread, a scan of the stream and the response
# and prints requests/s, p99 latency and each figure as a ratio of the /livez figure of the
# same client in the same run. p99 comes from wrk --latency, and from h2load's per-request log.
# Last, the server's peak RSS (VmHWM).
#   bench/http.sh [WEIR_BINARY] [SECONDS]
set -euo pipefail
WEIR=${1:-build/weir}
SECS=${2:-5}
command -v wrk >/dev/null && command -v h2load >/dev/null ||
    { echo "needs wrk and h2load (apt-get install wrk nghttp2-client)"; exit 1; }
DIR=$(mktemp -d /tmp/weir-bench-http.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
"$WEIR" server --data-dir "$DIR/data" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --property log.flush.policy=none --property http.max.connections=4096 >"$DIR/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do grep -q 'started: kafka' "$DIR/server.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*http=127.0.0.1:\([0-9]*\) .*/\1/p' "$DIR/server.log")
U="http://127.0.0.1:$PORT"
curl -sf -X POST "$U/ksql" -d '{"ksql":"CREATE STREAM s (id INT KEY, name STRING) WITH (kafka_topic='"'"'s'"'"', value_format='"'"'JSON'"'"', partitions=1);"}' >/dev/null
{
    echo '{"target":"s"}'
    for i in $(seq 1 100); do echo "{\"ID\":$i,\"NAME\":\"name-$i\"}"; done
} | curl -sf -X POST "$U/inserts-stream" --data-binary @- >/dev/null
printf '{"sql":"SELECT * FROM s WHERE id = 7;"}' >"$DIR/pull.json"
lua="$DIR/post.lua"
printf 'wrk.method = "POST"\nwrk.body = io.open("%s"):read("*a")\nwrk.headers["Content-Type"] = "application/json"\n' \
    "$DIR/pull.json" >"$lua"

wrk_run() { # path [script] -> "req/s p99_ms"
    local out
    out=$(wrk -t 2 -c 50 -d "${SECS}s" --latency ${2:+-s "$2"} "$U$1")
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
    echo "$rps $p99"
}

h2_run() { # path [datafile] -> "req/s p99_ms"
    local log="$DIR/h2.log" out
    rm -f "$log"
    out=$(h2load -c 50 -m 10 -t 2 -D "$SECS" --log-file="$log" \
        ${2:+-d "$2" -H 'content-type: application/json'} "$U$1" 2>&1)
    local rps p99
    rps=$(awk '/^finished in/ {gsub(/,/,""); print $4}' <<<"$out")
    # the log's third column is the request's time in microseconds
    p99=$(awk '{print $3}' "$log" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f", a[int(NR*0.99)]/1000}')
    echo "$rps $p99"
}

printf "weir HTTP API, %s s per run, 50 connections (h2load: 10 streams each), 2 client threads\n" "$SECS"
printf "%-34s %12s %10s %12s\n" "run" "requests/s" "p99 ms" "vs /livez"
for client in wrk h2load; do
    base=
    for what in livez info pull; do
        case $what in
        livez) path=/livez extra= ;;
        info) path=/info extra= ;;
        pull) path=/query-stream extra=$([ $client = wrk ] && echo "$lua" || echo "$DIR/pull.json") ;;
        esac
        if [ $client = wrk ]; then r=$(wrk_run "$path" "$extra"); else r=$(h2_run "$path" "$extra"); fi
        rps=${r%% *}
        p99=${r##* }
        [ -z "$base" ] && base=$rps
        printf "%-34s %12.0f %10s %12.2f\n" "$client $([ $client = wrk ] && echo HTTP/1.1 || echo HTTP/2) $what" \
            "$rps" "$p99" "$(awk -v a="$rps" -v b="$base" 'BEGIN {print a / b}')"
    done
done
printf "server peak RSS: %s MB\n" "$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status")"
kill "$PID"
wait "$PID" || true
PID=
