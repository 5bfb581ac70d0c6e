#!/bin/sh
# build-linux.sh: builds the minimal Linux 6.1 Xen-PVH guest vmlinux from Debian's linux-source-6.1 (host tool).
#
# Usage: build-linux.sh OUT_DIR
#   OUT_DIR/src/      the unpacked source tree (unpacked once, never modified)
#   OUT_DIR/obj/      the kernel's object tree (kept, so rebuilds are incremental)
#   OUT_DIR/vmlinux   the result: an ELF64 with the XEN_ELFNOTE_PHYS32_ENTRY note
#   OUT_DIR/vmlinux.sha256  hash of the recipe (fragment + this script) that made it
# Environment: LINUX_TARBALL (default /usr/src/linux-source-6.1.tar.xz),
#   JOBS (default: nproc).
set -eu

die() { echo "build-linux.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: build-linux.sh OUT_DIR"
here=$(cd "$(dirname "$0")" && pwd)
fragment="$here/linux-pvh.config"
tarball="${LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}"
jobs="${JOBS:-$(nproc)}"

mkdir -p "$1"
out=$(cd "$1" && pwd)
src="$out/src"
obj="$out/obj"

# The cache key covers everything that decides the kernel's contents.
recipe_hash=$(cat "$fragment" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$out/vmlinux" ] && [ -f "$out/vmlinux.sha256" ] &&
   [ "$(cat "$out/vmlinux.sha256")" = "$recipe_hash" ]; then
    echo "build-linux.sh: $out/vmlinux is up to date"
    touch "$out/vmlinux"    # newer than its inputs, so ninja stops asking
    exit 0
fi

# Unpack once. The stamp is written last, so an interrupted unpack is redone.
if [ ! -f "$src/.unpacked" ]; then
    [ -f "$tarball" ] || die "$tarball missing (apt-get install linux-source-6.1)"
    echo "build-linux.sh: unpacking $tarball"
    rm -rf "$src"
    mkdir -p "$src"
    tar -xf "$tarball" -C "$src" --strip-components=1
    touch "$src/.unpacked"
fi

# Configure: tinyconfig (allnoconfig plus the kernel's tiny fragments), then
# our fragment merged on top, then olddefconfig to settle dependencies.
mkdir -p "$obj"
kmake() { make -C "$src" O="$obj" ARCH=x86_64 -s "$@"; }
kmake tinyconfig >/dev/null    # its merge notes are noise; errors go to stderr
(cd "$src" && ./scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "$fragment" >/dev/null)
kmake olddefconfig

# Kconfig drops any option whose dependencies are unmet without a word, so
# check that every line of the fragment made it into the final .config.
missing=""
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
[ -z "$missing" ] || die "options from $fragment not set as requested:$missing"

echo "build-linux.sh: building vmlinux with $jobs jobs"
make -C "$src" O="$obj" ARCH=x86_64 -j"$jobs" vmlinux

cp "$obj/vmlinux" "$out/vmlinux.tmp"
mv "$out/vmlinux.tmp" "$out/vmlinux"
echo "$recipe_hash" > "$out/vmlinux.sha256"
echo "build-linux.sh: wrote $out/vmlinux"
