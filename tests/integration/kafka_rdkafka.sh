#!/usr/bin/env bash
# kafka_rdkafka.sh MODE BINARY TESTBIN TEST... - runs the librdkafka C tests against a fresh broker.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
mode=$1 bin=$2 testbin=$3
shift 3
trap kafka_cleanup EXIT
kafka_start "$mode" "$bin" 1
"$testbin" "$KAFKA_BOOTSTRAP" "$@" || { tail -30 "$KAFKA_LOG" >&2; exit 1; }
echo "broker answered $(grep -c 'duplicate batch' "$KAFKA_LOG" || true) retried batch(es) as duplicates"
