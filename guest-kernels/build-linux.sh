#!/bin/sh
# build-linux.sh: builds a minimal Linux 6.1 Xen-PVH vmlinux (guest or service domain) from Debian's linux-source-6.1 (host tool).
#
# Usage: build-linux.sh OUT_DIR [FRAGMENT...]
#   FRAGMENT...       Kconfig fragments merged in order on top of tinyconfig
#                     (default: linux-pvh.config beside this script)
#   OUT_DIR/src/      the unpacked source tree (unpacked once, never modified)
#   OUT_DIR/obj/      the kernel's object tree (kept, so rebuilds are incremental)
#   OUT_DIR/vmlinux   the result: an ELF64 with the XEN_ELFNOTE_PHYS32_ENTRY note
#   OUT_DIR/vmlinux.sha256  hash of the recipe (fragments + this script) that made it
# Environment: LINUX_TARBALL (default /usr/src/linux-source-6.1.tar.xz),
#   LINUX_SRC (default OUT_DIR/src: kernels built out of tree can share one
#   unpacked source), JOBS (default: nproc).
set -eu

die() { echo "build-linux.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: build-linux.sh OUT_DIR [FRAGMENT...]"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift
[ $# -ge 1 ] || set -- "$here/linux-pvh.config"
# Absolute paths: merge_config.sh runs inside the source tree.
for fragment in "$@"; do
    [ -f "$fragment" ] || die "$fragment missing"
    set -- "$@" "$(cd "$(dirname "$fragment")" && pwd)/$(basename "$fragment")"
    shift
done
tarball="${LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}"
jobs="${JOBS:-$(nproc)}"
src="${LINUX_SRC:-$out/src}"
obj="$out/obj"

# The cache key covers everything that decides the kernel's contents.
recipe_hash=$(cat "$@" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$out/vmlinux" ] && [ -f "$out/vmlinux.sha256" ] &&
   [ "$(cat "$out/vmlinux.sha256")" = "$recipe_hash" ]; then
    echo "build-linux.sh: $out/vmlinux is up to date"
    touch "$out/vmlinux"    # newer than its inputs, so ninja stops asking
    exit 0
fi

# Unpack once. The stamp is written last, so an interrupted unpack is redone;
# the lock keeps two builds sharing LINUX_SRC from unpacking over each other.
unpack_source() {
    [ ! -f "$src/.unpacked" ] || return 0
    [ -f "$tarball" ] || die "$tarball missing (apt-get install linux-source-6.1)"
    echo "build-linux.sh: unpacking $tarball into $src"
    rm -rf "$src"
    mkdir -p "$src"
    tar -xf "$tarball" -C "$src" --strip-components=1
    touch "$src/.unpacked"
}
mkdir -p "$(dirname "$src")"
exec 9>"$src.lock"
flock 9
unpack_source
flock -u 9

# Configure: tinyconfig (allnoconfig plus the kernel's tiny fragments), then
# our fragments merged on top, then olddefconfig to settle dependencies.
mkdir -p "$obj"
kmake() { make -C "$src" O="$obj" ARCH=x86_64 -s "$@"; }
kmake tinyconfig >/dev/null    # its merge notes are noise; errors go to stderr
(cd "$src" && ./scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "$@" >/dev/null)
kmake olddefconfig

# Kconfig drops any option whose dependencies are unmet without a word, so
# check that every line of every fragment made it into the final .config
# (a fragment that changed an earlier fragment's option fails here too).
missing=""
for fragment in "$@"; do
    while IFS= read -r line; do
        case "$line" in
        CONFIG_*=*)
            grep -qxF -- "$line" "$obj/.config" || missing="$missing
  wanted: $line  got: $(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo 'absent')"
            ;;
        "# CONFIG_"*" is not set")
            name=${line#\# }; name=${name%% *}
            if grep -qE "^$name=" "$obj/.config"; then
                missing="$missing
  wanted: $line  got: $(grep -E "^$name=" "$obj/.config")"
            fi
            ;;
        esac
    done < "$fragment"
done
[ -z "$missing" ] || die "options from $* not set as requested:$missing"

echo "build-linux.sh: building vmlinux with $jobs jobs"
make -C "$src" O="$obj" ARCH=x86_64 -j"$jobs" vmlinux

cp "$obj/vmlinux" "$out/vmlinux.tmp"
mv "$out/vmlinux.tmp" "$out/vmlinux"
echo "$recipe_hash" > "$out/vmlinux.sha256"
echo "build-linux.sh: wrote $out/vmlinux"
