"""Cloud voice benchmark: time to first byte through Reader against the service's own, as ratios.

    python bench/cloud.py

The service is tests/fake_azure.py on loopback, paced like a streaming TTS service (a wait
before the first audio, then chunks as they are "generated"); Reader is a real gunicorn with
READER_TTS=azure pointed at it. Every figure is paired with a baseline from the same run:
  - time to first audio byte of an uncached sentence through Reader / straight from the service
    (the streaming path's overhead; a buffering server would instead wait for the whole body);
  - the same through Reader / the service's whole-body time (what streaming saves);
  - a cached sentence through Reader / the service's first byte;
  - 4 sentences read one after another, and the same with the next three fetched in parallel
    (as the reader page prefetches).
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import start_server, stop_server  # noqa: E402
from fake_azure import FakeAzure  # noqa: E402

HEADER_DELAY = 0.30  # the service thinks before the first audio
CHUNK_DELAY = 0.05  # then sends 4 KB every 50 ms
PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0  # seconds between uncached sentences
SENTENCES = [
    "The committee met on Tuesday to discuss the new library building and its opening hours.",
    "Reading aloud helps people who find long documents tiring, and it lets them rest their eyes.",
    "When the rain finally stopped, the children ran outside to look for frogs in the garden.",
    "A good narrator keeps an even pace and leaves a little pause between the sentences.",
    "The museum opens its new wing in spring, with rooms for maps, clocks and old instruments.",
    "Most visitors arrive by train, walk along the river and cross the old stone bridge.",
]


def timed(url: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(seconds to the first body byte, seconds to the last, bytes) of one request."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    started = time.perf_counter()
    conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                 headers=headers or {})
    resp = conn.getresponse()
    first = resp.read(1)
    first_at = time.perf_counter() - started
    rest = resp.read()
    total = time.perf_counter() - started
    conn.close()
    assert resp.status == 200 and first, resp.status
    return first_at, total, len(first) + len(rest)


def post_json(base: str, path: str, payload: dict[str, object]) -> dict[str, object]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"})
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data  # type: ignore[no-any-return]


def main() -> None:
    from reader.speech.espeak import EspeakSynthesizer

    espeak = EspeakSynthesizer()
    fake = FakeAzure(lambda text: espeak.synthesize(text, "en-us"), lambda samples: "",
                     header_delay=HEADER_DELAY, chunk_delay=CHUNK_DELAY).start()
    tmp = Path(tempfile.mkdtemp(prefix="reader-bench-"))
    data_dir = tmp / "data"
    data_dir.mkdir()
    base, proc = start_server(data_dir, workers=2, env={
        "READER_TTS": "azure", "READER_EXTRA_TTS": "espeak", "AZURE_OPENAI_ENDPOINT": fake.url,
        "AZURE_OPENAI_API_KEY": fake.key, "READER_CLOUD_CONCURRENCY": "4"})
    try:
        speech_url = f"{fake.url}/openai/deployments/gpt-4o-mini-tts/audio/speech?api-version=2025-04-01-preview"
        direct = [timed(speech_url, "POST", json.dumps(
            {"model": "gpt-4o-mini-tts", "input": s, "voice": "coral", "response_format": "mp3"}).encode(),
            {"api-key": fake.key, "Content-Type": "application/json"}) for s in SENTENCES]
        doc = post_json(base, "/api/documents", {"text": " ".join(SENTENCES)})
        sentence_url = f"{base}/api/documents/{doc['id']}/sentences/{{n}}/speech?voice=azure:coral"
        timed(sentence_url.format(n=0))  # warm the worker (client, first import); cached from here on
        through = []
        for n in range(1, len(SENTENCES)):
            time.sleep(PAUSE)  # a listener hears some of each sentence before the next is fetched
            through.append(timed(sentence_url.format(n=n)))
        cached = [timed(sentence_url.format(n=n)) for n in range(1, len(SENTENCES)) for _ in range(3)]

        d_first = statistics.median(t[0] for t in direct)
        d_total = statistics.median(t[1] for t in direct)
        r_first = statistics.median(t[0] for t in through)
        r_total = statistics.median(t[1] for t in through)
        c_first = statistics.median(t[0] for t in cached)
        print(f"service, straight:       first byte {d_first * 1000:6.0f} ms, whole body {d_total * 1000:6.0f} ms")
        print(f"through Reader, miss:    first byte {r_first * 1000:6.0f} ms, whole body {r_total * 1000:6.0f} ms")
        print(f"through Reader, cached:  first byte {c_first * 1000:6.1f} ms")
        print(f"ratio first byte, Reader miss / service first byte:  {r_first / d_first:5.2f}")
        print(f"ratio first byte, Reader miss / service whole body:  {r_first / d_total:5.2f}"
              "  (a buffering server would be >= 1)")
        print(f"ratio first byte, Reader cached / service first byte: {c_first / d_first:5.3f}")

        # Reading on: each sentence after the one playing, one by one, and prefetched in parallel.
        later = post_json(base, "/api/documents", {"text": " ".join(f"{s[:-1]}, again." for s in SENTENCES)})
        url = f"{base}/api/documents/{later['id']}/sentences/{{n}}/speech?voice=azure:coral"
        started = time.perf_counter()
        for n in range(4):
            timed(url.format(n=n))
        serial = time.perf_counter() - started
        again = post_json(base, "/api/documents", {"text": " ".join(f"{s[:-1]}, once more." for s in SENTENCES)})
        url = f"{base}/api/documents/{again['id']}/sentences/{{n}}/speech?voice=azure:coral"
        from concurrent.futures import ThreadPoolExecutor

        timed(url.format(n=0))
        started = time.perf_counter()
        with ThreadPoolExecutor(3) as pool:  # the page fetches three sentences ahead at once
            list(pool.map(lambda n: timed(url.format(n=n)), range(1, 4)))
        ahead = time.perf_counter() - started
        print(f"4 sentences one by one: {serial * 1000:.0f} ms; the next three prefetched in parallel took "
              f"{ahead * 1000:.0f} ms (ratio {ahead / max(serial * 3 / 4, 1e-9):.2f})")
        print(f"service requests in flight at most: {fake.max_in_flight}")
    finally:
        stop_server(proc)
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
