"""test_stress (host test): issue 11's stress run, two minutes on two CPUs (docs/smp.md).

Two SMP Linux guests under disk and network load through the service domain, the fuzz64
guest and a canary, all on a 2-CPU QEMU at once: no corruption, no hang, no lost timer
event, every frame back (stress.py says what runs and what is checked). QEMU only: under
Bochs the two Linux guests alone take many minutes to boot. Its QEMU runs both CPUs on one
host thread (--tcg-threads single): with a thread each, QEMU's own race corrupts the boot
CPU's SVM state within seconds of this load (docs/testing.md). ci/stress-smp.py runs the
same machine longer, with other CPU counts or with a thread per CPU, by hand.
"""
import pytest

import stress

pytestmark = pytest.mark.long(4)     # about 3 minutes of one boot: run early (conftest.py)

SECONDS = 120


@pytest.mark.boot
def test_stress_two_cpus(tmp_path):
    log_path = tmp_path / "stress.log"
    with open(log_path, "w") as log:
        bad, took = stress.run(tmp_path, log, seconds=SECONDS, cpus=2)
    tail = "".join(log_path.read_text(errors="replace").splitlines(True)[-60:])
    assert not bad, f"{bad}\nmachine ran {took:.0f} s; the log's end:\n{tail}"
