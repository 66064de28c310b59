"""Past one host: two Reader hosts with their own data dirs, one narration worker, one Redis,
all real processes on loopback, started here and stopped after. What one host made, the other
serves; what Redis keeps survives its restart; a killed worker's job finishes; an outage of
Redis costs only what needs it, for as long as it lasts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, free_port, http_call, post_document, start_server, stop_server
from fake_azure import FakeAzure

from reader import audio

pytestmark = pytest.mark.slow
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
BUDGET = 120  # characters of cloud speech per client per day, shared by the hosts


class Cluster:
    """Redis, hosts A and B, one worker; each can be stopped and started again."""

    def __init__(self, tmp: Path, fake: FakeAzure) -> None:
        self.tmp = tmp
        self.redis_port = free_port()
        self.redis: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.env = {"READER_REDIS_URL": self.url, "READER_TTS": "espeak", "READER_EXTRA_TTS": "azure",
                    "AZURE_OPENAI_ENDPOINT": fake.url, "AZURE_OPENAI_API_KEY": fake.key,
                    "READER_NARRATION_WORKERS": "0", "READER_DAILY_CHAR_BUDGET": str(BUDGET),
                    "READER_JOB_STALE_SECONDS": "4", "READER_TRUST_PROXY": "1"}
        self.hosts: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.worker: subprocess.Popen[bytes] | None = None

    def start_redis(self) -> None:
        (self.tmp / "redis").mkdir(exist_ok=True)
        # The settings deploy/README.md asks for: an append-only file, and no eviction of its own.
        self.redis = subprocess.Popen(
            [REDIS, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.tmp / "redis"),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--maxmemory", "512mb",
             "--maxmemory-policy", "noeviction"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.cli("ping").strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.terminate()  # SIGTERM: Redis writes its append-only file and exits
        self.redis.wait(timeout=20)

    def cli(self, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(self.redis_port), *args], capture_output=True, text=True,
                              timeout=20).stdout

    def start_hosts(self) -> None:
        for name in ("a", "b"):
            data = self.tmp / name
            data.mkdir()
            self.hosts.append(start_server(data, workers=1, env=self.env))

    def start_worker(self) -> None:
        data = self.tmp / "worker"
        data.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("READER_", "AZURE_"))}
        env.update(self.env, READER_DATA_DIR=str(data))
        with open(self.tmp / "worker.log", "ab") as log:
            self.worker = subprocess.Popen([sys.executable, "-m", "reader.cli", "worker", "--workers", "1"], env=env,
                                           cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)  # the consumer and its worker process, at once
        self.worker.wait(timeout=10)

    @property
    def a(self) -> str:
        return self.hosts[0][0]

    @property
    def b(self) -> str:
        return self.hosts[1][0]

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
        for _, proc in self.hosts:
            stop_server(proc)
        if self.redis is not None and self.redis.poll() is None:
            self.stop_redis()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, espeak: Any, whisper: Any) -> Iterator[Cluster]:
    if not Path(REDIS).exists():
        pytest.fail("redis-server is needed (make test installs Debian's redis-server)")
    fake = FakeAzure(lambda text: espeak.synthesize(text, "en-us"),
                     lambda samples: whisper.transcribe(samples, language="en").text).start()
    cluster = Cluster(tmp_path_factory.mktemp("hosts"), fake)
    try:
        cluster.start_redis()
        cluster.start_hosts()
        cluster.start_worker()
        yield cluster
    finally:
        cluster.stop()
        fake.stop()


def _json(method: str, url: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    status, headers, data = http_call(method, url, body)
    return status, headers, json.loads(data) if data else None


def _wait_job(base: str, url: str, seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, _, job = _json("GET", base + url)
        if status == 200 and job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"the narration did not finish: {job}")


def _metric(base: str, name: str) -> float:
    _, _, body = http_call("GET", base + "/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_document_posted_to_one_host_is_read_on_the_other(cluster: Cluster) -> None:
    doc = post_document(cluster.a, "Shared between hosts. Either one can read it.")
    status, _, found = _json("GET", f"{cluster.b}/api/documents/{doc}")
    assert status == 200 and [s["text"] for s in found["sentences"]][0] == "Shared between hosts."
    status, _, _ = _json("DELETE", f"{cluster.b}/api/documents/{doc}")
    assert status in (200, 204)
    assert _json("GET", f"{cluster.a}/api/documents/{doc}")[0] == 404  # deleted on B: gone on A too


def test_a_sentence_made_on_one_host_is_a_hit_on_the_other(cluster: Cluster) -> None:
    doc = post_document(cluster.a, "Made on the first host, heard from the second.")
    status, first, made = http_call("GET", f"{cluster.a}/api/documents/{doc}/sentences/0/speech")
    assert status == 200 and first["X-Reader-Cache"] == "miss"
    status, second, again = http_call("GET", f"{cluster.b}/api/documents/{doc}/sentences/0/speech")
    assert status == 200 and second["X-Reader-Cache"] == "hit" and again == made
    assert audio.decode(again).size > 0


def test_twenty_requests_on_two_hosts_synthesise_once(cluster: Cluster) -> None:
    doc = post_document(cluster.b, "Twenty readers ask for this sentence at the very same moment.")
    before = _metric(cluster.a, "reader_tts_characters_total") + _metric(cluster.b, "reader_tts_characters_total")
    start = threading.Barrier(20)

    def fetch(i: int) -> tuple[int, str, bytes]:
        start.wait()
        base = cluster.a if i % 2 else cluster.b
        status, headers, body = http_call("GET", f"{base}/api/documents/{doc}/sentences/0/speech")
        return status, headers.get("X-Reader-Cache", ""), body

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(fetch, range(20)))
    assert all(status == 200 for status, _, _ in results), [r[:2] for r in results]
    assert [cache for _, cache, _ in results].count("miss") == 1
    assert len({body for _, _, body in results}) == 1
    time.sleep(1)  # counters are written as the responses end
    after = _metric(cluster.a, "reader_tts_characters_total") + _metric(cluster.b, "reader_tts_characters_total")
    spoken = len("Twenty readers ask for this sentence at the very same moment.")
    assert spoken - 5 <= after - before <= spoken + 5  # one synthesis' worth of characters, not twenty


def test_the_daily_budget_is_one_across_hosts(cluster: Cluster) -> None:
    text = "A cloud voice reads this sentence for the shared daily budget."  # 62 characters
    status, headers, _ = http_call("POST", f"{cluster.a}/api/speech", {"text": text, "voice": "azure:coral"})
    assert status == 200 and headers["X-Reader-Voice"] == "azure:coral"
    other = "Another sentence for the cloud voice, read on the other host now."
    status, headers, body = http_call("POST", f"{cluster.b}/api/speech", {"text": other, "voice": "azure:coral"})
    problem = json.loads(body)
    assert status == 429 and problem["type"] == "/problems/over-budget", problem
    assert int(headers["Retry-After"]) > 0
    status, _, _ = http_call("POST", f"{cluster.b}/api/speech", {"text": text, "voice": "azure:coral"})
    assert status == 200  # made already: a cache hit costs nothing


def test_a_narration_started_on_one_host_is_made_by_the_worker_and_served_by_the_other(cluster: Cluster) -> None:
    doc = post_document(cluster.a, "# Shared narration\n\nThe worker makes it. Host B serves it. Host A took it.")
    status, _, job = _json("POST", f"{cluster.a}/api/documents/{doc}/narrations", {"format": "mp3"})
    assert status == 202, job
    done = _wait_job(cluster.b, job["url"])
    assert done["status"] == "done", done
    status, headers, data = http_call("GET", cluster.b + done["file"])
    assert status == 200 and headers["Content-Type"].startswith("audio/mpeg")
    assert abs(audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE - done["seconds"]) < 0.5
    status, headers, part = http_call("GET", cluster.a + done["file"], headers={"Range": "bytes=0-99"})
    assert status == 206 and part == data[:100]
    assert not list((cluster.tmp / "worker" / "narrations").glob("*/*.mp3"))  # the worker's copy went to Redis
    assert _metric(cluster.a, "reader_workers") == 1 and _metric(cluster.b, "reader_workers") == 1
    _, _, body = http_call("GET", cluster.b + "/metrics")
    assert b"\nreader_queue_depth " in body and b"\nreader_redis_up 1" in body
    env = {k: v for k, v in os.environ.items() if not k.startswith("READER_")}
    env.update(cluster.env, READER_DATA_DIR=str(cluster.tmp / "b"))
    status = subprocess.run([sys.executable, "-m", "reader.cli", "status"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "Narrations: " in status.stdout and " finished" in status.stdout
    documents = int(status.stdout.split("Documents:")[1].split(",")[0])
    assert documents == len(cluster.cli("keys", "reader:doc:" + "?" * 24).split()), status.stdout  # all hosts', from Redis


def test_a_job_finishes_when_its_worker_is_killed(cluster: Cluster) -> None:
    text = "# Long\n\n" + " ".join(f"Sentence {n} of a job whose worker is killed halfway through."
                                    for n in range(1, 31))
    doc = post_document(cluster.a, text)
    status, _, job = _json("POST", f"{cluster.a}/api/documents/{doc}/narrations", {"format": "opus"})
    assert status == 202
    deadline = time.monotonic() + 120
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = _json("GET", cluster.b + job["url"])[2]
        if state["status"] == "running" and state["done"] >= 3:
            break
        time.sleep(0.2)
    assert state["status"] == "running", state
    cluster.kill_worker()
    killed = time.monotonic()
    cluster.start_worker()
    done = _wait_job(cluster.b, job["url"], seconds=240)
    print(f"worker killed at {state['done']}/{state['total']}; the job was done {time.monotonic() - killed:.1f} s later")
    assert done["status"] == "done" and done["done"] == done["total"] == 31, done  # the heading and 30 sentences
    status, _, data = http_call("GET", cluster.a + done["file"])
    assert status == 200 and audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE > 60


def test_redis_away_then_back_with_its_data(cluster: Cluster) -> None:
    doc = post_document(cluster.a, "Read before Redis went away. It stays readable.")
    status, _, made = http_call("GET", f"{cluster.a}/api/documents/{doc}/sentences/0/speech")
    assert status == 200
    kept = [post_document(cluster.b, f"Document number {n} must outlive a restart of Redis.") for n in range(5)]
    time.sleep(1.2)  # appendfsync everysec
    cluster.stop_redis()
    went = time.monotonic()
    try:
        # What needs only local data goes on.
        assert http_call("GET", cluster.a + "/healthz")[0] == 200
        status, headers, again = http_call("GET", f"{cluster.a}/api/documents/{doc}/sentences/0/speech")
        assert status == 200 and again == made and headers["X-Reader-Cache"] == "hit"
        status, headers, _ = http_call("POST", cluster.b + "/api/speech", {"text": "Free text while Redis is away."})
        assert status == 200
        assert http_call("GET", cluster.b + "/")[0] == 200
        # What needs Redis is a 503 problem with Retry-After, not a hang and not a 500.
        for method, url, body in [("POST", cluster.a + "/api/documents", {"text": "New while Redis is away."}),
                                  ("GET", f"{cluster.a}/api/documents/{kept[0]}", None),  # never read on A
                                  ("POST", f"{cluster.a}/api/documents/{doc}/narrations", {"format": "mp3"}),
                                  ("GET", cluster.a + "/readyz", None)]:
            started = time.monotonic()
            status, headers, data = http_call(method, url, body)
            assert status == 503, (url, status, data)
            assert json.loads(data)["status"] == 503 and int(headers["Retry-After"]) > 0
            # not a hang: a call that waited on Redis would wait out its 10 s socket timeout
            assert time.monotonic() - started < 10
            print(f"Redis away: {method} {url.split('/', 3)[3]} -> 503 in {1000 * (time.monotonic() - started):.0f} ms")
        assert _metric(cluster.a, "reader_redis_up") == 0
        time.sleep(max(0.0, 10 - (time.monotonic() - went)))  # ten seconds away
    finally:
        cluster.start_redis()
    back = time.monotonic()
    deadline = back + 15
    while http_call("GET", cluster.b + "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "host B never became ready again"
        time.sleep(0.2)
    print(f"Redis away {back - went:.1f} s; host B ready {time.monotonic() - back:.1f} s after it was back")
    for doc_id in kept:  # nothing lost: Redis came back with its append-only file
        assert _json("GET", f"{cluster.a}/api/documents/{doc_id}")[0] == 200
    assert post_document(cluster.a, "A new document once Redis is back.")
    status, headers, _ = http_call("GET", f"{cluster.b}/api/documents/{doc}/sentences/0/speech")
    assert status == 200 and headers["X-Reader-Cache"] == "hit"
    _every_entry_decodes(cluster)


def _every_entry_decodes(cluster: Cluster) -> int:
    """Every audio entry in Redis and in each host's local cache passes its checksum."""
    import diskcache
    import redis

    from reader.audio_cache import CachedAudio
    from reader.audio_cache.redis_tier import decode

    client = redis.Redis.from_url(cluster.url)
    checked = 0
    for key in client.scan_iter(match="reader:audio:*", count=500):
        data = client.get(key)
        if data is not None:
            decode(data)
            checked += 1
    client.close()
    for host in ("a", "b", "worker"):
        with diskcache.Cache(str(cluster.tmp / host / "audio-cache")) as local:
            for key in local.iterkeys():
                if str(key).startswith("audio:"):
                    CachedAudio.from_value(local.get(key))
                    checked += 1
    assert checked > 0
    return checked


def test_fifty_clients_through_nginx_in_front_of_both_hosts(cluster: Cluster) -> None:
    """30 s of 50 clients through deploy/nginx.conf: reading documents, pages, static files and
    cached audio, and opening new documents; no 5xx; every cached entry whole afterwards.
    (bench/nginx.py measures throughput; this is about correctness under load.)"""
    from proxy import start_nginx, stop_nginx

    docs = [post_document(cluster.a, f"Load document {n}. It is read by many clients at once.") for n in range(4)]
    for n, doc in enumerate(docs):
        assert http_call("GET", f"{(cluster.a, cluster.b)[n % 2]}/api/documents/{doc}/sentences/0/speech")[0] == 200
    (cluster.tmp / "nginx").mkdir()
    front, nginx = start_nginx(cluster.tmp / "nginx", [cluster.a, cluster.b])
    counts: dict[int, int] = {}
    guard = threading.Lock()
    stop_at = time.monotonic() + 30

    def client(i: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            doc = docs[(i + n) % len(docs)]
            kind = n % 5
            if kind == 0:
                status = http_call("POST", front + "/api/documents", {"text": f"Client {i} opens text {n}. Hello."},
                                   timeout=60)[0]
            elif kind == 1:
                status = http_call("GET", f"{front}/api/documents/{doc}", timeout=60)[0]
            elif kind == 2:
                status = http_call("GET", f"{front}/read/{doc}", timeout=60)[0]
            elif kind == 3:
                status = http_call("GET", f"{front}/static/reader.js", timeout=60)[0]
            else:
                status = http_call("GET", f"{front}/api/documents/{doc}/sentences/0/speech", timeout=60)[0]
            with guard:
                counts[status] = counts.get(status, 0) + 1

    try:
        with ThreadPoolExecutor(50) as pool:
            list(pool.map(client, range(50)))
    finally:
        stop_nginx(nginx)
    print("responses by status:", dict(sorted(counts.items())))
    assert sum(n for status, n in counts.items() if status >= 500) == 0, counts
    assert counts.get(200, 0) + counts.get(201, 0) > 5000, counts  # about 36,000 here
    print("entries checked:", _every_entry_decodes(cluster))
