"""deploy/nginx.conf in front of a real Reader: pages and API proxied, static files served by
nginx itself, sentence audio cached and revalidated, the client address passed on."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, start_server, stop_server
from proxy import start_nginx, stop_nginx

pytestmark = pytest.mark.slow
@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[str]:
    data = tmp_path / "data"
    data.mkdir()
    base, reader = start_server(data, workers=1, env={"READER_TRUST_PROXY": "1", "READER_TTS": "espeak",
                                                      "READER_EXTRA_TTS": ""})
    try:
        front, nginx = start_nginx(tmp_path, [base])
        try:
            yield front
        finally:
            stop_nginx(nginx)
    finally:
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
