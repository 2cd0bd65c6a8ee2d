# scripts/lib.sh - shared by scripts/run and scripts/test: install missing Debian packages and
# configure/build a meson build directory. Sourced, not run.

WEIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

weir_install_packages() {
    local missing=()
    local pkg
    while read -r pkg; do
        case "$pkg" in ''|'#'*) continue ;; esac
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done < "$WEIR_ROOT/scripts/packages.txt"
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "weir: installing missing packages: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >&2
}

# weir_build DIR [meson setup options...]: configure DIR if needed, then build it.
weir_build() {
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$WEIR_ROOT" "$@" >&2 || return 1
    fi
    ninja -C "$dir" >&2
}

# weir_fuzz_targets DIR: the executables of DIR's 'fuzz' suite, relative to DIR, one a line.
weir_fuzz_targets() {
    meson introspect "$1" --tests | python3 -c '
import json, os, sys
root = os.path.abspath(sys.argv[1])
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] == "fuzz" for s in t["suite"]):
        exe = t["cmd"][1]
        print(os.path.relpath(exe, root) if os.path.isabs(exe) else exe)' "$1"
}

# weir_build_fuzz DIR [targets...]: configure DIR with clang and -Dfuzz=true if needed, then
# build the given fuzz targets (default: all of them) and only what they link.
weir_build_fuzz() {
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        CC=clang meson setup "$dir" "$WEIR_ROOT" -Dfuzz=true >&2 || return 1
    fi
    ninja -C "$dir" build.ninja >&2 || return 1 # meson.build changes: regenerate, then list
    local targets=("$@")
    if [ ${#targets[@]} -eq 0 ]; then
        mapfile -t targets < <(weir_fuzz_targets "$dir")
        [ ${#targets[@]} -gt 0 ] || return 1
    fi
    ninja -C "$dir" "${targets[@]}" >&2
}
