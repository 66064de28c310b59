"""Peak memory of one worker for requests that once exhausted the host.

    python bench/memory.py

A real `reader serve` with one worker (Piper, the default voice); for each case the worker is
fresh (restarted), the request is sent, and the worker's peak resident set (VmHWM, which
includes the background word timing) is read from /proc. The baseline, measured in the same
run, is the worker's peak after an ordinary paragraph; the goal is under 1 GB for every case.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import start_server, stop_server  # noqa: E402

PARAGRAPH = ("Reading aloud helps people who find long documents tiring. It lets them rest their eyes, "
             "follow the text with a highlight, and keep their place. A good narrator keeps an even pace.")
CASES = {
    "normal paragraph (/api/speech)": ("speech", PARAGRAPH),
    "4,000 digits (/v1/audio/speech)": ("v1", "".join(str(i % 10) for i in range(4000))),
    "20,000-character unpunctuated sentence (document, sentence 0 and 1)": ("document", " ".join(["reading"] * 2500)),
}


def _post(url: str, body: dict[str, object]) -> bytes:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=1800) as resp:
        return resp.read()


def _worker_peak(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peak = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) * 1024)
    return peak


def _run(kind: str, text: str) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp(prefix="reader-mem-"))
    data = tmp / "data"
    data.mkdir()
    base, proc = start_server(data, workers=1, env={"READER_EXTRA_TTS": ""})
    try:
        started = time.perf_counter()
        if kind == "speech":
            _post(base + "/api/speech", {"text": text})
        elif kind == "v1":
            _post(base + "/v1/audio/speech", {"model": "piper", "voice": "alloy", "input": text})
        else:
            doc = json.loads(_post(base + "/api/documents", {"text": text}))
            for n in (0, 1):
                urllib.request.urlopen(f"{base}/api/documents/{doc['id']}/sentences/{n}/speech", timeout=600).read()
        took = time.perf_counter() - started
        time.sleep(3)  # let the background word timing run too
        return _worker_peak(proc.pid) / 1e6, took
    finally:
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    results = {name: _run(kind, text) for name, (kind, text) in CASES.items()}
    baseline = results["normal paragraph (/api/speech)"][0]
    print(f"{'case':70} {'peak RSS':>10} {'x baseline':>11} {'seconds':>8}")
    for name, (peak, took) in results.items():
        verdict = "ok" if peak < 1000 else "OVER 1 GB"
        print(f"{name:70} {peak:8.0f} MB {peak / baseline:10.2f}x {took:8.1f}  {verdict}")


if __name__ == "__main__":
    main()
