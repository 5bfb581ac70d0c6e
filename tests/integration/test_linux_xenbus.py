"""test_linux_xenbus (host tests): unmodified Linux guests beside Wisp's xenstore domain.

Each machine boots the xenstore domain (toolstack/xenstored's xenstored.elf) and one or two
Linux guests from guest-kernels/ whose initramfs carries wisp-xs (toolstack/xs-client). The
guest's command (init's wisp.cmd) checks its boot log for grant-table errors and then works
the store through /dev/xen/xenbus: its home path and name, its own keys, a watch, and
another domain's keys (EACCES). A machine with a xenstore domain never ends by itself, so
each run stops once every Linux guest printed init's `<<wisp-exit N>>` marker.

Domain ids follow the configuration's order (docs/boot-config.md): xenstore is 1.
"""
import base64
import re

import pytest

import machine
from wisptest import BUILD, ninja_build

pytestmark = pytest.mark.long(4)     # about 4 minutes of boots: run early (conftest.py)

KERNELS = BUILD / "guest-kernels"
VMLINUX = KERNELS / "vmlinux"
INITRAMFS = KERNELS / "initramfs.cpio.gz"
DEBIAN_VMLINUX = KERNELS / "debian-cloud" / "vmlinux"
DEBIAN_INITRAMFS = KERNELS / "initramfs-debian-cloud.cpio.gz"
XENSTORED_NAME = "xenstored.elf"

QEMU_TIMEOUT = 240
BOCHS_TIMEOUT = 1500

EXIT_RE = re.compile(r"<<wisp-exit (\d+)>>")

# The checks, in the guest's sh (busybox). OTHER is the id of a domain that is not this one.
# Every result is one "XSTEST key value" line; wisp-xs's own error lines go to the console too.
GUEST_SCRIPT = r"""
xs() { wisp-xs -t 30 "$@"; }
say() { echo "XSTEST $*"; }
say grant_errors $(dmesg | grep -ci 'grant table.*fail')
say grant_ok $(dmesg | grep -c 'Grant table initialized')
dmesg | grep -i -E 'grant|xenbus|xenstore' | sed 's/^/DMESG /'
say domid $(xs domid)
say domain_path $(xs domain-path)
say name $(xs read name)
xs write data/wisp "hello from $(xs read name)"; say write_own $?
say read_own $(xs read data/wisp)
say ls_own $(xs ls data | tr '\n' ,)
(xs watch data/w 2 >/tmp/w 2>&1; echo "status $?" >>/tmp/w) &
i=0; while [ ! -s /tmp/w ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
xs write data/w fired; say watch_write $?
wait
sed 's/^/XSTEST watch /' /tmp/w
xs read /local/domain/$OTHER/name; say foreign_read $?
xs ls /local/domain/$OTHER; say foreign_ls $?
xs write /local/domain/$OTHER/data/x evil; say foreign_write $?
xs write name evil; say own_name_write $?
xs rm data/wisp; say rm_own $?
xs read data/wisp; say read_after_rm $?
sleep 2     # stay up a little: another guest may still be checking that it is refused our keys
exit 0
"""


def find_xenstored():
    """The xenstore domain's image in this build tree (built by ninja with everything else)."""
    path = machine.BUILT_PROGRAMS[XENSTORED_NAME]
    assert path.exists(), f"{path} is missing: the xenstore domain (toolstack/xenstored) is not built"
    return path


@pytest.fixture(scope="session")
def linux():
    ninja_build(VMLINUX, INITRAMFS)
    return {"vmlinux": VMLINUX, "initramfs.cpio.gz": INITRAMFS,
            XENSTORED_NAME: find_xenstored()}


@pytest.fixture(scope="session")
def debian_linux():
    ninja_build(DEBIAN_VMLINUX, DEBIAN_INITRAMFS)
    return {"vmlinux-debian": DEBIAN_VMLINUX, "initramfs-debian.cpio.gz": DEBIAN_INITRAMFS,
            XENSTORED_NAME: find_xenstored()}


def linux_domain(name, other, kernel="vmlinux", initrd="initramfs.cpio.gz", memory=128):
    """A Linux domain block that runs GUEST_SCRIPT with OTHER set."""
    script = f"OTHER={other}\n" + GUEST_SCRIPT
    cmd = base64.b64encode(script.encode()).decode()
    return (f"domain {name}\n  kernel {kernel}\n  initrd {initrd}\n  memory {memory}\n"
            f"  cmdline console=hvc0 quiet wisp.cmd={cmd}\n")


XENSTORE_DOMAIN = f"domain xenstore\n  kernel {XENSTORED_NAME}\n  roles xenstore\n  memory 16\n"
# A canary that outlives the test (the run is stopped by `until`): its keys stay in the store.
CANARY_DOMAIN = "domain canary\n  kernel act64.elf\n  cmdline act=canary beats=100000\n  memory 16\n"


def every_linux_ended(names):
    """An `until` for machine.run_config: each named domain printed its exit marker."""
    def ended(lines):
        m = machine.LABEL_RE.match(lines[-1])
        if not (m and EXIT_RE.search(m.group(2))):
            return False
        return all(any(EXIT_RE.search(l) for l in machine.domain_lines(lines, n)) for n in names)
    return ended


def guest_results(stdout, name):
    """({key: value}, [watch lines], exit status or None) from domain NAME's XSTEST lines."""
    results, watch, status = {}, [], None
    for line in machine.domain_lines(stdout, name):
        line = line.rstrip("\r")
        m = EXIT_RE.search(line)
        if m:
            status = int(m.group(1))
        if not line.startswith("XSTEST "):
            continue
        key, _, value = line[len("XSTEST "):].partition(" ")
        if key == "watch":
            watch.append(value)
        else:
            assert key not in results, f"{key} reported twice:\n" + "\n".join(stdout)
            results[key] = value
    return results, watch, status


def first_line(stdout, name, text):
    """Index in stdout of domain NAME's first line containing text (None: no such line)."""
    for i, line in enumerate(stdout):
        m = machine.LABEL_RE.match(line)
        if m and m.group(1) == name and text in m.group(2):
            return i
    return None


def assert_alive_during_refusals(stdout, name, other_name):
    """OTHER was still running when NAME was refused its keys: the refusal was no ENOENT
    in disguise from a domain already gone from the store."""
    refused = first_line(stdout, name, "XSTEST foreign_write")
    assert refused is not None, "\n".join(stdout)
    later = [i for i, line in enumerate(stdout) if i > refused and
             (m := machine.LABEL_RE.match(line)) and m.group(1) == other_name]
    assert later, f"{other_name} said nothing after {name}'s refusals:\n" + "\n".join(stdout)
    ended = first_line(stdout, other_name, "<<wisp-exit")
    assert ended is None or ended > refused, "\n".join(stdout)


def assert_store_works(stdout, name, domid, other):
    """The guest's checks: boot log clean, xenbus up, own keys yes, foreign keys no."""
    log = "\n".join(stdout)
    r, watch, status = guest_results(stdout, name)
    assert status == 0, f"{name} did not finish its command:\n{log}"
    assert r.get("grant_errors") == "0", f"grant table errors in {name}'s boot log:\n{log}"
    assert r.get("grant_ok") == "1", f"{name}: no 'Grant table initialized':\n{log}"
    assert r.get("domid") == str(domid), log
    assert r.get("domain_path") == f"/local/domain/{domid}", log
    assert r.get("name") == name, log
    assert r.get("write_own") == "0", log
    assert r.get("read_own") == f"hello from {name}", log
    assert "wisp" in r.get("ls_own", "").split(","), log
    # The watch fires once when set, then once for the write; both name the watched node.
    events = [w for w in watch if not w.startswith("status")]
    assert watch[-1:] == ["status 0"], f"{name}'s watch did not see two events:\n{log}"
    assert len(events) == 2 and all(e.endswith("data/w") for e in events), log
    assert r.get("watch_write") == "0", log
    # Refusals: the store's EACCES, which wisp-xs turns into status 1 and the name on stderr.
    for key in ("foreign_read", "foreign_ls", "foreign_write", "own_name_write"):
        assert r.get(key) == "1", f"{name}: {key} was not refused:\n{log}"
    domain_log = "\n".join(machine.domain_lines(stdout, name))
    assert f"read /local/domain/{other}/name: EACCES" in domain_log, log
    assert f"write /local/domain/{other}/data/x: EACCES" in domain_log, log
    assert r.get("rm_own") == "0" and r.get("read_after_rm") == "1", log
    assert "read data/wisp: ENOENT" in domain_log, log


@pytest.mark.boot
def test_linux_talks_to_the_xenstore_domain(tmp_path, linux, backend):
    """xenstore (d1), Linux (d2) and a canary (d3) whose keys Linux may not touch."""
    config = XENSTORE_DOMAIN + linux_domain("linux", other=3) + CANARY_DOMAIN
    timeout = QEMU_TIMEOUT if backend == "qemu" else BOCHS_TIMEOUT
    result = machine.run_config(tmp_path, config, emulator=backend, timeout=timeout,
                                until=every_linux_ended(["linux"]), files=linux)
    assert not result.timed_out, result
    assert_store_works(result.stdout, "linux", domid=2, other=3)
    assert_alive_during_refusals(result.stdout, "linux", "canary")
    beats = machine.heartbeats(result.stdout)
    assert beats and beats == sorted(beats), f"the canary stopped:\n{result}"


@pytest.mark.boot
def test_two_linux_guests_share_the_store(tmp_path, linux):
    """Two Linux guests at once: each has its own home and is refused the other's."""
    config = (XENSTORE_DOMAIN + linux_domain("linux-a", other=3) +
              linux_domain("linux-b", other=2))
    result = machine.run_config(tmp_path, config, timeout=2 * QEMU_TIMEOUT,
                                until=every_linux_ended(["linux-a", "linux-b"]), files=linux)
    assert not result.timed_out, result
    assert_store_works(result.stdout, "linux-a", domid=2, other=3)
    assert_store_works(result.stdout, "linux-b", domid=3, other=2)
    assert_alive_during_refusals(result.stdout, "linux-a", "linux-b")
    assert_alive_during_refusals(result.stdout, "linux-b", "linux-a")


@pytest.mark.boot
def test_debian_cloud_kernel_talks_to_the_store(tmp_path, debian_linux):
    """Debian's stock cloud kernel, unmodified, gets the same answers."""
    config = (XENSTORE_DOMAIN +
              linux_domain("linux", other=3, kernel="vmlinux-debian",
                           initrd="initramfs-debian.cpio.gz", memory=256) + CANARY_DOMAIN)
    result = machine.run_config(tmp_path, config, timeout=QEMU_TIMEOUT,
                                until=every_linux_ended(["linux"]), files=debian_linux)
    assert not result.timed_out, result
    assert_store_works(result.stdout, "linux", domid=2, other=3)
    assert_alive_during_refusals(result.stdout, "linux", "canary")
