"""Narration jobs end to end: a real `reader serve` (gunicorn, and the Huey consumer it starts),
driven over HTTP: idempotent jobs, Server-Sent Events, Range downloads, cancel, the per-client
limit, and a worker killed with kill -9 in the middle of a job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import http_call, post_document, start_server, stop_server

from reader import audio

pytestmark = pytest.mark.slow

BOOK = ("# Night train\n\nThe train left at nine. Nobody spoke.\n\n## Arrival\n\n"
        "It reached the coast at dawn. The sea was grey.")
LONG = "# A longer story\n\n" + " ".join(
    f"This is sentence number {n} of a story that goes on for a while, so that there is time to stop it."
    for n in range(1, 25))


def _call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
          timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    return http_call(method, url, body, headers=headers, timeout=timeout)


_document = post_document


def _wait(base: str, job_url: str, statuses: tuple[str, ...], seconds: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _, _, body = _call("GET", base + job_url)
        job = json.loads(body)
        if job["status"] in statuses:
            return dict(job)
        time.sleep(0.3)
    raise AssertionError(f"job never reached {statuses}: {job}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    data = tmp_path_factory.mktemp("jobs") / "data"
    data.mkdir()
    base, proc = start_server(data, workers=1, env={"READER_JOB_STALE_SECONDS": "3",
                                                    "READER_NARRATION_PER_CLIENT": "2"})
    try:
        yield base, proc
    finally:
        stop_server(proc)


def test_a_narration_from_start_to_download(server: tuple[str, Any], tmp_path: Path) -> None:
    base, _ = server
    doc = _document(base, BOOK)
    status, headers, body = _call("POST", f"{base}/api/documents/{doc}/narrations",
                                  {"voice": "espeak:en-us", "format": "mp3"})
    assert status == 202, body
    job = json.loads(body)
    assert headers["Location"] == job["url"] and job["status"] in ("queued", "running")
    again = json.loads(_call("POST", f"{base}/api/documents/{doc}/narrations",
                             {"voice": "espeak:en-us", "format": "mp3"})[2])
    assert again["id"] == job["id"]  # the same request is the same job
    with urllib.request.urlopen(base + job["events"], timeout=120) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        kinds = []
        for line in stream:
            if line.startswith(b"event: "):
                kinds.append(line[7:].strip().decode())
                if kinds[-1] != "progress":
                    break
    assert kinds[-1] == "done" and set(kinds[:-1]) <= {"progress"}
    done = json.loads(_call("GET", base + job["url"])[2])
    assert done["status"] == "done" and done["done"] == done["total"] == 6 and done["seconds"] > 3
    status, headers, data = _call("GET", base + done["file"])
    assert status == 200 and headers["Content-Type"] == "audio/mpeg"
    assert 'filename="Night train.mp3"' in headers["Content-Disposition"]
    out = tmp_path / "book.mp3"
    out.write_bytes(data)
    chapters = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(out)],
                                         capture_output=True, text=True, check=True).stdout)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == ["Night train", "Arrival"]
    status, headers, part = _call("GET", base + done["file"], headers={"Range": "bytes=0-99"})
    assert status == 206 and part == data[:100] and headers["Content-Range"].startswith("bytes 0-99/")
    status, _, vtt = _call("GET", base + done["captions"]["vtt"])
    assert status == 200 and vtt.startswith(b"WEBVTT")
    # Made once: asking again answers the finished job (200), and the page's reading is all hits.
    status, _, body = _call("POST", f"{base}/api/documents/{doc}/narrations", {"voice": "espeak:en-us", "format": "mp3"})
    assert status == 200 and json.loads(body)["status"] == "done"
    _, headers, _ = _call("GET", f"{base}/api/documents/{doc}/sentences/1/speech?voice=espeak:en-us")
    assert headers["X-Reader-Cache"] == "hit"


def test_bad_requests_and_the_per_client_limit(server: tuple[str, Any]) -> None:
    base, _ = server
    doc = _document(base, LONG)
    for body in ({"format": "doc"}, {"format": "mp3", "voice": "nobody:here"}, {"format": "mp3", "speed": 9}):
        status, headers, answer = _call("POST", f"{base}/api/documents/{doc}/narrations", body)
        assert status == 400 and headers["Content-Type"] == "application/problem+json", answer
    assert _call("POST", f"{base}/api/documents/{'0' * 24}/narrations", {"format": "mp3"})[0] == 404
    assert _call("GET", f"{base}/api/narrations/{'f' * 24}")[0] == 404
    ids = []
    for fmt in ("wav", "opus"):  # two Piper jobs at once: this client's limit
        status, _, body = _call("POST", f"{base}/api/documents/{doc}/narrations", {"format": fmt})
        assert status == 202
        ids.append(json.loads(body)["url"])
    status, headers, body = _call("POST", f"{base}/api/documents/{doc}/narrations", {"format": "m4b"})
    assert status == 429 and int(headers["Retry-After"]) > 0, body
    status, _, body = _call("GET", f"{base}{ids[0]}/file")
    assert status == 409  # not finished: no file yet
    for url in ids:
        cancelled = json.loads(_call("DELETE", base + url)[2])
        assert cancelled["status"] == "cancelled"
    time.sleep(1)
    for url in ids:
        assert json.loads(_call("GET", base + url)[2])["status"] == "cancelled"
        assert _call("GET", base + url + "/file")[0] == 409


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found.append(int(child))
            found.extend(_descendants(int(child)))
    return found


def test_a_job_survives_its_worker_killed(server: tuple[str, Any]) -> None:
    base, proc = server
    doc = _document(base, LONG.replace("story", "tale"))
    status, _, body = _call("POST", f"{base}/api/documents/{doc}/narrations", {"format": "mp3"})
    assert status == 202
    job = json.loads(body)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = json.loads(_call("GET", base + job["url"])[2])
        if state["status"] == "running" and state["done"] >= 2:
            break
        time.sleep(0.2)
    assert state["status"] == "running", state
    consumers = [p for p in _descendants(proc.pid)
                 if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")]
    assert consumers, "reader serve started a queue consumer"
    workers = [p for c in consumers for p in _descendants(c)]
    assert workers, "the consumer runs its worker processes"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    finished = _wait(base, job["url"], ("done", "failed"), seconds=240)
    assert finished["status"] == "done", finished
    assert finished["done"] == finished["total"] == 25
    _, _, data = _call("GET", base + finished["file"])
    seconds = audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE
    assert seconds > 60
    print(f"killed at {state['done']}/{state['total']}; done {time.monotonic() - killed:.1f} s later")


def test_the_queue_on_redis(tmp_path: Path) -> None:
    """READER_REDIS_URL puts the narration queue on Redis (Huey's Redis backend): the same job runs."""
    import shutil as sh
    import socket

    server_bin = sh.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server_bin).exists():
        pytest.fail("redis-server is needed (make test installs Debian's redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    redis = subprocess.Popen([server_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    data = tmp_path / "data"
    data.mkdir()
    try:
        base, proc = start_server(data, workers=1, env={"READER_REDIS_URL": f"redis://127.0.0.1:{port}/0",
                                                        "READER_TTS": "espeak", "READER_EXTRA_TTS": ""})
        try:
            doc = _document(base, BOOK)
            status, _, body = _call("POST", f"{base}/api/documents/{doc}/narrations", {"format": "opus"})
            assert status == 202
            done = _wait(base, json.loads(body)["url"], ("done", "failed"), seconds=120)
            assert done["status"] == "done"
            stats = subprocess.run(["redis-cli", "-p", str(port), "info", "commandstats"],
                                   capture_output=True, text=True, timeout=10).stdout
            assert "cmdstat_lpush" in stats or "cmdstat_rpush" in stats, stats  # the job was queued in Redis
        finally:
            stop_server(proc)
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def test_progress_streams_are_bounded_per_worker(server: tuple[str, Any]) -> None:
    """Open progress streams each hold a thread: beyond two per worker a 503, and the slots come back."""
    import threading

    base, _ = server
    doc = _document(base, LONG.replace("story", "saga"))
    status, _, body = _call("POST", f"{base}/api/documents/{doc}/narrations", {"format": "wav"})  # Piper: slow enough
    job = json.loads(body)
    opened = []
    for _ in range(2):
        stream = urllib.request.urlopen(base + job["events"], timeout=60)
        stream.readline()
        opened.append(stream)
    status, headers, _ = _call("GET", base + job["events"])
    assert status == 503 and int(headers["Retry-After"]) > 0
    for stream in opened:
        stream.close()
    time.sleep(1.0)
    freed = threading.Event()
    with urllib.request.urlopen(base + job["events"], timeout=60) as again:
        assert again.status == 200
        freed.set()
    assert freed.is_set()
    _call("DELETE", base + job["url"])
