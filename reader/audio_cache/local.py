"""Audio cache on diskcache: content-addressed, size-bounded, shared by workers, single-flight.

Faults are survived, never served: every entry carries a checksum that is verified on read (a
damaged entry is dropped and made again); a cache that cannot be read or written (a full,
read-only or damaged disk) is passed by, with one warning, until it works again. The
cross-process single-flight lock is an flock, so it dies with a worker that is killed.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import diskcache

from ..errors import StoreUnavailable
from .entry import CachedAudio, Words
from .locks import LOCK_SECONDS, KeyLocks
from .stream import TeeStream

if TYPE_CHECKING:
    from .redis_tier import RedisAudioTier

LOGGER = logging.getLogger(__name__)

# How long a failing cache is passed by before it is tried again, in seconds.
RETRY_SECONDS = 30.0
# What a broken cache raises: the disk (full, read-only, gone), SQLite, or a damaged pickle.
CACHE_FAULTS: tuple[type[BaseException], ...] = (OSError, sqlite3.Error, EOFError, ValueError, TypeError,
                                                 KeyError, AttributeError, ImportError, IndexError,
                                                 __import__("pickle").UnpicklingError)

# Hit and miss counts are written after this many requests, or this many seconds.
COUNT_BATCH = 64
COUNT_SECONDS = 10.0
# Faults of the disk or the database as a whole (not of one entry): never a reason to drop an entry.
DISK_FAULTS: tuple[type[BaseException], ...] = (OSError, sqlite3.OperationalError, sqlite3.DatabaseError)

class AudioCache:
    """Get-or-synthesise with one synthesis per key across threads and worker processes (and,
    with a shared tier in Redis, across hosts: the local cache is the first tier, Redis the second)."""

    def __init__(self, directory: str, size_mb: int, *, retry_seconds: float = RETRY_SECONDS,
                 on_fault: Callable[[str], None] | None = None, max_age_seconds: float = 0.0,
                 shared: RedisAudioTier | None = None) -> None:
        self.directory = directory
        self.shared = shared
        self._size = size_mb * 1024 * 1024
        self.max_age = max_age_seconds or None  # an entry's age limit, whatever its use
        self._retry = retry_seconds
        self._on_fault = on_fault  # counts faults by kind ("read", "write", "open", "damaged")
        self._store: diskcache.Cache | None = None
        self._failing: dict[str, float] = {}  # "open"/"write" -> when to try again
        self._guard = threading.Lock()
        self.locks = KeyLocks(os.path.join(directory, "locks"))
        self._counts: dict[str, int] = {}  # hits and misses not yet written
        self._counted_at = time.monotonic()
        self._connect()
        # Counts not yet written are written when the cache goes (or at exit, whichever is first);
        # the finalizer holds the dict, not the cache, so the cache can still be collected.
        weakref.finalize(self, _flush_pending, self._counts, directory)

    # -- the store, and its faults -------------------------------------------------------------

    def _connect(self) -> diskcache.Cache | None:
        with self._guard:
            if self._store is not None or not self._due("open"):
                return self._store
            try:
                self._store = diskcache.Cache(
                    self.directory, size_limit=self._size, eviction_policy="least-recently-used",
                    # Audio is already compressed; large values go to files, small ones inline.
                    disk_min_file_size=32 * 1024)
            except CACHE_FAULTS as exc:
                self._fail("open", exc)
                return None
            self._recovered("open")
            return self._store

    def _due(self, what: str) -> bool:
        return time.monotonic() >= self._failing.get(what, 0.0)

    def _fail(self, what: str, exc: BaseException) -> None:
        """Note a fault: the first of a run is logged once, every one is counted."""
        first = what not in self._failing
        self._failing[what] = time.monotonic() + self._retry
        if first:
            LOGGER.warning("audio cache %s failed (%s: %s); reading goes on without it, retrying every %.0f s",
                           what, type(exc).__name__, _reason(exc), self._retry)
        if self._on_fault is not None:
            self._on_fault(what)

    def _recovered(self, what: str) -> None:
        if self._failing.pop(what, None) is not None:
            LOGGER.warning("audio cache %s works again", what)

    def _read(self, name: str) -> Any:
        store = self._store or self._connect()
        if store is None:
            return None
        with self._guard:
            writable = self._due("write")
        try:
            if writable:
                try:
                    return store.get(name)
                except DISK_FAULTS as exc:  # the least-recently-used bookkeeping is a write
                    with self._guard:
                        self._fail("write", exc)
            return _peek(store, name)
        except DISK_FAULTS as exc:
            with self._guard:
                self._fail("read", exc)
            return None
        except CACHE_FAULTS as exc:
            self._drop(name, exc)
            return None

    def _write(self, name: str, value: Any) -> bool:
        store = self._store or self._connect()
        with self._guard:
            due = self._due("write")
        if store is None or not due:
            return False
        try:
            store.set(name, value, expire=self.max_age)
        except CACHE_FAULTS as exc:
            with self._guard:
                self._fail("write", exc)
            return False
        with self._guard:
            self._recovered("write")
        return True

    def _drop(self, name: str, exc: BaseException | None) -> None:
        """A damaged entry goes, so that it is made again."""
        if exc is not None:
            LOGGER.warning("audio cache entry unreadable (%s); dropping it", type(exc).__name__)
        if self._on_fault is not None:
            self._on_fault("damaged")
        try:
            if self._store is not None:
                self._store.delete(name)
        except CACHE_FAULTS:
            pass

    @property
    def degraded(self) -> bool:
        """True while the cache is passed by because it failed."""
        with self._guard:
            return bool(self._failing)

    # -- entries ------------------------------------------------------------------------------

    def get(self, key: str) -> CachedAudio | None:
        """The verified entry of `key` from the local tier, else the shared one, or None (a damaged
        entry is dropped). A shared hit is kept locally too."""
        entry = self._get_local(key)
        if entry is not None or self.shared is None:
            return entry
        try:
            entry = self.shared.get(key)
        except StoreUnavailable:
            return None  # Redis is away: a miss, made and served here
        if entry is not None:
            self._write("audio:" + key, entry.to_value())
        return entry

    def _get_local(self, key: str) -> CachedAudio | None:
        value = self._read("audio:" + key)
        if value is None:
            return None
        try:
            return CachedAudio.from_value(value)
        except (ValueError, TypeError, KeyError) as exc:
            LOGGER.warning("audio cache entry failed its check (%s); dropping it", exc)
            self._drop("audio:" + key, None)
            return None

    def put(self, key: str, entry: CachedAudio) -> bool:
        """Store `entry` in both tiers; False when the local one could not take it (the audio is
        served all the same)."""
        if self.shared is not None:
            with suppress(StoreUnavailable):
                self.shared.put(key, entry)
        return self._write("audio:" + key, entry.to_value())

    def get_or_create(self, key: str, produce: Callable[[], CachedAudio]) -> tuple[CachedAudio, bool]:
        """Return (entry, hit). On a miss, exactly one caller produces; the others wait."""
        entry = self.get(key)
        if entry is not None:
            return entry, True
        release = self.single_flight(key)
        try:
            entry = self.get(key)
            if entry is not None:
                return entry, True
            entry = produce()
            # diskcache writes in a transaction: a worker killed here leaves no partial entry.
            self.put(key, entry)
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
        release = self.single_flight(key)
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
            self.put(key, made)
            if on_commit is not None:
                on_commit(made)

        return None, TeeStream(chunks, commit, release)

    def get_words(self, key: str) -> Words | None:
        """Word timings stored beside the audio of `key` by an aligner, if any."""
        value = self._read("words:" + key)
        if value is None and self.shared is not None:
            with suppress(StoreUnavailable):
                return self.shared.get_words(key)
        if value is None:
            return None
        try:
            return tuple((int(a), int(b), float(c), float(d)) for a, b, c, d in value)
        except (ValueError, TypeError):
            self._drop("words:" + key, None)
            return None

    def set_words(self, key: str, words: Iterable[tuple[int, int, float, float]]) -> None:
        kept = tuple(words)
        if self.shared is not None:
            with suppress(StoreUnavailable):
                self.shared.set_words(key, kept)
        self._write("words:" + key, [list(w) for w in kept])

    def record(self, outcome: str) -> None:
        """One request's outcome, "hits" or "misses", for the hit rate `reader status` shows. Counted
        here and written now and then (and at exit), not as one more write on every request."""
        with self._guard:
            self._counts[outcome] = self._counts.get(outcome, 0) + 1
            pending = sum(self._counts.values())
            due = pending >= COUNT_BATCH or time.monotonic() - self._counted_at >= COUNT_SECONDS
        if due:
            self.flush_counts()

    def flush_counts(self) -> None:
        """Add the counts kept in memory to the ones on disk."""
        with self._guard:
            counts = dict(self._counts)
            self._counts.clear()  # in place: the finalizer holds this dict
            self._counted_at = time.monotonic()
            writable = self._due("write")
        store = self._store
        if store is None or not writable or not counts:
            return
        try:
            for outcome, n in counts.items():
                store.incr("stats:" + outcome, n, default=0)
        except CACHE_FAULTS as exc:
            with self._guard:
                self._fail("write", exc)

    def own(self, key: str, doc_id: str) -> None:
        """Note that document `doc_id` uses the audio of `key` (so deleting it can remove what only it uses)."""
        if self.shared is not None:
            with suppress(StoreUnavailable):
                self.shared.own(key, doc_id)
        store = self._store or self._connect()
        if store is None:
            return
        try:
            refs = store.get("refs:" + key) or []
            if doc_id in refs:
                return
            with store.transact():
                refs = store.get("refs:" + key) or []
                if doc_id not in refs:
                    store.set("refs:" + key, [*refs, doc_id], expire=self.max_age)
                    keys = store.get("doc:" + doc_id) or []
                    store.set("doc:" + doc_id, [*keys, key])
        except CACHE_FAULTS as exc:
            with self._guard:
                self._fail("write", exc)

    def forget(self, doc_id: str) -> int:
        """Remove the audio only document `doc_id` uses; returns how many entries went."""
        removed = 0
        if self.shared is not None:
            with suppress(StoreUnavailable):
                removed += self.shared.forget(doc_id)
        store = self._store or self._connect()
        if store is None:
            return removed
        with store.transact():
            for key in store.get("doc:" + doc_id) or []:
                refs = [d for d in (store.get("refs:" + key) or []) if d != doc_id]
                if refs:
                    store.set("refs:" + key, refs, expire=self.max_age)
                    continue
                removed += int(store.delete("audio:" + key))
                store.delete("words:" + key)
                store.delete("refs:" + key)
            store.delete("doc:" + doc_id)
        return removed

    def expire(self) -> int:
        """Remove the entries past their age; returns how many."""
        store = self._store or self._connect()
        if store is None or not self.max_age:
            return 0
        try:
            return int(store.expire())
        except CACHE_FAULTS:
            return 0

    def status(self) -> dict[str, float]:
        """Entries, bytes, hits, misses and the oldest entry's time, for operators."""
        store = self._store or self._connect()
        if store is None:
            return {"entries": 0, "bytes": 0, "hits": 0, "misses": 0, "oldest": 0.0}
        hits, misses = (int(store.get("stats:" + k, 0) or 0) for k in ("hits", "misses"))
        row = store._sql("SELECT MIN(store_time), COUNT(*) FROM Cache WHERE key LIKE 'audio:%'").fetchone()
        return {"entries": int(row[1] or 0), "bytes": int(store.volume()), "hits": int(hits), "misses": int(misses),
                "oldest": float(row[0] or 0.0)}

    def busy(self, key: str) -> bool:
        """True while some thread, worker or host is producing the entry of `key`."""
        return self.locks.busy(key) or (self.shared is not None and self.shared.locks.busy(key))

    def single_flight(self, key: str) -> Callable[[], None]:
        """Hold the lock of `key` across threads and workers (and hosts, with a shared tier); call
        the result to let go."""
        local = self.locks.acquire(key)
        if self.shared is None:
            return local
        try:
            remote = self.shared.locks.acquire(key, LOCK_SECONDS)
        except BaseException:
            local()
            raise

        def release() -> None:
            try:
                if remote is not None:
                    remote()
            finally:
                local()

        return release

    def stats(self) -> dict[str, int]:
        """Audio entries and the bytes the cache takes on disk."""
        store = self._store or self._connect()
        if store is None:
            return {"entries": 0, "bytes": 0}
        try:
            row = store._sql("SELECT COUNT(*) FROM Cache WHERE key LIKE 'audio:%'").fetchone()
            return {"entries": int(row[0] or 0), "bytes": int(store.volume())}
        except CACHE_FAULTS:
            return {"entries": 0, "bytes": 0}

    def close(self) -> None:
        self.flush_counts()
        if self._store is not None:
            self._store.close()


def _flush_pending(counts: dict[str, int], directory: str) -> None:
    """Write counts a cache left unwritten (it was collected, or the process is exiting)."""
    if not counts:
        return
    pending = dict(counts)
    counts.clear()
    try:
        with diskcache.Cache(directory) as store:  # its stored settings (size, eviction) stand
            for outcome, n in pending.items():
                store.incr("stats:" + outcome, n, default=0)
    except CACHE_FAULTS:
        pass  # a hit rate is a nicety: never a reason to fail at exit


def _peek(store: diskcache.Cache, name: str) -> Any:
    """Read an entry without diskcache's access-time update (a write), for a disk that takes none."""
    rows = store._sql("SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (name,)).fetchall()
    if not rows:
        return None
    mode, filename, value = rows[0]
    try:
        return store._disk.fetch(mode, filename, value, False)
    except FileNotFoundError:
        return None


def _reason(exc: BaseException) -> str:
    """A fault in words for the log: the errno's name or SQLite's message, never a path."""
    if isinstance(exc, OSError) and exc.errno:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return str(exc).split(":")[0][:80]
