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

# One dpkg-query for the whole list; a package dpkg has never heard of is missing too.
missing_packages() {
    local installed pkg
    installed="$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PACKAGES[@]}" 2>/dev/null |
                 awk '$1 == "ii" { print $2 }' || true)"
    for pkg in "${PACKAGES[@]}"; do
        grep -qxF -- "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
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

# ---- Stamps: skip the package query and the ninja check when nothing they depend on
# has changed since they last succeeded (docs/testing.md, "The ./wisp wrapper").
# Correctness first: the stamp holds the state measured BEFORE the checks ran, and is
# written only if they succeeded and no source changed meanwhile; without a dpkg
# database there is no stamp and every check runs.
STAMPS="$BUILD/.wisp-stamps"

# What a build is made from, as one hash: the package list, dpkg's database (rewritten
# on every install and removal: compilers, headers, linux-source), and every file of the
# tree (path, mtime in ns, size, inode) but .git, build directories and Python caches.
# Any edit, new file or deleted file changes it, also one that git ignores.
sources_key() {
    local db=/var/lib/dpkg/status sum
    [ -r "$db" ] || return 1
    sum="$({ printf '%s\n' "${PACKAGES[@]}"
             stat -L -c '%n %.9Y %s %i' "$db"
             find "$ROOT" \( -name .git -o -path "$BUILD" -o -path "$ROOT/build" \
                            -o -name __pycache__ -o -name .pytest_cache \) -prune \
                  -o \( -type f -o -type l \) -printf '%P %T@ %s %i %l\n'
           } | sha256sum)" || return 1
    printf '%s' "${sum%% *}"
}

# The build directory's side: its configuration and the outputs asked for (deleted or
# replaced, they must be rebuilt). A missing file prints nothing, which changes it.
build_dir_state() {
    (cd "$BUILD" 2>/dev/null &&
     stat -L -c '%n %.9Y %s %i' build.ninja meson-private/coredata.dat "$@" 2>/dev/null) || true
}

stamp_matches() {   # NAME SOURCES_KEY OUTPUT...
    local name="$1" key="$2" want="" have=""
    shift 2
    [ -n "$key" ] && [ -r "$STAMPS/$name" ] || return 1
    read -r -d '' have <"$STAMPS/$name" || true
    want="$key"$'\n'"$(build_dir_state "$@")"
    [ "$have" = "$want" ]
}

stamp_write() {     # NAME SOURCES_KEY_BEFORE OUTPUT...
    local name="$1" key="$2"
    shift 2
    [ -n "$key" ] && [ "$(sources_key || true)" = "$key" ] || return 0  # changed meanwhile
    mkdir -p "$STAMPS" &&
        { printf '%s\n' "$key"; build_dir_state "$@"; } >"$STAMPS/$name.tmp" &&
        mv "$STAMPS/$name.tmp" "$STAMPS/$name"
}

# The CLI and the hypervisor image: what every command runs.
MAIN_OUTPUTS=(toolstack/wisp xen/wisp.elf)

prepare() {
    local key
    key="$(sources_key || true)"
    stamp_matches main "$key" "${MAIN_OUTPUTS[@]}" && return 0
    rm -f "$STAMPS/main"
    install_packages
    build
    stamp_write main "$key" "${MAIN_OUTPUTS[@]}"
}

# The default Linux guest that `demo` and `run -- COMMAND` boot is built on demand: the
# CLI itself says which of its targets these arguments use (none if KERNEL and --initrd
# are given), and ninja rebuilds only what changed.
build_guest() {
    local targets
    mapfile -t targets < <("$BUILD/toolstack/wisp" guest-targets "$@" 2>/dev/null)
    [ "${#targets[@]}" -eq 0 ] && return 0
    local name="guest-${targets[*]//[^A-Za-z0-9.-]/_}" key
    key="$(sources_key || true)"
    stamp_matches "$name" "$key" "${targets[@]}" && return 0
    rm -f "$STAMPS/$name"
    if ninja -C "$BUILD" -n "${targets[@]}" 2>/dev/null | grep -q '^ninja: no work to do'; then
        stamp_write "$name" "$key" "${targets[@]}"
        return 0
    fi
    # Long the first time, so its progress is shown; on stderr, as stdout is the guest's.
    case " ${targets[*]} " in
        *" guest-kernels/vmlinux "* | *" guest-kernels/service/vmlinux "*) say "building ${targets[*]} (a first kernel build takes minutes)" ;;
        *) say "building ${targets[*]}" ;;
    esac
    if ! ninja -C "$BUILD" "${targets[@]}" >&2; then
        say "building the Linux guest failed (ninja -C $BUILD ${targets[*]})"
        exit 125
    fi
    stamp_write "$name" "$key" "${targets[@]}"
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
    # WISP_TEST_JOBS=N runs the test files side by side on N workers (pytest-xdist; an
    # emulator uses one core). Default 1, in order: side by side, the 64 MiB read-write
    # soak stalled once and a pCPU-hold bound was missed (issue 10's note).
    local jobs="${WISP_TEST_JOBS:-1}"
    case "$jobs" in
        "" | *[!0-9]* | 0) say "test: WISP_TEST_JOBS must be a number of workers, 1 or more"; exit 2 ;;
    esac
    # The kernels and initramfs images the boots need, built first and not beside a
    # running emulator (a first build takes about 20 minutes on 2 cores).
    if [ "$fast" -eq 0 ] && ! ninja -C "$BUILD" -n test-inputs 2>/dev/null | grep -q '^ninja: no work to do'; then
        say "building the test kernels and initramfs images (ninja -C $BUILD test-inputs)"
        ninja -C "$BUILD" test-inputs || { say "building the test inputs failed"; exit 125; }
    fi
    local pytest_args=(-v --durations=25 "$ROOT/tests/integration")
    [ "$jobs" -gt 1 ] && pytest_args+=(-n "$jobs" --dist loadfile)
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
    prepare
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
