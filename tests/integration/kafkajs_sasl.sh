#!/usr/bin/env bash
# kafkajs_sasl.sh BINARY - kafkajs (pinned in kafkajs/package.json, installed from npm into a
# cache directory) against `weir server` with SASL SCRAM over a SASL_PLAINTEXT and a SASL_SSL
# listener (kafkajs/sasl_test.js): a client whose Kafka protocol code is not librdkafka's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
bin=$1
command -v node >/dev/null && command -v npm >/dev/null ||
    { echo "SKIP: node and npm are not installed"; exit 77; }
NPMDIR=${WEIR_NPM_DIR:-${TMPDIR:-/tmp}/weir-npm-kafkajs}
mkdir -p "$NPMDIR"
cp "$here/kafkajs/package.json" "$here/kafkajs/sasl_test.js" "$here/kafkajs/acl_test.js" "$NPMDIR/"
if [ ! -d "$NPMDIR/node_modules/kafkajs" ]; then
    (cd "$NPMDIR" && npm install --no-audit --no-fund --loglevel=error >npm.log 2>&1) ||
        { echo "FAIL: npm install kafkajs"; cat "$NPMDIR/npm.log"; exit 1; }
fi
KAFKA_DIR=$(mktemp -d /tmp/weir-kafkajs-test.XXXXXX)
KAFKA_LOG=$KAFKA_DIR/server.log
trap kafka_cleanup EXIT
d=$KAFKA_DIR
"$bin" users add alice --password alice-secret --data-dir "$d/data" >/dev/null
"$bin" users add bob --password bob-secret --mechanism SCRAM-SHA-512 --data-dir "$d/data" >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -subj "/CN=kafkajs test ca" -days 2 \
    -out "$d/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$d/s.key" -subj "/CN=localhost" -out "$d/s.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext"
openssl x509 -req -in "$d/s.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/ext" -out "$d/s.pem" 2>/dev/null
cat "$d/s.key" "$d/s.pem" >"$d/keystore.pem"
for l in SASL_PLAINTEXT SASL_SSL; do
    kafka_start_server "$bin" --property "listeners=$l://127.0.0.1:0,http://127.0.0.1:0" \
        --property ssl.keystore.location="$d/keystore.pem" --property log.flush.policy=none
    ca=-
    [ "$l" = SASL_SSL ] && ca=$d/ca.pem
    echo "# $l"
    timeout 120 node "$NPMDIR/sasl_test.js" "$B" "$ca" || kafka_fail "kafkajs over $l"
    kafka_stop
done
# KIP-368: 2 s sessions; kafkajs re-authenticates on its connection and goes on
kafka_start_server "$bin" --property "listeners=SASL_PLAINTEXT://127.0.0.1:0,http://127.0.0.1:0" \
    --property connections.max.reauth.ms=2000 --property log.flush.policy=none \
    --property log.level=debug
echo "# re-authentication"
timeout 120 node "$NPMDIR/sasl_test.js" "$B" - reauth || kafka_fail "kafkajs with re-authentication"
grep -q "re-authenticated as User:bob" "$KAFKA_LOG" || kafka_fail "kafkajs did not re-authenticate"
kafka_stop
# ACLs: authorizer.class.name=acl, super.users=User:admin; the matrix, then a restart
"$bin" users add admin --password admin-secret --data-dir "$d/acl" >/dev/null
"$bin" users add alice --password alice-secret --data-dir "$d/acl" >/dev/null
"$bin" users add bob --password bob-secret --data-dir "$d/acl" >/dev/null
for phase in grant after-restart; do
    kafka_start_server "$bin" --data-dir "$d/acl" \
        --property "listeners=SASL_PLAINTEXT://127.0.0.1:0,http://127.0.0.1:0" \
        --property authorizer.class.name=acl --property super.users=User:admin \
        --property auto.create.topics.enable=false --property log.flush.policy=none
    echo "# ACLs: $phase"
    timeout 120 node "$NPMDIR/acl_test.js" "$B" "$phase" || kafka_fail "kafkajs ACLs ($phase)"
    if [ "$phase" = grant ]; then
        grep -q "User:alice denied FindCoordinator on g-other (group)" "$KAFKA_LOG" ||
            kafka_fail "no denial of alice's FindCoordinator for g-other"
    fi
    kafka_stop
done
grep -q "User:alice denied Metadata on orders (topic)" "$KAFKA_LOG" || kafka_fail "no log line for a denial"
echo OK
