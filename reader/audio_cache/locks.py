"""The single-flight lock of one host: a thread lock, then an flock that dies with its process."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

LOGGER = logging.getLogger(__name__)

# How long a live holder may keep a key before another request goes ahead anyway (a stream that
# is never closed must not block its key for ever). A dead holder's lock goes at once.
LOCK_SECONDS = 120.0
# Lock files: keys share a fixed number of them, so the directory never grows.
LOCK_STRIPES = 1024


class KeyLocks:
    """One holder per key across threads and processes: a thread lock, then an flock on a file.

    The kernel drops an flock when its process dies, so a worker killed mid-synthesis frees its
    keys at once. Without a usable lock directory (a read-only disk) only threads are kept apart.
    """

    def __init__(self, directory: str) -> None:
        self._dir = Path(directory)
        self._threads = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._warned = False

    def _stripe(self, key: str) -> int:
        return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % LOCK_STRIPES

    def path(self, key: str) -> Path:
        """The lock file of `key` (tests look at it to see who holds a key)."""
        return self._dir / f"{self._stripe(key):04d}.lock"

    def _open(self, key: str) -> int | None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            return os.open(self.path(key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                LOGGER.warning("audio cache locks unavailable (%s): workers may synthesise a sentence twice",
                               errno.errorcode.get(exc.errno or 0, type(exc).__name__))
            return None

    def acquire(self, key: str, timeout: float = LOCK_SECONDS) -> Callable[[], None]:
        """Hold `key`; call the result to let go. After `timeout` s of waiting, go ahead anyway."""
        deadline = time.monotonic() + timeout
        local = self._threads[self._stripe(key)]
        held = local.acquire(timeout=timeout)
        fd = self._open(key)
        locked = False
        try:
            delay = 0.005
            while fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    locked = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
            if not (held and (locked or fd is None)):
                LOGGER.warning("audio cache lock held for over %.0f s; going ahead", timeout)
        except BaseException:
            self._let_go(fd, locked, local if held else None)
            raise
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._let_go(fd, locked, local if held else None)

        return release

    @staticmethod
    def _let_go(fd: int | None, locked: bool, local: threading.Lock | None) -> None:
        try:
            if fd is not None:
                if locked:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        finally:
            if local is not None:
                local.release()

    def busy(self, key: str) -> bool:
        """True while some thread or process holds `key`."""
        fd = self._open(key)
        if fd is None:
            return self._threads[self._stripe(key)].locked()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)
