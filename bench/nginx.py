"""Cached sentence audio through deploy/nginx.conf, against nginx serving the same bytes as a
static file, in one run: wrk with 32 connections on loopback.

    python bench/nginx.py [seconds per round]

Two `reader serve` hosts share a Redis (READER_REDIS_URL); nginx runs the shipped config (ports
and paths changed only) in front of both. One sentence is made once, then wrk asks for its
audio URL through nginx (its proxy_cache serves it), and for a static file holding the same
bytes (the baseline), in turn, three rounds each; the medians are compared. Target: at least
0.8x the static rate.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import free_port, post_document, start_server, stop_server  # noqa: E402
from proxy import start_nginx, stop_nginx  # noqa: E402


def _wrk(url: str, seconds: int) -> float:
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url], capture_output=True, text=True,
                         check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} responses were not 2xx")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(out)
    return float(match.group(1))


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for tool in ("wrk", "nginx", "redis-server"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is needed: apt-get install {tool}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--dir", str(tmp)], stdout=subprocess.DEVNULL)
        hosts = []
        try:
            env = {"READER_REDIS_URL": f"redis://127.0.0.1:{port}/0", "READER_NARRATION_WORKERS": "0",
                   "READER_TRUST_PROXY": "1"}
            for name in ("a", "b"):
                (tmp / name).mkdir()
                hosts.append(start_server(tmp / name, workers=1, env=env))
            static = tmp / "static"
            shutil.copytree(ROOT / "static", static)
            doc = post_document(hosts[0][0], "One sentence, made once and then asked for again and again.")
            path = f"/api/documents/{doc}/sentences/0/speech"
            with urllib.request.urlopen(hosts[0][0] + path, timeout=120) as resp:
                data = resp.read()
            (static / "sentence.mp3").write_bytes(data)
            (tmp / "nginx").mkdir()
            front, nginx = start_nginx(tmp / "nginx", [h[0] for h in hosts], static=static)
            try:
                for url in (front + path, front + "/static/sentence.mp3"):
                    with urllib.request.urlopen(url, timeout=60) as resp:
                        resp.read()  # nginx has the audio cached before the clock starts
                time.sleep(0.5)
                # Turn about, three rounds each, and take the medians: this machine is noisy.
                static_rates, audio_rates = [], []
                for _ in range(3):
                    static_rates.append(_wrk(front + "/static/sentence.mp3", seconds))
                    audio_rates.append(_wrk(front + path, seconds))
                static_rate, audio_rate = statistics.median(static_rates), statistics.median(audio_rates)
            finally:
                stop_nginx(nginx)
        finally:
            for _, proc in hosts:
                stop_server(proc)
            redis.terminate()
            redis.wait(timeout=10)
    print(f"nginx static file ({len(data):,} bytes): {static_rate:10,.0f} req/s (baseline)")
    print(f"cached sentence audio through nginx: {audio_rate:10,.0f} req/s")
    ratio = audio_rate / static_rate
    print(f"ratio: {ratio:.2f}x (target: at least 0.8x) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
