#!/usr/bin/env bash
# kafka_restart.sh BINARY TESTBIN - committed consumer-group offsets survive a restart of the real
# `weir server` over the same data directory (librdkafka commits, the server restarts, librdkafka
# reads the committed offsets back).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
bin=$1 testbin=$2
trap kafka_cleanup EXIT
kafka_start weir "$bin" 1
"$testbin" "$KAFKA_BOOTSTRAP" commit-phase1 || { tail -30 "$KAFKA_LOG" >&2; exit 1; }
kafka_stop
mv "$KAFKA_LOG" "$KAFKA_LOG.1"
kafka_start weir "$bin" 1
"$testbin" "$KAFKA_BOOTSTRAP" commit-phase2 || { tail -30 "$KAFKA_LOG" >&2; exit 1; }
