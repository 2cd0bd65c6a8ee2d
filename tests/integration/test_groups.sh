#!/usr/bin/env bash
# Integration test: `weir groups list|describe` against a running `weir server` (a live
# confluent-kafka consumer in the group, then after it left) and against the data directory
# after the server stopped.
#   usage: test_groups.sh /path/to/weir
set -uo pipefail
WEIR=$1
T=$(mktemp -d)
SERVER_PID= CONSUMER_PID=
cleanup() {
    [ -n "$CONSUMER_PID" ] && kill -9 "$CONSUMER_PID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
py=
for cand in /usr/bin/python3 python3; do
    if "$cand" -c 'import confluent_kafka' 2>/dev/null; then py=$cand; break; fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with confluent_kafka"; exit 77; }
failures=0 checks=0
ok() { checks=$((checks + 1)); }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); checks=$((checks + 1)); }
expect_eq() { if [ "$1" == "$2" ]; then ok; else fail "$3: expected [$2], got [$1]"; fi; }
expect_grep() { if grep -q -- "$1" "$2"; then ok; else fail "$3: no '$1' in $(head -c 600 "$2")"; fi; }
# column N (1-based) of the describe row for PARTITION
col() { awk -v p="$2" -v c="$3" '$1 == "g1" && $3 == p { print $c }' "$1"; }

D="$T/data"
"$WEIR" server --data-dir "$D" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    2> "$T/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "started" "$T/server.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*started: kafka=127.0.0.1:\([0-9]*\).*/\1/p' "$T/server.log")
[ -n "$PORT" ] || { echo "FAIL: server did not start" >&2; cat "$T/server.log" >&2; exit 1; }
B=(--bootstrap-server "127.0.0.1:$PORT")

"$WEIR" topic create gt --partitions 3 "${B[@]}" > /dev/null; expect_eq $? 0 "create topic"
# 10 records on each partition
for p in 0 1 2; do
    seq 1 10 | "$WEIR" produce gt --partition $p "${B[@]}"; expect_eq $? 0 "produce to $p"
done

# a consumer that takes its 3 partitions, consumes and commits 20 records, then stays
cat > "$T/consumer.py" <<'PY'
import sys, time
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "g1", "client.id": "it-consumer",
              "auto.offset.reset": "earliest", "enable.auto.commit": False})
c.subscribe(["gt"])
n = 0
while n < 20:
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    n += 1
    c.commit(message=m, asynchronous=False)
open(sys.argv[2], "w").write("committed\n")
while not __import__("os").path.exists(sys.argv[3]):
    time.sleep(0.1)
c.close()
PY
"$py" "$T/consumer.py" "127.0.0.1:$PORT" "$T/ready" "$T/go" &
CONSUMER_PID=$!
for _ in $(seq 300); do [ -f "$T/ready" ] && break; sleep 0.1; done
expect_eq "$(cat "$T/ready" 2>/dev/null)" "committed" "consumer committed 20 records"

"$WEIR" groups list "${B[@]}" > "$T/list"; expect_eq $? 0 "groups list"
expect_grep "^g1$" "$T/list" "groups list names the group"
"$WEIR" groups describe g1 "${B[@]}" > "$T/desc" 2> "$T/err"; expect_eq $? 0 "groups describe"
expect_eq "$(grep GROUP "$T/desc" | tr -s ' ')" \
    "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID" "header"
expect_eq "$(grep -c '^g1 *gt ' "$T/desc")" 3 "one row per partition"
total_lag=0 total_cur=0
for p in 0 1 2; do
    expect_eq "$(col "$T/desc" $p 5)" 10 "log-end offset of partition $p"
    cur=$(col "$T/desc" $p 4) lag=$(col "$T/desc" $p 6)
    if [ "$cur" != "-" ]; then
        expect_eq "$lag" $((10 - cur)) "lag of partition $p"
        total_cur=$((total_cur + cur)) total_lag=$((total_lag + lag))
    else
        expect_eq "$lag" "-" "no lag without a committed offset ($p)"
        total_lag=$((total_lag + 10))
    fi
    expect_eq "$(col "$T/desc" $p 9)" "it-consumer" "client id on partition $p"
    [ "$(col "$T/desc" $p 7)" != "-" ] && ok || fail "consumer id on partition $p"
done
expect_eq "$total_cur" 20 "committed offsets sum to the 20 consumed"
expect_eq "$total_lag" 10 "total lag"
if grep -q "no active members" "$T/err"; then fail "a live member was not shown"; else ok; fi

# the consumer leaves: no members, offsets stay
touch "$T/go"; wait "$CONSUMER_PID"; CONSUMER_PID=
"$WEIR" groups describe g1 "${B[@]}" > "$T/desc2" 2> "$T/err"; expect_eq $? 0 "describe after leave"
expect_grep "Consumer group 'g1' has no active members." "$T/err" "no-members note"
expect_eq "$(awk '$1 == "g1" { s += $4 } END { print s }' "$T/desc2")" 20 "offsets kept"
expect_eq "$(awk '$1 == "g1" && $7 != "-"' "$T/desc2" | wc -l)" 0 "no consumer ids after leave"
"$WEIR" groups describe nosuch "${B[@]}" > /dev/null 2> "$T/err"; expect_eq $? 1 "unknown group"
expect_grep "does not exist" "$T/err" "unknown group message"

# after a restart the group still exists (Empty), with its offsets
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=
"$WEIR" server --data-dir "$D" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    2> "$T/server2.log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "started" "$T/server2.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*started: kafka=127.0.0.1:\([0-9]*\).*/\1/p' "$T/server2.log")
B=(--bootstrap-server "127.0.0.1:$PORT")
expect_eq "$("$WEIR" groups list "${B[@]}")" "g1" "groups list after a restart"
"$WEIR" groups describe g1 "${B[@]}" > "$T/desc4" 2> /dev/null
expect_eq "$(awk '$1 == "g1" { s += $4 } END { print s }' "$T/desc4")" 20 "offsets after a restart"

# the data directory after the server stopped
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=
expect_eq "$("$WEIR" groups list --data-dir "$D" 2>/dev/null)" "g1" "local groups list"
"$WEIR" groups describe g1 --data-dir "$D" > "$T/desc3" 2>/dev/null; expect_eq $? 0 "local describe"
expect_eq "$(awk '$1 == "g1" { s += $4 } END { print s }' "$T/desc3")" 20 \
    "local committed offsets"
expect_eq "$(awk '$1 == "g1" { s += $5 - $4 } END { print s }' "$T/desc3")" \
    "$(awk '$1 == "g1" { s += $6 } END { print s }' "$T/desc3")" "local lag = end - current"
"$WEIR" groups describe g1 > /dev/null 2>&1 --bogus; expect_eq $? 2 "bad option"

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
