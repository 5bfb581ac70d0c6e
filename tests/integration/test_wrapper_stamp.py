"""test_wrapper_stamp (host tests): ./wisp's stamp skips the package query and the ninja
check only while nothing they depend on changed, and never skips a needed rebuild.

It runs a copy of the real ./wisp script in a fake source tree (a tiny meson project whose
toolstack/wisp prints a version from a header) with logging shims for ninja and
dpkg-query on PATH, so the real build directory is never touched. Boots nothing.
"""
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SHIM = """#!/bin/sh
# Logs each call, then runs the real program. touch-during-build (ninja only): a source
# changes while the build runs, as an editor might save in the middle of one.
echo "{name} $*" >> "{log}"
"{real}" "$@"
status=$?
if [ "{name}" = ninja ] && [ -e "{tree}/touch-during-build" ]; then
    rm -f "{tree}/touch-during-build"
    sleep 0.01
    echo "/* edited during the build */" >> "{tree}/toolstack/main.c"
fi
exit $status
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.fixture
def tree(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy2(ROOT / "wisp", tree / "wisp")
    write(tree / "ci" / "debian-packages", "# fake list\nbash\n")
    write(tree / "meson.build", "project('fake', 'c')\nsubdir('toolstack')\n")
    write(tree / "toolstack" / "meson.build", "executable('wisp', 'main.c')\n")
    write(tree / "toolstack" / "version.h", '#define VERSION "v1"\n')
    write(tree / "toolstack" / "main.c", """\
        #include <stdio.h>
        #include "version.h"
        int main(int argc, char **argv) { printf("fake %s %s\\n", VERSION, argc > 1 ? argv[1] : ""); return 0; }
        """)
    shims = tmp_path / "shims"
    shims.mkdir()
    log = tmp_path / "calls.log"
    for name in ("ninja", "dpkg-query"):
        real = shutil.which(name)
        (shims / name).write_text(SHIM.format(name=name, log=log, real=real, tree=tree))
        (shims / name).chmod(0o755)
    return tree, shims, log


def run(tree_info):
    tree, shims, log = tree_info
    log.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "WISP_BUILD_DIR"}
    env["PATH"] = f"{shims}:{env['PATH']}"
    proc = subprocess.run([str(tree / "wisp"), "help"], cwd=tree, env=env, text=True,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    return proc.stdout.strip(), [c.split()[0] for c in calls]


def test_stamp_skips_checks_and_rebuilds_on_change(tree):
    tree_dir = tree[0]
    out, calls = run(tree)
    assert out == "fake v1 help"
    assert calls.count("dpkg-query") == 1, calls     # one query for the whole list
    assert "ninja" in calls

    # Nothing changed: no package query, no ninja.
    out, calls = run(tree)
    assert out == "fake v1 help"
    assert calls == [], calls

    # A header (known to ninja only through the compiler's depfile) changes: rebuilt.
    (tree_dir / "toolstack" / "version.h").write_text('#define VERSION "v2"\n')
    out, calls = run(tree)
    assert out == "fake v2 help"
    assert "ninja" in calls
    out, calls = run(tree)
    assert (out, calls) == ("fake v2 help", [])

    # An edit that keeps the size and lands in the same second is still seen (ns mtimes).
    (tree_dir / "toolstack" / "version.h").write_text('#define VERSION "v3"\n')
    out, calls = run(tree)
    assert out == "fake v3 help"

    # A new file anywhere in the tree (say, one a later meson.build edit will list).
    (tree_dir / "toolstack" / "extra.c").write_text("int extra;\n")
    out, calls = run(tree)
    assert "ninja" in calls

    # An output deleted from the build directory is rebuilt.
    (tree_dir / "build" / "toolstack" / "wisp").unlink()
    out, calls = run(tree)
    assert out == "fake v3 help"
    assert "ninja" in calls

    # The package list changes: the packages are queried again.
    with open(tree_dir / "ci" / "debian-packages", "a") as f:
        f.write("coreutils\n")
    out, calls = run(tree)
    assert calls.count("dpkg-query") == 1, calls
    out, calls = run(tree)
    assert calls == [], calls


def test_no_stamp_when_a_source_changes_during_the_build(tree):
    tree_dir = tree[0]
    run(tree)
    (tree_dir / "toolstack" / "version.h").write_text('#define VERSION "v2"\n')
    (tree_dir / "touch-during-build").write_text("")
    out, calls = run(tree)
    assert "ninja" in calls
    # main.c changed after ninja had read it: the next run must build again.
    out, calls = run(tree)
    assert "ninja" in calls, calls
    out, calls = run(tree)
    assert calls == [], calls
