#!/usr/bin/env python3
"""tcb-lines (host tool): counts the hypervisor's lines of code against its budget.

The trusted computing base is everything under xen/: C, headers and assembly.
A line counts when it holds code after comments (/* */, //) are removed; blank
and comment-only lines do not, so explaining code never costs budget. Prints the
total and each folder's share; exits 1 when the total is over the budget.
"""
import re
import sys
from collections import Counter
from pathlib import Path

BUDGET = 15000
COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def code_lines(text):
    """Lines with code left once comments are gone (newlines inside comments kept)."""
    stripped = COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return sum(1 for line in stripped.splitlines() if line.strip())


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]) / "xen"
    per_folder = Counter()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".c", ".h", ".S"):
            per_folder[str(path.parent.relative_to(root.parent))] += code_lines(
                path.read_text(errors="replace"))
    total = sum(per_folder.values())
    for folder, n in sorted(per_folder.items()):
        print(f"{n:6} {folder}")
    print(f"{total:6} total (budget {BUDGET}: {'within' if total <= BUDGET else 'OVER'})")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
