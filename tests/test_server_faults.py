"""Faults survived by a real gunicorn: a worker killed mid-synthesis, a full or read-only cache
disk, many slow clients at once, and damaged PDFs that must not reach the log.

The disk faults run the server in its own mount namespace on a small tmpfs (`unshare`), so
the machine's own disks are never filled."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import http_call, post_document, server_log, start_server, stop_server

from reader import audio

pytestmark = pytest.mark.slow

LONG = ("The committee met on a grey morning in the old town hall, and after a long and careful "
        "discussion of the budget, the roads, the library and the school, it agreed to meet again "
        "in the spring to hear what the people of the valley had to say about all of it.")


def _call(url: str, body: Any = None, *, headers: dict[str, str] | None = None,
          timeout: float = 120) -> tuple[int, dict[str, str], bytes]:
    return http_call("POST" if body is not None else "GET", url, body, headers=headers, timeout=timeout)


_document = post_document


# -- a worker killed mid-synthesis ------------------------------------------------------------

def _flock_holders(directory: Path) -> dict[int, int]:
    """inode -> pid of the flocks held on files in `directory` (from /proc/locks)."""
    inodes = {p.stat().st_ino for p in directory.glob("*.lock")} if directory.is_dir() else set()
    held: dict[int, int] = {}
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if len(parts) > 5 and parts[1] == "FLOCK":
            inode = int(parts[5].split(":")[-1])
            if inode in inodes:
                held[inode] = int(parts[4])
    return held


def test_a_killed_worker_frees_its_sentence_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    base, proc = start_server(data, workers=2)
    try:
        doc = _document(base, LONG)
        url = f"{base}/api/documents/{doc}/sentences/0/speech"
        locks = data / "audio-cache" / "locks"
        def doomed() -> None:
            try:
                _call(url, timeout=60)
            except OSError:
                pass  # its worker is killed under it

        first = threading.Thread(target=doomed, daemon=True)
        first.start()
        deadline = time.monotonic() + 60
        holders: dict[int, int] = {}
        while not holders and time.monotonic() < deadline:
            holders = _flock_holders(locks)
            time.sleep(0.01)
        assert holders, "a worker holds the sentence's lock while it synthesises"
        (pid,) = set(holders.values())
        assert pid != proc.pid
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        while _flock_holders(locks) and time.monotonic() - killed < 5:
            time.sleep(0.01)
        freed = time.monotonic() - killed
        assert freed < 2.0, f"the lock outlived its worker by {freed:.1f} s"
        started = time.monotonic()
        status, headers, body = _call(url, timeout=60)
        took = time.monotonic() - started
        assert status == 200 and headers["X-Reader-Cache"] == "miss"
        assert audio.decode(body).shape[0] > audio.TRANSCRIBE_RATE
        print(f"lock freed {freed * 1000:.0f} ms after kill -9; the sentence re-synthesised in {took:.1f} s")
        assert took < 60
        first.join(timeout=5)
    finally:
        stop_server(proc)


# -- a full or read-only cache disk -----------------------------------------------------------

def _namespace_prefix(cache: Path, options: str) -> list[str]:
    """Run the server in a private mount namespace with a small tmpfs as its audio cache."""
    if shutil.which("unshare") is None:
        pytest.fail("the disk-fault tests need unshare (util-linux)")
    as_root = os.geteuid() == 0
    mount = f"mount -t tmpfs -o {options} tmpfs {cache} && exec \"$@\""
    return ["unshare", "--mount", "--propagation", "private", *([] if as_root else ["--map-root-user"]),
            "sh", "-c", mount, "sh"]


def _nsenter(pid: int, *command: str) -> None:
    flags = ["-m"] if os.geteuid() == 0 else ["-U", "-m", "--preserve-credentials"]
    subprocess.run(["nsenter", "-t", str(pid), *flags, *command], check=True, timeout=30)


def _metric(base: str, name: str) -> float:
    _, _, body = _call(base + "/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _sentence(base: str, doc: str, n: int) -> tuple[int, dict[str, str], bytes]:
    return _call(f"{base}/api/documents/{doc}/sentences/{n}/speech?voice=espeak:en-us")


SENTENCES = " ".join(f"This is sentence number {n} of the test." for n in range(1, 13))


def _disk_server(tmp_path: Path, options: str) -> tuple[Path, Path, str, Any]:
    """A server whose audio cache is a small tmpfs mounted with `options`: (data, cache, url, process)."""
    data = tmp_path / "data"
    cache = data / "audio-cache"
    cache.mkdir(parents=True)
    # One web worker and no queue worker: the warning is then said exactly once.
    env = {"READER_CACHE_RETRY_SECONDS": "1", "READER_TTS": "espeak", "READER_EXTRA_TTS": "",
           "READER_NARRATION_WORKERS": "0"}
    base, proc = start_server(data, workers=1, env=env, prefix=_namespace_prefix(cache, options))
    return data, cache, base, proc


def test_a_full_cache_disk_reads_on_and_recovers(tmp_path: Path) -> None:
    data, cache, base, proc = _disk_server(tmp_path, "size=2m")
    inside = Path(f"/proc/{proc.pid}/root") / str(cache).lstrip("/")
    try:
        doc = _document(base, SENTENCES)
        status, headers, _ = _sentence(base, doc, 0)
        assert (status, headers["X-Reader-Cache"]) == (200, "miss")
        assert _sentence(base, doc, 0)[1]["X-Reader-Cache"] == "hit"
        filler = inside / "filler"
        with filler.open("wb") as fh:  # fill the tmpfs to the last block
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        for n in (1, 2, 3):
            status, headers, body = _sentence(base, doc, n)
            assert status == 200 and headers["X-Reader-Cache"] == "miss", body[:200]
            assert audio.decode(body).shape[0] > 0
            assert _sentence(base, doc, n)[0] == 200
        assert _sentence(base, doc, 0)[1]["X-Reader-Cache"] == "hit"  # what was cached still is
        assert _metric(base, 'reader_cache_faults_total{kind="write"}') >= 1
        filler.unlink()
        time.sleep(1.5)
        assert _sentence(base, doc, 4)[0] == 200
        assert _sentence(base, doc, 4)[1]["X-Reader-Cache"] == "hit"  # stored again
        log = server_log(data, base).read_text()
        assert log.count("audio cache write failed") == 1, log[-3000:]
        assert "audio cache write works again" in log
    finally:
        stop_server(proc)


def test_a_read_only_cache_disk_starts_reads_and_recovers(tmp_path: Path) -> None:
    data, cache, base, proc = _disk_server(tmp_path, "ro,size=2m")
    try:
        doc = _document(base, SENTENCES)
        for _ in range(2):
            status, headers, body = _sentence(base, doc, 0)
            assert status == 200 and headers["X-Reader-Cache"] == "miss"
            assert audio.decode(body).shape[0] > 0
        assert _metric(base, 'reader_cache_faults_total{kind="open"}') >= 1
        _nsenter(proc.pid, "mount", "-o", "remount,rw", str(cache))
        time.sleep(1.5)
        assert _sentence(base, doc, 1)[1]["X-Reader-Cache"] == "miss"
        assert _sentence(base, doc, 1)[1]["X-Reader-Cache"] == "hit"
        log = server_log(data, base).read_text()
        assert log.count("audio cache open failed") == 1 and "audio cache open works again" in log
    finally:
        stop_server(proc)


# -- many clients at once ---------------------------------------------------------------------

def test_heavy_work_is_bounded_and_healthz_always_answers(tmp_path: Path) -> None:
    """48 clients ask for new speech at once: a bounded few synthesise, the rest get a 503 or 429
    with Retry-After at once, and /healthz answers quickly throughout."""
    data = tmp_path / "data"
    data.mkdir()
    env = {"READER_TRUST_PROXY": "1", "READER_SPEECH_PER_MINUTE": "0", "READER_THREADS": "8"}
    base, proc = start_server(data, workers=1, env=env)
    try:
        _call(base + "/api/speech", {"text": "Warm up the voice and the language model."})  # load them first

        def ask(i: int) -> tuple[int, dict[str, str]]:
            # Each from its own address (behind a trusted proxy); client 0 asks five times at once.
            client = "10.0.0.1" if i < 5 else f"10.0.1.{i}"
            status, headers, _ = _call(base + "/api/speech", {"text": f"{LONG} Number {i}."},
                                       headers={"X-Forwarded-For": client})
            return status, headers

        health: list[float] = []
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set():
                started = time.monotonic()
                status, _, _ = _call(base + "/healthz", timeout=30)
                assert status == 200
                health.append(time.monotonic() - started)
                time.sleep(0.2)

        prober = threading.Thread(target=probe, daemon=True)
        with ThreadPoolExecutor(48) as pool:
            first = [pool.submit(ask, i) for i in range(4)]  # client 0 takes its four slots
            time.sleep(0.5)
            rest = [pool.submit(ask, i) for i in range(4, 48)]
            prober.start()
            outcomes = [f.result() for f in first + rest]
        stop.set()
        prober.join(timeout=30)
        statuses = [s for s, _ in outcomes]
        assert set(statuses) <= {200, 429, 503}, statuses
        assert statuses[4] == 429, "one client may not run more than four at once"
        assert statuses.count(503) >= 30, statuses
        assert 1 <= statuses.count(200) <= 12
        assert all(int(h["Retry-After"]) >= 1 for s, h in outcomes if s != 200)
        assert health and max(health) < 2.0, health
        print(f"48 clients: {statuses.count(200)} read, {statuses.count(503)} told 503, "
              f"{statuses.count(429)} told 429; /healthz at most {max(health) * 1000:.0f} ms")
    finally:
        stop_server(proc)


# -- logs never quote a document --------------------------------------------------------------

def _damaged_pdfs(marker: str) -> list[bytes]:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Title": f"{marker} a private letter"})
    buf = io.BytesIO()
    writer.write(buf)
    pdf = buf.getvalue()
    return [
        pdf.replace(b"/Title", f"/Ti#ZZtle {marker}#ZZ".encode()),  # an invalid object, quoted by pypdf
        pdf.replace(b"/Title", f"/Ti#ZZtle {marker}#ZZ".encode()) * 40,
        pdf[: len(pdf) // 2] + marker.encode() + pdf[len(pdf) // 2:],
        pdf.replace(b"startxref", b"startxrex"),
    ]


def test_damaged_pdfs_never_reach_the_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    base, proc = start_server(data, workers=1, env={"READER_TTS": "espeak", "READER_EXTRA_TTS": ""})
    marker = "PRIVATE-MARKER-3141"
    try:
        for pdf in _damaged_pdfs(marker):
            boundary = "----reader-test"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"letter.pdf\"\r\n"
                    "Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
            req = urllib.request.Request(base + "/api/documents", data=body,
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    status = resp.status
            except urllib.error.HTTPError as exc:
                with exc:
                    status = exc.code
            assert status in (200, 201, 415, 422), status
    finally:
        stop_server(proc)
    log = server_log(data, base).read_text(errors="replace")
    assert marker not in log and "private letter" not in log
    assert not re.search(r"Invalid Elementary Object|startxref", log), log[-2000:]
    assert len(log) < 20_000, f"{len(log)} bytes of log for four small uploads"
