#!/usr/bin/env bash
# kafka_txn.sh BINARY - Kafka transactions (kafka_txn.py, librdkafka through python) against a
# fresh `weir server`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
trap kafka_cleanup EXIT
kafka_start weir "$1" 2
hport=$(sed -n 's/.*started: kafka=[^ ]* http=[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$KAFKA_LOG" | head -1)
timeout 240 "$PY" "$here/kafka_txn.py" "$KAFKA_BOOTSTRAP" "$hport" || {
    tail -40 "$KAFKA_LOG" >&2
    exit 1
}
