#!/usr/bin/env bash
# sql_join.sh WEIR_BINARY - joins on the real binary:
#   1. sql_join_oracle.py: stream-table, table-table and foreign-key joins over random data,
#      compared with sqlite3;
#   2. a restart: a stream-stream LEFT join (WITHIN 5 s, GRACE PERIOD 1 s) over two partitions
#      (the right side repartitioned from one partition, so that its order is the event order),
#      fed in two phases; the server is stopped with both sides in flight (rows buffered, outer
#      rows waiting for their windows) and started again; the output equals a run without the
#      restart, record for record, partition by partition;
#   3. EXPLAIN names the join operators and the repartition topic.
set -euo pipefail
WEIR=$1
PY=/usr/bin/python3
"$PY" -c 'import confluent_kafka, sqlite3' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks confluent_kafka"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
DIR=$(mktemp -d /tmp/weir-join-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
. "$here/server_lib.sh"
fail() { echo "FAIL: $*"; tail -20 "$DIR"/*/server.log 2>/dev/null; exit 1; }
stop() { kill "$PID"; wait "$PID" || true; PID=; }

mkdir -p "$DIR/oracle"
weir_start "$WEIR" "$DIR/oracle" || exit 1
"$PY" "$here/sql_join_oracle.py" "$KPORT" "$HPORT" || fail "joins differ from sqlite3"
stop

# ---- restart mid-window --------------------------------------------------------------------
cat >"$DIR/queries.sql" <<'SQL'
SET 'auto.offset.reset' = 'earliest';
CREATE STREAM L (ID BIGINT KEY, A STRING) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE STREAM R (ID BIGINT KEY, K BIGINT, B STRING) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON', PARTITIONS=1);
CREATE STREAM J AS SELECT L.ID, A, B FROM L LEFT JOIN R WITHIN 5 SECONDS GRACE PERIOD 1 SECOND ON L.ID = R.K;
SQL
# the input, in event-time order (one producer, flushed record by record: each partition gets
# its records in time order, whenever the query reads them)
cat >"$DIR/io.py" <<'PY'
import json, random, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
port, what = sys.argv[1], sys.argv[2]
if what == "produce":
    phase = int(sys.argv[3])
    rnd = random.Random(99)
    recs = []
    t = 1_700_000_000_000
    for i in range(1200):
        t += rnd.randint(0, 700)
        k = rnd.randrange(40)
        if rnd.random() < 0.5:
            recs.append(("l", k, {"A": f"a{i}"}, t))
        else:
            recs.append(("r", 1000 + i, {"K": k, "B": f"b{i}"}, t))
    half = len(recs) // 2
    p = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "linger.ms": 0, "partitioner": "murmur2_random"})
    for topic, k, v, ts in recs[:half] if phase == 1 else recs[half:]:
        p.produce(topic, key=k.to_bytes(8, "big", signed=True), value=json.dumps(v), timestamp=ts)
        p.flush()
else:  # read: every record of J, partition by partition, once nothing new came for 3 s
    c = Consumer({"bootstrap.servers": f"127.0.0.1:{port}", "group.id": "read",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.assign([TopicPartition("J", 0, 0), TopicPartition("J", 1, 0)])
    out, last = {0: [], 1: []}, time.time()
    while time.time() - last < 3:
        m = c.poll(0.3)
        if m is not None and m.error() is None:
            out[m.partition()].append(f"{m.partition()} {m.key().hex()} {m.timestamp()[1]} {m.value().decode()}")
            last = time.time()
    c.close()
    for p in (0, 1):
        print("\n".join(out[p]))
PY
wait_quiet() { # until the server has processed everything there is (its records-in stops moving)
    local prev= cur
    for _ in $(seq 1 100); do
        cur=$(curl -sf "127.0.0.1:$HPORT/metrics" | grep '^weir_query_records_in' | md5sum)
        [ "$cur" = "$prev" ] && return 0
        prev=$cur
        sleep 1
    done
}
run() { # DIR RESTART(0|1) -> DIR/out
    mkdir -p "$1"
    weir_start "$WEIR" "$1" --queries-file "$DIR/queries.sql" || exit 1
    "$PY" "$DIR/io.py" "$KPORT" produce 1
    wait_quiet
    if [ "$2" = 1 ]; then
        stop
        weir_start "$WEIR" "$1" --queries-file "$DIR/queries.sql" || exit 1
    fi
    "$PY" "$DIR/io.py" "$KPORT" produce 2
    wait_quiet
    "$PY" "$DIR/io.py" "$KPORT" read >"$1/out"
    if [ "$2" = 0 ]; then
        curl -sf -XPOST "127.0.0.1:$HPORT/ksql" \
            -d '{"ksql":"EXPLAIN SELECT L.ID, A, B FROM L JOIN R WITHIN 5 SECONDS ON L.ID = R.K EMIT CHANGES;"}' \
            >"$DIR/explain" || fail "EXPLAIN failed"
    fi
    stop
}
run "$DIR/straight" 0
run "$DIR/restarted" 1
n=$(wc -l <"$DIR/straight/out")
[ "$n" -gt 300 ] || fail "only $n join results"
grep -q ' null' "$DIR/straight/out" || grep -q '"B":null' "$DIR/straight/out" || fail "no outer rows"
if ! cmp -s "$DIR/straight/out" "$DIR/restarted/out"; then
    diff "$DIR/straight/out" "$DIR/restarted/out" | head -20
    fail "the output after a restart differs from the output without one"
fi
echo "ok   restart mid-window: $n records, equal with and without the restart"
for want in 'LEFT OUTER stream-stream join\|INNER stream-stream join' 'REPARTITION' 'grace\|no grace period'; do
    grep -q "$want" "$DIR/explain" || { cat "$DIR/explain"; fail "EXPLAIN lacks $want"; }
done
echo "ok   EXPLAIN shows the join and its repartition"
