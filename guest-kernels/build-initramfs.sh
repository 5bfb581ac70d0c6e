#!/bin/sh
# build-initramfs.sh: packs the busybox initramfs (gzip newc cpio) for Wisp's Linux guests (host tool).
#
# Usage: build-initramfs.sh OUT_FILE [--init FILE] [--modules-from DIR_OR_DEB --kver VERSION]
#                                    [--module NAME]... [--bin FILE]...
#   OUT_FILE         the .cpio.gz to write
#   --init FILE      the /init to pack (default: init beside this script;
#                    the service domain's is service-init)
#   --modules-from   a Debian linux-image .deb, or an unpacked root holding
#                    lib/modules/VERSION (fetch-debian-kernel.sh's OUT_DIR/root)
#   --kver           the kernel release those modules belong to
#   --module NAME    a module to pack and load at boot besides the Xen block
#                    and network frontends (repeatable)
#   --bin FILE       a static program to put in /usr/bin under its own name
#                    (repeatable), e.g. toolstack/xs-client's wisp-xs
# Contents: /bin/busybox with a link per applet, /init (guest-kernels/init),
# udhcpc's event script (udhcpc.script) as /usr/share/udhcpc/default.script,
# empty /dev /proc /sys /tmp /root /etc, and with --modules-from the chosen
# modules plus everything they depend on under /lib/modules/VERSION.
# The archive is reproducible: sorted names, owner root, mtimes
# SOURCE_DATE_EPOCH (default 0), no gzip name or timestamp.
set -eu

die() { echo "build-initramfs.sh: $*" >&2; exit 1; }
usage() { die "usage: build-initramfs.sh OUT_FILE [--init FILE] [--modules-from DIR_OR_DEB --kver VERSION] [--module NAME]... [--bin FILE]..."; }

[ $# -ge 1 ] || usage
out_file=$1
shift
modules_from=
kver=
modules="xen-blkfront xen-netfront"
bins=
here=$(cd "$(dirname "$0")" && pwd)
init="$here/init"
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case "$1" in
    --modules-from) modules_from=$2 ;;
    --kver) kver=$2 ;;
    --module) modules="$modules $2" ;;
    --bin) bins="$bins $2" ;;
    --init) init=$2 ;;
    *) usage ;;
    esac
    shift 2
done
[ -z "$modules_from" ] || [ -n "$kver" ] || die "--modules-from needs --kver"
[ -f "$init" ] || die "$init missing"

busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-0}

# The guest has no libc, so every program must be statically linked.
is_dynamic() { readelf -l "$1" | grep -q 'Requesting program interpreter'; }
[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
if is_dynamic "$busybox"; then
    die "$busybox is dynamically linked; install busybox-static"
fi
for bin in $bins; do
    [ -x "$bin" ] || die "$bin is not an executable file"
    if is_dynamic "$bin"; then
        die "$bin is dynamically linked; the guest has no libc"
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/wisp-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" \
         "$root/root" "$root/etc"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"

cp "$busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
# One symlink per applet, where busybox itself says it belongs (bin/ls,
# sbin/modprobe, usr/bin/base64 ...). /init is ours, not an applet.
"$busybox" --list-full | while read -r applet; do
    case "$applet" in
    ""|bin/busybox|init|linuxrc) continue ;;
    esac
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
done

for bin in $bins; do
    mkdir -p "$root/usr/bin"
    cp "$bin" "$root/usr/bin/$(basename "$bin")"
    chmod 755 "$root/usr/bin/$(basename "$bin")"
done

cp "$init" "$root/init"
chmod 755 "$root/init"
# udhcpc's default event script: it applies a lease (busybox ships none).
mkdir -p "$root/usr/share/udhcpc"
cp "$here/udhcpc.script" "$root/usr/share/udhcpc/default.script"
chmod 755 "$root/usr/share/udhcpc/default.script"

# Copies module file $1 (a path relative to the modules dir) into the image,
# uncompressed: busybox modprobe may not read .ko.xz/.ko.zst/.ko.gz.
pack_module_file() {
    src="$src_moddir/$1"
    dst="$dst_moddir/${1%.ko*}.ko"
    [ -f "$src" ] || die "$src listed in modules.dep but missing"
    mkdir -p "$(dirname "$dst")"
    case "$1" in
    *.ko) cp "$src" "$dst" ;;
    *.ko.xz) xz -dc "$src" >"$dst" ;;
    *.ko.zst) zstd -dcq "$src" >"$dst" ;;
    *.ko.gz) gzip -dc "$src" >"$dst" ;;
    *) die "unexpected module file $1" ;;
    esac
}

# Writes the modules.dep path of module $1 (kernel/.../name.ko[.xz]) and of
# every module it needs. modules.dep already lists the full dependency chain
# of each module, so one line is enough. '-' and '_' are the same in names.
module_closure() {
    want=$(printf '%s' "$1" | tr - _)
    awk -v want="$want" -F': *' '{
        name = $1; sub(/.*\//, "", name); sub(/\.ko.*$/, "", name); gsub(/-/, "_", name)
        if (name == want) { print $1; n = split($2, deps, / +/); for (i = 1; i <= n; i++) if (deps[i] != "") print deps[i]; found = 1; exit }
    } END { if (!found) exit 1 }' "$src_moddir/modules.dep"
}

if [ -n "$modules_from" ]; then
    if [ -f "$modules_from" ]; then
        # A .deb: unpack it; its postinst would have run depmod, so do that.
        mkdir -p "$work/deb"
        dpkg-deb -x "$modules_from" "$work/deb"
        [ -d "$work/deb/usr/lib/modules/$kver" ] && [ ! -d "$work/deb/lib/modules/$kver" ] &&
            mkdir -p "$work/deb/lib" && mv "$work/deb/usr/lib/modules" "$work/deb/lib/modules"
        [ -d "$work/deb/lib/modules/$kver" ] || die "$modules_from has no lib/modules/$kver"
        depmod -b "$work/deb" "$kver"
        src_moddir="$work/deb/lib/modules/$kver"
    elif [ -d "$modules_from/lib/modules/$kver" ]; then
        src_moddir="$modules_from/lib/modules/$kver"
    elif [ -d "$modules_from/usr/lib/modules/$kver" ]; then
        src_moddir="$modules_from/usr/lib/modules/$kver"
    else
        die "no lib/modules/$kver in $modules_from"
    fi
    [ -f "$src_moddir/modules.dep" ] ||
        die "$src_moddir/modules.dep missing: run depmod -b ROOT $kver first"

    dst_moddir="$root/lib/modules/$kver"
    mkdir -p "$dst_moddir"
    for module in $modules; do
        module_closure "$module" >>"$work/module-files" ||
            die "module $module is not in $src_moddir/modules.dep (built in, or misspelt?)"
        echo "$module" >>"$dst_moddir/wisp-modules"
    done
    sort -u "$work/module-files" | while read -r file; do
        pack_module_file "$file"
    done
    # Fresh modules.dep/modules.alias for exactly what is packed, naming the
    # uncompressed files.
    for file in modules.order modules.builtin modules.builtin.modinfo; do
        [ -f "$src_moddir/$file" ] && cp "$src_moddir/$file" "$dst_moddir/"
    done
    depmod -b "$root" "$kver"
fi

# Reproducible archive: fixed mtimes, sorted names, root owner.
find "$root" -exec touch -h -d "@$epoch" {} +
mkdir -p "$(dirname "$out_file")"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9 -n >"$out_file.tmp"
mv "$out_file.tmp" "$out_file"
echo "build-initramfs.sh: wrote $out_file"
