#!/usr/bin/python3
"""fake_console_emulator (host test helper): a fake QEMU or Bochs whose COM1 talks both ways.

COM1 is where the real emulator would have it: QEMU's stdin and stdout; for Bochs the
bochsrc `com1:` line, a file (mode=file, output only) or a terminal (mode=term, both).
Behaviour comes from the environment:
  FAKE_SERIAL_HEX  bytes (in hex) written to COM1 first
  FAKE_SERIAL_FILE a file whose bytes are written to COM1 next (for large outputs)
  FAKE_LATER_HEX   bytes (in hex) written to COM1 FAKE_DELAY seconds (default 1) later
  FAKE_ECHO        if set: then read COM1's input, reporting each chunk as "(d1) in HEX\\n",
                   until the input seen so far contains FAKE_ECHO (then "(wisp) end:
                   poweroff") or ends ("(d1) in-eof" then "(wisp) end: poweroff");
                   with FAKE_ECHO_TIMES, each report ends in " @MS", its arrival time
  FAKE_HANG        if set: sleep forever at the end instead of exiting
  FAKE_RECORD      directory for argv.txt, pid.txt and a copy of each module that QEMU's
                   -initrd names (under the module's name), taken at start
"""
import os
import re
import shutil
import sys
import time


def com1(argv):
    """(input fd or None, output fd) of COM1."""
    if "-f" not in argv:
        return 0, 1
    rc = open(argv[argv.index("-f") + 1]).read()
    m = re.search(r"^com1:.*\bmode=(\w+),\s*dev=([^,\s]+)", rc, re.M)
    mode, dev = m.groups()
    if mode == "term":
        fd = os.open(dev, os.O_RDWR | os.O_NOCTTY)
        return fd, fd
    return None, os.open(dev, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)


def record(argv, where):
    with open(os.path.join(where, "argv.txt"), "w") as f:
        f.write("\n".join(argv) + "\n")
    with open(os.path.join(where, "pid.txt"), "w") as f:
        f.write(str(os.getpid()))
    if "-initrd" in argv:
        for module in argv[argv.index("-initrd") + 1].split(","):
            path, name = module.split(" ", 1)
            shutil.copyfile(path, os.path.join(where, name))


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def echo(in_fd, out_fd, stop):
    seen = b""
    while True:
        chunk = os.read(in_fd, 4096) if in_fd is not None else b""
        if not chunk:
            write_all(out_fd, b"(d1) in-eof\n(wisp) end: poweroff\n")
            return
        when = b" @%d" % (time.monotonic() * 1000) if os.environ.get("FAKE_ECHO_TIMES") else b""
        write_all(out_fd, b"(d1) in " + chunk.hex().encode() + when + b"\n")
        seen += chunk
        if stop in seen:
            write_all(out_fd, b"(wisp) end: poweroff\n")
            return


def main():
    argv = sys.argv[1:]
    if os.environ.get("FAKE_RECORD"):
        record(argv, os.environ["FAKE_RECORD"])
    in_fd, out_fd = com1(argv)
    write_all(out_fd, bytes.fromhex(os.environ.get("FAKE_SERIAL_HEX", "")))
    if os.environ.get("FAKE_SERIAL_FILE"):
        write_all(out_fd, open(os.environ["FAKE_SERIAL_FILE"], "rb").read())
    if os.environ.get("FAKE_LATER_HEX"):
        time.sleep(float(os.environ.get("FAKE_DELAY", "1")))
        write_all(out_fd, bytes.fromhex(os.environ["FAKE_LATER_HEX"]))
    if os.environ.get("FAKE_ECHO"):
        echo(in_fd, out_fd, os.environ["FAKE_ECHO"].encode())
    if os.environ.get("FAKE_HANG"):
        while True:
            time.sleep(60)


main()
