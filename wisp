#!/usr/bin/env bash
# wisp (host, developer entry point): installs the Debian packages Wisp needs, builds
# it, then runs `./wisp test [--fast]` or hands any other command to build/toolstack/wisp.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${WISP_BUILD_DIR:-$ROOT/build}"   # WISP_BUILD_DIR: build elsewhere

# What building and testing Wisp needs on Debian 12 (bookworm): ci/debian-packages.
mapfile -t PACKAGES < <(grep -v -e '^#' -e '^[[:space:]]*$' "$ROOT/ci/debian-packages")

say() { printf 'wisp: %s\n' "$*" >&2; }

usage() {
    cat <<'USAGE'
usage: ./wisp test [--fast]      unit tests, then the integration tests (pytest)
       ./wisp demo [--minimal]   a shell in the Linux guest on Wisp under QEMU
                                 (--minimal: the small PVH demo guest)
       ./wisp run [OPTIONS] KERNEL
       ./wisp run [OPTIONS] [KERNEL] -- COMMAND [ARG...]
                                 run COMMAND in the Linux guest, exit with its status
       ./wisp help [run|exit-codes]
Each command first installs missing Debian packages and builds Wisp into build/;
demo and run -- COMMAND also build the Linux guest (the first time takes a while).
See docs/user-guide.md.
USAGE
}

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            printf '%s\n' "$pkg"
        fi
    done
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    [ "${#missing[@]}" -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null; then
            say "missing Debian packages: ${missing[*]} (run as root to install them)"
            exit 125
        fi
        sudo=(sudo)
    fi
    say "installing ${missing[*]}"
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/wisp-apt.XXXXXX")"
    if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
           "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
               --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 </dev/null; then
        cat "$log" >&2
        rm -f "$log"
        say "package installation failed"
        exit 125
    fi
    rm -f "$log"
}

# Quiet when all is well: the build's output is shown only if it fails.
build() {
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/wisp-build.XXXXXX")"
    if { [ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT"; } >"$log" 2>&1 &&
       ninja -C "$BUILD" >>"$log" 2>&1; then
        rm -f "$log"
        return 0
    fi
    cat "$log" >&2
    rm -f "$log"
    say "build failed"
    exit 125
}

# The default Linux guest that `demo` and `run -- COMMAND` boot is built on demand: the
# CLI itself says which of its targets these arguments use (none if KERNEL and --initrd
# are given), and ninja rebuilds only what changed.
build_guest() {
    local targets
    mapfile -t targets < <("$BUILD/toolstack/wisp" guest-targets "$@" 2>/dev/null)
    [ "${#targets[@]}" -eq 0 ] && return 0
    if ninja -C "$BUILD" -n "${targets[@]}" 2>/dev/null | grep -q '^ninja: no work to do'; then
        return 0
    fi
    # Long the first time, so its progress is shown; on stderr, as stdout is the guest's.
    case " ${targets[*]} " in
        *" guest-kernels/vmlinux "*) say "building ${targets[*]} (a first kernel build takes minutes)" ;;
        *) say "building ${targets[*]}" ;;
    esac
    if ! ninja -C "$BUILD" "${targets[@]}" >&2; then
        say "building the Linux guest failed (ninja -C $BUILD ${targets[*]})"
        exit 125
    fi
}

run_tests() {
    local fast=0 arg
    for arg in "$@"; do
        case "$arg" in
            --fast) fast=1 ;;
            *) say "test: unknown option '$arg' (only --fast)"; exit 2 ;;
        esac
    done
    meson test -C "$BUILD" --suite unit --print-errorlogs
    # The host fuzzers, about 8 s each (tests/fuzz); ci/fuzz-long.sh runs them for longer.
    [ "$fast" -eq 1 ] || meson test -C "$BUILD" --suite fuzz --print-errorlogs
    local pytest_args=(-v "$ROOT/tests/integration")
    # --fast: everything that boots nothing, plus the 'smoke' boots (one per backend).
    [ "$fast" -eq 1 ] && pytest_args+=(-m "not boot or smoke")
    cd "$ROOT"
    WISP_BUILD_DIR="$BUILD" PYTHONDONTWRITEBYTECODE=1 \
        /usr/bin/python3 -m pytest -p no:cacheprovider "${pytest_args[@]}"
}

main() {
    case "${1:-}" in
        ""|-h|--help) usage; exit 0 ;;
    esac
    install_packages
    build
    if [ "$1" = test ]; then
        shift
        run_tests "$@"
        exit $?
    fi
    case "$1" in
        demo|run) build_guest "$@" ;;
    esac
    exec "$BUILD/toolstack/wisp" "$@"
}

main "$@"
