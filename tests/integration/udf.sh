#!/usr/bin/env bash
# udf.sh WEIR_BINARY TEST_LIBS_DIR SOURCE_ROOT - UDF libraries on the real binary:
#   1. examples/udf is built with its own meson project against udf/weir_udf.h, as a user
#      would, and put in the extension directory with the test libraries of tests/udf: an older
#      version of one of its functions, and one library for each refusal (wrong ABI version, no
#      weir_udf_init, no weir_udf_abi, a built-in's name, an unknown type, a file other users
#      can write);
#   2. the server starts, logs each refusal with its exact message, and runs CSAS/CTAS queries
#      with every kind of function (vector and row scalars, generic variadic, an aggregate, a
#      table function); their outputs, read with kcat and pull queries, are checked byte for
#      byte; a UDF's error for a row is null and a processing-log record;
#   3. CREATE FUNCTIONS FROM a newer version of REVERSE_WORDS: a query started before keeps the
#      old one, a new query gets the new one; a library off the allowlist is refused;
#   4. after a restart the functions are loaded again (the statement too), the queries go on
#      with the functions they had, and the aggregate's state came back;
#   5. an extension directory that is not on the allowlist is not loaded from.
set -euo pipefail
WEIR=$1 LIBS=$2 SRC=$3
for tool in curl kcat meson ninja; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
DIR=$(mktemp -d /tmp/weir-udf-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
. "$here/server_lib.sh"
fail() { echo "FAIL: $*"; tail -30 "$DIR/server.log" 2>/dev/null; exit 1; }
stop() { kill "$PID"; wait "$PID" || true; PID=; }
ksql() { # STATEMENT -> the response (fails on an HTTP error)
    curl -sf -XPOST "127.0.0.1:$HPORT/ksql" \
        -d "{\"ksql\":\"$1\",\"streamsProperties\":{\"auto.offset.reset\":\"earliest\"}}" ||
        fail "statement failed: $1"
}
values() { # TOPIC N -> the first N record values of TOPIC, one a line
    kcat -b "127.0.0.1:$KPORT" -C -t "$1" -o beginning -c "$2" -e -q -f '%s\n'
}

# ---- 1. the libraries ------------------------------------------------------------------------
meson setup "$DIR/exbuild" "$SRC/examples/udf" -Dweir_include="$SRC/udf" >"$DIR/exbuild.log" 2>&1 ||
    { cat "$DIR/exbuild.log"; fail "the example does not configure"; }
ninja -C "$DIR/exbuild" >>"$DIR/exbuild.log" 2>&1 || { cat "$DIR/exbuild.log"; fail "the example does not build"; }
EXT="$DIR/ext"
mkdir -m 755 "$EXT"
install -m 644 "$DIR/exbuild/weir_example.so" "$EXT/a_example.so" # loaded in name order
install -m 644 "$LIBS/udf_older.so" "$EXT/c_older.so"
for lib in bad_abi no_init no_abi builtin bad_type; do
    install -m 644 "$LIBS/udf_$lib.so" "$EXT/d_$lib.so"
done
install -m 666 "$LIBS/udf_leaky.so" "$EXT/e_writable.so"
EXT=$(cd "$EXT" && pwd -P)
MORE="$DIR/more" # allowlisted, not loaded at start
mkdir -m 755 "$MORE"
install -m 644 "$LIBS/udf_v2.so" "$MORE/v2.so"
MORE=$(cd "$MORE" && pwd -P)
ARGS=(--property "ksql.extension.dir=$EXT" --property "weir.udf.allowlist=$EXT,$MORE")

# ---- 2. loading, refusals, queries ----------------------------------------------------------------
weir_start "$WEIR" "$DIR" "${ARGS[@]}" || exit 1
expect_log() {
    grep -qF -- "$1" "$DIR/server.log" || fail "the log lacks: $1"
}
expect_log "loaded $EXT/a_example.so: SPLIT_WORDS 1.0.0, GEOMEAN 1.0.0, FIRST_NON_NULL 1.0.0, SAFE_DIV 1.0.0, REVERSE_WORDS 1.0.0, MULTIPLY 1.0.0"
expect_log "refused $EXT/c_older.so: function REVERSE_WORDS version 0.9.0 is not newer than the loaded version 1.0.0 from $EXT/a_example.so: only a newer version replaces it"
expect_log "refused $EXT/d_bad_abi.so: it was built for UDF ABI version 99; this weir speaks version 1"
expect_log "refused $EXT/d_no_init.so: it does not export weir_udf_init"
expect_log "refused $EXT/d_no_abi.so: it does not export weir_udf_abi (build it with WEIR_UDF_LIBRARY from weir_udf.h)"
expect_log "refused $EXT/d_builtin.so: function ABS has the name of a built-in function; a library cannot replace it"
expect_log "refused $EXT/d_bad_type.so: function TEST_FN: unknown type FOO in 'STRING, FOO'"
expect_log "refused $EXT/e_writable.so: it or its directory is writable by other users"
expect_log "1 UDF library loaded from $EXT"
echo "ok   the example loaded; 7 libraries refused, each with its reason"

ksql "DESCRIBE FUNCTION GEOMEAN;" | grep -qF "\"author\":\"weir examples\",\"version\":\"1.0.0\",\"path\":\"$EXT/a_example.so\",\"type\":\"AGGREGATE\",\"functions\":[{\"signature\":\"GEOMEAN(DOUBLE) -> DOUBLE\"" ||
    fail "DESCRIBE FUNCTION GEOMEAN"
ksql "DESCRIBE FUNCTION ABS;" | grep -qF '"author":"weir","version":"' || fail "DESCRIBE FUNCTION ABS"
ksql "SHOW FUNCTIONS;" | grep -qF '{"name":"SPLIT_WORDS","type":"table","category":"TABLE"}' ||
    fail "SHOW FUNCTIONS lacks SPLIT_WORDS"
echo "ok   DESCRIBE FUNCTION and SHOW FUNCTIONS list UDFs as they list built-ins"

ksql "CREATE STREAM S (ID BIGINT KEY, A INT, B BIGINT, TXT STRING, X DOUBLE) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);" >/dev/null
ksql "CREATE STREAM O AS SELECT ID, MULTIPLY(A, B) AS M, MULTIPLY(X, 1.5) AS MD, REVERSE_WORDS(TXT) AS R, SAFE_DIV(B, A) AS D, FIRST_NON_NULL(TXT, 'none') AS F FROM S;" >/dev/null
ksql "CREATE TABLE G AS SELECT ID, GEOMEAN(X) AS GM, COUNT(*) AS C FROM S GROUP BY ID;" >/dev/null
ksql "CREATE STREAM W AS SELECT ID, SPLIT_WORDS(TXT) AS WORD FROM S;" >/dev/null
ksql "CREATE STREAM W2 AS SELECT ID, SPLIT_WORDS(TXT, A) AS WORD FROM S;" >/dev/null
ksql "INSERT INTO S (ID, A, B, TXT, X) VALUES (1, 3, 4, 'hello big world', 2.0);" >/dev/null
ksql "INSERT INTO S (ID, A, B, TXT, X) VALUES (2, 0, 9, 'one', 8.0);" >/dev/null
ksql "INSERT INTO S (ID, A, B, TXT, X) VALUES (1, NULL, 7, NULL, 4.0);" >/dev/null
cat >"$DIR/want_o" <<'EOF'
{"M":12,"MD":3.0,"R":"world big hello","D":1,"F":"hello big world"}
{"M":0,"MD":12.0,"R":"one","D":null,"F":"one"}
{"M":null,"MD":6.0,"R":null,"D":null,"F":"none"}
EOF
values O 3 >"$DIR/got_o" || true
diff "$DIR/want_o" "$DIR/got_o" || fail "scalar UDFs' output"
printf '%s\n' '{"WORD":"hello"}' '{"WORD":"big"}' '{"WORD":"world"}' '{"WORD":"one"}' >"$DIR/want_w"
values W 4 >"$DIR/got_w" || true
diff "$DIR/want_w" "$DIR/got_w" || fail "the table function's output"
# two arguments, the INT one coerced to the BIGINT parameter: 3 words of the first row, none of
# the second (A = 0), and a null argument gives no row; then the restart's row gives 2
printf '%s\n' '{"WORD":"hello"}' '{"WORD":"big"}' '{"WORD":"world"}' >"$DIR/want_w2"
values W2 3 >"$DIR/got_w2" || true
diff "$DIR/want_w2" "$DIR/got_w2" || fail "the table function with two arguments"
kcat -b "127.0.0.1:$KPORT" -C -t weir_processing_log -o beginning -e -q >"$DIR/plog" || true
# one record for the row, at its offset (the second record of s)
[ "$(grep -c 'SAFE_DIV: division by zero' "$DIR/plog")" = 1 ] &&
    grep -qF '"topic":"s","partition":0,"offset":1,"errorMessage":"SAFE_DIV: division by zero"' "$DIR/plog" ||
    { cat "$DIR/plog"; fail "no processing-log record of the UDF's error for its row"; }
echo "ok   CSAS with vector, row, generic and table UDFs; a row's error is null and in the processing log"

pull() { curl -sf -XPOST "127.0.0.1:$HPORT/query" -d "{\"ksql\":\"$1\"}"; }
pull "SELECT ID, GM, C FROM G WHERE ID = 1;" | grep -qF '{"row":{"columns":[1,2.82842712474619,2]}}' ||
    { pull "SELECT * FROM G;"; fail "GEOMEAN's table"; }
# over a table, a row's update takes the old value back out (the UDAF's undo)
ksql "CREATE TABLE T (ID BIGINT PRIMARY KEY, G STRING, X DOUBLE) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=1);" >/dev/null
ksql "CREATE TABLE TG AS SELECT G, GEOMEAN(X) AS GM FROM T GROUP BY G;" >/dev/null
ksql "INSERT INTO T (ID, G, X) VALUES (1, 'a', 2.0);" >/dev/null
ksql "INSERT INTO T (ID, G, X) VALUES (2, 'a', 8.0);" >/dev/null
ksql "INSERT INTO T (ID, G, X) VALUES (1, 'a', 4.0);" >/dev/null
tg_is() { # the geometric mean of 4 and 8: the first row's 2 was undone
    pull "SELECT G, GM FROM TG WHERE G = 'a';" | /usr/bin/python3 -c '
import json, math, sys
rows = [json.loads(l.rstrip(",\n"))["row"]["columns"] for l in sys.stdin if "\"row\"" in l]
sys.exit(0 if len(rows) == 1 and abs(rows[0][1] - math.sqrt(32)) < 1e-9 else 1)'
}
for _ in $(seq 1 50); do
    tg_is && break
    sleep 0.2
done
tg_is || { pull "SELECT * FROM TG;"; fail "GEOMEAN over a table: the update's old value was not undone"; }
echo "ok   CTAS with a UDAF (state in the store), over a stream and over a table (undo)"

# ---- 3. a newer version by statement ------------------------------------------------------------
ksql "CREATE FUNCTIONS FROM '$MORE/v2.so';" | grep -qF "Loaded 1 function from $MORE/v2.so" ||
    fail "CREATE FUNCTIONS FROM"
expect_log "loaded $MORE/v2.so: REVERSE_WORDS 2.0.0 (replaces the older one for new queries)"
ksql "CREATE STREAM O2 AS SELECT ID, REVERSE_WORDS(TXT) AS R FROM S;" >/dev/null
printf '%s\n' '{"R":"HELLO BIG WORLD"}' '{"R":"ONE"}' '{"R":null}' >"$DIR/want_o2"
values O2 3 >"$DIR/got_o2" || true
diff "$DIR/want_o2" "$DIR/got_o2" || fail "a new query should get REVERSE_WORDS 2.0.0"
curl -s -XPOST "127.0.0.1:$HPORT/ksql" -d "{\"ksql\":\"CREATE FUNCTIONS FROM '$DIR/exbuild/weir_example.so';\"}" |
    grep -qF "line 1:23: refused $DIR/exbuild/weir_example.so: its directory $DIR/exbuild is not on the allowlist (weir.udf.allowlist)" ||
    fail "a library off the allowlist was not refused by the statement"
echo "ok   CREATE FUNCTIONS FROM: a newer version for new queries, the old one for running ones"

# ---- 4. restart ------------------------------------------------------------------------------------
stop
weir_start "$WEIR" "$DIR" "${ARGS[@]}" || exit 1
ksql "INSERT INTO S (ID, A, B, TXT, X) VALUES (1, 2, 5, 'last words', 8.0);" >/dev/null
printf '%s\n' '{"M":10,"MD":12.0,"R":"words last","D":2,"F":"last words"}' >"$DIR/want_o4"
printf '%s\n' '{"R":"LAST WORDS"}' >"$DIR/want_o24"
for _ in $(seq 1 50); do
    values O 4 2>/dev/null | tail -1 >"$DIR/got_o4" || true
    values O2 4 2>/dev/null | tail -1 >"$DIR/got_o24" || true
    cmp -s "$DIR/want_o4" "$DIR/got_o4" && cmp -s "$DIR/want_o24" "$DIR/got_o24" && break
    sleep 0.2
done
diff "$DIR/want_o4" "$DIR/got_o4" || fail "the CSAS after a restart (REVERSE_WORDS 1.0.0)"
diff "$DIR/want_o24" "$DIR/got_o24" || fail "the later CSAS after a restart (REVERSE_WORDS 2.0.0)"
gm_is() { # the geometric mean of 2, 4 and 8 over 3 rows: its state (2 and 4) came back
    pull "SELECT ID, GM, C FROM G WHERE ID = 1;" | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l.rstrip(",\n"))["row"]["columns"] for l in sys.stdin if "\"row\"" in l]
sys.exit(0 if len(rows) == 1 and abs(rows[0][1] - 4.0) < 1e-9 and rows[0][2] == 3 else 1)'
}
for _ in $(seq 1 50); do
    gm_is && break
    sleep 0.2
done
gm_is || { pull "SELECT * FROM G;"; fail "GEOMEAN after a restart: its state should have come back"; }
stop
echo "ok   after a restart the UDFs are loaded again, each query with its version, and the UDAF's state is back"

# ---- 5. the allowlist ------------------------------------------------------------------------------
weir_start "$WEIR" "$DIR" --property "ksql.extension.dir=$EXT" --property "weir.udf.allowlist=$DIR/exbuild" || exit 1
expect_log "extension directory $EXT is not on the allowlist (weir.udf.allowlist): no UDFs loaded"
curl -s -XPOST "127.0.0.1:$HPORT/ksql" -d '{"ksql":"DESCRIBE FUNCTION GEOMEAN;"}' |
    grep -qF 'function GEOMEAN does not exist' || fail "GEOMEAN loaded from outside the allowlist"
stop
echo "ok   nothing is loaded from a directory off the allowlist"
