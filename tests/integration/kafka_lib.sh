# kafka_lib.sh - shared by the Kafka integration tests: start a broker on a free loopback port
# over a temporary data directory and wait (by polling, never by a fixed sleep) until it listens.
#   kafka_start MODE BINARY [PARTITIONS]   MODE = weir (the real `weir server`) or fake
# Sets KAFKA_PORT, KAFKA_PID, KAFKA_DIR, KAFKA_LOG; kafka_stop ends it. Sourced, not run.

kafka_start() {
    local mode=$1 bin=$2 parts=${3:-1}
    KAFKA_DIR=${KAFKA_DIR:-$(mktemp -d /tmp/weir-kafka-test.XXXXXX)}
    KAFKA_LOG=$KAFKA_DIR/server.log
    if [ "$mode" = weir ]; then
        "$bin" server --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$KAFKA_DIR/data" \
            --property num.partitions="$parts" --property log.flush.policy=none \
            >"$KAFKA_LOG" 2>&1 &
        KAFKA_PID=$!
    else
        # the fake server runs until its stdin closes: feed it from a fifo we hold open
        mkfifo "$KAFKA_DIR/stdin"
        "$bin" 0 "$parts" <"$KAFKA_DIR/stdin" >"$KAFKA_LOG" 2>&1 &
        KAFKA_PID=$!
        exec 9>"$KAFKA_DIR/stdin"
    fi
    KAFKA_PORT=
    for _ in $(seq 1 600); do
        if [ "$mode" = weir ]; then
            KAFKA_PORT=$(sed -n 's/.*started: kafka=[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$KAFKA_LOG" | head -1)
        else
            KAFKA_PORT=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$KAFKA_LOG" | head -1)
        fi
        [ -n "$KAFKA_PORT" ] && break
        kill -0 "$KAFKA_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$KAFKA_PORT" ]; then
        echo "broker did not start:" >&2
        cat "$KAFKA_LOG" >&2
        return 1
    fi
    KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
}

kafka_stop() {
    if [ -n "${KAFKA_PID:-}" ]; then
        exec 9>&- 2>/dev/null || true
        kill -TERM "$KAFKA_PID" 2>/dev/null || true
        wait "$KAFKA_PID" 2>/dev/null || true
        KAFKA_PID=
    fi
}

kafka_cleanup() {
    kafka_stop
    [ -n "${KAFKA_DIR:-}" ] && rm -rf "$KAFKA_DIR"
}

# Sets PY to a python3 with confluent_kafka (the Debian one carries python3-confluent-kafka;
# another python3 may come first in PATH), or skips the test (exit 77).
kafka_find_python() {
    PY=
    for cand in /usr/bin/python3 python3; do
        if "$cand" -c 'import confluent_kafka' 2>/dev/null; then PY=$cand; break; fi
    done
    [ -n "$PY" ] || { echo "SKIP: no python3 with confluent_kafka"; exit 77; }
}

# kafka_start_server BINARY ARGS... - `weir server` over $KAFKA_DIR/data with ARGS as they are
# (their own listeners), log in $KAFKA_LOG (emptied first); waits for the started line and sets
# KAFKA_PID, KAFKA_PORT, HTTP_PORT and B (the bootstrap address); kafka_fail when it does not
# start.
kafka_start_server() {
    local bin=$1
    shift
    : >"$KAFKA_LOG"
    "$bin" server --data-dir "$KAFKA_DIR/data" "$@" >"$KAFKA_LOG" 2>&1 &
    KAFKA_PID=$!
    KAFKA_PORT=
    for _ in $(seq 1 600); do
        KAFKA_PORT=$(sed -n 's/.*started: kafka=[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$KAFKA_LOG" | head -1)
        [ -n "$KAFKA_PORT" ] && break
        kill -0 "$KAFKA_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$KAFKA_PORT" ] || kafka_fail "the server did not start with: $*"
    HTTP_PORT=$(sed -n 's/.*started: .* http=[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$KAFKA_LOG" | head -1)
    B=127.0.0.1:$KAFKA_PORT
}

# kafka_fail MESSAGE - prints it and the end of the server's log, and fails the test.
kafka_fail() {
    echo "FAIL: $*" >&2
    tail -30 "$KAFKA_LOG" >&2 || true
    exit 1
}
