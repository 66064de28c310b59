"""Reader's /v1 driven by the official openai JS SDK (node, npm package `openai`): speech, speech
as Server-Sent Events, and a streamed transcription, against a real gunicorn."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, start_server, stop_server, wer

from reader import audio

pytestmark = pytest.mark.slow
JS = ROOT / "tests" / "js"
TOKEN = "js-test-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("node") is None:
        pytest.fail("node is needed for the JS SDK test (Node.js 20 is on the machine)")
    if not (JS / "node_modules" / "openai").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=JS, check=True, timeout=300)
    data = tmp_path_factory.mktemp("js") / "data"
    data.mkdir()
    base, proc = start_server(data, workers=1, env={"READER_API_TOKEN": TOKEN, "READER_TTS": "espeak",
                                                    "READER_EXTRA_TTS": "", "READER_NARRATION_WORKERS": "0"})
    try:
        yield base
    finally:
        stop_server(proc)


def test_the_openai_js_sdk(server: str, espeak: Any, tmp_path: Path) -> None:
    said = "Please call me back tomorrow morning."
    speech = espeak.synthesize(said, "en-us")
    wav = tmp_path / "clip.wav"
    wav.write_bytes(audio.encode(speech.samples, speech.sample_rate, "wav"))
    run = subprocess.run(["node", "sdk_check.mjs", server + "/v1", TOKEN, str(wav)], cwd=JS, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["speech"]["riff"] == "RIFF" and seen["speech"]["bytes"] > 20000
    assert seen["sse"]["types"] == ["speech.audio.delta", "speech.audio.done"] and seen["sse"]["bytes"] > 2000
    assert seen["sse"]["last"] == "speech.audio.done"
    assert seen["transcription"]["kinds"] == ["transcript.text.delta", "transcript.text.done"]
    assert seen["transcription"]["last"] == "transcript.text.done"
    assert wer(said, seen["transcription"]["text"]) < 0.3
