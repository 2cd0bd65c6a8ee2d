#!/usr/bin/env bash
# kafka_sasl.sh BINARY - SASL on the Kafka listener, as users drive it: `weir users add` on the
# data directory, then `weir server` with listeners=SASL_PLAINTEXT://..., and kcat and
# confluent-kafka authenticating with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN (right and wrong
# passwords, unknown users, no SASL at all); hostile SASL frames (kafka_sasl.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
bin=$1
KAFKA_DIR=$(mktemp -d /tmp/weir-sasl-test.XXXXXX)
KAFKA_LOG=$KAFKA_DIR/server.log
trap kafka_cleanup EXIT
fail() { kafka_fail "$@"; }

data=$KAFKA_DIR/data
"$bin" users add alice --password alice-secret --data-dir "$data" >/dev/null
printf 'bob-secret\n' >"$KAFKA_DIR/bob.pw"
"$bin" users add bob --password-file "$KAFKA_DIR/bob.pw" --mechanism SCRAM-SHA-512 \
    --iterations 4096 --data-dir "$data" >/dev/null
"$bin" users add carol --password carol-secret --data-dir "$data" >/dev/null
"$bin" users delete carol --data-dir "$data" >/dev/null
listed=$("$bin" users list --data-dir "$data")
want=$(printf 'alice\tSCRAM-SHA-256\titerations=8192\nalice\tSCRAM-SHA-512\titerations=8192\nbob\tSCRAM-SHA-512\titerations=4096')
[ "$listed" = "$want" ] || fail "users list gave: $listed"
if "$bin" users add dave --password x --mechanism MD5 --data-dir "$data" 2>/dev/null; then
    fail "an unknown mechanism was accepted"
fi
grep -q alice-secret -r "$data" && fail "a password is stored in the clear"

kafka_start_server "$bin" \
    --property listeners=SASL_PLAINTEXT://127.0.0.1:0,http://127.0.0.1:0 \
    --property sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN \
    --property log.flush.policy=none

sasl() { # MECH USER PASSWORD: kcat's SASL options
    echo -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms="$1" -X sasl.username="$2" \
        -X sasl.password="$3"
}
# shellcheck disable=SC2046
printf 'one\ntwo\nthree\n' | timeout 30 kcat -b "$B" $(sasl SCRAM-SHA-256 alice alice-secret) \
    -P -t t1 -K: || fail "kcat could not produce as alice (SCRAM-SHA-256)"
for who in "SCRAM-SHA-512 bob bob-secret" "PLAIN alice alice-secret" "SCRAM-SHA-512 alice alice-secret"; do
    # shellcheck disable=SC2046,SC2086
    got=$(timeout 30 kcat -b "$B" $(sasl $who) -C -t t1 -o beginning -e -q) ||
        fail "kcat could not consume as $who"
    [ "$got" = "$(printf 'one\ntwo\nthree')" ] || fail "consumed as $who: $got"
done
for who in "SCRAM-SHA-256 alice wrong" "SCRAM-SHA-512 bob alice-secret" \
    "SCRAM-SHA-256 bob bob-secret" "SCRAM-SHA-256 nobody x" "PLAIN bob wrong" "PLAIN nobody x"; do
    # shellcheck disable=SC2046,SC2086
    if out=$(timeout 20 kcat -b "$B" $(sasl $who) -L -m 1 2>&1); then
        fail "kcat listed metadata as $who: $out"
    fi
    grep -q -i "authentication failed" <<<"$out" || fail "no authentication error for $who: $out"
done
# no SASL at all: the connection is closed at the first request that is not ApiVersions
if out=$(timeout 20 kcat -b "$B" -L -m 1 2>&1); then
    fail "a client without SASL listed metadata: $out"
fi
grep -q "before SASL authentication" "$KAFKA_LOG" || fail "no log line for the unauthenticated request"
grep -q "authenticated as User:alice" "$KAFKA_LOG" || fail "no log line for alice"

timeout 120 "$PY" "$here/kafka_sasl.py" "$B" || fail "kafka_sasl.py"
# the server lived through all of it and still serves
# shellcheck disable=SC2046
got=$(timeout 30 kcat -b "$B" $(sasl SCRAM-SHA-512 bob bob-secret) -C -t t1 -o beginning -e -q) ||
    fail "kcat could not consume after the hostile frames"
[ "$(wc -l <<<"$got")" -ge 3 ] || fail "after the hostile frames: $got"
kafka_stop

# KIP-368: sessions of 1.5 s, re-authentication on the connection, clients without it
kafka_start_server "$bin" \
    --property listeners=SASL_PLAINTEXT://127.0.0.1:0,http://127.0.0.1:0 \
    --property sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN \
    --property connections.max.reauth.ms=1500 --property log.flush.policy=none
timeout 120 "$PY" "$here/kafka_sasl.py" "$B" reauth || fail "kafka_sasl.py reauth"
grep -q "after the SASL session expired" "$KAFKA_LOG" || fail "no log line for an expired session"
echo "OK"
