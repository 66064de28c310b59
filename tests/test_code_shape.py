"""The shape the code keeps: small functions in the front end too."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

MAX_LINES = 150
# A function or method that opens a block at the end of its first line.
_START = re.compile(r"^(\s*)(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*([\w$]+)|(?:static\s+)?(?:get\s+|set\s+)?"
                    r"([\w$]+))\s*\([^)]*\)\s*\{\s*$")
_NOT_FUNCTIONS = {"if", "for", "while", "switch", "catch", "with"}


def _functions(path: Path) -> list[tuple[str, int]]:
    lines = path.read_text().splitlines()
    found = []
    for k, line in enumerate(lines):
        m = _START.match(line)
        if not m:
            continue
        name = m.group(2) or m.group(3)
        if name in _NOT_FUNCTIONS:
            continue
        close = m.group(1) + "}"
        end = next((j for j in range(k + 1, len(lines)) if lines[j].rstrip() == close), len(lines))
        found.append((name, end - k + 1))
    return found


def test_no_front_end_function_is_over_150_lines() -> None:
    scripts = sorted((ROOT / "static").glob("*.js"))
    assert scripts
    measured = {f"{p.name}:{name}": n for p in scripts for name, n in _functions(p)}
    assert len(measured) > 50  # the pattern does find the functions
    assert "player.js:start" in measured and "reader.js:init" in measured
    too_long = {k: n for k, n in measured.items() if n > MAX_LINES}
    assert not too_long, too_long
