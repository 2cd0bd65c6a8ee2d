#!/usr/bin/env bash
# kafka_kcat.sh MODE BINARY - kcat against the broker: -L lists topics and partitions; -P of
# 100,000 keyed messages then -C -e returns exactly those messages (keys and values byte for
# byte, each partition in produce order), once per codec: zstd, gzip, lz4, snappy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
mode=$1 bin=$2
N=${KAFKA_KCAT_N:-100000}
trap kafka_cleanup EXIT
kafka_start "$mode" "$bin" 4
B=$KAFKA_BOOTSTRAP
fail() { echo "FAIL: $*" >&2; tail -20 "$KAFKA_LOG" >&2; exit 1; }

# -L on an empty broker, then after a topic exists
kcat -b "$B" -L -m 20 >"$KAFKA_DIR/L0" 2>&1 || fail "kcat -L: $(cat "$KAFKA_DIR/L0")"
grep -q "1 brokers:" "$KAFKA_DIR/L0" || fail "no broker in -L"
grep -q "(controller)" "$KAFKA_DIR/L0" || fail "no controller in -L"

# input: key<TAB>value, values with varied printable bytes
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
    printf "key-%d\tv%d|%s|~!@#$%%^&*()_+{}[]:;\"<>,.?/\\\n", i, i, substr("abcdefghijklmnopqrstuvwxyz0123456789", 1 + i % 36) }' \
    >"$KAFKA_DIR/in"

for codec in zstd gzip lz4 snappy; do
    t=kcat-$codec
    kcat -b "$B" -P -t "$t" -K $'\t' -z "$codec" -X linger.ms=20 -l "$KAFKA_DIR/in" \
        2>"$KAFKA_DIR/P.err" || fail "$codec produce: $(cat "$KAFKA_DIR/P.err")"
    kcat -b "$B" -C -t "$t" -e -q -f '%p\t%o\t%k\t%s\n' >"$KAFKA_DIR/out" 2>"$KAFKA_DIR/C.err" \
        || fail "$codec consume: $(cat "$KAFKA_DIR/C.err")"
    got=$(wc -l <"$KAFKA_DIR/out")
    [ "$got" -eq "$N" ] || fail "$codec: consumed $got messages, want $N"
    # same multiset of key/value pairs, byte for byte
    cut -f3- "$KAFKA_DIR/out" | sort >"$KAFKA_DIR/got.sorted"
    sort "$KAFKA_DIR/in" >"$KAFKA_DIR/in.sorted"
    cmp -s "$KAFKA_DIR/got.sorted" "$KAFKA_DIR/in.sorted" || fail "$codec: messages differ"
    # per partition: offsets are 0,1,2,... and messages come in produce order
    awk -F'\t' '{ split($3, k, "-"); i = k[2] + 0
        if ($1 in last && (i <= last[$1] || $2 != off[$1] + 1)) { print "order " $0; bad = 1 }
        if (!($1 in last) && $2 != 0) { print "first offset " $0; bad = 1 }
        last[$1] = i; off[$1] = $2; parts[$1] = 1 }
        END { n = 0; for (p in parts) n++; if (n < 2) { print "only " n " partition(s) used"; bad = 1 }
              exit bad }' "$KAFKA_DIR/out" || fail "$codec: per-partition order"
    echo "ok: $codec $N messages"
done

kcat -b "$B" -L >"$KAFKA_DIR/L1" 2>&1 || fail "kcat -L"
for codec in zstd gzip lz4 snappy; do
    grep -q "topic \"kcat-$codec\" with 4 partitions" "$KAFKA_DIR/L1" || fail "-L misses kcat-$codec"
done
grep -c "partition [0-3], leader 0, replicas: 0, isrs: 0" "$KAFKA_DIR/L1" | grep -q '^16$' \
    || fail "-L partitions: $(cat "$KAFKA_DIR/L1")"
echo "ok: kcat -L"
