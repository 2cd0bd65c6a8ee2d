#!/usr/bin/env bash
# sql_csas.sh - the SQL path end to end on the real binary: `weir server` with a queries file
# (ksqlDB's headless mode) runs a CSAS with a filter and a projection over a 4-partition topic
# fed by kcat; the output read back with kcat must be exactly the expected rows, keys and
# values byte for byte. Then the server is stopped with `kill` (SIGTERM) and started again, more
# input arrives, and the query must resume from its committed offsets: the whole output holds
# every expected row exactly once, with no gap and no duplicate. A record that is not JSON is
# skipped, counted in the processing log, and does not stop the query.
#   sql_csas.sh WEIR_BINARY
set -euo pipefail
WEIR=$1
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }

DIR=$(mktemp -d /tmp/weir-sql-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
cat >"$DIR/queries.sql" <<'SQL'
-- the stream over the input topic, and a filtered projection of it
SET 'auto.offset.reset' = 'earliest';
CREATE STREAM ORDERS (ID STRING KEY, ITEM STRING, QTY INT, PRICE DOUBLE)
  WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE STREAM BIG_ORDERS WITH (KAFKA_TOPIC='big_orders') AS
  SELECT ID, UCASE(ITEM) AS ITEM, QTY * PRICE AS TOTAL
  FROM ORDERS WHERE QTY >= 10;
SQL

. "$(cd "$(dirname "$0")" && pwd)/server_lib.sh"
start() {
    weir_start "$WEIR" "$DIR" --queries-file "$DIR/queries.sql" || exit 1
    PORT=$KPORT
}

produce() { # from to: keyed JSON orders, zstd-compressed
    for i in $(seq "$1" "$2"); do
        printf 'o%s:{"ITEM":"item%s","QTY":%s,"PRICE":1.5}\n' "$i" "$i" $((i % 20))
    done | kcat -b "127.0.0.1:$PORT" -t orders -K: -P -z zstd
}

expected() { # from to: the rows the CSAS must write, as KEY|VALUE, sorted (QTY*1.5 prints
    # with one decimal, as Java's Double.toString does for these values: 15.0, 16.5, ...)
    seq "$1" "$2" | awk '{ q = $1 % 20; if (q >= 10)
        printf "o%d|{\"ITEM\":\"ITEM%d\",\"TOTAL\":%.1f}\n", $1, $1, q * 1.5 }' | sort
}

consume() { # every output row as KEY|VALUE, sorted
    kcat -b "127.0.0.1:$PORT" -t big_orders -C -e -q -f '%k|%s\n' | sort
}

wait_rows() { # n: until the output holds n rows (or 30 s)
    for _ in $(seq 1 300); do
        [ "$(consume | wc -l)" -ge "$1" ] && return 0
        sleep 0.1
    done
}

fail=0
check() { # name expected-file got-file
    if cmp -s "$2" "$3"; then
        echo "ok: $1"
    else
        echo "FAIL: $1"; diff "$2" "$3" | head -20; fail=1
    fi
}

start
produce 1 200
expected 1 200 >"$DIR/want1"
wait_rows "$(wc -l <"$DIR/want1")"
consume >"$DIR/got1"
check "CSAS output over 4 partitions equals the expected rows" "$DIR/want1" "$DIR/got1"
parts=$(kcat -b "127.0.0.1:$PORT" -L -t big_orders | grep -c 'partition ' || true)
[ "$parts" = 4 ] && echo "ok: the sink has the source's 4 partitions" || { echo "FAIL: sink partitions $parts"; fail=1; }

# a record that is not JSON: skipped, logged to the processing log, the query goes on
printf 'bad:{not json\n' | kcat -b "127.0.0.1:$PORT" -t orders -K: -P
kill -TERM "$PID"
wait "$PID" || true
PID=
grep -q "stopped cleanly" "$DIR/server.log" && echo "ok: clean stop" || { echo "FAIL: no clean stop"; fail=1; }

start
produce 201 400
expected 1 400 >"$DIR/want2"
wait_rows "$(wc -l <"$DIR/want2")"
sleep 0.5 # a duplicate would arrive with the rest: give it the time to show
consume >"$DIR/got2"
check "after a restart the output has every row once: no gap, no duplicate" "$DIR/want2" "$DIR/got2"
plog=$(kcat -b "127.0.0.1:$PORT" -t weir_processing_log -C -e -q | grep -c '"offset"' || true)
[ "$plog" -ge 1 ] && echo "ok: the bad record is in the processing log" || { echo "FAIL: processing log empty"; fail=1; }
kill -TERM "$PID"
wait "$PID" || true
PID=
exit $fail
