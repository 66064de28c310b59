"""Audio cache on diskcache: content-addressed, size-bounded, shared by workers, single-flight."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import diskcache

LOGGER = logging.getLogger(__name__)

# How long a synthesis may hold the cross-process lock before another worker takes over
# (a worker that died mid-synthesis must not block the key for ever).
LOCK_SECONDS = 120.0


@dataclass(frozen=True)
class CachedAudio:
    """One cache entry: encoded audio and what the reader needs to highlight it."""

    audio: bytes
    mime: str
    duration: float
    words: tuple[tuple[int, int, float, float], ...]  # (start, end, t0, t1) into the spoken text
    etag: str  # sha256 of `audio`

    def to_value(self) -> dict[str, Any]:
        return {
            "audio": self.audio,
            "mime": self.mime,
            "duration": self.duration,
            "words": [list(w) for w in self.words],
            "etag": self.etag,
        }

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> CachedAudio:
        return cls(
            audio=value["audio"],
            mime=value["mime"],
            duration=value["duration"],
            words=tuple(tuple(w) for w in value["words"]),  # type: ignore[misc]
            etag=value["etag"],
        )


def cache_key(
    *, engine: str, model: str, voice: str, instructions: str | None, fmt: str, text: str,
    speed: float = 1.0,
) -> str:
    """sha256 over everything that changes the audio.

    The reader's speed is not in it (the browser sets playbackRate); only a service-side speed
    (the /v1 `speed` of a cloud engine) is, and only when it is not 1, so older keys stay valid.
    """
    fields: dict[str, Any] = {"engine": engine, "model": model, "voice": voice,
                              "instructions": instructions or "", "format": fmt, "text": text}
    if speed != 1.0:
        fields["speed"] = round(speed, 3)
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class TeeStream:
    """Passes chunks on as they arrive and keeps a copy that is committed only when the stream ends well.

    An upstream failure, or close() before the end (the client went away), drops the copy:
    no partial entry is ever written. The single-flight lock is held until then.
    """

    def __init__(self, chunks: Iterable[bytes], commit: Callable[[bytes], None],
                 release: Callable[[], None]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._source = chunks
        self._parts: list[bytes] = []
        self._commit = commit
        self._release = release
        self._done = False
        self.committed = False

    def __iter__(self) -> TeeStream:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except StopIteration:
            try:
                self._commit(b"".join(self._parts))
                self.committed = True
            finally:
                self._finish()
            raise
        except BaseException:
            self._finish()
            raise
        self._parts.append(chunk)
        return chunk

    def close(self) -> None:
        """Called by the WSGI server when the response ends, early or not."""
        self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        self._parts = []
        try:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        finally:
            self._release()


class AudioCache:
    """Get-or-synthesise with one synthesis per key across threads and worker processes."""

    def __init__(self, directory: str, size_mb: int) -> None:
        self._cache = diskcache.Cache(
            directory,
            size_limit=size_mb * 1024 * 1024,
            eviction_policy="least-recently-used",
            # Audio is already compressed; large values go to files, small ones inline.
            disk_min_file_size=32 * 1024,
        )
        # Locks live apart from the audio so that eviction can never drop a held lock.
        self._locks = diskcache.Cache(directory + "/locks", eviction_policy="none")
        self._local_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> CachedAudio | None:
        value = self._cache.get("audio:" + key)
        return CachedAudio.from_value(value) if value is not None else None

    def get_or_create(
        self, key: str, produce: Callable[[], CachedAudio]
    ) -> tuple[CachedAudio, bool]:
        """Return (entry, hit). On a miss, exactly one caller produces; the others wait."""
        entry = self.get(key)
        if entry is not None:
            return entry, True
        release = self._acquire(key)
        try:
            entry = self.get(key)
            if entry is not None:
                return entry, True
            entry = produce()
            # diskcache writes in a transaction: a worker killed here leaves no partial entry.
            self._cache.set("audio:" + key, entry.to_value())
            return entry, False
        finally:
            release()

    def open_stream(
        self,
        key: str,
        start: Callable[[], Iterable[bytes]],
        finish: Callable[[bytes], CachedAudio],
        on_commit: Callable[[CachedAudio], None] | None = None,
    ) -> tuple[CachedAudio | None, TeeStream | None]:
        """(entry, None) on a hit; on a miss (None, stream) that fills the cache as it is read.

        `start` opens the upstream (its errors raise here, before any byte); `finish` turns the
        complete bytes into the entry. Other requests for the key wait for the stream, then hit.
        """
        entry = self.get(key)
        if entry is not None:
            return entry, None
        release = self._acquire(key)
        try:
            entry = self.get(key)
            if entry is None:
                chunks = start()
        except BaseException:
            release()
            raise
        if entry is not None:
            release()
            return entry, None

        def commit(data: bytes) -> None:
            made = finish(data)
            self._cache.set("audio:" + key, made.to_value())
            if on_commit is not None:
                on_commit(made)

        return None, TeeStream(chunks, commit, release)

    def get_words(self, key: str) -> tuple[tuple[int, int, float, float], ...] | None:
        """Word timings stored beside the audio of `key` by an aligner, if any."""
        value = self._cache.get("words:" + key)
        return None if value is None else tuple(tuple(w) for w in value)  # type: ignore[misc]

    def set_words(self, key: str, words: Iterable[tuple[int, int, float, float]]) -> None:
        self._cache.set("words:" + key, [list(w) for w in words])

    def busy(self, key: str) -> bool:
        """True while some thread or worker is producing the entry of `key`."""
        return key in self._locks

    def single_flight(self, key: str) -> Callable[[], None]:
        """Hold the lock of `key` across threads and workers; call the result to let go."""
        return self._acquire(key)

    def _acquire(self, key: str) -> Callable[[], None]:
        local = self._local_lock(key)  # threads of this process
        # Like the cross-process lock, the thread lock gives up waiting after LOCK_SECONDS: a
        # stream that was never closed must not block its key for ever.
        held = local.acquire(timeout=LOCK_SECONDS)
        if not held:
            LOGGER.warning("audio cache lock held for over %.0f s; going ahead", LOCK_SECONDS)
        try:
            lock = diskcache.Lock(self._locks, key, expire=LOCK_SECONDS)  # processes
            lock.acquire()
        except BaseException:
            if held:
                local.release()
            raise
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            try:
                lock.release()
            finally:
                if held:
                    local.release()

        return release

    def _local_lock(self, key: str) -> threading.Lock:
        with self._guard:
            lock = self._local_locks.get(key)
            if lock is None:
                if len(self._local_locks) > 4096:
                    self._local_locks = {k: v for k, v in self._local_locks.items() if v.locked()}
                lock = self._local_locks[key] = threading.Lock()
            return lock

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._cache), "bytes": int(self._cache.volume())}

    def close(self) -> None:
        self._cache.close()
        self._locks.close()
