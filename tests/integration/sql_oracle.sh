#!/usr/bin/env bash
# sql_oracle.sh WEIR_BINARY - GROUP BY, window and table aggregations of the real binary over
# 130,000 random records, compared row for row with sqlite3 (sql_oracle.py).
set -euo pipefail
WEIR=$1
PY=/usr/bin/python3
"$PY" -c 'import confluent_kafka, sqlite3' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks confluent_kafka"; exit 77; }
DIR=$(mktemp -d /tmp/weir-oracle-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
. "$here/server_lib.sh"
weir_start "$WEIR" "$DIR" || exit 1
"$PY" "$here/sql_oracle.py" "$KPORT" "$HPORT" || { tail -20 "$DIR/server.log"; exit 1; }
kill "$PID"
wait "$PID" || true
PID=
