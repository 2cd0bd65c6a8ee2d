#!/usr/bin/env bash
# ksqldb_client.sh - a real ksqlDB client from npm (ksqldb-client, over HTTP/2) against the real
# `weir server`: installs the client with npm (pinned in ksqldb_client/package.json) into a
# cache directory, starts the server, and runs ksqldb_client/client_test.js.
#   ksqldb_client.sh WEIR_BINARY
set -uo pipefail
WEIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null && command -v npm >/dev/null ||
    { echo "SKIP: node and npm are not installed"; exit 77; }

# the client is installed once per machine (npm's own cache makes a re-install cheap too)
NPMDIR=${WEIR_NPM_DIR:-${TMPDIR:-/tmp}/weir-npm-ksqldb-client}
mkdir -p "$NPMDIR"
cp "$HERE/ksqldb_client/package.json" "$HERE/ksqldb_client/client_test.js" "$NPMDIR/"
if [ ! -d "$NPMDIR/node_modules/ksqldb-client" ]; then
    (cd "$NPMDIR" && npm install --no-audit --no-fund --loglevel=error >npm.log 2>&1) ||
        { echo "FAIL: npm install ksqldb-client"; cat "$NPMDIR/npm.log"; exit 1; }
fi

DIR=$(mktemp -d /tmp/weir-npm-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
. "$HERE/server_lib.sh"
weir_start "$WEIR" "$DIR" || exit 1
timeout 120 node "$NPMDIR/client_test.js" "$HPORT"
rc=$?
kill "$PID"
wait "$PID" || { echo "FAIL: the server did not stop cleanly"; rc=1; }
PID=
exit $rc
