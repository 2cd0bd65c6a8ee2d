#!/usr/bin/env bash
# sql_eos.sh WEIR_BINARY [KILLS] - the exactly-once SQL test (sql_eos.py): a CSAS echo, a CTAS
# count/sum and a windowed CTAS over 100,000 records while the server is killed KILLS times
# (default 10; SIGKILL and the binary's crash points) and twice more as the queries catch up;
# no transaction is left open, the echo equals the input record for record, the aggregates
# equal sqlite3's, and no pull query returns an uncommitted row.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
dir=$(mktemp -d /tmp/weir-sql-eos.XXXXXX)
trap '[ "${KEEP:-}" ] || rm -rf "$dir"' EXIT
"$PY" "$here/sql_eos.py" "$1" "$dir" "${2:-10}" || {
    grep -E 'WARN|ERROR' "$dir/server.log" | tail -20
    exit 1
}
