"""Audio cache on diskcache: content-addressed, size-bounded, shared by workers, single-flight."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
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
    *, engine: str, model: str, voice: str, instructions: str | None, fmt: str, text: str
) -> str:
    """sha256 over everything that changes the audio; speed is not in it (the browser sets it)."""
    payload = json.dumps(
        {"engine": engine, "model": model, "voice": voice, "instructions": instructions or "",
         "format": fmt, "text": text},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
        with self._local_lock(key):  # threads of this process
            with diskcache.Lock(self._locks, key, expire=LOCK_SECONDS):  # processes
                entry = self.get(key)
                if entry is not None:
                    return entry, True
                entry = produce()
                # diskcache writes in a transaction: a worker killed here leaves no partial entry.
                self._cache.set("audio:" + key, entry.to_value())
                return entry, False

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
