#!/usr/bin/env bash
# kafka_corrupt.sh BINARY - compressed batches with garbage inside, sent raw to a fresh
# `weir server`, are refused with CORRUPT_MESSAGE and never reach a consumer (kafka_corrupt.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
trap kafka_cleanup EXIT
kafka_start weir "$1" 1
timeout 120 "$PY" "$here/kafka_corrupt.py" "$KAFKA_BOOTSTRAP" || {
    tail -40 "$KAFKA_LOG" >&2
    exit 1
}
