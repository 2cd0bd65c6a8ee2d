#!/usr/bin/env bash
# kafka_python.sh MODE BINARY - runs kafka_python.py against a fresh broker.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
trap kafka_cleanup EXIT
kafka_start "$1" "$2" 1
"$PY" "$here/kafka_python.py" "$KAFKA_BOOTSTRAP" ${KAFKA_PY_GROUPS:-} || {
    tail -30 "$KAFKA_LOG" >&2
    exit 1
}
