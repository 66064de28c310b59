"""deploy/nginx.conf in front of a real Reader: pages and API proxied, static files served by
nginx itself, sentence audio cached and revalidated, the client address passed on."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, free_port, start_server, stop_server

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _config(tmp: Path, listen: int, upstream: str) -> Path:
    """The shipped config with this test's ports and paths (and nothing else) changed."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in [
        ("pid /run/nginx.pid;", f"pid {tmp}/nginx.pid;"),
        ("error_log /var/log/nginx/error.log warn;", f"error_log {tmp}/error.log warn;"),
        ("/var/cache/nginx/reader", f"{tmp}/cache"),
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("/srv/reader/static/", f"{ROOT}/static/"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    # Temporary files in the test's folder; as root, workers run as root to read it.
    temp = "".join(f"    {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = text.replace("http {\n", "http {\n" + temp, 1)
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        text = "user root;\n" + text
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[str]:
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed (make test installs Debian's nginx)")
    data = tmp_path / "data"
    data.mkdir()
    base, reader = start_server(data, workers=1, env={"READER_TRUST_PROXY": "1", "READER_TTS": "espeak",
                                                      "READER_EXTRA_TTS": ""})
    port = free_port()
    conf = _config(tmp_path, port, base.removeprefix("http://"))
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
                             stderr=subprocess.DEVNULL)
    front = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(front + "/healthz", timeout=2)
                break
            except OSError:
                if nginx.poll() is not None:
                    raise RuntimeError((tmp_path / "error.log").read_text()) from None
                time.sleep(0.1)
        yield front
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        stop_server(reader)


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=60) as resp:
        return resp.status, dict(resp.headers), resp.read()


def test_nginx_proxies_serves_static_and_caches_audio(proxied: str) -> None:
    status, headers, body = _get(proxied + "/")
    assert status == 200 and b"<main" in body and "script-src 'self'" in headers["Content-Security-Policy"]
    status, headers, body = _get(proxied + "/static/reader.js")
    assert status == 200 and headers.get("X-Served-By") == "nginx"
    assert body == (ROOT / "static" / "reader.js").read_bytes()
    req = urllib.request.Request(proxied + "/api/documents", data=json.dumps({"text": "Hello through nginx."}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        doc = json.load(resp)
    url = f"{proxied}/api/documents/{doc['id']}/sentences/0/speech"
    _, first, audio = _get(url)
    assert first["X-Cache-Status"] == "MISS" and first["X-Reader-Cache"] == "miss"
    _, second, again = _get(url)
    assert second["X-Cache-Status"] == "HIT" and again == audio
