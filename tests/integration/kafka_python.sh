#!/usr/bin/env bash
# kafka_python.sh MODE BINARY - runs kafka_python.py against a fresh broker.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
# the Debian python3 carries python3-confluent-kafka; another python3 may come first in PATH
py=
for cand in /usr/bin/python3 python3; do
    if "$cand" -c 'import confluent_kafka' 2>/dev/null; then py=$cand; break; fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with confluent_kafka"; exit 77; }
trap kafka_cleanup EXIT
kafka_start "$1" "$2" 1
"$py" "$here/kafka_python.py" "$KAFKA_BOOTSTRAP" ${KAFKA_PY_GROUPS:-} || {
    tail -30 "$KAFKA_LOG" >&2
    exit 1
}
