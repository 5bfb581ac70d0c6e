#!/bin/sh
# fetch-debian-kernel.sh: downloads Debian 12's cloud kernel package and unpacks it for use as a PVH guest (host tool).
#
# Usage: fetch-debian-kernel.sh OUT_DIR
#   OUT_DIR/root/     the unpacked linux-image .deb, with modules.dep made by depmod
#   OUT_DIR/vmlinuz   the bzImage as Debian ships it
#   OUT_DIR/vmlinux   the ELF kernel inside it: the file a PVH loader boots
#                     (bzImages are not ELF; the PVH entry note is in here)
#   OUT_DIR/kver      the kernel release, e.g. 6.1.0-56-cloud-amd64
# Cached: does nothing when all four are present. Needs apt-get, dpkg-deb,
# depmod (kmod) and the decompressor the kernel was packed with (Debian: lz4).
set -eu

die() { echo "fetch-debian-kernel.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: fetch-debian-kernel.sh OUT_DIR"
mkdir -p "$1"
out=$(cd "$1" && pwd)

if [ -s "$out/kver" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/vmlinux" ] &&
   [ -d "$out/root/lib/modules/$(cat "$out/kver")" ]; then
    echo "fetch-debian-kernel.sh: $out is up to date ($(cat "$out/kver"))"
    touch "$out/vmlinuz" "$out/vmlinux"
    exit 0
fi

# The metapackage names the current ABI's image package, e.g.
# linux-image-6.1.0-56-cloud-amd64.
package=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-6\.1[^ ]*-cloud-amd64\)$/\1/p' | head -n 1)
[ -n "$package" ] ||
    die "apt-cache knows no linux-image-6.1*-cloud-amd64 (run apt-get update?)"
kver=${package#linux-image-}

work=$(mktemp -d "$out/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fetch-debian-kernel.sh: downloading $package"
(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$package") ||
    die "apt-get download $package failed"
deb=$(ls "$work"/*.deb)

rm -rf "$out/root"
mkdir -p "$work/root"
dpkg-deb -x "$deb" "$work/root"

# Debian's usrmerge may put modules under /usr/lib; accept either.
if [ -d "$work/root/lib/modules/$kver" ]; then
    :
elif [ -d "$work/root/usr/lib/modules/$kver" ]; then
    mkdir -p "$work/root/lib"
    mv "$work/root/usr/lib/modules" "$work/root/lib/modules"
else
    die "$package has no /lib/modules/$kver"
fi
# The package leaves modules.dep to its postinst; make it here.
depmod -b "$work/root" "$kver"

image="$work/root/boot/vmlinuz-$kver"
[ -f "$image" ] || die "$package has no /boot/vmlinuz-$kver"

# Unwrap the ELF vmlinux from the bzImage. Boot protocol (Linux
# Documentation/x86/boot.rst): byte 0x1f1 = setup_sects (0 means 4); the
# protected-mode part starts at (setup_sects + 1) * 512; the u32 at 0x248
# (payload_offset) is the offset of the compressed vmlinux in that part and
# the u32 at 0x24c its length. Boot protocol 2.08 or later has these fields.
read_u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
read_u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
[ "$(dd if="$image" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] ||
    die "$image is not a bzImage (no HdrS signature at 0x202)"
setup_sects=$(read_u8 "$image" $((0x1f1)))
[ "$setup_sects" -ne 0 ] || setup_sects=4
payload_offset=$(read_u32 "$image" $((0x248)))
payload_length=$(read_u32 "$image" $((0x24c)))
start=$(( (setup_sects + 1) * 512 + payload_offset ))
tail -c +$((start + 1)) "$image" | head -c "$payload_length" > "$work/payload"
# Pick the decompressor from the payload's magic bytes. The kernel's build
# appends the uncompressed size (4 bytes) after the stream, which gzip and
# lz4/zstd report as trailing garbage: tolerate that, the ELF check below and
# the PHYS32_ENTRY check catch a real failure.
magic=$(od -An -tx1 -N6 "$work/payload" | tr -d ' \n')
case "$magic" in
1f8b*)         gzip -dcq <"$work/payload" >"$work/vmlinux" || true ;;
fd377a585a00)  xz -dcq --single-stream <"$work/payload" >"$work/vmlinux" ;;
02214c18*)     lz4 -dcq <"$work/payload" >"$work/vmlinux" 2>/dev/null || true ;;
28b52ffd*)     zstd -dcq <"$work/payload" >"$work/vmlinux" 2>/dev/null || true ;;
*) die "unknown compression of the bzImage payload (magic $magic)" ;;
esac
[ "$(od -An -c -N4 "$work/vmlinux" | tr -d ' ')" = '177ELF' ] ||
    die "the bzImage payload is not an ELF file"
readelf -n "$work/vmlinux" | grep -q 'Xen.*0x00000012' ||
    die "the kernel has no XEN_ELFNOTE_PHYS32_ENTRY note (not built with CONFIG_PVH)"

cp "$image" "$out/vmlinuz"
mv "$work/root" "$out/root"
mv "$work/vmlinux" "$out/vmlinux"
echo "$kver" > "$out/kver"
echo "fetch-debian-kernel.sh: $kver in $out"
