#!/usr/bin/env bash
# sql_join.sh WEIR_BINARY - joins on the real binary:
#   1. sql_join_oracle.py: stream-table, table-table and foreign-key joins over random data,
#      compared with sqlite3;
#   2. a restart: a stream-stream LEFT join (WITHIN 5 s, GRACE PERIOD 1 s) over two partitions
#      (the right side repartitioned from one partition, so that its order is the event order),
#      fed in two phases; the server is stopped with both sides in flight (rows buffered, outer
#      rows waiting for their windows) and started again; the output equals a run without the
#      restart, record for record, partition by partition;
#      In the same runs, a GROUP BY of a two-partition table on a value column (repartitioned,
#      rows moving between groups and deleted) ends with the same rows with and without the
#      restart, equal to the groups computed here; a GROUP BY of the join's
#      result on a column of R (the join's rows repartitioned) counts J's inner rows, and its
#      final rows are the same with and without the restart;
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
CREATE TABLE T (ID BIGINT PRIMARY KEY, G STRING, X INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE TABLE BYG AS SELECT G, COUNT(*) AS C, SUM(X) AS S FROM T GROUP BY G;
CREATE TABLE JG AS SELECT LEN(B) AS BL, COUNT(*) AS N FROM L JOIN R WITHIN 5 SECONDS ON L.ID = R.K GROUP BY LEN(B);
SQL
# the input, in event-time order (one producer, flushed record by record: each partition gets
# its records in time order, whenever the query reads them)
cat >"$DIR/io.py" <<'PY'
import json, random, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
port, what = sys.argv[1], sys.argv[2]
trnd = random.Random(7)  # the table T: upserts and deletes of 50 keys among 6 groups
table = [(trnd.randrange(50), None if trnd.random() < 0.1 else {"G": f"g{trnd.randrange(6)}", "X": trnd.randint(0, 99)})
         for _ in range(600)]
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
    th = len(table) // 2
    for i, (k, v) in enumerate(table[:th] if phase == 1 else table[th:]):
        p.produce("t", key=k.to_bytes(8, "big", signed=True), value=None if v is None else json.dumps(v),
                  timestamp=1_700_000_000_000 + i + (0 if phase == 1 else th))
    p.flush()
else:  # read: every record of J and BYG, partition by partition, once nothing new came for 3 s
    c = Consumer({"bootstrap.servers": f"127.0.0.1:{port}", "group.id": "read",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.assign([TopicPartition(t, p, 0) for t in ("J", "BYG", "JG") for p in (0, 1)])
    out, last = {}, time.time()
    final, jg, inner = {}, {}, {}
    while time.time() - last < 3:
        m = c.poll(0.3)
        if m is not None and m.error() is None:
            v = m.value().decode() if m.value() is not None else "null"
            if m.topic() == "J":
                out.setdefault((m.topic(), m.partition()), []).append(
                    f"{m.topic()} {m.partition()} {m.key().hex()} {m.timestamp()[1]} {v}")
            if m.topic() == "BYG":
                final[m.key().decode()] = json.loads(v)
            elif m.topic() == "JG":
                jg[int.from_bytes(m.key(), "big", signed=True)] = json.loads(v)["N"]
            elif m.topic() == "J" and json.loads(v)["B"] is not None:
                inner[len(json.loads(v)["B"])] = inner.get(len(json.loads(v)["B"]), 0) + 1
            last = time.time()
    c.close()
    for tp in sorted(out):
        print("\n".join(out[tp]))
    # BYG's and JG's rows reach their repartition topics from two tasks, interleaved as the
    # tasks ran (as in Kafka Streams): their updates may come in another order in another run,
    # their final rows may not
    for k in sorted(final):
        print(f"BYG final {k} {json.dumps(final[k])}")
    for k in sorted(jg):
        print(f"JG final {k} {jg[k]}")
    # BYG's last row of each group against the groups of the final table (a group counted down
    # to zero keeps a row with C = 0)
    rows = {}
    for k, v in table:
        rows.pop(k, None) if v is None else rows.__setitem__(k, v)
    want = {}
    for v in rows.values():
        c_, s_ = want.get(v["G"], (0, 0))
        want[v["G"]] = (c_ + 1, s_ + v["X"])
    got = {g: (r["C"], r["S"]) for g, r in final.items() if r is not None and r["C"] > 0}
    if got != want:
        sys.exit(f"FAIL: BYG is {sorted(got.items())}, the table's groups are {sorted(want.items())}")
    # JG counts the inner rows of the same join as J (J's rows with a B), by LEN(B)
    if jg != inner:
        sys.exit(f"FAIL: JG is {sorted(jg.items())}, J's inner rows by LEN(B) are {sorted(inner.items())}")
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
    "$PY" "$DIR/io.py" "$KPORT" read >"$1/out" || fail "the GROUP BY through a repartition topic is wrong"
    if [ "$2" = 0 ]; then
        curl -sf -XPOST "127.0.0.1:$HPORT/ksql" \
            -d '{"ksql":"EXPLAIN SELECT L.ID, A, B FROM L JOIN R WITHIN 5 SECONDS ON L.ID = R.K EMIT CHANGES;"}' \
            >"$DIR/explain" || fail "EXPLAIN failed"
        curl -sf -XPOST "127.0.0.1:$HPORT/ksql" \
            -d '{"ksql":"EXPLAIN CREATE TABLE BYG2 AS SELECT G, COUNT(*) AS C FROM T GROUP BY G;"}' \
            >"$DIR/explain_group" || fail "EXPLAIN failed"
    fi
    stop
}
run "$DIR/straight" 0
run "$DIR/restarted" 1
n=$(wc -l <"$DIR/straight/out")
[ "$(grep -c '^J ' "$DIR/straight/out")" -gt 300 ] || fail "only $n join results"
[ "$(grep -c '^BYG ' "$DIR/straight/out")" -ge 6 ] || fail "too few groups of the table's GROUP BY"
[ "$(grep -c '^JG ' "$DIR/straight/out")" -ge 3 ] || fail "too few groups of the GROUP BY over the join"
grep -q ' null' "$DIR/straight/out" || grep -q '"B":null' "$DIR/straight/out" || fail "no outer rows"
if ! cmp -s "$DIR/straight/out" "$DIR/restarted/out"; then
    diff "$DIR/straight/out" "$DIR/restarted/out" | head -20
    fail "the output after a restart differs from the output without one"
fi
echo "ok   restart mid-window: $n records of a join, and the final rows of two repartitioned GROUP BYs, equal with and without the restart"
for want in 'LEFT OUTER stream-stream join\|INNER stream-stream join' 'REPARTITION' 'grace\|no grace period'; do
    grep -q "$want" "$DIR/explain" || { cat "$DIR/explain"; fail "EXPLAIN lacks $want"; }
done
grep -q 'REPARTITION ] | by G' "$DIR/explain_group" || { cat "$DIR/explain_group"; fail "EXPLAIN lacks the GROUP BY's repartition"; }
echo "ok   EXPLAIN shows the join and its repartition, and a GROUP BY's"
