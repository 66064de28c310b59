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


def _circles(graph: object) -> list[list[str]]:
    """The import graph's strongly connected components of more than one module (Tarjan)."""
    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):  # type: ignore[attr-defined]
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for module in sorted(graph.modules):  # type: ignore[attr-defined]
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_circle() -> None:
    """Imports inside functions and under TYPE_CHECKING count too: a circle is a circle."""
    import grimp

    assert _circles(grimp.build_graph("reader")) == []
    # The check does find one: a graph with a circle of three.
    made = grimp.ImportGraph()
    for a, b in (("x.a", "x.b"), ("x.b", "x.c"), ("x.c", "x.a"), ("x.c", "x.d")):
        made.add_import(importer=a, imported=b)
    assert _circles(made) == [["x.a", "x.b", "x.c"]]


def test_the_layers_are_kept() -> None:
    """lint-imports with the contracts in pyproject.toml: every import runs downward."""
    import subprocess
    import sys

    run = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 kept, 0 broken" in run.stdout
