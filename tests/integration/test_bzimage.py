"""test_bzimage (host tests): `wisp run` with a Linux bzImage: the vmlinux is found through the
x86 boot protocol header, unpacked with the external tool for its compression and checked;
hostile bzImages get a one-line reason and exit status 2. Synthetic images, fake emulator."""
import bz2
import gzip
import lzma
import shutil
import struct
import subprocess

import pytest

from clitest import fake_env, make_bzimage, run_raw, serial
from wisptest import EXIT_POWEROFF, EXIT_USAGE, make_elf

END = "(wisp) end: poweroff\n"
VMLINUX = make_elf(pvh_note=True, entry=0x1000000, paddr=0x1000000) + b"relocs" * 50


def with_size(data, packed):
    """Linux appends the unpacked size (le32) to every format but gzip."""
    return packed + struct.pack("<I", len(data))


def pack_tool(argv, data):
    if not shutil.which(argv[0]):
        pytest.skip(f"{argv[0]} is not installed")
    return subprocess.run(argv, input=data, capture_output=True, check=True).stdout


PACKERS = {
    "gzip": lambda d: gzip.compress(d, mtime=0),
    "xz": lambda d: with_size(d, lzma.compress(d, format=lzma.FORMAT_XZ,
                                               check=lzma.CHECK_CRC32)),
    "lzma": lambda d: with_size(d, lzma.compress(d, format=lzma.FORMAT_ALONE)),
    "bzip2": lambda d: with_size(d, bz2.compress(d)),
    "zstd": lambda d: with_size(d, pack_tool(["zstd", "-q", "-c", "-19"], d)),
    "lz4": lambda d: with_size(d, pack_tool(["lz4", "-l", "-q", "-c"], d)),
}


@pytest.fixture
def env(tmp_path):
    return fake_env(tmp_path)


def run_image(tmp_path, env, image, *extra, **kw):
    path = tmp_path / "bzImage"
    path.write_bytes(image)
    result = run_raw(["run", "--hypervisor", path, *extra, path],
                     env=dict(env, FAKE_SERIAL_HEX=serial("(d1) up\n" + END)), **kw)
    return path, result


@pytest.mark.parametrize("fmt", sorted(PACKERS))
def test_each_compression_unpacks(tmp_path, env, fmt):
    _, result = run_image(tmp_path, env, make_bzimage(PACKERS[fmt](VMLINUX)))
    assert result.code == EXIT_POWEROFF, result
    assert result.out == b"up\n"
    # the emulator got the unpacked vmlinux; the temporary file is gone afterwards
    assert (tmp_path / "record" / "guest.elf").read_bytes() == VMLINUX
    assert list((tmp_path / "tmpdir").iterdir()) == []


@pytest.mark.parametrize("setup_sects", [0, 1, 27])
def test_setup_size_is_honoured(tmp_path, env, setup_sects):
    """setup_sects 0 means 4 (boot protocol); the payload offset counts from after setup."""
    image = make_bzimage(PACKERS["gzip"](VMLINUX), setup_sects=setup_sects, before=4000)
    _, result = run_image(tmp_path, env, image)
    assert result.code == EXIT_POWEROFF, result
    assert (tmp_path / "record" / "guest.elf").read_bytes() == VMLINUX


def test_grub_boot_copies_unpacked_kernel(tmp_path, env):
    keep = tmp_path / "media"
    _, result = run_image(tmp_path, env, make_bzimage(PACKERS["xz"](VMLINUX)), "--boot",
                          "grub", "--keep", keep, timeout=60)
    assert result.code == EXIT_POWEROFF, result
    assert (keep / "iso" / "boot" / "guest.elf").read_bytes() == VMLINUX


def test_plain_elf_is_used_as_is(tmp_path, env):
    """An ELF is never taken for a bzImage, whatever sits at the header offsets."""
    elf = bytearray(make_elf(pvh_note=True)) + bytes(0x300)
    elf[0x202:0x206] = b"HdrS"
    _, result = run_image(tmp_path, env, bytes(elf))
    assert result.code == EXIT_POWEROFF, result
    assert (tmp_path / "record" / "guest.elf").read_bytes() == bytes(elf)


GOOD = PACKERS["gzip"](VMLINUX)


@pytest.mark.parametrize("image,why", [
    (make_bzimage(GOOD, version=0x0207), "older than 2.08"),
    (make_bzimage(GOOD, version=0x0100), "older than 2.08"),
    (make_bzimage(GOOD)[:0x240], "setup header is cut short"),
    (make_bzimage(GOOD, cut=2048 + 64 + len(GOOD) // 2), "does not lie within the file"),
    (make_bzimage(GOOD, payload_offset=1 << 20), "does not lie within the file"),
    (make_bzimage(GOOD, payload_offset=0xFFFFFFFF, payload_length=0xFFFFFFFF),
     "does not lie within the file"),
    (make_bzimage(GOOD, payload_length=0), "does not lie within the file"),
    (make_bzimage(b"ABCDEFGH" * 8), "unknown compression (first bytes 41 42 43 44)"),
    (make_bzimage(b"\x5d"), "unknown compression"),
    (make_bzimage(GOOD[:len(GOOD) // 2]), "gzip: exit status"),
    (make_bzimage(GOOD[:10] + bytes(len(GOOD) - 10)), "gzip: exit status"),
    (make_bzimage(b"\xfd7zX"), "unknown compression"),
    (make_bzimage(gzip.compress(b"not an ELF at all" * 10)), "did not unpack to an ELF64"),
    (make_bzimage(gzip.compress(b"\x7fELF\x01" + bytes(100))), "did not unpack to an ELF64"),
    (make_bzimage(gzip.compress(b"")), "did not unpack to an ELF64"),
    (make_bzimage(gzip.compress(make_elf(pvh_note=False))), "the vmlinux unpacked from"),
], ids=["version-2.07", "version-1.0", "truncated-header", "truncated-payload",
        "payload-beyond-file", "payload-wraps", "payload-empty", "unknown-compression",
        "one-byte-payload", "half-gzip", "corrupt-gzip", "xz-magic-only", "not-elf",
        "elf32", "empty-vmlinux", "no-pvh-note"])
def test_hostile_bzimage(tmp_path, env, image, why):
    path, result = run_image(tmp_path, env, image)
    assert result.code == EXIT_USAGE, result
    assert result.err.startswith(f"wisp: {path}: "), result
    assert why in result.err.splitlines()[0], result
    assert list((tmp_path / "tmpdir").iterdir()) == []
    assert not (tmp_path / "record" / "argv.txt").exists()     # no emulator started


def test_missing_tool_names_debian_package(tmp_path, env):
    """The unpacker is looked up in PATH like any program."""
    image = make_bzimage(PACKERS["xz"](VMLINUX))
    _, result = run_image(tmp_path, dict(env, PATH=str(tmp_path / "empty")), image)
    assert result.code == EXIT_USAGE, result
    assert "xz-compressed" in result.err and "xz-utils" in result.err
