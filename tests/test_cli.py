"""The `reader` command line and the WSGI entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SPEECH

from reader import audio


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("READER_", "AZURE_", "OPENAI_"))}
    env["READER_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run([sys.executable, "-m", "reader.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_speak_writes_audio_and_caches(tmp_path: Path) -> None:
    out = tmp_path / "hello.opus"
    first = run("speak", "Hello from the command line.", "-o", str(out), "--voice", "espeak:en-us",
                tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "synthesised" in first.stdout
    assert 1.0 < audio.decode(out.read_bytes()).shape[0] / 16000 < 4.0
    again = run("speak", "Hello from the command line.", "-o", str(out), "--voice", "espeak:en-us",
                tmp_path=tmp_path)
    assert "cached" in again.stdout


def test_voices_and_transcribe(tmp_path: Path) -> None:
    voices = run("voices", tmp_path=tmp_path)
    assert voices.returncode == 0
    assert "* piper:en_US-joe-medium" in voices.stdout and "espeak:de" in voices.stdout
    heard = run("transcribe", str(SPEECH / "ljspeech" / "LJ001-0002.wav"), tmp_path=tmp_path)
    assert heard.returncode == 0, heard.stderr
    assert "comparatively modern" in heard.stdout.lower()


def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    env_run = subprocess.run(
        [sys.executable, "-m", "reader.cli", "voices"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "READER_CACHE_SIZE_MB": "big", "READER_DATA_DIR": str(tmp_path)},
        timeout=60)
    assert env_run.returncode == 2
    assert "READER_CACHE_SIZE_MB" in env_run.stderr


def test_wsgi_exposes_app(tmp_path: Path) -> None:
    code = "import wsgi; c = wsgi.app.test_client(); print(c.get('/healthz').status_code)"
    env = {**os.environ, "READER_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == "200", done.stderr


def test_status_reports_what_is_kept(tmp_path: Path) -> None:
    empty = run("status", tmp_path=tmp_path)
    assert empty.returncode == 0 and "Documents:  0," in empty.stdout
    out = tmp_path / "a.mp3"
    assert run("speak", "One sentence.", "-o", str(out), "--voice", "espeak:en-us", tmp_path=tmp_path).returncode == 0
    assert run("speak", "One sentence.", "-o", str(out), "--voice", "espeak:en-us", tmp_path=tmp_path).returncode == 0
    report = run("status", tmp_path=tmp_path).stdout
    assert "Audio:      1 sentences" in report and "hit rate 50% (2 requests)" in report, report
    assert "kept 30 days after last use" in report and "Narrations: 0 finished" in report
