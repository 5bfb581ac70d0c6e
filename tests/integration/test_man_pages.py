"""test_man_pages (host tests, no boot): the wisp manual pages render without a warning,
and every command `wisp` takes has a page that names it."""
import re
import subprocess
from pathlib import Path

MAN = Path(__file__).resolve().parents[2] / "docs" / "man"
COMMANDS = ["run", "demo", "up", "down", "create", "list", "info", "console", "pause", "unpause", "destroy",
            "shutdown", "reboot", "sched", "top", "mem-set", "help"]


def test_pages_render_cleanly():
    pages = sorted(MAN.glob("*.1"))
    assert len(pages) >= 5
    for page in pages:
        res = subprocess.run(["groff", "-man", "-ww", "-z", str(page)], capture_output=True,
                             text=True)
        assert res.returncode == 0 and not res.stderr, (page.name, res.stderr)


def synopses():
    """The SYNOPSIS sections of every page, escapes removed."""
    out = []
    for page in MAN.glob("*.1"):
        text = page.read_text().replace("\\-", "-")
        out += re.findall(r"^\.SH SYNOPSIS\n(.*?)^\.SH", text, re.M | re.S)
    return "\n".join(out)


def test_every_command_is_documented():
    words = set(re.findall(r"[a-z-]+", synopses()))
    missing = [c for c in COMMANDS if c not in words]
    assert not missing, f"in no page's SYNOPSIS: {missing}"
    listed = (MAN / "meson.build").read_text()
    assert all(p.name in listed for p in MAN.glob("*.1")), "a page is not installed"
