#!/usr/bin/env bash
# kafka_rdkafka_suite.sh MODE BINARY - librdkafka 2.0.2's own test suite against the broker.
# Fetches the Debian source (apt-get source, with a private apt configuration that adds a deb-src
# line), builds tests/test-runner in tests/.scratch/ (gitignored; reused when present), starts a
# broker with 4 partitions per auto-created topic (the suite's default scenario) and runs the
# list in tests/README.md (quick mode, no local/mock tests). Suite 'slow': part of every full
# run (about 4 minutes, plus building librdkafka's tests the first time); WEIR_RDKAFKA_SUITE=0
# skips it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kafka_lib.sh"
mode=$1 bin=$2
# it downloads the librdkafka source (Debian apt) and runs for minutes; WEIR_RDKAFKA_SUITE=0
# skips it (quick local iterations)
if [ "${WEIR_RDKAFKA_SUITE:-1}" = 0 ]; then
    echo "SKIP: WEIR_RDKAFKA_SUITE=0"
    exit 77
fi
scratch=$(cd "$here/.." && pwd)/.scratch
src=$scratch/librdkafka-2.0.2
TESTS=${RDKAFKA_TESTS:-0001,0002,0005,0007,0008,0011,0012,0013,0014,0015,0017,0018,0019,0020,0021,0022,0026,0029,0030,0031,0033,0034,0035,0036,0038,0039,0040,0041,0042,0048,0050,0051,0055,0056,0061,0063,0065,0069,0073,0085,0086,0089,0090,0091,0093,0099,0102,0110,0112,0113,0114,0118,0122,0130,0132,0137}

if [ ! -x "$src/tests/test-runner" ]; then
    mkdir -p "$scratch/apt/etc/sources.list.d" "$scratch/apt/lists/partial" \
        "$scratch/apt/cache/archives/partial"
    : >"$scratch/apt/etc/sources.list"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        >"$scratch/apt/etc/sources.list.d/src.sources"
    apt=(-o "Dir::Etc::sourcelist=$scratch/apt/etc/sources.list"
         -o "Dir::Etc::sourceparts=$scratch/apt/etc/sources.list.d"
         -o "Dir::State::Lists=$scratch/apt/lists" -o "Dir::Cache=$scratch/apt/cache")
    apt-get "${apt[@]}" update >/dev/null || { echo "SKIP: apt-get update failed"; exit 77; }
    (cd "$scratch" && apt-get "${apt[@]}" source --download-only librdkafka=2.0.2-1) >/dev/null \
        || { echo "SKIP: no librdkafka source"; exit 77; }
    (cd "$scratch" && tar xzf librdkafka_2.0.2.orig.tar.gz)
    (cd "$src" && ./configure --prefix="$src/install" >/dev/null && make -j2 libs >/dev/null &&
        cd tests && make -j2 build >/dev/null)
fi

trap kafka_cleanup EXIT
kafka_start "$mode" "$bin" 4
printf 'bootstrap.servers=%s\ntest.timeout.multiplier=3\n' "$KAFKA_BOOTSTRAP" >"$KAFKA_DIR/rdk.conf"
cd "$src/tests"
# test-runner without run-test.sh uses Debian's librdkafka.so.1 (the same 2.0.2)
RDKAFKA_TEST_CONF="$KAFKA_DIR/rdk.conf" TEST_KAFKA_VERSION=2.4.0 TESTS=$TESTS \
    ./test-runner -Q -L -p1 >"$KAFKA_DIR/suite.log" 2>&1 || {
    sed 's/\x1b\[[0-9;]*m//g' "$KAFKA_DIR/suite.log" | grep -E "failed at|^\|" >&2
    tail -30 "$KAFKA_LOG" >&2
    exit 1
}
sed 's/\x1b\[[0-9;]*m//g' "$KAFKA_DIR/suite.log" | grep -E "^\|" | grep -v SKIPPED
