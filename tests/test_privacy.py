"""Retention and privacy: what expires and when, deleting a document with what was made from it,
recordings that never touch the disk, transcripts that are never logged, the privacy page."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEECH

from reader import audio
from reader.narration.narrate import Spec
from reader.retention import sweep
from reader.speech.base import SpeechRequest

A = "# Letter to the bank\n\nMy account number is private. Shared closing line."
B = "# Another note\n\nNothing private here. Shared closing line."


def swept(svc: Any, now: float | None = None) -> dict[str, int]:
    """The retention sweep over an app's stores, as the worker runs it every minute."""
    return sweep(svc.documents, svc.jobs, svc.speech.cache, svc.imports, document_days=svc.settings.document_days,
                 now=now)


def _open(client: Any, text: str) -> dict[str, Any]:
    resp = client.post("/api/documents", json={"text": text})
    assert resp.status_code in (200, 201)
    return dict(resp.get_json())


def _read_all(client: Any, doc: dict[str, Any]) -> None:
    for s in doc["sentences"]:
        assert client.get(f"/api/documents/{doc['id']}/sentences/{s['index']}/speech?voice=espeak:en-us").status_code == 200


def _key(app: Any, text: str) -> str:
    return str(app.extensions["reader"].speech.speak_key(SpeechRequest(text=text, voice="espeak:en-us", language="en")))


def test_deleting_a_document_takes_what_only_it_used(app: Any, client: Any) -> None:
    svc = app.extensions["reader"]
    a, b = _open(client, A), _open(client, B)
    _read_all(client, a)
    _read_all(client, b)
    job, _ = svc.jobs.submit(Spec(a["id"], "espeak:en-us", "mp3"), total=3, client="x")
    (svc.jobs.folder(job.id) / "narration.mp3").write_bytes(b"audio")
    private, shared = _key(app, "My account number is private."), _key(app, "Shared closing line.")
    assert svc.speech.cache.get(private) is not None and svc.speech.cache.get(shared) is not None
    resp = client.delete(f"/api/documents/{a['id']}")
    assert resp.status_code == 204
    assert client.get(f"/api/documents/{a['id']}").status_code == 404
    assert svc.speech.cache.get(private) is None  # only A used it
    assert svc.speech.cache.get(shared) is not None  # B still does
    assert not svc.jobs.folder(job.id).exists()
    assert client.delete(f"/api/documents/{a['id']}").status_code == 204  # again: the same answer
    never = client.delete(f"/api/documents/{'0' * 24}")
    assert never.status_code == 404 and never.mimetype == "application/problem+json"
    assert client.get(f"/api/documents/{b['id']}").status_code == 200
    assert _open(client, A)["id"] == a["id"]  # it can be opened again


def test_each_kind_expires_and_what_is_in_use_stays(make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(document_days=1.0, export_days=1.0, audio_days=1.5 / 86400)
    client = app.test_client()
    svc = app.extensions["reader"]
    old, busy = _open(client, A), _open(client, B)
    _read_all(client, old)
    done, _ = svc.jobs.submit(Spec(old["id"], "espeak:en-us", "mp3"), total=3, client="x")
    svc.jobs.update(done.id, status="done", finished=time.time())
    svc.jobs.submit(Spec(busy["id"], "espeak:en-us", "wav"), total=3, client="y")  # queued: in use
    assert swept(svc) == {"documents": 0, "narrations": 0, "audio": 0, "imports": 0}  # nothing is old yet
    time.sleep(2)  # audio is kept 1.5 s here
    with caplog.at_level(logging.INFO, logger="reader.retention"):
        counts = swept(svc, now=time.time() + 2 * 86400)
    assert counts["documents"] == 1 and counts["narrations"] == 1 and counts["audio"] >= 3
    assert client.get(f"/api/documents/{old['id']}").status_code == 404
    assert client.get(f"/api/documents/{busy['id']}").status_code == 200  # its narration is under way
    assert svc.speech.cache.get(_key(app, "Nothing private here.")) is None
    logged = caplog.text
    assert "expired 1 documents" in logged and "Letter" not in logged and "private" not in logged


def test_reading_a_document_keeps_it(make_app: Any) -> None:
    from reader.documents import store

    app = make_app(document_days=1.0)
    client = app.test_client()
    doc = _open(client, A)
    svc = app.extensions["reader"]
    path = svc.documents._path(doc["id"])
    os.utime(path, (time.time() - 3 * 86400, time.time() - 3 * 86400))  # last used three days ago
    client.get(f"/read/{doc['id']}")  # opened again now
    assert time.time() - path.stat().st_mtime < store.TOUCH_EVERY
    assert swept(svc)["documents"] == 0


def test_a_recording_never_touches_the_disk_and_its_transcript_is_not_kept(
        app: Any, client: Any, caplog: pytest.LogCaptureFixture) -> None:
    svc = app.extensions["reader"]
    clip = (SPEECH / "ljspeech" / "LJ001-0001.wav").read_bytes()
    recording = clip * 3  # over a megabyte: werkzeug would spool it to a temporary file
    assert len(recording) > 1_000_000
    watched = [tempfile.gettempdir(), svc.settings.data_dir]
    seen: set[str] = set()
    stop = threading.Event()

    def open_files() -> set[str]:
        found = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if any(target.startswith(w) for w in watched) and "/run/" not in target \
                    and not target.endswith((".db", ".db-wal", ".db-shm", ".lock")):
                found.add(target)
        return found

    already = open_files()  # pytest's own capture files, for one

    def watch() -> None:
        while not stop.is_set():
            seen.update(open_files() - already)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    with caplog.at_level(logging.DEBUG):
        watcher.start()
        # The body is built here in memory: the test client would otherwise spool it to a temp file.
        body = (b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"talk.wav\"\r\n"
                b"Content-Type: audio/wav\r\n\r\n" + recording + b"\r\n--b0undary--\r\n")
        resp = client.post("/api/transcriptions", data=body, content_type="multipart/form-data; boundary=b0undary")
        stop.set()
        watcher.join()
    assert resp.status_code == 200, resp.get_data(as_text=True)
    text = resp.get_json()["text"]
    assert "printing" in text.lower()
    assert not seen, f"files opened in the temp or data folders during a transcription: {seen}"
    assert "printing" not in caplog.text.lower()  # never logged
    for path in Path(svc.settings.data_dir).rglob("*"):
        if path.is_file():
            assert b"rinting" not in path.read_bytes()  # never stored


def test_the_privacy_page_says_what_is_kept(make_app: Any) -> None:
    client = make_app(document_days=14.0, export_days=3.0, audio_days=10.0).test_client()
    page = client.get("/privacy").get_data(as_text=True)
    assert "14 days after you last opened" in page and "3 days after they were made" in page
    assert "At most 10 days" in page
    assert "nothing leaves this server" in page  # offline engines
    assert 'id="forget-browser"' in page
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)


def test_audio_is_decodable_after_a_sweep(app: Any, client: Any) -> None:
    doc = _open(client, A)
    _read_all(client, doc)
    swept(app.extensions["reader"])
    resp = client.get(f"/api/documents/{doc['id']}/sentences/1/speech?voice=espeak:en-us")
    assert resp.headers["X-Reader-Cache"] == "hit" and audio.decode(resp.data).shape[0] > 0
