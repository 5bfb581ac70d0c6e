"""clitest (host test helper): runs the wisp CLI against fake_console_emulator.py with exact bytes,
and builds private build directories and synthetic bzImages for the CLI tests."""
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import wisptest

FAKE_CONSOLE = Path(__file__).with_name("fake_console_emulator.py")


@dataclass
class RawResult:
    code: int
    out: bytes          # stdout, exactly
    err: str

    def __str__(self):
        return f"wisp exit {self.code}\n--- stdout ---\n{self.out!r}\n--- stderr ---\n{self.err}"


def fake_env(tmp_path):
    """Environment for both emulators to be the console fake, recording into tmp_path/record."""
    record = tmp_path / "record"
    record.mkdir(exist_ok=True)
    work = tmp_path / "tmpdir"
    work.mkdir(exist_ok=True)
    return {"WISP_QEMU": str(FAKE_CONSOLE), "WISP_BOCHS": str(FAKE_CONSOLE),
            "FAKE_RECORD": str(record), "TMPDIR": str(work)}


def serial(data):
    """The FAKE_SERIAL_HEX value for bytes (or text) that COM1 carries."""
    return (data.encode() if isinstance(data, str) else data).hex()


def run_raw(args, env=None, stdin=b"", timeout=30, wisp=None):
    """Runs `wisp ARGS...` with stdin from bytes (None: /dev/null); always ends its group."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen([str(wisp or wisptest.WISP), *map(str, args)],
                            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        wisptest.stop_group(proc)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            wisptest.stop_group(proc, grace_s=0)
            proc.wait()
    return RawResult(proc.returncode, out, err.decode(errors="replace"))


def private_build(tmp_path):
    """A build directory of our own: a copy of the CLI (it finds its build directory from
    its own path), a stand-in hypervisor image and an empty guest-kernels/. Returns
    (build dir, wisp path)."""
    build = tmp_path / "build"
    (build / "toolstack").mkdir(parents=True)
    (build / "xen").mkdir()
    (build / "guest-kernels").mkdir()
    wisp = build / "toolstack" / "wisp"
    shutil.copy2(wisptest.WISP, wisp)
    (build / "xen" / "wisp.elf").write_bytes(b"stand-in hypervisor image")
    return build, wisp


# Linux x86 boot protocol (Documentation/arch/x86/boot.rst): setup header offsets.
SETUP_SECTS, HDRS, VERSION, PAYLOAD_OFFSET, PAYLOAD_LENGTH = 0x1F1, 0x202, 0x206, 0x248, 0x24C


def make_bzimage(payload, version=0x020F, setup_sects=3, before=64, after=32,
                 payload_offset=None, payload_length=None, cut=None):
    """A bzImage-shaped file: boot sector + setup sectors with the header fields we read,
    then the protected-mode part holding payload between filler bytes."""
    sects = setup_sects or 4
    setup = bytearray((sects + 1) * 512)
    setup[SETUP_SECTS] = setup_sects
    setup[0x1FE:0x200] = b"\x55\xaa"
    setup[HDRS:HDRS + 4] = b"HdrS"
    struct.pack_into("<H", setup, VERSION, version)
    struct.pack_into("<II", setup, PAYLOAD_OFFSET,
                     before if payload_offset is None else payload_offset,
                     len(payload) if payload_length is None else payload_length)
    image = bytes(setup) + b"\x90" * before + payload + b"\xcc" * after
    return image[:cut] if cut is not None else image
