"""The job queue: Huey on SQLite in the data dir (one host, nothing to start), or on Redis
(READER_REDIS_URL, many hosts). The web app enqueues; `reader worker` (started by `reader
serve`, or run alone) consumes, with the same code either way."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from .jobs import JobStore, RedisJobStore

if TYPE_CHECKING:
    from ..wiring import Services

LOGGER = logging.getLogger(__name__)
HEARTBEAT = 1.0  # seconds between progress writes of a running job
CHUNK = 12  # sentences per helper task when a job fans out over the workers


@dataclass
class Queue:
    """The Huey instance and the tasks registered on it."""

    huey: Any
    narrate: Any  # the task: narrate(job_id)
    fill: Any  # the task: fill(job_id, start, end), sentences into the audio cache ahead of the job
    reap: Any  # the task: start again the jobs whose worker went silent
    import_scan: Any  # the task: import_scan(import_id), a long scan read page by page


_QUEUES: dict[tuple[str, str], Queue] = {}
_LOCK = threading.Lock()
_WORKER_SERVICES: dict[str, Services] = {}


def jobs_for(settings: Settings) -> JobStore:
    """The job store: in the data dir, or in Redis when many hosts share it."""
    options: dict[str, Any] = {
        "per_client": settings.narration_per_client, "budget_bytes": settings.exports_mb * 1024 * 1024,
        "keep_seconds": settings.export_days * 86400, "stale_seconds": settings.job_stale_seconds}
    folder = Path(settings.data_dir) / "narrations"
    if settings.redis_url:
        from ..shared import shared_redis

        return RedisJobStore(folder, shared_redis(settings.redis_url), **options)
    return JobStore(folder, **options)


def queue_for(settings: Settings) -> Queue:
    """The queue of these settings (one per process and place)."""
    key = (settings.redis_url, settings.data_dir)
    with _LOCK:
        if key not in _QUEUES:
            _QUEUES[key] = _build(settings)
        return _QUEUES[key]


def _build(settings: Settings) -> Queue:
    from huey import RedisHuey, SqliteHuey, crontab

    if settings.redis_url:
        from redis import ConnectionPool

        # Short connect timeouts: with Redis away, enqueueing fails fast (a 503), never hangs a thread.
        pool = ConnectionPool.from_url(settings.redis_url, socket_connect_timeout=2.0, socket_timeout=10.0)
        huey: Any = RedisHuey("reader", connection_pool=pool)
    else:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("reader", filename=str(Path(settings.data_dir) / "jobs.db"))

    def narrate(job_id: str) -> None:
        run_job(settings, job_id)

    def fill(job_id: str, start: int, end: int) -> None:
        fill_cache(settings, job_id, start, end)

    def beat() -> None:
        # In each worker process once it has started: a thread started in the consumer before it
        # forks could hold a lock (an import's, a pool's) that the forked worker then waits on for ever.
        threading.Thread(target=_beat(settings), name="reader-worker-beat", daemon=True).start()

    huey.on_startup()(beat)

    def reap() -> None:
        from ..retention import sweep

        requeue_stale(settings)
        sweep(_services(settings))

    def import_scan(import_id: str) -> None:
        run_import(settings, import_id)

    return Queue(huey=huey, narrate=huey.task(name="reader.narrate")(narrate),
                 import_scan=huey.task(name="reader.import")(import_scan),
                 fill=huey.task(name="reader.fill")(fill),
                 reap=huey.periodic_task(crontab(minute="*"), name="reader.reap")(reap))


def fill_cache(settings: Settings, job_id: str, start: int, end: int) -> None:
    """A helper: sentences start..end-1 of a running job into the audio cache. The job itself goes
    through every sentence in order; where a helper got there first it finds them cached (or
    waits for the one being made), so any number of workers share a job without doing a sentence
    twice, and a helper that dies costs nothing but its head start."""
    from .narrate import _request

    store = jobs_for(settings)
    job = store.get(job_id)
    if job.status not in ("queued", "running"):
        return
    svc = _services(settings)
    doc = svc.documents.get(job.doc_id)
    for n in range(start, min(end, len(doc.sentences))):
        if n % 4 == 0 and store.get(job_id).status not in ("queued", "running"):
            return
        svc.speech.speak(_request(doc, n, job.spec, settings.default_format, svc.speech))


def requeue_stale(settings: Settings) -> int:
    """Queue again every running job whose worker went silent (killed); returns how many."""
    store = jobs_for(settings)
    count = 0
    for job in store.stale():
        if not store.claim_stale(job.id):  # one requeue per silent period, whoever reaps
            continue
        queue_for(settings).narrate(job.id)
        LOGGER.warning("narration %s lost its worker; queued again", job.id)
        count += 1
    return count


def _services(settings: Settings) -> Services:
    """The engines and cache of this worker process, built once."""
    with _LOCK:
        if "svc" not in _WORKER_SERVICES:
            from ..wiring import build_services

            _WORKER_SERVICES["svc"] = build_services(settings, None, None)
        return _WORKER_SERVICES["svc"]


def run_job(settings: Settings, job_id: str, services: Services | None = None) -> None:
    """Make one narration (in a worker): progress and heartbeat on the way, files whole at the end."""
    from .narrate import Cancelled, narrate

    store = jobs_for(settings)
    job = store.start(job_id)
    if job is None:
        return  # cancelled or done meanwhile
    svc = services or _services(settings)
    folder = store.folder(job_id)
    last = 0.0
    if services is None:  # fan out: helpers on the other workers make later sentences meanwhile
        for start in range(CHUNK, job.total, CHUNK):
            queue_for(settings).fill(job_id, start, start + CHUNK)

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < HEARTBEAT and done < total:
            return
        last = now
        current = store.get(job_id)
        if current.status == "cancelled":
            raise Cancelled()
        store.update(job_id, done=done, total=total, updated=time.time())

    try:
        doc = svc.documents.get(job.doc_id)
        label = next((v.label for v in svc.speech.voices() if v.id == job.voice), job.voice)
        result = narrate(svc.speech, doc, job.spec, folder, clip_format=settings.default_format,
                         progress=progress, narrator=label)
    except Cancelled:
        LOGGER.info("narration %s cancelled", job_id)
        return
    except Exception as exc:
        LOGGER.error("narration %s failed: %s", job_id, type(exc).__name__)
        from ..errors import ReaderError

        detail = exc.detail if isinstance(exc, ReaderError) else "The narration could not be made."
        store.update(job_id, status="failed", error=detail, finished=time.time(), updated=time.time())
        return
    if store.get(job_id).status == "cancelled":
        return
    store.finish(job_id, result.files, done=job.total, finished=time.time(), updated=time.time(),
                 seconds=round(result.seconds, 3), size=result.path.stat().st_size)
    LOGGER.info("narration %s done: %.0f s of audio", job_id, result.seconds)


PAGES_AT_ONCE = 2  # pages recognised between two progress reports of an import


def run_import(settings: Settings, import_id: str, services: Services | None = None) -> None:
    """Read a long scan (in a worker): its pages recognised a few at a time, progress on the way,
    then a document like any other; the scan itself is deleted either way."""
    from ..documents import ingest, ocr
    from ..errors import ReaderError

    svc = services or _services(settings)
    store = svc.imports
    job = store.get(import_id)
    if job.status not in ("queued", "running"):
        return
    store.update(import_id, status="running")
    language = job.options.get("language")
    try:
        data = store.scan(import_id)
        recognise = ocr.recogniser(ocr.languages_for(language, settings.ocr_languages, ocr.installed_languages()),
                                   len(job.pages))
        for start in range(0, len(job.pages), PAGES_AT_ONCE):
            chunk = job.pages[start:start + PAGES_AT_ONCE]
            data = recognise(data, chunk)
            store.update(import_id, done=start + len(chunk))
        found = ingest.extract(data, max_text_chars=settings.max_text_chars)
        said = f"{len(job.pages)} pages read by text recognition (OCR): names and numbers may be misread"
        found = replace(found, skipped=(said, *found.skipped))
        doc, _ = ingest.store_extracted(svc.documents, found, source="file", language=language,
                                        title=job.options.get("title"))
    except Exception as exc:
        detail = exc.detail if isinstance(exc, ReaderError) else "The scan could not be read."
        LOGGER.error("import %s failed: %s", import_id, type(exc).__name__)
        store.update(import_id, status="failed", error=detail)
        store.drop_scan(import_id)
        return
    store.update(import_id, status="done", done=len(job.pages), document=doc.id)
    store.drop_scan(import_id)
    LOGGER.info("import %s done: %d pages", import_id, len(job.pages))


WORKER_BEAT = 5.0  # seconds between a worker's heartbeats
WORKER_GONE = 15.0  # a worker silent this long is not counted


def enqueue(settings: Settings, task: str, *args: Any) -> None:
    """Queue a task; StoreUnavailable (a 503) when the queue's Redis does not answer."""
    from ..errors import StoreUnavailable

    try:
        getattr(queue_for(settings), task)(*args)
    except Exception as exc:
        if not settings.redis_url or "redis" not in type(exc).__module__:
            raise
        LOGGER.warning("could not queue a task (%s)", type(exc).__name__)
        raise StoreUnavailable("The job queue does not answer just now. Please try again in a moment.",
                               retry_after=5) from None


def _beat(settings: Settings) -> Callable[[], None]:
    """What says, every few seconds, that this worker process is alive: in Redis across hosts, or
    in the data dir on one host."""
    import os
    import socket

    name = f"{socket.gethostname()}:{os.getpid()}"
    folder = Path(settings.data_dir) / "run" / "workers"
    client: Any = None
    if settings.redis_url:
        from redis import Redis

        client = Redis.from_url(settings.redis_url, socket_connect_timeout=2.0, socket_timeout=5.0)

    def beat() -> None:
        while True:
            try:
                if client is not None:
                    client.set(f"reader:worker:{name}", 1, ex=int(WORKER_GONE))
                else:
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / str(os.getpid())).write_text("1")
            except Exception as exc:  # Redis away or a full disk: the next beat tries again
                LOGGER.debug("worker heartbeat failed (%s)", type(exc).__name__)
            time.sleep(WORKER_BEAT)

    return beat


def live_workers(settings: Settings) -> int:
    """Narration worker processes that beat lately (all hosts with Redis)."""
    if settings.redis_url:
        from ..shared import shared_redis

        shared = shared_redis(settings.redis_url)
        keys = list(shared.call(lambda r: list(r.scan_iter(match=shared.key("worker", "*"), count=1000))))
        values = shared.do("mget", keys) if keys else []
        return sum(int(v) for v in values if v is not None)
    total = 0
    now = time.time()
    for beat in (Path(settings.data_dir) / "run" / "workers").glob("*"):
        try:
            if now - beat.stat().st_mtime <= WORKER_GONE:
                total += int(beat.read_text() or 0)
            else:
                beat.unlink(missing_ok=True)
        except (OSError, ValueError):
            continue
    return total


def run_worker(settings: Settings, workers: int) -> None:
    """A Huey consumer (processes), until stopped. Its processes share the cores out between
    them (Piper's threads), so that a job fanned out over all of them does not oversubscribe."""
    import dataclasses
    import os

    workers = max(workers, 1)
    if settings.piper_threads <= 0:
        settings = dataclasses.replace(settings, piper_threads=max((os.cpu_count() or 1) // workers, 1))
    queue = queue_for(settings)
    consumer = queue.huey.create_consumer(workers=max(workers, 1), worker_type="process", periodic=True,
                                          check_worker_health=True, health_check_interval=1)
    consumer.run()
