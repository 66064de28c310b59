"""A built wheel works as well as the checkout: it carries the templates and static files, and
every module Reader imports is a declared dependency (an old pip installs nothing else)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
import urllib.request
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from conftest import ROOT, free_port, stop_server, wait_for

pytestmark = pytest.mark.slow


def _third_party_imports() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "reader").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "reader"}


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_every_imported_module_is_a_declared_dependency() -> None:
    declared = {_normal(dep.split(";")[0].split("[")[0].split("=")[0].split("<")[0].split(">")[0].strip())
                for dep in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    owners = packages_distributions()
    missing = {}
    for module in sorted(_third_party_imports()):
        dists = {_normal(d) for d in owners.get(module, [])}
        assert dists, f"{module} is imported but installed by no distribution"
        if not dists & declared:
            missing[module] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject dependencies: {missing}"


def test_the_wheel_serves_pages_and_static_files(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(ROOT)], check=True, timeout=300)
    (wheel,) = dist.glob("reader-*.whl")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, timeout=300)
    assert (site / "reader" / "templates" / "reader.html").is_file()
    assert (site / "reader" / "static" / "reader.js").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("READER_", "AZURE_", "OPENAI_"))}
    env.update({"PYTHONPATH": str(site), "READER_DATA_DIR": str(tmp_path / "data"), "READER_WORKERS": "1",
                "READER_TTS": "espeak", "READER_EXTRA_TTS": ""})
    where = subprocess.run([sys.executable, "-c", "import reader; print(reader.__file__)"], env=env,
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), where  # the wheel's copy, not the checkout
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "reader.cli", "serve", "--port", str(port)], env=env,
                                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(base + "/healthz", proc)
        with urllib.request.urlopen(base + "/", timeout=30) as resp:
            assert resp.status == 200 and b"<main" in resp.read()
        req = urllib.request.Request(base + "/api/documents", data=json.dumps({"text": "Hello there."}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            doc = json.load(resp)
        with urllib.request.urlopen(f"{base}/read/{doc['id']}", timeout=30) as resp:
            assert resp.status == 200 and b"Hello there." in resp.read()
        with urllib.request.urlopen(base + "/static/reader.js", timeout=30) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/javascript")
    finally:
        stop_server(proc)
