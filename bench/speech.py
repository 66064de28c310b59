"""Speech benchmark: engine speed, time to first byte and cached serving, as ratios.

    python bench/speech.py

Every figure is paired with a baseline measured in the same run on the same machine:
  - real-time factor (audio seconds per wall second) of Piper, eSpeak and Whisper;
  - time to the first audio byte of an uncached sentence through a real gunicorn, against
    the bare engine call on the same sentence (the ratio is Reader's overhead);
  - latency and requests/second of a cached sentence, against the same bytes served as a
    static file by the same server.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reader import audio  # noqa: E402

SENTENCES = [
    "The committee met on Tuesday to discuss the new library building and its opening hours.",
    "Reading aloud helps people who find long documents tiring, and it lets them rest their eyes.",
    "When the rain finally stopped, the children ran outside to look for frogs in the garden.",
]


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def engine_speed() -> dict[str, float]:
    from reader.speech.espeak import EspeakSynthesizer
    from reader.speech.piper import PiperSynthesizer
    from reader.speech.whisper import WhisperTranscriber

    out = {}
    piper, espeak, whisper = PiperSynthesizer(), EspeakSynthesizer(), WhisperTranscriber()
    piper.synthesize("Warm up.", piper.default_voice())
    espeak.synthesize("Warm up.", "en-us")
    for name, synth, voice in [("piper", piper, piper.default_voice()), ("espeak", espeak, "en-us")]:
        seconds = sum(synth.synthesize(s, voice).duration for s in SENTENCES)
        wall = best(lambda: [synth.synthesize(s, voice) for s in SENTENCES])
        out[name] = seconds / wall
        print(f"{name:8} real-time factor {out[name]:7.1f}x  ({seconds:.1f} s audio in {wall:.2f} s)")
    speech = [piper.synthesize(s, piper.default_voice()) for s in SENTENCES]
    clips = [audio.decode(audio.encode(s.samples, s.sample_rate, "wav")) for s in speech]
    whisper.transcribe(clips[0])  # load the model
    seconds = sum(c.shape[0] / 16000 for c in clips)
    wall = best(lambda: [whisper.transcribe(c) for c in clips])
    out["whisper"] = seconds / wall
    print(f"{'whisper':8} real-time factor {out['whisper']:7.1f}x  ({seconds:.1f} s audio in {wall:.2f} s)")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_byte(host: str, port: int, path: str) -> tuple[float, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    t0 = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    first = resp.read(1)
    ttfb = time.perf_counter() - t0
    body = first + resp.read()
    conn.close()
    return ttfb, body


def load(port: int, path: str, seconds: float = 3.0, threads: int = 4) -> tuple[float, float]:
    """Requests per second and median latency, keep-alive connections, bounded in time."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    return len(latencies) / wall, statistics.median(latencies)


def serving() -> None:
    from reader.speech.piper import PiperSynthesizer

    data_dir = Path(tempfile.mkdtemp(prefix="reader-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("READER_")}
    env.update({"READER_DATA_DIR": str(data_dir), "READER_WORKERS": "2"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "reader.cli", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    static_file = ROOT / "static" / f"bench-{port}.mp3"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/documents", method="POST",
            data=json.dumps({"text": " ".join(SENTENCES) + " Warm up the workers."}).encode(),
            headers={"Content-Type": "application/json"})
        doc = json.load(urllib.request.urlopen(req))
        n = len(doc["sentences"])
        # Load the voice in both workers before timing anything.
        for _ in range(4):
            first_byte("127.0.0.1", port, f"/api/documents/{doc['id']}/sentences/{n - 1}/speech")

        piper = PiperSynthesizer()
        piper.synthesize("Warm up.", piper.default_voice())
        ratios = []
        for i, sentence in enumerate(SENTENCES):
            bare = best(lambda: audio.encode(*_speech(piper, sentence), "mp3"), repeat=2)
            ttfb, body = first_byte("127.0.0.1", port, f"/api/documents/{doc['id']}/sentences/{i}/speech")
            ratios.append(ttfb / bare)
            print(f"sentence {i}: first byte {ttfb * 1000:6.0f} ms through Reader, "
                  f"bare Piper + mp3 encode {bare * 1000:6.0f} ms, ratio {ttfb / bare:.2f}")
        print(f"time to first byte (uncached) / bare engine call: median ratio {statistics.median(ratios):.2f}")

        path = f"/api/documents/{doc['id']}/sentences/0/speech"
        _, cached = first_byte("127.0.0.1", port, path)
        static_file.write_bytes(cached)
        rps_hit, lat_hit = load(port, path)
        rps_static, lat_static = load(port, f"/static/{static_file.name}")
        print(f"cached sentence: {rps_hit:7.0f} req/s, median {lat_hit * 1000:.1f} ms")
        print(f"static file    : {rps_static:7.0f} req/s, median {lat_static * 1000:.1f} ms")
        print(f"cached / static: throughput ratio {rps_hit / rps_static:.2f}, latency ratio {lat_hit / lat_static:.2f}")
    finally:
        static_file.unlink(missing_ok=True)
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(data_dir, ignore_errors=True)


def _speech(piper, sentence):  # type: ignore[no-untyped-def]
    s = piper.synthesize(sentence, piper.default_voice())
    return s.samples, s.sample_rate


if __name__ == "__main__":
    engine_speed()
    serving()
