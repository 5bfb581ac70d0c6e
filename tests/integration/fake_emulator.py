#!/usr/bin/python3
"""fake_emulator (host test helper): stands in for QEMU or Bochs to test the wisp CLI.

Behaviour comes from the environment:
  FAKE_SERIAL    text written to COM1 (QEMU: stdout; Bochs: the bochsrc com1 file)
  FAKE_EXIT      exit status afterwards (default 0)
  FAKE_HANG      if set, sleep forever after writing instead of exiting
  FAKE_RECORD    directory to write argv.txt and pid.txt into
  FAKE_STDERR    text written to stderr (the emulator's own log)
  FAKE_SCREEN    Bochs: a byte count; first, as Bochs' curses display does, open a pty,
                 name its slave on the terminal ("Bochs connected to screen ...") and
                 write that many bytes into its master (blocking until someone reads)
"""
import fcntl
import os
import re
import struct
import sys
import time


def serial_path(argv):
    """Bochs: the file named by 'com1: ... dev=PATH' in the -f bochsrc; QEMU: None."""
    if "-f" not in argv:
        return None
    rc = open(argv[argv.index("-f") + 1]).read()
    m = re.search(r"^com1:.*\bdev=([^,\s]+)", rc, re.M)
    return m.group(1) if m else None


TIOCSPTLCK = 0x40045431     # <asm-generic/ioctls.h>: lock or unlock a pty's slave
TIOCGPTN = 0x80045430       # the pty's number: its slave is /dev/pts/N


def draw_screen(count):
    """Bochs' term display, built with its debugger: a pty of its own, the screen written
    into the master, the slave only named on the terminal and never opened."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    number = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, bytes(4)))[0]
    os.write(1, f'Bochs connected to screen "/dev/pts/{number}"\r\n'.encode())
    chunk = b"\x1b[?25h" * 64
    while count > 0:
        count -= os.write(master, chunk[:count])


def main():
    argv = sys.argv[1:]
    record = os.environ.get("FAKE_RECORD")
    if record:
        with open(os.path.join(record, "argv.txt"), "w") as f:
            f.write("\n".join(argv) + "\n")
        with open(os.path.join(record, "pid.txt"), "w") as f:
            f.write(str(os.getpid()))
    sys.stderr.write(os.environ.get("FAKE_STDERR", ""))
    sys.stderr.flush()
    text = os.environ.get("FAKE_SERIAL", "").encode()
    path = serial_path(argv)
    if os.environ.get("FAKE_SCREEN"):
        draw_screen(int(os.environ["FAKE_SCREEN"]))     # its master stays open, as in Bochs
    if path:
        with open(path, "wb") as f:
            f.write(text)
    else:
        os.write(1, text)
    if os.environ.get("FAKE_HANG"):
        while True:
            time.sleep(60)
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))


main()
