"""The job queue: Huey on SQLite in the data dir (one host, nothing to start), or on Redis
(READER_REDIS_URL, many hosts). The web app enqueues; the worker (reader/worker.py, started by
`reader serve` or run alone) consumes, with the same code either way.

This module is only the adapter: the tasks' bodies are the worker's (it hands them over in
`TaskQueue.consume`), so the queue knows nothing above the narration layer."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreUnavailable

if TYPE_CHECKING:
    from ..shared import SharedRedis

LOGGER = logging.getLogger(__name__)
TASKS = ("narrate", "fill", "import_scan", "reap")
WORKER_BEAT = 5.0  # seconds between a worker's heartbeats
WORKER_GONE = 15.0  # a worker silent this long is not counted

# The tasks' bodies in a worker process, by name (set by TaskQueue.consume before the consumer
# forks its processes, which inherit them). A web process only enqueues and never needs them.
_HANDLERS: dict[str, Callable[..., None]] = {}
_HUEYS: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
_LOCK = threading.Lock()


def _run(name: str) -> Callable[..., None]:
    def task(*args: Any) -> None:
        _HANDLERS[name](*args)

    task.__name__ = name
    return task


def _huey(redis_url: str, data_dir: str) -> tuple[Any, dict[str, Any]]:
    """One Huey instance and its registered tasks per process and place (tests make many apps)."""
    with _LOCK:
        key = (redis_url, data_dir)
        if key not in _HUEYS:
            from huey import RedisHuey, SqliteHuey, crontab

            if redis_url:
                from redis import ConnectionPool

                # Short connect timeouts: with Redis away, enqueueing fails fast (a 503), never hangs a thread.
                pool = ConnectionPool.from_url(redis_url, socket_connect_timeout=2.0, socket_timeout=10.0)
                huey: Any = RedisHuey("reader", connection_pool=pool)
            else:
                Path(data_dir).mkdir(parents=True, exist_ok=True)
                huey = SqliteHuey("reader", filename=str(Path(data_dir) / "jobs.db"))
            tasks = {
                "narrate": huey.task(name="reader.narrate")(_run("narrate")),
                "import_scan": huey.task(name="reader.import")(_run("import_scan")),
                "fill": huey.task(name="reader.fill")(_run("fill")),
                "reap": huey.periodic_task(crontab(minute="*"), name="reader.reap")(_run("reap")),
            }
            _HUEYS[key] = (huey, tasks)
        return _HUEYS[key]


class TaskQueue:
    """The narration and import tasks of one place (data dir or Redis), and the workers' beat."""

    def __init__(self, data_dir: str, redis_url: str = "", redis: SharedRedis | None = None) -> None:
        self.data_dir = data_dir
        self.redis_url = redis_url
        self.redis = redis

    @property
    def huey(self) -> Any:
        return _huey(self.redis_url, self.data_dir)[0]

    def enqueue(self, task: str, *args: Any) -> None:
        """Queue a task; StoreUnavailable (a 503) when the queue's Redis does not answer."""
        try:
            _huey(self.redis_url, self.data_dir)[1][task](*args)
        except Exception as exc:
            if not self.redis_url or "redis" not in type(exc).__module__:
                raise
            LOGGER.warning("could not queue a task (%s)", type(exc).__name__)
            raise StoreUnavailable("The job queue does not answer just now. Please try again in a moment.",
                                   retry_after=5) from None

    def pending(self) -> int:
        """Tasks waiting for a worker (all hosts)."""
        return int(self.huey.pending_count())

    def consume(self, handlers: Mapping[str, Callable[..., None]], workers: int) -> None:
        """Run a Huey consumer (processes) with these task bodies, until stopped."""
        assert set(handlers) == set(TASKS), sorted(handlers)
        _HANDLERS.update(handlers)
        huey = self.huey

        def beat() -> None:
            # In each worker process once it has started: a thread started in the consumer before it
            # forks could hold a lock (an import's, a pool's) that the forked worker then waits on for ever.
            threading.Thread(target=self._beat, name="reader-worker-beat", daemon=True).start()

        huey.on_startup()(beat)
        consumer = huey.create_consumer(workers=max(workers, 1), worker_type="process", periodic=True,
                                        check_worker_health=True, health_check_interval=1)
        consumer.run()

    def _beat(self) -> None:
        """Says, every few seconds, that this worker process is alive: in Redis across hosts, or in
        the data dir on one host."""
        name = f"{socket.gethostname()}:{os.getpid()}"
        folder = Path(self.data_dir) / "run" / "workers"
        while True:
            try:
                if self.redis is not None:
                    self.redis.do("set", self.redis.key("worker", name), 1, ex=int(WORKER_GONE))
                else:
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / str(os.getpid())).write_text("1")
            except Exception as exc:  # Redis away or a full disk: the next beat tries again
                LOGGER.debug("worker heartbeat failed (%s)", type(exc).__name__)
            time.sleep(WORKER_BEAT)

    def live_workers(self) -> int:
        """Narration worker processes that beat lately (all hosts with Redis)."""
        if self.redis is not None:
            shared = self.redis
            keys = list(shared.call(lambda r: list(r.scan_iter(match=shared.key("worker", "*"), count=1000))))
            values = shared.do("mget", keys) if keys else []
            return sum(int(v) for v in values if v is not None)
        total = 0
        now = time.time()
        for beat in (Path(self.data_dir) / "run" / "workers").glob("*"):
            try:
                if now - beat.stat().st_mtime <= WORKER_GONE:
                    total += int(beat.read_text() or 0)
                else:
                    beat.unlink(missing_ok=True)
            except (OSError, ValueError):
                continue
        return total
