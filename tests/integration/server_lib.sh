# server_lib.sh - shared by the SQL and HTTP integration tests: starts the real `weir server`
# on free loopback ports over DIR/data and waits (by polling its log, never by a fixed sleep)
# until it has started. Sourced, not run.
#   weir_start BINARY DIR [SERVER ARGS...]
# Appends to DIR/server.log (a restart adds a new "started" line) and sets PID, KPORT, HPORT;
# returns 1 after printing the log when the server does not start.

weir_start() {
    local bin=$1 dir=$2 before line
    shift 2
    before=$(grep -c 'started: kafka' "$dir/server.log" 2>/dev/null || true)
    "$bin" server --data-dir "$dir/data" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
        "$@" >>"$dir/server.log" 2>&1 &
    PID=$!
    KPORT= HPORT=
    for _ in $(seq 1 600); do
        if [ "$(grep -c 'started: kafka' "$dir/server.log" || true)" -gt "${before:-0}" ]; then
            line=$(grep 'started: kafka' "$dir/server.log" | tail -1)
            KPORT=$(sed -n 's/.*kafka=[^ ]*:\([0-9][0-9]*\) .*/\1/p' <<<"$line")
            HPORT=$(sed -n 's/.*http=[^ ]*:\([0-9][0-9]*\) .*/\1/p' <<<"$line")
            return 0
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: server did not start"
    cat "$dir/server.log"
    return 1
}
