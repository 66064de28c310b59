"""The Redis parts one by one, on a real redis-server started here: the audio tier's own bound
and least-recently-used eviction, checksums that keep damaged values from being served, the
lock that dies with its holder, documents with their in-memory copy, narration files in pieces."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, free_port

from reader.audio_cache import AudioCache, CachedAudio
from reader.audio_cache.redis_tier import RedisAudioTier
from reader.documents.model import Block, Document, Sentence
from reader.documents.store import RedisDocumentStore
from reader.errors import NotFound, StoreUnavailable
from reader.shared import RedisLocks, SharedRedis

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(REDIS).exists():
        pytest.fail("redis-server is needed (make test installs Debian's redis-server)")
    port = free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path_factory.mktemp("redis"))], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while not SharedRedis(url).ping():
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def shared(redis_url: str) -> SharedRedis:
    client = SharedRedis(redis_url)
    client.client.flushdb()
    return client


def _entry(n: int, size: int = 10_000) -> CachedAudio:
    return CachedAudio.of(bytes([n % 256]) * size, "audio/mpeg", 1.0, [(0, 4, 0.0, 0.5)])


def test_the_tier_keeps_its_own_bound_and_evicts_the_least_recently_used(shared: SharedRedis) -> None:
    tier = RedisAudioTier(shared, 100_000, max_age_seconds=3600)
    for n in range(8):
        tier.put(f"k{n}", _entry(n))
    assert tier.get("k0") is not None  # k0 is now the most recently used
    for n in range(8, 13):
        tier.put(f"k{n}", _entry(n))
    stats = tier.stats()
    assert 90_000 <= stats["bytes"] <= 100_000 and stats["entries"] == 9, stats
    assert tier.get("k0") is not None and tier.get("k1") is None and tier.get("k4") is None
    assert all(tier.get(f"k{n}") is not None for n in range(5, 13))
    real = sum(shared.client.strlen(k) for k in shared.client.scan_iter(match="reader:audio:*"))
    assert real == stats["bytes"]  # the count it evicts by is the bytes really held
    tier.put("huge", _entry(1, size=20_000))
    assert tier.get("huge") is None  # one entry may not take more than an eighth of the tier


def test_a_damaged_shared_entry_is_dropped_and_never_served(shared: SharedRedis, tmp_path: Path) -> None:
    tier = RedisAudioTier(shared, 1_000_000, max_age_seconds=3600)
    tier.put("k", _entry(7))
    shared.client.setrange("reader:audio:k", 5000, b"\x00\x01")  # a flipped byte in the audio
    cache = AudioCache(str(tmp_path / "cache"), 10, shared=tier)
    assert cache.get("k") is None
    assert not shared.client.exists("reader:audio:k") and tier.stats() == {"entries": 0, "bytes": 0}
    made, hit = cache.get_or_create("k", lambda: _entry(8))
    assert not hit and tier.get("k") == made  # made again, and shared again


def test_a_shared_hit_fills_the_local_tier(shared: SharedRedis, tmp_path: Path) -> None:
    tier = RedisAudioTier(shared, 1_000_000, max_age_seconds=3600)
    first = AudioCache(str(tmp_path / "a"), 10, shared=tier)
    second = AudioCache(str(tmp_path / "b"), 10, shared=tier)
    made, hit = first.get_or_create("k", lambda: _entry(3))
    assert not hit
    found, hit = second.get_or_create("k", lambda: pytest.fail("made twice"))
    assert hit and found == made
    shared.client.flushdb()
    assert second.get("k") == made  # from its own local tier now


HOLDER = """
import sys, time
import reader.shared as tier
from reader.shared import SharedRedis
tier.LOCK_TTL, tier.RENEW_EVERY = 1.0, 0.2
locks = tier.RedisLocks(SharedRedis(sys.argv[1]))
assert locks.acquire("sentence", timeout=5) is not None
print("held", flush=True)
time.sleep(60)
"""


def test_the_lock_is_renewed_while_its_holder_lives_and_dies_with_it(shared: SharedRedis) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, shared.url], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        locks = RedisLocks(shared)
        assert locks.acquire("sentence", timeout=2.5) is None  # alive: renewed past its 1 s TTL
        assert locks.busy("sentence")
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        killed = time.monotonic()
        release = locks.acquire("sentence", timeout=5)
        assert release is not None and time.monotonic() - killed < 2.0
        release()
        assert not locks.busy("sentence")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def _doc(text: str) -> Document:
    from reader.documents.model import document_id

    blocks = [Block(index=0, kind="paragraph", text=text)]
    return Document(id=document_id(blocks, language="en"), title=text, language="en", source="text",
                    blocks=tuple(blocks), sentences=(Sentence(index=0, block=0, start=0, end=len(text), text=text),))


def test_documents_in_redis_and_the_copy_kept_in_memory(shared: SharedRedis) -> None:
    store = RedisDocumentStore(shared, keep_seconds=3600)
    doc = _doc("Kept in Redis.")
    assert store.put(doc) and not store.put(doc)
    assert RedisDocumentStore(shared, keep_seconds=3600).get(doc.id) == doc  # another host reads it
    assert [d for d, _, _ in store.entries()] == [doc.id]
    other = _doc("Never read by this process.")
    RedisDocumentStore(shared, keep_seconds=3600).put(other)
    store.shared = SharedRedis(f"redis://127.0.0.1:{free_port()}/0")  # Redis away for this process
    assert store.get(doc.id) == doc  # read lately: from memory
    with pytest.raises(StoreUnavailable):
        store.get(other.id)
    store.shared = shared
    assert store.delete(doc.id) and not store.delete(doc.id)  # the tombstone says it was here
    with pytest.raises(NotFound):
        store.get(doc.id)
    with pytest.raises(NotFound):
        store.delete("0" * 24)
    assert store.expire(time.time() + 1) == [other.id]


def test_a_damaged_document_is_a_503_not_a_wrong_text(shared: SharedRedis) -> None:
    store = RedisDocumentStore(shared, keep_seconds=3600)
    doc = _doc("A document whose stored bytes get damaged.")
    store.put(doc)
    key = f"reader:doc:{doc.id}"
    value = bytearray(shared.client.get(key))
    value[-3] ^= 0xFF
    shared.client.set(key, bytes(value))
    with pytest.raises(StoreUnavailable):
        RedisDocumentStore(shared, keep_seconds=3600).get(doc.id)


def test_narration_files_go_to_redis_in_pieces_and_come_back_checked(shared: SharedRedis, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from reader.narration import jobs
    from reader.narration.narrate import Spec

    monkeypatch.setattr(jobs, "CHUNK_BYTES", 1000)
    options: dict[str, Any] = {"per_client": 2, "budget_bytes": 10**9, "keep_seconds": 3600, "stale_seconds": 60}
    worker = jobs.RedisJobStore(tmp_path / "worker", shared, **options)
    host = jobs.RedisJobStore(tmp_path / "host", shared, **options)
    job, queue_it = host.submit(Spec(doc_id="a" * 24, voice="espeak:en", format="mp3"), total=1, client="x")
    assert queue_it and worker.start(job.id) is not None
    made = worker.folder(job.id) / "narration.mp3"
    made.parent.mkdir(parents=True)
    payload = os.urandom(4500)
    made.write_bytes(payload)
    worker.finish(job.id, {"mp3": made}, size=len(payload))
    assert not made.exists()  # the worker's copy went to Redis: 5 pieces
    assert len(list(shared.client.scan_iter(match=f"reader:job-file:{job.id}:narration.mp3:*"))) == 5
    done, path = host.file(job.id)
    assert done.status == "done" and path.read_bytes() == payload and host.used_bytes() == 4500
    path.unlink()
    shared.client.setrange(f"reader:job-file:{job.id}:narration.mp3:2", 10, b"!")
    with pytest.raises(StoreUnavailable):
        host.file(job.id)
    assert not path.exists()  # a damaged copy is never left to be served
    host.remove(job.id)
    assert not list(shared.client.scan_iter(match=f"reader:job*:{job.id}*"))


def test_a_clients_heavy_work_is_bounded_across_hosts(shared: SharedRedis, tmp_path: Path) -> None:
    from contextlib import ExitStack

    from reader.errors import ClientBusy
    from reader.limits import HeavyWork

    def host(name: str, locks: RedisLocks) -> HeavyWork:
        return HeavyWork(tmp_path / name, per_worker=4, queue=4, per_client=2, shared=locks)

    a, b = host("a", RedisLocks(shared)), host("b", RedisLocks(shared))
    with ExitStack() as held:
        held.enter_context(a.slot("198.51.100.7"))
        with b.slot("198.51.100.7"):
            with pytest.raises(ClientBusy), a.slot("198.51.100.7"):
                pass
            with b.slot("203.0.113.9"):  # another client has slots of its own
                pass
        with b.slot("198.51.100.7"):  # one came back
            pass
    away = host("c", RedisLocks(SharedRedis(f"redis://127.0.0.1:{free_port()}/0")))
    with away.slot("198.51.100.7"), away.slot("198.51.100.7"):  # Redis away: counted on this host
        with pytest.raises(ClientBusy), away.slot("198.51.100.7"):
            pass
