#!/bin/sh
# install-files.sh (host build step, run by `ninja -C build install`): puts the files the
# installed wisp boots into <prefix>/lib/wisp, under their build-tree names (files_dir()
# in toolstack/cli/args.c looks there). The Linux kernels are not built by default
# (minutes each, then cached), so this builds whichever is missing first.
set -eu

build="$MESON_BUILD_ROOT"
dest="$MESON_INSTALL_DESTDIR_PREFIX/lib/wisp"
files="xen/wisp.elf
tests/guests/demo.elf
toolstack/xenstored/xenstored.elf
guest-kernels/vmlinux
guest-kernels/initramfs.cpio.gz
guest-kernels/service/vmlinux
guest-kernels/service-initramfs.cpio.gz"

# shellcheck disable=SC2086 # one target per word
ninja -C "$build" $files >&2
for f in $files; do
    install -D -m 0644 "$build/$f" "$dest/$f"
done
echo "Installing Wisp's boot files to $dest"
