#!/usr/bin/env bash
# run.sh - runs one libFuzzer target for a fixed budget over a scratch copy of its checked-in seed
# corpus, so nothing it finds is written into the tree. Registered by meson (suite 'fuzz', built
# with -Dfuzz=true) and called by scripts/fuzz for long runs.
#
#   tests/fuzz/run.sh EXE SEED_DIR SECONDS [ARTIFACT_DIR]
#
# Any crash, sanitizer report, leak, slow input (-timeout) or memory blow-up (-rss_limit_mb)
# makes libFuzzer exit non-zero, and so this script. The input that did it is kept in
# ARTIFACT_DIR (default: fuzz-artifacts/ under the current directory, which under meson test is
# the build directory); reproduce with `EXE ARTIFACT`.
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: run.sh EXE SEED_DIR SECONDS [ARTIFACT_DIR]" >&2; exit 2; }
exe=$1 seeds=$2 secs=$3
artifacts=${4:-$PWD/fuzz-artifacts}
name=$(basename "$exe")
[ -x "$exe" ] || { echo "run.sh: $exe is not built" >&2; exit 2; }
[ -d "$seeds" ] || { echo "run.sh: no seed corpus $seeds" >&2; exit 2; }
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/
nseeds=$(find "$work" -type f | wc -l)
echo "$name: $nseeds seeds from $seeds, ${secs}s"
# -timeout: one input may take at most 10 s; -rss_limit_mb: the process at most 2 GiB;
# -malloc_limit_mb: one allocation at most 512 MiB.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$work"
rc=$?
if [ $rc -ne 0 ]; then
    echo "$name: FAILED (exit $rc); the input is in $artifacts/ (reproduce: $exe FILE)" >&2
    exit 1
fi
echo "$name: no finding; corpus grew from $nseeds to $(find "$work" -type f | wc -l) inputs"
