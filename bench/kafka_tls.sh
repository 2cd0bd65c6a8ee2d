#!/usr/bin/env bash
# kafka_tls.sh [MESSAGES] - what TLS and SASL cost on the Kafka listener: the same
# bench/kafka_produce run (librdkafka producer acks=1 and acks=all, consumer, paced latency)
# against `weir server` with a PLAINTEXT, an SSL and a SASL_SSL (SCRAM-SHA-512) listener in
# turn, one after the other in one run, on fresh data directories with no fsync; prints each
# figure and its ratio to PLAINTEXT's. Certificates are made here with openssl.
# Run from the project root after `ninja -C build`.
set -euo pipefail
n=${1:-1000000}
bin=build/weir
prog=build/bench/kafka_produce
d=$(mktemp -d /tmp/weir-bench-tls.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$d"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -subj "/CN=bench ca" -days 1 \
    -out "$d/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$d/s.key" -subj "/CN=localhost" -out "$d/s.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
openssl x509 -req -in "$d/s.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 1 \
    -extfile "$d/ext" -out "$d/s.pem" 2>/dev/null
cat "$d/s.key" "$d/s.pem" >"$d/keystore.pem"

run() { # NAME LISTENER CLIENT-SETTINGS...
    local name=$1 l=$2 port
    shift 2
    rm -rf "$d/data"
    "$bin" users add bench --password bench-pw --mechanism SCRAM-SHA-512 --data-dir "$d/data" >/dev/null
    "$bin" server --data-dir "$d/data" --property "listeners=$l://127.0.0.1:0,http://127.0.0.1:0" \
        --property ssl.keystore.location="$d/keystore.pem" --property log.flush.policy=none \
        --property sasl.enabled.mechanisms=SCRAM-SHA-512 >"$d/server.log" 2>&1 &
    pid=$!
    port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*started: kafka=[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$d/server.log")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$d/server.log"; exit 1; }
    "$prog" "127.0.0.1:$port" "$n" 1000 "$@" | sed "s/^/$name /" >>"$d/out"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}
: >"$d/out"
run PLAINTEXT PLAINTEXT
run SSL SSL security.protocol=SSL ssl.ca.location="$d/ca.pem"
run SASL_SSL SASL_SSL security.protocol=SASL_SSL ssl.ca.location="$d/ca.pem" \
    sasl.mechanisms=SCRAM-SHA-512 sasl.username=bench sasl.password=bench-pw
cat "$d/out"
echo
echo "ratios to PLAINTEXT (throughput: higher is better)"
python3 - "$d/out" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) (.*?)\s+([0-9.]+) records/s", line)
    if m:
        rows[(m.group(1), m.group(2).strip())] = float(m.group(3))
for (proto, what), v in sorted(rows.items()):
    base = rows.get(("PLAINTEXT", what))
    if proto != "PLAINTEXT" and base:
        print(f"{proto:9} {what:30} {v / base:5.2f}")
PY
