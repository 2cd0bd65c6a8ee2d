#!/usr/bin/env bash
# kafka_tls.sh BINARY - TLS on the Kafka listener with certificates made here by openssl: kcat
# and confluent-kafka over SSL (server certificate checked against the test CA), SASL_SSL with
# SCRAM-SHA-512, and mutual TLS (ssl.client.auth=required: no certificate, a certificate of
# another CA, and the right one); hostile bytes: plaintext Kafka to a TLS port, a handshake cut
# halfway, garbage. The server lives through all of it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
kafka_find_python
bin=$1
KAFKA_DIR=$(mktemp -d /tmp/weir-tls-test.XXXXXX)
KAFKA_LOG=$KAFKA_DIR/server.log
trap kafka_cleanup EXIT
fail() { kafka_fail "$@"; }
d=$KAFKA_DIR
# a CA, a server certificate for 127.0.0.1 and localhost, a client certificate; another CA
mkcert() { # NAME SUBJECT CA [SAN]
    openssl req -newkey rsa:2048 -nodes -keyout "$d/$1.key" -subj "$2" -out "$d/$1.csr" 2>/dev/null
    if [ -n "${4:-}" ]; then printf 'subjectAltName=%s\n' "$4" >"$d/$1.ext"; else : >"$d/$1.ext"; fi
    openssl x509 -req -in "$d/$1.csr" -CA "$d/$3.pem" -CAkey "$d/$3.key" -CAcreateserial \
        -days 2 -extfile "$d/$1.ext" -out "$d/$1.pem" 2>/dev/null
}
for ca in ca other; do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/$ca.key" -subj "/CN=weir test $ca" \
        -days 2 -out "$d/$ca.pem" 2>/dev/null
done
mkcert server "/CN=localhost" ca "IP:127.0.0.1,DNS:localhost"
mkcert client "/CN=alice/O=weir" ca
mkcert stranger "/CN=mallory" other
# an expired client certificate of the right CA (valid until yesterday), a self-signed one
openssl req -newkey rsa:2048 -nodes -keyout "$d/expired.key" -subj "/CN=old" -out "$d/expired.csr" 2>/dev/null
openssl x509 -req -in "$d/expired.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days -1 \
    -out "$d/expired.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/self.key" -subj "/CN=self" -days 2 \
    -out "$d/self.pem" 2>/dev/null
cat "$d/server.key" "$d/server.pem" >"$d/keystore.pem"

start() { # LISTENER PROPERTY...
    local l=$1
    shift
    kafka_start_server "$bin" --property "listeners=$l://127.0.0.1:0,http://127.0.0.1:0" \
        --property ssl.keystore.location="$d/keystore.pem" --property log.flush.policy=none "$@"
}
stop() {
    kill -TERM "$KAFKA_PID" 2>/dev/null || true
    wait "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=
}
ssl="-X security.protocol=SSL -X ssl.ca.location=$d/ca.pem"

# ---- SSL, server authentication only
start SSL
# shellcheck disable=SC2086
printf 'a\nb\nc\n' | timeout 30 kcat -b "$B" $ssl -P -t t1 || fail "kcat produce over SSL"
# shellcheck disable=SC2086
got=$(timeout 30 kcat -b "$B" $ssl -C -t t1 -o beginning -e -q) || fail "kcat consume over SSL"
[ "$got" = "$(printf 'a\nb\nc')" ] || fail "consumed over SSL: $got"
# a client that does not trust the server's CA refuses it
if out=$(timeout 20 kcat -b "$B" -X security.protocol=SSL -X ssl.ca.location="$d/other.pem" -L -m 1 2>&1); then
    fail "a client with another CA accepted the server: $out"
fi
# TLS 1.2 only on the client side still works (the listener enables 1.2 and 1.3)
# shellcheck disable=SC2086
timeout 20 kcat -b "$B" $ssl -X ssl.protocol.version=TLSv1.2 -L -m 3 >/dev/null 2>&1 ||
    timeout 20 kcat -b "$B" $ssl -L -m 3 >/dev/null || fail "metadata over SSL"
timeout 60 "$PY" "$here/kafka_tls.py" "$B" "$d" ssl || fail "kafka_tls.py ssl"
stop

# ---- SASL_SSL with SCRAM-SHA-512
"$bin" users add alice --password alice-secret --mechanism SCRAM-SHA-512 --data-dir "$d/data" >/dev/null
start SASL_SSL
sasl="$ssl -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=alice"
# shellcheck disable=SC2086
got=$(timeout 30 kcat -b "$B" $sasl -X sasl.password=alice-secret -C -t t1 -o beginning -e -q) ||
    fail "kcat consume over SASL_SSL"
[ "$got" = "$(printf 'a\nb\nc')" ] || fail "consumed over SASL_SSL: $got"
# shellcheck disable=SC2086
if out=$(timeout 20 kcat -b "$B" $sasl -X sasl.password=wrong -L -m 1 2>&1); then
    fail "a wrong password over SASL_SSL listed metadata"
fi
grep -q -i "authentication failed" <<<"$out" || fail "no authentication error over SASL_SSL: $out"
timeout 60 "$PY" "$here/kafka_tls.py" "$B" "$d" sasl_ssl || fail "kafka_tls.py sasl_ssl"
stop

# ---- mutual TLS
start SSL --property ssl.client.auth=required --property ssl.truststore.location="$d/ca.pem"
mtls="$ssl -X ssl.certificate.location=$d/client.pem -X ssl.key.location=$d/client.key"
# shellcheck disable=SC2086
got=$(timeout 30 kcat -b "$B" $mtls -C -t t1 -o beginning -e -q) || fail "kcat with a client certificate"
[ "$got" = "$(printf 'a\nb\nc')" ] || fail "consumed with mTLS: $got"
# shellcheck disable=SC2086
if timeout 20 kcat -b "$B" $ssl -L -m 1 >/dev/null 2>&1; then
    fail "a client without a certificate was served under ssl.client.auth=required"
fi
# shellcheck disable=SC2086
if timeout 20 kcat -b "$B" $ssl -X ssl.certificate.location="$d/stranger.pem" \
    -X ssl.key.location="$d/stranger.key" -L -m 1 >/dev/null 2>&1; then
    fail "a certificate of another CA was accepted"
fi
for c in expired self; do
    # shellcheck disable=SC2086
    if timeout 20 kcat -b "$B" $ssl -X ssl.certificate.location="$d/$c.pem" \
        -X ssl.key.location="$d/$c.key" -L -m 1 >/dev/null 2>&1; then
        fail "a $c client certificate was accepted"
    fi
done
grep -q "client certificate\|handshake" "$KAFKA_LOG" || fail "no log line for the refused certificates"
grep -q "certificate has expired" "$KAFKA_LOG" || fail "the expired certificate's refusal does not say so"
timeout 60 "$PY" "$here/kafka_tls.py" "$B" "$d" hostile || fail "kafka_tls.py hostile"
# shellcheck disable=SC2086
timeout 30 kcat -b "$B" $mtls -L -m 3 >/dev/null || fail "the server stopped serving after hostile input"
stop

# ---- HTTPS for the HTTP API (HTTP/1.1 and HTTP/2 by ALPN), with Basic authentication on it
kafka_start_server "$bin" --property "listeners=SSL://127.0.0.1:0,https://127.0.0.1:0" \
    --property ssl.keystore.location="$d/keystore.pem" --property authentication.method=BASIC
H=https://localhost:$HTTP_PORT
v=$(curl -s --cacert "$d/ca.pem" -u alice:alice-secret -o "$d/info" -w '%{http_code} %{http_version}' "$H/info")
[ "$v" = "200 2" ] || fail "HTTPS /info gave '$v' (want 200 over HTTP/2)"
grep -q KsqlServerInfo "$d/info" || fail "HTTPS /info body: $(cat "$d/info")"
v=$(curl -s --http1.1 --cacert "$d/ca.pem" -u alice:alice-secret -o /dev/null -w '%{http_code} %{http_version}' "$H/info")
[ "$v" = "200 1.1" ] || fail "HTTPS /info over HTTP/1.1 gave '$v'"
v=$(curl -s --cacert "$d/ca.pem" -o /dev/null -w '%{http_code}' "$H/info")
[ "$v" = 401 ] || fail "HTTPS /info without credentials gave $v"
v=$(curl -s --cacert "$d/ca.pem" -o /dev/null -w '%{http_code}' "$H/livez")
[ "$v" = 200 ] || fail "HTTPS /livez gave $v"
out=$(curl -s --cacert "$d/ca.pem" -u alice:alice-secret -X POST -H 'Content-Type: application/vnd.ksql.v1+json' \
    -d '{"ksql":"SHOW TOPICS;"}' "$H/ksql")
grep -q '"t1"' <<<"$out" || fail "HTTPS SHOW TOPICS: $out"
if curl -s -m 5 -o /dev/null "http://127.0.0.1:$HTTP_PORT/info"; then
    fail "plain HTTP on the HTTPS port was answered"
fi
if curl -s -m 5 -o /dev/null --cacert "$d/other.pem" "$H/livez"; then
    fail "a client of another CA accepted the HTTPS server"
fi
stop
kafka_start_server "$bin" --property "listeners=SSL://127.0.0.1:0,https://127.0.0.1:0" \
    --property ssl.keystore.location="$d/keystore.pem" --property ssl.truststore.location="$d/ca.pem" \
    --property ssl.client.authentication=REQUIRED
H=https://localhost:$HTTP_PORT
v=$(curl -s --cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client.key" -o /dev/null -w '%{http_code}' "$H/info")
[ "$v" = 200 ] || fail "HTTPS with a client certificate gave $v"
if curl -s -m 5 -o /dev/null --cacert "$d/ca.pem" "$H/info"; then
    fail "HTTPS without a client certificate was answered under ssl.client.authentication=REQUIRED"
fi
stop

# ---- SIGHUP reads the certificates again (a renewal); a broken file keeps the old ones
mkcert server2 "/CN=localhost" other "IP:127.0.0.1,DNS:localhost"
cp "$d/keystore.pem" "$d/live.pem"
kafka_start_server "$bin" --property "listeners=SSL://127.0.0.1:0,https://127.0.0.1:0" \
    --property ssl.keystore.location="$d/live.pem"
other="-X security.protocol=SSL -X ssl.ca.location=$d/other.pem"
hup() { # WANT: the log line to wait for (the n-th of its kind)
    local before
    before=$(grep -c "$1" "$KAFKA_LOG" || true)
    kill -HUP "$KAFKA_PID"
    for _ in $(seq 1 100); do
        [ "$(grep -c "$1" "$KAFKA_LOG" || true)" -gt "$before" ] && return 0
        sleep 0.1
    done
    fail "no '$1' after SIGHUP"
}
# shellcheck disable=SC2086
timeout 20 kcat -b "$B" $ssl -L -m 3 >/dev/null || fail "before the reload"
cat "$d/server2.key" "$d/server2.pem" >"$d/live.pem"
hup "Kafka listener's certificates were read again"
# shellcheck disable=SC2086
timeout 20 kcat -b "$B" $other -L -m 3 >/dev/null || fail "the renewed certificate is not served"
# shellcheck disable=SC2086
if timeout 20 kcat -b "$B" $ssl -L -m 1 >/dev/null 2>&1; then
    fail "the old certificate is still served after the reload"
fi
[ "$(curl -s --cacert "$d/other.pem" -o /dev/null -w '%{http_code}' "https://localhost:$HTTP_PORT/livez")" = 200 ] ||
    fail "HTTPS does not serve the renewed certificate"
echo "not a certificate" >"$d/live.pem"
hup "Kafka listener keeps its certificates"
# shellcheck disable=SC2086
timeout 20 kcat -b "$B" $other -L -m 3 >/dev/null || fail "a broken file at a reload stopped the listener"
stop

# ---- bad configurations are refused at start, with the reason
if "$bin" server --data-dir "$d/data2" --property listeners=SSL://127.0.0.1:0,http://127.0.0.1:0 \
    >"$d/bad.log" 2>&1; then
    fail "an SSL listener without a keystore started"
fi
grep -q "ssl.keystore.location" "$d/bad.log" || fail "no reason for the missing keystore: $(cat "$d/bad.log")"
if "$bin" server --data-dir "$d/data2" --property listeners=SSL://127.0.0.1:0,http://127.0.0.1:0 \
    --property ssl.keystore.location="$d/client.pem" >"$d/bad.log" 2>&1; then
    fail "a keystore without a key started"
fi
grep -q "private key" "$d/bad.log" || fail "no reason for the keystore without a key: $(cat "$d/bad.log")"
echo OK
