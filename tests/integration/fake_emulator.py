#!/usr/bin/python3
"""fake_emulator (host test helper): stands in for QEMU or Bochs to test the wisp CLI.

Behaviour comes from the environment:
  FAKE_SERIAL    text written to COM1 (QEMU: stdout; Bochs: the bochsrc com1 file)
  FAKE_EXIT      exit status afterwards (default 0)
  FAKE_HANG      if set, sleep forever after writing instead of exiting
  FAKE_RECORD    directory to write argv.txt and pid.txt into
  FAKE_STDERR    text written to stderr (the emulator's own log)
"""
import os
import re
import sys
import time


def serial_path(argv):
    """Bochs: the file named by 'com1: ... dev=PATH' in the -f bochsrc; QEMU: None."""
    if "-f" not in argv:
        return None
    rc = open(argv[argv.index("-f") + 1]).read()
    m = re.search(r"^com1:.*\bdev=([^,\s]+)", rc, re.M)
    return m.group(1) if m else None


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
