#!/usr/bin/env bash
# nexmark.sh WEIR_BINARY GEN QUERIES_DIR - the Nexmark queries of bench/nexmark/queries on the
# real `weir server`, each compared with an oracle over the same generated events
# (nexmark_check.py: 30,000 events written with GEN over the Kafka protocol).
set -euo pipefail
WEIR=$1 GEN=$2 QDIR=$3
PY=/usr/bin/python3
"$PY" -c 'import confluent_kafka, sqlite3' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks confluent_kafka"; exit 77; }
[ -x "$GEN" ] || { echo "SKIP: $GEN is not built (librdkafka missing?)"; exit 77; }
DIR=$(mktemp -d /tmp/weir-nexmark-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
. "$here/server_lib.sh"
weir_start "$WEIR" "$DIR" --property log.flush.policy=none || exit 1
"$PY" "$here/nexmark_check.py" "$KPORT" "$HPORT" "$GEN" "$QDIR" ||
    { grep -E 'WARN|ERROR' "$DIR/server.log" | tail -20; exit 1; }
kill "$PID"
wait "$PID" || true
PID=
