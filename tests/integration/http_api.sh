#!/usr/bin/env bash
# http_api.sh - the ksqlDB-compatible HTTP API of the real `weir server`, driven with curl over
# HTTP/1.1 and HTTP/2 (prior knowledge), a raw-socket client of our own (http_client.py) for
# /inserts-stream and the protocol edges, kcat for a consumer group, and promtool for /metrics.
# Every endpoint, the error shapes, a client that disconnects mid-stream (its push query must
# end, not leak), /close-query, and limits (body size, header size).
#   http_api.sh WEIR_BINARY
set -uo pipefail
WEIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

DIR=$(mktemp -d /tmp/weir-http-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$DIR"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
expect_eq() { if [ "$1" == "$2" ]; then ok "$3"; else bad "$3: got [$1], want [$2]"; fi; }
expect_has() { if grep -qF -- "$2" <<<"$1"; then ok "$3"; else bad "$3: [$1] lacks [$2]"; fi; }

. "$HERE/server_lib.sh"
weir_start "$WEIR" "$DIR" --property http.max.body.bytes=65536 \
    --property http.max.header.bytes=4096 || exit 1
U="http://127.0.0.1:$HPORT"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
ksql() { curl -s -w '\n%{http_code}' -X POST "$U/ksql" -H 'Content-Type: application/json' --data-binary "$1"; }

# ---- plain endpoints
expect_eq "$(curl -s "$U/info" | json 'd["KsqlServerInfo"]["serverStatus"]')" RUNNING "/info"
expect_eq "$(curl -s "$U/healthcheck" | json 'd["isHealthy"]')" True "/healthcheck"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$U/livez")" 200 "/livez"
expect_eq "$(curl -s "$U/readyz")" '{"status":"READY"}' "/readyz"
expect_eq "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' "$U/info")" \
    "2 200" "/info over HTTP/2 with prior knowledge"

# ---- /ksql
r=$(ksql '{"ksql":"CREATE STREAM s (id INT KEY, name STRING) WITH (kafka_topic='"'"'s'"'"', value_format='"'"'JSON'"'"', partitions=2); SHOW STREAMS;"}')
expect_eq "$(tail -1 <<<"$r")" 200 "/ksql CREATE STREAM: 200"
body=$(head -n -1 <<<"$r")
expect_eq "$(json 'd[0]["@type"], d[0]["commandStatus"]["status"], d[0]["commandId"]' <<<"$body")" \
    "currentStatus SUCCESS stream/\`S\`/create" "/ksql: currentStatus entity"
expect_eq "$(json 'd[1]["@type"], [(x["name"], x["topic"], x["valueFormat"]) for x in d[1]["streams"]]' <<<"$body")" \
    "streams [('S', 's', 'JSON')]" "/ksql: streams entity"
r=$(ksql '{"ksql":"SHOW STREAMS;\nSELEC * FROM s;"}')
expect_eq "$(tail -1 <<<"$r")" 400 "syntax error: 400"
expect_eq "$(head -n -1 <<<"$r" | json 'd["@type"], d["error_code"], d["message"].replace(chr(10), "/")[:48], len(d["entities"])')" \
    "statement_error 40001 line 2:1: Syntax Error/Unknown statement 'SELEC' 1" "syntax error: statement_error with line:column and the entities before"
r=$(ksql '{"ksql":"SELECT * FROM s EMIT CHANGES;"}')
expect_eq "$(tail -1 <<<"$r") $(head -n -1 <<<"$r" | json 'd["error_code"]')" "400 40002" \
    "a SELECT on /ksql: 40002, use /query"
r=$(ksql '{"ksql": "SHOW STREAMS;"')
expect_eq "$(tail -1 <<<"$r") $(head -n -1 <<<"$r" | json 'd["error_code"], "malformed JSON" in d["message"]')" \
    "400 40000 True" "malformed JSON: 400 with the reason"
r=$(ksql '{"sql":"SHOW STREAMS;"}')
expect_has "$(head -n -1 <<<"$r")" 'needs a \"ksql\" field' "a missing field is named"
r=$(curl -s -w '\n%{http_code}' "$U/nope")
expect_eq "$(tail -1 <<<"$r") $(head -n -1 <<<"$r" | json 'd["error_code"]')" "404 40400" "unknown endpoint: 404"
r=$(curl -s -w '\n%{http_code}' "$U/ksql")
expect_eq "$(tail -1 <<<"$r") $(head -n -1 <<<"$r" | json 'd["error_code"]')" "405 40500" "GET /ksql: 405"
head -c 70000 /dev/zero | tr '\0' 'x' >"$DIR/big"
r=$(curl -s -w '\n%{http_code}' -X POST "$U/ksql" --data-binary @"$DIR/big")
expect_eq "$(tail -1 <<<"$r")" 413 "a body over http.max.body.bytes: 413"
# Expect: 100-continue (curl sends it for this body)
printf '{"ksql":"SHOW TOPICS;","pad":"%s"}' "$(head -c 2000 /dev/zero | tr '\0' 'y')" >"$DIR/mid"
r=$(curl -s -v -X POST "$U/ksql" -H 'Expect: 100-continue' --data-binary @"$DIR/mid" 2>&1)
expect_has "$r" "HTTP/1.1 100 Continue" "Expect: 100-continue is answered"
expect_has "$r" '"@type":"kafka_topics"' "... and the body is then read"

# ---- the protocol edges, with our own client
r=$(/usr/bin/python3 "$HERE/http_client.py" pipeline "$HPORT" 2>&1)
expect_eq "$?" 0 "two pipelined requests on one connection: $r"
r=$(/usr/bin/python3 "$HERE/http_client.py" garbage "$HPORT" 2>&1)
expect_has "$r" '400 Bad Request {"@type":"generic_error","error_code":40000,"message":"malformed HTTP request' "a malformed request: 400 that says why"
r=$(/usr/bin/python3 "$HERE/http_client.py" bigheader "$HPORT" 2>&1)
expect_has "$r" "431 Request Header Fields Too Large" "headers over http.max.header.bytes: 431"

# ---- a push query over HTTP/1.1, fed by /inserts-stream while it runs
curl -s -N -X POST "$U/query-stream" \
    -d '{"sql":"SELECT id, UCASE(name) AS up FROM s EMIT CHANGES;","properties":{"auto.offset.reset":"earliest"}}' \
    >"$DIR/push1" 2>/dev/null &
CURL1=$!
for _ in $(seq 1 100); do [ -s "$DIR/push1" ] && break; sleep 0.05; done
r=$(/usr/bin/python3 "$HERE/http_client.py" inserts "$HPORT" s 2>&1)
expect_eq "$?" 0 "/inserts-stream: each row acknowledged while the body still arrives"
expect_eq "$(sed -n 3p <<<"$r" | json 'd["status"], d["seq"], d["error_code"]')" "error 2 40000" \
    "/inserts-stream: a bad row gets an error ack and the stream goes on"
for _ in $(seq 1 100); do [ "$(wc -l <"$DIR/push1")" -ge 4 ] && break; sleep 0.05; done
expect_eq "$(sed 1d "$DIR/push1")" '[10,"STREAMED-A"]
[11,"STREAMED-B"]
[12,"STREAMED-C"]' "push query rows arrive as they are inserted"
expect_eq "$(head -1 "$DIR/push1" | json 'd["columnNames"], d["columnTypes"]')" \
    "['ID', 'UP'] ['INTEGER', 'STRING']" "push query header"
curl -s "$U/metrics" >"$DIR/m1"
expect_has "$(cat "$DIR/m1")" 'weir_queries{query_type="push"} 1' "the push query runs"
kill "$CURL1"
wait "$CURL1" 2>/dev/null
for _ in $(seq 1 100); do
    curl -s "$U/metrics" | grep -q 'weir_queries{query_type="push"} 0' && break
    sleep 0.05
done
expect_has "$(curl -s "$U/metrics")" 'weir_queries{query_type="push"} 0' \
    "a client that disconnects mid-stream ends its push query"

# ---- pull query over HTTP/2, both response formats
r=$(curl -s --http2-prior-knowledge -X POST "$U/query-stream" -H 'Accept: application/json' \
    -d '{"sql":"SELECT name FROM s WHERE id > 10;"}')
expect_eq "$(json '[x for x in d[1:]]' <<<"$r")" "[['streamed-b'], ['streamed-c']]" \
    "pull query over HTTP/2, application/json"
r=$(curl -s --http2-prior-knowledge -X POST "$U/query-stream" -d '{"sql":"SELECT id FROM s;"}')
expect_eq "$(sed 1d <<<"$r" | sort | tr '\n' ' ')" "[10] [11] [12] " \
    "pull query over HTTP/2, delimited"

# ---- /query (v1): LIMIT ends the stream with a final message
r=$(curl -s -X POST "$U/query" \
    -d '{"ksql":"SELECT * FROM s EMIT CHANGES LIMIT 2;","streamsProperties":{"ksql.streams.auto.offset.reset":"earliest"}}')
expect_eq "$(json 'd[0]["header"]["schema"], len(d), d[-1]' <<<"$r")" \
    "\`ID\` INTEGER, \`NAME\` STRING 4 {'finalMessage': 'Limit Reached'}" "/query with LIMIT"
r=$(curl -s -X POST "$U/query" -d '{"ksql":"PRINT '"'"'s'"'"' FROM BEGINNING LIMIT 1;"}')
expect_has "$r" "streamed-" "PRINT over /query"

# ---- /close-query ends a push query over HTTP/2
curl -s -N --http2-prior-knowledge -X POST "$U/query-stream" \
    -d '{"sql":"SELECT * FROM s EMIT CHANGES;"}' >"$DIR/push2" 2>/dev/null &
CURL2=$!
for _ in $(seq 1 100); do [ -s "$DIR/push2" ] && break; sleep 0.05; done
QID=$(head -1 "$DIR/push2" | json 'd["queryId"]')
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/close-query" -d "{\"queryId\":\"$QID\"}")" \
    200 "/close-query"
wait "$CURL2"
expect_eq "$?" 0 "... and the stream it closed ends cleanly"
r=$(curl -s -w '\n%{http_code}' -X POST "$U/close-query" -d "{\"queryId\":\"$QID\"}")
expect_eq "$(tail -1 <<<"$r")" 400 "closing it again: 400"

# ---- a persistent query, a consumer group, and /metrics
r=$(ksql '{"ksql":"CREATE STREAM t AS SELECT id, name FROM s;","streamsProperties":{"auto.offset.reset":"earliest"}}')
QID=$(head -n -1 <<<"$r" | json 'd[0]["commandStatus"]["queryId"]')
expect_eq "$QID" "CSAS_T_0" "CSAS over /ksql names its query"
expect_has "$(curl -s "$U/status")" '"stream/`T`/create":"SUCCESS"' "/status lists the command"
expect_has "$(curl -s "$U/status/stream/%60T%60/create")" '"status":"SUCCESS"' "/status/<command id>"
# a consumer group that read one record of s and committed: lag in kafka_exporter's names
/usr/bin/python3 - "$KPORT" <<'PY' || echo "note: no consumer group committed"
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": "127.0.0.1:" + sys.argv[1], "group.id": "lag-group",
              "auto.offset.reset": "earliest", "enable.auto.commit": False})
c.assign([TopicPartition("s", 0), TopicPartition("s", 1)])
for _ in range(100):
    m = c.poll(0.2)
    if m is not None and not m.error():
        c.commit(message=m, asynchronous=False)
        break
c.close()
PY
for _ in $(seq 1 100); do
    curl -s "$U/metrics" | grep -q "weir_query_records_out_total{query_id=\"$QID\",query_type=\"persistent\"} 3" && break
    sleep 0.05
done
curl -s "$U/metrics" >"$DIR/metrics"
expect_has "$(cat "$DIR/metrics")" "weir_query_records_in_total{query_id=\"$QID\",query_type=\"persistent\"} 3" "per-query records in"
expect_has "$(cat "$DIR/metrics")" "weir_query_records_out_total{query_id=\"$QID\",query_type=\"persistent\"} 3" "per-query records out"
expect_has "$(cat "$DIR/metrics")" 'kafka_topic_partition_current_offset{topic="s",partition="' "log-end offsets"
expect_has "$(cat "$DIR/metrics")" 'kafka_consumergroup_lag{consumergroup="lag-group",topic="s",partition="' \
    "consumer-group lag in kafka_exporter's names"
# 3 records in s, one of them consumed and committed: a lag of 2 over the topic
expect_has "$(cat "$DIR/metrics")" 'kafka_consumergroup_lag_sum{consumergroup="lag-group",topic="s"} 2' "lag sum"
if command -v promtool >/dev/null; then
    # promtool parses the text format (a parse error fails here) and lints the names; the one
    # lint it has, "_sum" on a gauge, is about kafka_exporter's own names, which dashboards use
    r=$(promtool check metrics <"$DIR/metrics" 2>&1 |
        grep -v '^kafka_consumergroup_\(lag\|current_offset\)_sum non-histogram and non-summary metrics should not have "_sum" suffix$')
    expect_eq "$r" "" "promtool check metrics: the format parses, no lint beyond kafka_exporter's names"
else
    echo "note: promtool is not installed; the format is not checked"
fi

# ---- the server stops cleanly with queries and connections open
curl -s -N -X POST "$U/query-stream" -d '{"sql":"SELECT * FROM s EMIT CHANGES;"}' >/dev/null 2>&1 &
sleep 0.3
kill "$PID"
wait "$PID"
expect_eq "$?" 0 "SIGTERM with a push query open: clean exit"
PID=
expect_has "$(cat "$DIR/server.log")" "stopped cleanly" "stopped cleanly"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
