#!/usr/bin/env bash
# Integration test: the real `weir` binary's topic/produce/consume/server commands on a
# temporary data directory, checking the bytes that come back.
#   usage: test_cli.sh /path/to/weir
set -uo pipefail
WEIR=$1
T=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
failures=0 checks=0
ok() { checks=$((checks + 1)); }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); checks=$((checks + 1)); }
expect_eq() { if [ "$1" == "$2" ]; then ok; else fail "$3: expected [$2], got [$1]"; fi; }
expect_grep() { if grep -q -- "$1" "$2"; then ok; else fail "$3: no '$1' in $(head -c 600 "$2")"; fi; }

D="$T/data"
w() { "$WEIR" "$@" --data-dir "$D"; }

# --- version and help -------------------------------------------------------------------
expect_eq "$("$WEIR" version)" "weir 0.1.0" "version"
for c in server broker topic produce consume version worker sql groups; do
    "$WEIR" $c --help > "$T/help" 2>&1; rc=$?
    expect_eq "$rc" 0 "$c --help exit"
    expect_grep "usage: weir $c" "$T/help" "$c --help"
done
"$WEIR" worker > /dev/null 2> "$T/err"; expect_eq $? 2 "pending command exits 2"
expect_grep "not yet available" "$T/err" "pending command message"
"$WEIR" nosuch 2> /dev/null; expect_eq $? 2 "unknown command exits 2"

# --- topics ----------------------------------------------------------------------------
w topic create orders --partitions 3 > "$T/out"; expect_eq $? 0 "topic create"
expect_eq "$(cat "$T/out")" "Created topic orders." "topic create output"
w topic create orders --partitions 3 > /dev/null 2> "$T/err"; expect_eq $? 1 "duplicate create fails"
expect_grep "exists" "$T/err" "duplicate create message"
w topic create logs --config retention.ms=60000 --config cleanup.policy=compact > /dev/null
expect_eq $? 0 "create with configs"
w topic create bad --config retention.ms=abc > /dev/null 2> "$T/err"; expect_eq $? 1 "bad config value"
expect_grep "retention.ms" "$T/err" "bad config message names the key"
w topic create bad2 --config no.such.config=1 > /dev/null 2> "$T/err"; expect_eq $? 1 "unknown config"
w topic create 'bad name!' > /dev/null 2>&1; expect_eq $? 1 "illegal topic name"
expect_eq "$(w topic list | tr '\n' ' ')" "logs orders " "topic list"
w topic describe orders > "$T/out"
expect_grep "PartitionCount: 3" "$T/out" "describe partition count"
expect_eq "$(grep -c 'Leader: 0.*Replicas: 0.*Isr: 0' "$T/out")" 3 "describe partition lines"
w topic describe logs > "$T/out"
expect_grep "retention.ms=60000" "$T/out" "describe shows topic configs"

# --- produce / consume, keyed ------------------------------------------------------------
python3 - "$T/in" <<'PY'
import sys, random
random.seed(1)
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        f.write(f"key{random.randrange(50)}:value-{i}-{'x' * random.randrange(200)}\n")
PY
w produce orders --key-separator : < "$T/in"; expect_eq $? 0 "keyed produce"
w consume orders --from-beginning --max-messages 3000 --print-key --key-separator : \
    --print-partition > "$T/out"
expect_eq $? 0 "consume exit"
expect_eq "$(wc -l < "$T/out")" 3000 "consumed count"
# every record back byte for byte (as a set), per-key order kept, each key on one partition
expect_eq "$(sed 's/^Partition:[0-9]*\t//' "$T/out" | sort | md5sum)" "$(sort "$T/in" | md5sum)" \
    "consumed records equal produced"
python3 - "$T/in" "$T/out" <<'PY' || fail "per-key order or partitioning"
import sys, collections
inp = [l.rstrip("\n") for l in open(sys.argv[1])]
out = [l.rstrip("\n") for l in open(sys.argv[2])]
want = collections.defaultdict(list)
for l in inp:
    want[l.split(":", 1)[0]].append(l)
got = collections.defaultdict(list); part = {}
for l in out:
    p, rec = l.split("\t", 1)
    k = rec.split(":", 1)[0]
    got[k].append(rec)
    if part.setdefault(k, p) != p:
        sys.exit(f"key {k} on two partitions")
if got != want:
    sys.exit("per-key order differs")
# murmur2 partition of the key bytes, as Kafka's Java client computes it
def murmur2(data):
    m, r = 0x5bd1e995, 24
    h = (0x9747b28c ^ len(data)) & 0xffffffff
    n4 = len(data) // 4
    for i in range(n4):
        k = int.from_bytes(data[4*i:4*i+4], "little")
        k = (k * m) & 0xffffffff; k ^= k >> r; k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff; h ^= k
    t = len(data) % 4; b = data[4*n4:]
    if t >= 3: h ^= b[2] << 16
    if t >= 2: h ^= b[1] << 8
    if t >= 1: h ^= b[0]; h = (h * m) & 0xffffffff
    h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
    return h
for k, p in part.items():
    if f"Partition:{(murmur2(k.encode()) & 0x7fffffff) % 3}" != p:
        sys.exit(f"key {k} on {p}, Kafka would use another")
PY
ok
# --max-messages stops early; offsets are printed in order within a partition
w consume orders --from-beginning --partition 1 --print-offset --max-messages 5 > "$T/out"
expect_eq "$(cut -f1 "$T/out" | tr '\n' ' ')" "Offset:0 Offset:1 Offset:2 Offset:3 Offset:4 " \
    "offsets of partition 1"
w consume orders --partition 1 --offset 3 --print-offset --max-messages 1 > "$T/out"
expect_eq "$(cut -f1 "$T/out")" "Offset:3" "consume from an offset"

# --- unkeyed, empty values, and bad lines -------------------------------------------------
printf 'a\n\nc\nlast-without-newline' | w produce logs; expect_eq $? 0 "unkeyed produce"
expect_eq "$(w consume logs --from-beginning | tr '\n' '|')" "a||c|last-without-newline|" \
    "unkeyed values and an empty one"
printf 'k1:v1\nno-separator\nk2:v2\n' | w produce logs --key-separator : 2> "$T/err"
expect_eq $? 1 "a bad line makes produce exit 1"
expect_grep "line 2: no key separator" "$T/err" "bad line reported with its number"
expect_eq "$(w consume logs --from-beginning --print-key | tail -2 | tr '\n' '|')" \
    "k1	v1|k2	v2|" "good lines around a bad one are kept"
w produce nosuch < /dev/null 2> "$T/err"; expect_eq $? 1 "produce to a missing topic"
expect_grep "does not exist" "$T/err" "missing topic message"
echo x | w produce auto --create > /dev/null; expect_eq $? 0 "produce --create"
expect_eq "$(w consume auto --from-beginning)" "x" "auto-created topic round trip"

# --- compression codecs ------------------------------------------------------------------
for codec in none gzip snappy lz4 zstd; do
    w topic create "c-$codec" > /dev/null
    seq 1 2000 | w produce "c-$codec" --compression $codec --batch-bytes 4096
    expect_eq "$(w consume "c-$codec" --from-beginning | md5sum)" "$(seq 1 2000 | md5sum)" \
        "round trip with $codec"
done

# --- configuration sources: flag > file > env ---------------------------------------------
mkdir -p "$T/envdir" "$T/filedir"
WEIR_DATA_DIR="$T/envdir" "$WEIR" topic create from-env > /dev/null
expect_eq "$(WEIR_DATA_DIR="$T/envdir" "$WEIR" topic list)" "from-env" "WEIR_DATA_DIR is used"
printf 'data.dir=%s\n' "$T/filedir" > "$T/weir.properties"
WEIR_DATA_DIR="$T/envdir" "$WEIR" topic create from-file --config "$T/weir.properties" > /dev/null
expect_eq "$("$WEIR" topic list --config "$T/weir.properties")" "from-file" "--config beats env"
"$WEIR" topic list --config "$T/weir.properties" --data-dir "$T/envdir" > "$T/out"
expect_eq "$(cat "$T/out")" "from-env" "flags beat --config"
"$WEIR" topic list --config "$T/nosuch.properties" 2> "$T/err"; expect_eq $? 2 "missing config file"
expect_grep "nosuch.properties" "$T/err" "missing config file named"

# --- a full disk: the writer gets a clear error, nothing stored is lost -----------------------
w topic create disk > /dev/null
seq 1 50 | w produce disk; expect_eq $? 0 "produce before the disk fills"
seq 51 100 | WEIR_FAULT=enospc:0:-1 w produce disk > /dev/null 2> "$T/err"; rc=$?
expect_eq "$rc" 1 "produce on a full disk fails"
expect_grep "no space left" "$T/err" "full disk message"
expect_eq "$(w consume disk --from-beginning | tr '\n' ' ')" "$(seq 1 50 | tr '\n' ' ')" \
    "records stored before the full disk are intact"
seq 51 60 | w produce disk; expect_eq $? 0 "produce once there is space again"
expect_eq "$(w consume disk --from-beginning | wc -l)" 60 "appends resume after the full disk"
WEIR_FAULT=bogus w topic list > /dev/null 2>&1; expect_eq $? 2 "bad WEIR_FAULT spec"

# --- weir server: starts, holds the data directory, stops cleanly on SIGTERM ---------------
"$WEIR" server --data-dir "$D" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    2> "$T/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "started" "$T/server.log" && break; sleep 0.1; done
expect_grep "weir server started: kafka=127.0.0.1:" "$T/server.log" "server started"
PORT=$(sed -n 's/.*started: kafka=127.0.0.1:\([0-9]*\).*/\1/p' "$T/server.log")
w topic list > /dev/null 2> "$T/err"; expect_eq $? 1 "data dir locked while the server runs"
expect_grep "in use" "$T/err" "lock message"
if [ -n "$PORT" ] && [ "$PORT" != 0 ]; then
    # The broker answers real Kafka clients: the same data through --bootstrap-server.
    B="--bootstrap-server 127.0.0.1:$PORT"
    "$WEIR" consume orders $B --from-beginning --max-messages 3000 --timeout-ms 20000 \
        > "$T/remote" 2> "$T/err"
    expect_eq "$(sort "$T/remote" | md5sum)" "$(cut -d: -f2- "$T/in" | sort | md5sum)" \
        "remote consume returns what was produced locally"
    seq 1 500 | "$WEIR" produce remote-t $B --key-separator , 2> "$T/err" && fail "keyless lines with a separator" || ok
    seq 1 500 | sed 's/^/k&,/' | "$WEIR" produce remote-t $B --key-separator , 2> "$T/err"
    expect_eq $? 0 "remote produce"
    "$WEIR" consume remote-t $B --from-beginning --max-messages 500 --timeout-ms 20000 \
        > "$T/out" 2> "$T/err"
    expect_eq "$(sort -n "$T/out" | md5sum)" "$(seq 1 500 | md5sum)" "remote round trip"
fi
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; rc=$?
SERVER_PID=
expect_eq "$rc" 0 "server exit status after SIGTERM"
expect_grep "stopped cleanly" "$T/server.log" "clean shutdown"
expect_eq "$(w consume orders --from-beginning | wc -l)" 3000 "data intact after server stop"
if [ -n "$PORT" ]; then
    expect_eq "$(w consume remote-t --from-beginning | wc -l)" 500 "remote writes are durable"
fi

# --- weir server: bad processing settings are refused with the key and the allowed values -----
"$WEIR" server --data-dir "$T/bad" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --property ksql.streams.processing.guarantee=bogus > /dev/null 2> "$T/err"
expect_eq $? 1 "a bad processing.guarantee exits 1"
expect_grep "ksql.streams.processing.guarantee must be exactly_once_v2 or at_least_once, not 'bogus'" \
    "$T/err" "bad processing.guarantee message"
"$WEIR" server --data-dir "$T/bad" --kafka-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --property ksql.streams.commit.interval.ms=-5 > /dev/null 2> "$T/err"
expect_eq $? 1 "a negative commit.interval.ms exits 1"
expect_grep "ksql.streams.commit.interval.ms must be from 0 to 86400000" "$T/err" \
    "bad commit.interval.ms message"

echo "$((checks - failures)) passed, $failures failed"
[ $failures -eq 0 ]
