"""Shared fixtures: settings on a temp directory, the real engines (loaded once), app, client,
and a real gunicorn server."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"  # evaluation data: only tests marked `eval` (make eval) use it
DATA = Path(__file__).resolve().parent / "data"
SPEECH = DATA / "speech"  # public-domain recordings (LJ Speech, JFK): see data/speech/SOURCE.md


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect after each test, so that a resource a test left open is reported against it (not
    against whichever test the garbage collector happens to run in)."""
    yield
    import gc

    gc.collect()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(("READER_", "AZURE_", "OPENAI_")):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def piper() -> Any:
    from reader.speech.piper import PiperSynthesizer

    return PiperSynthesizer()


@pytest.fixture(scope="session")
def espeak() -> Any:
    from reader.speech.espeak import EspeakSynthesizer

    return EspeakSynthesizer()


@pytest.fixture(scope="session")
def whisper() -> Any:
    from reader.speech.whisper import WhisperTranscriber

    return WhisperTranscriber()


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    from reader.config import Settings

    return Settings(data_dir=str(tmp_path / "data"), cache_size_mb=64).resolved()


@pytest.fixture
def make_app(settings: Any, piper: Any, espeak: Any, whisper: Any) -> Callable[..., Any]:
    """Build an app on the test's data dir with the session's real engines."""
    from reader import create_app

    def make(**overrides: Any) -> Any:
        import dataclasses

        s = dataclasses.replace(settings, **overrides)
        return create_app(
            s, synthesizers={"piper": piper, "espeak": espeak}, transcribers={"whisper": whisper}
        )

    return make


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    app = make_app()
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class CountingSynthesizer:
    """The real engine, wrapped to count how often it is asked to synthesise and with what text."""

    def __init__(self, inner: Any) -> None:
        import threading

        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.capabilities = inner.capabilities
        self.calls = 0
        self.texts: list[str] = []
        self._lock = threading.Lock()

    def voices(self) -> Any:
        return self.inner.voices()

    def default_voice(self) -> str:
        return str(self.inner.default_voice())

    def synthesize(self, text: str, voice: str, *, instructions: str | None = None, speed: float = 1.0) -> Any:
        with self._lock:
            self.calls += 1
            self.texts.append(text)
        return self.inner.synthesize(text, voice, instructions=instructions, speed=speed)


# -- speech evaluation --------------------------------------------------------------------

_NUMBER_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
                 "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten"}


def normalise_words(text: str) -> list[str]:
    """Lower case, no punctuation, small numbers as words, hyphens as spaces."""
    text = text.lower().replace("-", " ").replace("’", "'")
    words = re.findall(r"[a-z0-9']+", text)
    return [_NUMBER_WORDS.get(w, w).strip("'") for w in words if w.strip("'")]


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    ref, hyp = " ".join(normalise_words(reference)), " ".join(normalise_words(hypothesis))
    value = float(jiwer.wer(ref, hyp))
    # TEST_WER_LOG=file: each measured WER with its test, to read the margins of the thresholds
    # (the review of the recognition tests under every CPU kernel).
    log = os.environ.get("TEST_WER_LOG")
    if log:
        with open(log, "a") as fh:
            test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
            fh.write(json.dumps({"test": test, "wer": round(value, 4), "kernel": os.environ.get("CT2_FORCE_CPU_ISA", ""),
                                 "mkl": os.environ.get("CT2_USE_MKL", "")}) + "\n")
    return value


def speech_manifest() -> dict[str, dict[str, Any]]:
    with (SPEECH / "manifest.jsonl").open() as fh:
        return {row["id"]: row for row in map(json.loads, fh)}


# -- a real gunicorn ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} in {seconds} s")


def server_log(data_dir: Path, base: str) -> Path:
    """Where start_server sends the server's output."""
    return data_dir.parent / f"server-{base.rsplit(':', 1)[1]}.log"


def start_server(data_dir: Path, *, workers: int = 2, env: dict[str, str] | None = None,
                 prefix: list[str] | None = None) -> tuple[str, subprocess.Popen[bytes]]:
    """`reader serve` under gunicorn on a free loopback port (`prefix`: a command that execs it)."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READER_", "AZURE_", "OPENAI_"))}
    environ.update({"READER_DATA_DIR": str(data_dir), "READER_WORKERS": str(workers)})
    environ.update(env or {})
    with open(data_dir.parent / f"server-{port}.log", "wb") as log:
        proc = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "reader.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environ, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", proc)
    except Exception:
        proc.kill()
        raise
    return base, proc


def http_call(method: str, url: str, body: Any = None, *, headers: dict[str, str] | None = None,
              timeout: float = 120) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one JSON request to a test server; an HTTP error is an answer too."""
    import urllib.error

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:  # an error response holds its connection until it is closed
            return exc.code, dict(exc.headers), exc.read()


def post_document(base: str, text: str) -> str:
    """Open `text` on the server at `base`; its document id."""
    status, _, body = http_call("POST", base + "/api/documents", {"text": text})
    assert status in (200, 201), body
    return str(json.loads(body)["id"])


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real gunicorn serving the app with the offline engines; yields its base URL."""
    data_dir = tmp_path_factory.mktemp("live") / "data"
    data_dir.mkdir()
    base, proc = start_server(data_dir, workers=2)
    try:
        yield base
    finally:
        stop_server(proc)
