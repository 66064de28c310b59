"""Narration throughput: audio seconds made per wall second, against a bare loop of Piper over
the same sentences, both measured in this run; and the export of an already cached document.

    python bench/narration.py

Both sides run in this process with the same Piper voice. "CPU" is process CPU time over wall
time: how many of the machine's cores the work kept busy (Piper's ONNX runtime uses them all).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT = "# A short history of lighthouses\n\n" + "\n\n".join(
    f"## Part {p}\n\n" + " ".join([
        f"In part {p}, the keepers of the coast kept their lamps burning through the longest nights.",
        "Ships passed safely, and the people of the harbour slept a little better.",
        "Every evening the keeper climbed the stairs, trimmed the wick and wound the clockwork.",
        "Storms came in the autumn, and the glass had to be cleaned of salt every morning.",
    ]) for p in range(1, 7))


def _timed(work: object) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    from reader import create_app
    from reader.config import Settings
    from reader.narration.narrate import Spec, narrate
    from reader.speech.piper import PiperSynthesizer
    from reader.speech.whisper import WhisperTranscriber

    tmp = Path(tempfile.mkdtemp(prefix="reader-narration-"))
    try:
        piper = PiperSynthesizer()
        settings = Settings(data_dir=str(tmp / "data"), extra_tts=()).resolved()
        app = create_app(settings, synthesizers={"piper": piper}, transcribers={"whisper": WhisperTranscriber()})
        svc = app.extensions["reader"]
        doc = svc.documents.get(app.test_client().post("/api/documents", json={"text": TEXT}).get_json()["id"])
        piper.synthesize("Warm up.", piper.default_voice())
        seconds = 0.0

        def bare() -> None:
            nonlocal seconds
            for s in doc.sentences:
                seconds += piper.synthesize(s.text, piper.default_voice()).duration

        bare_wall, bare_cpu = _timed(bare)
        made: dict[str, float] = {}

        def job(fmt: str) -> None:
            made[fmt] = narrate(svc.speech, doc, Spec(doc.id, piper.voices()[0].id, fmt), tmp / fmt,
                                clip_format="mp3").seconds

        job_wall, job_cpu = _timed(lambda: job("m4b"))
        cached_wall, _ = _timed(lambda: job("mp3"))
        cores = os.cpu_count() or 1
        print(f"{len(doc.sentences)} sentences, {seconds:.0f} s of speech; {cores} cores")
        print(f"bare Piper loop:       {seconds / bare_wall:6.1f} audio s per wall s, CPU {bare_cpu / bare_wall:.2f} cores")
        print(f"narration job (M4B):   {seconds / job_wall:6.1f} audio s per wall s, CPU {job_cpu / job_wall:.2f} cores"
              f"  (the same speech; ratio to the bare loop {bare_wall / job_wall:.2f}; the file also holds "
              f"{made['m4b'] - seconds:.0f} s of pauses)")
        print(f"cached export (MP3):   {made['mp3'] / cached_wall:6.1f}x faster than real time")
        for workers in (1, 2):
            took = _through_the_queue(tmp / f"q{workers}", workers)
            print(f"through the queue, {workers} worker process(es): {seconds / took:6.1f} audio s per wall s "
                  f"(ratio to the bare loop {bare_wall / took:.2f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _through_the_queue(tmp: Path, workers: int) -> float:
    """A narration job on a real `reader serve` whose consumer runs `workers` processes."""
    import json
    import urllib.request

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import start_server, stop_server

    data = tmp / "data"
    data.mkdir(parents=True)
    base, proc = start_server(data, workers=1, env={"READER_NARRATION_WORKERS": str(workers)})

    def call(method: str, url: str, body: object = None) -> dict[str, object]:
        req = urllib.request.Request(base + url, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            return dict(json.load(resp))

    try:
        doc = call("POST", "/api/documents", {"text": TEXT})["id"]
        warm = call("POST", "/api/documents", {"text": "# Warm up\n\nOne sentence."})["id"]
        job = call("POST", f"/api/documents/{warm}/narrations", {"format": "wav"})
        while call("GET", str(job["url"]))["status"] != "done":
            time.sleep(0.2)
        started = time.perf_counter()
        job = call("POST", f"/api/documents/{doc}/narrations", {"format": "m4b"})
        while call("GET", str(job["url"]))["status"] not in ("done", "failed"):
            time.sleep(0.2)
        return time.perf_counter() - started
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
