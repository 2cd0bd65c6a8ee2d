#!/usr/bin/env bash
# sql_stateful.sh - stateful queries on the real binary: a GROUP BY table fed by kcat, its
# contents read back with pull queries over HTTP (key lookup, IN, range, scan, window bounds)
# and compared with an oracle computed here; then the state is put through restarts:
#   1. clean stop and restart mid-stream: more input, contents equal the oracle;
#   2. a copy of an older state directory put back: only the changelog records written since
#      that copy are replayed (the log says how many, checked against the changelog's size);
#   3. the state directory deleted: rebuilt from the changelog, same contents;
#   4. a bit flipped in an SST file: detected at start, rebuilt, same contents;
#   5. the checkpoint truncated: detected, rebuilt, same contents.
#   sql_stateful.sh WEIR_BINARY
set -euo pipefail
WEIR=$1
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
PY=/usr/bin/python3

DIR=$(mktemp -d /tmp/weir-stateful-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
cat >"$DIR/queries.sql" <<'SQL'
SET 'auto.offset.reset' = 'earliest';
CREATE STREAM ORDERS (ID STRING KEY, ITEM STRING, QTY INT) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);
CREATE TABLE ITEMS AS SELECT ITEM, COUNT(*) AS N, SUM(QTY) AS QTY FROM ORDERS GROUP BY ITEM;
CREATE TABLE HOURLY AS SELECT ITEM, COUNT(*) AS N FROM ORDERS WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY ITEM;
SQL
fail() { echo "FAIL: $*"; tail -20 "$DIR/server.log"; exit 1; }

. "$(cd "$(dirname "$0")" && pwd)/server_lib.sh"
starts=0
start() {
    starts=$((starts + 1))
    weir_start "$WEIR" "$DIR" --queries-file "$DIR/queries.sql" || exit 1
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }

# n records, items i0..i49, quantities from a fixed sequence; appended to $DIR/input
seq_no=0
produce() {
    : >"$DIR/batch"
    for _ in $(seq 1 "$1"); do
        seq_no=$((seq_no + 1))
        echo "k$seq_no:{\"ITEM\":\"i$((seq_no * 7 % 50))\",\"QTY\":$((seq_no % 13))}" >>"$DIR/batch"
    done
    cat "$DIR/batch" >>"$DIR/input"
    kcat -P -b "127.0.0.1:$KPORT" -t orders -K: -l "$DIR/batch"
}
pull() { # SQL -> rows, one JSON array a line, sorted
    curl -sf -XPOST "127.0.0.1:$HPORT/query-stream" -d "{\"sql\":\"$1\"}" | tail -n +2 | sort
}
oracle() { # the table ITEMS computed from $DIR/input
    $PY - "$DIR/input" <<'PY'
import json, sys
agg = {}
for line in open(sys.argv[1]):
    v = json.loads(line.split(":", 1)[1])
    n, q = agg.get(v["ITEM"], (0, 0))
    agg[v["ITEM"]] = (n + 1, q + v["QTY"])
for k in sorted(agg):
    print(json.dumps([k, agg[k][0], agg[k][1]], separators=(",", ":")))
PY
}
converge() { # waits until the table holds what the oracle says
    want=$(oracle | sort)
    for _ in $(seq 1 200); do
        got=$(pull "SELECT * FROM ITEMS;")
        [ "$got" = "$want" ] && return 0
        sleep 0.1
    done
    diff <(echo "$want") <(echo "$got") | head -10
    fail "$1: table contents differ from the oracle"
}
changelog_size() {
    kcat -C -b "127.0.0.1:$KPORT" -t weir-CTAS_ITEMS_0-Aggregate-Materialize-changelog -o beginning -e -q -f 'x\n' | wc -l
}

start
produce 500
converge "first run"
# pull-query forms: key lookup, IN, a key range, a filter on a value column, window bounds
row=$(pull "SELECT ITEM, N FROM ITEMS WHERE ITEM = 'i7';")
[ "$row" = "$(oracle | grep '^\["i7",' | cut -d, -f1,2)]" ] || fail "key lookup gave $row"
[ "$(pull "SELECT * FROM ITEMS WHERE ITEM IN ('i1', 'i2', 'nope');" | wc -l)" = 2 ] || fail "IN"
[ "$(pull "SELECT * FROM ITEMS WHERE ITEM >= 'i1' AND ITEM < 'i2';" | cut -d'"' -f2 | tr '\n' ' ')" \
  = "i1 i10 i11 i12 i13 i14 i15 i16 i17 i18 i19 " ] || fail "key range"
[ "$(pull "SELECT * FROM ITEMS WHERE N > 1000;" | wc -l)" = 0 ] || fail "scan with a filter"
[ "$(pull "SELECT * FROM HOURLY WHERE ITEM = 'i3' AND WINDOWSTART >= 0;" | wc -l)" -ge 1 ] || fail "window bounds"
[ "$(pull "SELECT * FROM HOURLY WHERE ITEM = 'i3' AND WINDOWEND < 0;" | wc -l)" = 0 ] || fail "window bounds (none)"
# a pull query while the table is being updated sees a consistent row set
( for _ in 1 2 3 4 5; do
    [ "$(pull "SELECT * FROM ITEMS;" | wc -l)" = 50 ] || echo "a scan saw a partial table" >"$DIR/pull-failed"
  done ) &
pulls=$!
produce 300
wait "$pulls"
[ ! -e "$DIR/pull-failed" ] || fail "$(cat "$DIR/pull-failed")"
converge "updates during pulls"

# 1. clean restart mid-stream
stop
cp -a "$DIR/data/state" "$DIR/state-copy"
start
grep -q "changelog records restored" <(tail -n +"$(grep -n 'started: kafka' "$DIR/server.log" | tail -1 | cut -d: -f1)" "$DIR/server.log") \
    && fail "a clean restart replayed the changelog"
c1=$(changelog_size)
produce 400
converge "after a clean restart"
c2=$(changelog_size)

# 2. an older copy of the state: only the changelog tail is replayed
stop
rm -rf "$DIR/data/state" && mv "$DIR/state-copy" "$DIR/data/state"
start
converge "an older state copy"
n=$(grep -o 'CTAS_ITEMS_0: [0-9]* changelog records restored' "$DIR/server.log" | tail -1 | cut -d' ' -f2)
[ "$n" = "$((c2 - c1))" ] || fail "replayed $n changelog records, expected the $((c2 - c1)) written since the copy"

# 3. the state directory deleted
stop
rm -rf "$DIR/data/state"
start
converge "state deleted"
n=$(grep -o 'CTAS_ITEMS_0: [0-9]* changelog records restored' "$DIR/server.log" | tail -1 | cut -d' ' -f2)
[ "$n" = "$(changelog_size)" ] || fail "a rebuilt store replayed $n of $(changelog_size) records"

# 4. a flipped bit in an SST
stop
sst=$(ls "$DIR/data/state/rocksdb/"*.sst | head -1)
[ -n "$sst" ] || fail "no SST file"
$PY - "$sst" <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(64); b = f.read(1); f.seek(64); f.write(bytes([b[0] ^ 0x04])); f.close()
PY
start
grep -q "is damaged" "$DIR/server.log" || fail "the damaged SST was not detected"
converge "after a damaged SST"

# 5. a truncated checkpoint
stop
truncate -s 20 "$DIR/data/state/weir.checkpoint"
start
grep -q "the checkpoint is truncated" "$DIR/server.log" || fail "the truncated checkpoint was not detected"
converge "after a truncated checkpoint"
produce 100
converge "the last input"
stop
echo "PASS: stateful queries, pull queries and state restore ($seq_no records, $starts starts)"
