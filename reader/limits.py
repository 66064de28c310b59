"""Bounds on heavy work (local synthesis and transcription), per worker and per client.

A worker runs at most `per_worker` heavy jobs at once and lets at most `queue` more wait; the
rest get a 503 with Retry-After at once, so that waiting requests can never take every thread
and light requests (`/healthz`, cached audio, pages) always find one. A client may have at
most `per_client` heavy jobs under way across all workers: its slots are flocks on files, so
a slot dies with a worker that is killed. With Redis (many hosts) the client's slots are Redis
locks that die with their holder too, and count across every host; while Redis is away, they
count per host again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Busy, ClientBusy, StoreUnavailable

if TYPE_CHECKING:
    from .shared import RedisLocks

# Clients share this many sets of slot files (so the directory never grows).
CLIENT_STRIPES = 4096
RETRY_AFTER = 2.0  # seconds: what a refused client is told to wait


class HeavyWork:
    """Admission for heavy work: a bounded pool per worker with a bounded queue, and per-client slots."""

    def __init__(self, directory: str | os.PathLike[str], *, per_worker: int, queue: int, per_client: int,
                 wait: float = 60.0, on_refuse: Callable[[str], None] | None = None,
                 shared: RedisLocks | None = None) -> None:
        self.shared = shared
        self.per_worker = max(per_worker, 1)
        self.queue = max(queue, 0)
        self.per_client = per_client
        self.wait = wait
        self._dir = Path(directory)
        self._on_refuse = on_refuse  # counts refusals by scope: "worker" or "client"
        self._cond = threading.Condition()
        self._active = 0
        self._waiting = 0

    @contextmanager
    def slot(self, client: str | None) -> Iterator[None]:
        """Hold one heavy-work slot of this worker (and of `client`) for the block."""
        release_client = self._client_slot(client)
        try:
            with self._cond:
                if self._active >= self.per_worker and self._waiting >= self.queue:
                    self._refused("worker")
                    raise Busy("The server is busy reading for others. Please try again in a moment.",
                               retry_after=RETRY_AFTER)
                self._waiting += 1
                try:
                    ready = self._cond.wait_for(lambda: self._active < self.per_worker, timeout=self.wait)
                finally:
                    self._waiting -= 1
                if not ready:
                    self._refused("worker")
                    raise Busy("The server is busy reading for others. Please try again in a moment.",
                               retry_after=RETRY_AFTER)
                self._active += 1
            try:
                yield
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify()
        finally:
            release_client()

    def _client_slot(self, client: str | None) -> Callable[[], None]:
        if client is None or self.per_client <= 0:
            return _nothing
        if self.shared is not None:
            who = hashlib.sha256(client.encode()).hexdigest()[:32]
            try:
                for i in range(self.per_client):
                    release = self.shared.try_acquire(f"client:{who}:{i}")
                    if release is not None:
                        return release
            except StoreUnavailable:
                pass  # Redis away: this host's slots
            else:
                return self._too_many()
        stripe = int(hashlib.sha256(client.encode()).hexdigest()[:8], 16) % CLIENT_STRIPES
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return _nothing  # no place for slots (a read-only disk): per-worker bounds still hold
        for i in range(self.per_client):
            try:
                fd = os.open(self._dir / f"{stripe:04d}.{i}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return _nothing
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return _closer(fd)
        return self._too_many()

    def _too_many(self) -> Callable[[], None]:
        self._refused("client")
        raise ClientBusy(f"You already have {self.per_client} readings or transcriptions under way. "
                         "Please wait for one to finish.", retry_after=RETRY_AFTER)

    def _refused(self, scope: str) -> None:
        if self._on_refuse is not None:
            self._on_refuse(scope)

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {"active": self._active, "waiting": self._waiting}


def _nothing() -> None:
    return None


def _closer(fd: int) -> Callable[[], None]:
    def close() -> None:
        with suppress(OSError):
            os.close(fd)  # closing drops the flock

    return close
