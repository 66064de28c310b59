"""The audio cache: one synthesis per key across threads and gunicorn workers; bounded size."""

from __future__ import annotations

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from conftest import CountingSynthesizer, start_server, stop_server

from reader.audio_cache import AudioCache, CachedAudio, cache_key


def test_concurrent_identical_requests_synthesise_once(settings: Any, piper: Any, espeak: Any, whisper: Any) -> None:
    from reader import create_app

    counting = CountingSynthesizer(piper)
    app = create_app(settings, synthesizers={"piper": counting, "espeak": espeak},
                     transcribers={"whisper": whisper})
    client = app.test_client()
    doc = client.post("/api/documents", json={"text": "Eight listeners ask for this sentence at once."}).get_json()
    url = f"/api/documents/{doc['id']}/sentences/0/speech"
    barrier = threading.Barrier(8)

    def fetch(_: int) -> tuple[str, bytes]:
        c = app.test_client()
        barrier.wait()
        resp = c.get(url)
        assert resp.status_code == 200
        return resp.headers["X-Reader-Cache"], resp.data

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, range(8)))
    assert counting.calls == 1
    assert sorted(r[0] for r in results) == ["hit"] * 7 + ["miss"]
    assert len({r[1] for r in results}) == 1


def test_cache_key_covers_what_changes_the_audio() -> None:
    base = dict(engine="piper", model="m", voice="v", instructions=None, fmt="mp3", text="Hi.")
    key = cache_key(**base)  # type: ignore[arg-type]
    assert key == cache_key(**base)  # type: ignore[arg-type]
    for field, value in [("engine", "espeak"), ("model", "m2"), ("voice", "w"),
                         ("instructions", "calm"), ("fmt", "opus"), ("text", "Hi!")]:
        assert cache_key(**{**base, field: value}) != key  # type: ignore[arg-type]


def test_cache_is_bounded_and_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = AudioCache(str(tmp_path / "c"), size_mb=2)
    blob = np.random.default_rng(0).bytes(50 * 1024)  # about 6 s of speech as mp3

    def entry(i: int) -> CachedAudio:
        return CachedAudio.of(blob + bytes([i]), "audio/mpeg", 1.0)

    for i in range(100):  # 5 MB of audio into a 2 MB cache
        cache.get_or_create(f"k{i}", lambda i=i: entry(i))
        cache.get("k0")  # keep k0 in use
    stats = cache.stats()
    assert stats["bytes"] <= 2 * 1024 * 1024 + 128 * 1024  # diskcache culls just after the limit
    assert stats["entries"] < 50
    assert cache.get("k0") is not None
    assert cache.get("k1") is None
    cache.close()


def test_failed_synthesis_leaves_no_entry(tmp_path: Path) -> None:
    cache = AudioCache(str(tmp_path / "c"), size_mb=8)

    def boom() -> CachedAudio:
        raise RuntimeError("engine died")

    try:
        cache.get_or_create("k", boom)
    except RuntimeError:
        pass
    assert cache.get("k") is None
    made, hit = cache.get_or_create(
        "k", lambda: CachedAudio.of(b"x", "audio/mpeg", 0.1))
    assert not hit and made.audio == b"x"
    cache.close()


def test_gunicorn_workers_share_the_cache_and_synthesise_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    base, proc = start_server(data_dir, workers=3)
    try:
        req = urllib.request.Request(
            base + "/api/documents", method="POST",
            data=json.dumps({"text": "Three workers, one synthesis, and twelve eager listeners."}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            doc = json.load(resp)
        url = f"{base}/api/documents/{doc['id']}/sentences/0/speech"
        barrier = threading.Barrier(12)

        def fetch(_: int) -> tuple[str, bytes]:
            barrier.wait()
            with urllib.request.urlopen(url, timeout=120) as resp:
                return resp.headers["X-Reader-Cache"], resp.read()

        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(fetch, range(12)))
        assert [r[0] for r in results].count("miss") == 1
        assert len({r[1] for r in results}) == 1
    finally:
        stop_server(proc)
