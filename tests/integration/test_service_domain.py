"""test_service_domain (host tests): the service domain's Linux boots beside the xenstore domain.

The machine is the one `wisp run --disk/--net` builds, minus the guest's devices: the xenstore
domain (d1), the service domain (d2: guest-kernels/service/vmlinux with
service-initramfs.cpio.gz, roles control,backend) and a canary (d3). The kernel parameter
`wisp.selftest` makes the service /init print one `wisp-service: selftest KEY VALUE` line per
fact before `wisp-service: up`: the backend drivers on the xen-backend bus (so xenbus reached
the xenstore domain and blkback and netback registered), the bridge br0 with its address,
and which /dev/xen devices open (privcmd needs xen_privcmd.unrestricted=1 in a domU).

The kernel and initramfs are built by ninja when missing (the kernel once per build tree,
~10 min on 2 cores; cached by guest-kernels/build-linux.sh), never skipped. A machine with a
xenstore domain and a canary that beats on does not end by itself: the run stops once the
service domain said it is up, and the test then checks that nothing broke on the way.
"""
import re

import pytest

import machine
from wisptest import BUILD, ninja_build

pytestmark = pytest.mark.long(2)     # about 2 minutes of boots: run early (conftest.py)

KERNELS = BUILD / "guest-kernels"
SERVICE_VMLINUX = KERNELS / "service" / "vmlinux"
SERVICE_INITRAMFS = KERNELS / "service-initramfs.cpio.gz"
XENSTORED_NAME = "xenstored.elf"

QEMU_TIMEOUT = 300

SERVICE_CMDLINE = "console=hvc0 xen_privcmd.unrestricted=1 quiet wisp.selftest"
CONFIG = f"""domain xenstore
  kernel {XENSTORED_NAME}
  roles xenstore
  memory 16
domain service
  kernel service-vmlinux
  initrd service-initramfs.cpio.gz
  roles control,backend
  memory 256
  cmdline {SERVICE_CMDLINE}
domain canary
  kernel act64.elf
  cmdline act=canary beats=100000
  memory 16
"""
SELFTEST_RE = re.compile(r"^wisp-service: selftest (\S+) ?(.*)$")
# Lines that must not appear anywhere: a kernel in trouble, or a backend that failed.
BAD_RE = re.compile(r"Kernel panic|BUG:|Oops|WARNING:|Call Trace|"
                    r"unpopulated|Cannot allocate new IOMEM|xenbus.*(fail|error)", re.I)


@pytest.fixture(scope="session")
def service_domain():
    ninja_build(SERVICE_VMLINUX, SERVICE_INITRAMFS)
    xenstored = machine.BUILT_PROGRAMS[XENSTORED_NAME]
    assert xenstored.exists(), f"{xenstored} is missing: toolstack/xenstored is not built"
    return {"service-vmlinux": SERVICE_VMLINUX,
            "service-initramfs.cpio.gz": SERVICE_INITRAMFS, XENSTORED_NAME: xenstored}


def selftest_facts(service_lines):
    """{key: value} from the service domain's selftest lines."""
    facts = {}
    for line in service_lines:
        m = SELFTEST_RE.match(line.rstrip("\r"))
        if m:
            facts[m.group(1)] = m.group(2).strip()
    return facts


@pytest.mark.boot
def test_service_domain_boots_with_backends(tmp_path, service_domain):
    result = machine.run_config(tmp_path, CONFIG, emulator="qemu", timeout=QEMU_TIMEOUT,
                                until=r"^\[service\] wisp-service: up", files=service_domain)
    log = "\n".join(result.stdout)
    assert not result.timed_out, f"the service domain never came up:\n{result}"
    service = [line.rstrip("\r") for line in machine.domain_lines(result.stdout, "service")]
    assert "wisp-service: up" in service, log
    facts = selftest_facts(service)

    # xenbus reached the xenstore domain and both backends registered on the backend bus.
    assert set(facts.get("backend-drivers", "").split()) >= {"vbd", "vif"}, log
    # br0 exists (a bridge has a bridge_id), carries the service address and is up.
    bridge = facts.get("bridge", "").split()
    assert len(bridge) == 2 and bridge[0] != "none", log
    assert bridge[1] == "10.77.255.254/16", log
    assert facts.get("operstate") in ("up", "unknown"), log
    # The devices wisp-agent uses: privcmd (control hypercall), xenbus (the store).
    for dev in ("privcmd", "xenbus", "evtchn", "gntdev", "gntalloc"):
        assert facts.get(f"dev-xen-{dev}") == "opens", f"/dev/xen/{dev}:\n{log}"
    assert "wisp-service: cannot set up bridge br0" not in service, log

    bad = [line for line in service if BAD_RE.search(line)]
    assert not bad, "trouble in the service domain's log:\n" + "\n".join(bad) + "\n\n" + log
    # Nothing else was hurt: the canary beat on in order all along, nobody crashed.
    beats = machine.heartbeats(result.stdout)
    assert beats and beats == sorted(beats), f"the canary stopped:\n{log}"
    assert not any("crash" in line.lower() for line in result.stdout
                   if not line.startswith("[")), log
