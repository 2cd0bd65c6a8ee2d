#!/usr/bin/env bash
# sql_eos.sh WEIR_BINARY [KILLS] - the exactly-once SQL test (sql_eos.py): a CSAS echo and a CTAS
# count/sum over 100,000 records while the server is killed with SIGKILL KILLS times (default 8);
# the echo equals the input record for record, the aggregates equal sqlite3's, and no pull query
# returns an uncommitted row.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
dir=$(mktemp -d /tmp/weir-sql-eos.XXXXXX)
trap '[ "${KEEP:-}" ] || rm -rf "$dir"' EXIT
"$PY" "$here/sql_eos.py" "$1" "$dir" "${2:-8}" || {
    grep -E 'WARN|ERROR' "$dir/server.log" | tail -20
    exit 1
}
