"""Redis, the state many hosts share (READER_REDIS_URL): one connection pool per process, and a
breaker in front of it.

When Redis does not answer, every call fails fast for a moment (`DOWN_SECONDS`) instead of
each request waiting out a connect timeout: what needs Redis gets a 503 with Retry-After
(`StoreUnavailable`), and what can go on without it (the local audio cache, a per-host rate
limit, documents this process read lately) goes on. The first failure of a run and the
recovery are logged once each, without any key or value.

`RedisLocks` is the single-flight lock across hosts (the audio cache's and the heavy-work
limit's): a Redis key with a short time to live that its holder's process renews. A holder
that is killed stops renewing, and the lock is gone `LOCK_TTL` seconds later.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import StoreUnavailable

LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

DOWN_SECONDS = 2.0  # after a failure, calls fail at once for this long, then Redis is tried again
RETRY_AFTER = 5.0  # what a refused client is told to wait
# Replies that mean "not now" rather than a bug: still loading its data, a failed save, a replica.
_TRANSIENT = ("LOADING", "MISCONF", "READONLY", "MASTERDOWN", "TRYAGAIN")

LOCK_TTL = 10.0  # seconds a lock outlives a holder that stopped renewing it (was killed)
RENEW_EVERY = 3.0

# Renew or release a lock only if this holder still holds it. KEYS: lock. ARGV: token, ms.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_POOLS: dict[str, SharedRedis] = {}
_POOLS_LOCK = threading.Lock()


class SharedRedis:
    """A Redis client with short timeouts and a breaker. `call(fn)` runs `fn(client)`."""

    def __init__(self, url: str, *, prefix: str = "reader:") -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self.client: Any = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=5.0,
                                                health_check_interval=10)
        self._errors: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
        self._response_error: type[BaseException] = redis.ResponseError
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def up(self) -> bool:
        """False while the breaker is open (Redis failed a moment ago)."""
        return time.monotonic() >= self._down_until

    def call(self, fn: Callable[[Any], T]) -> T:
        """`fn(client)`, or StoreUnavailable when Redis does not answer (now or a moment ago)."""
        if not self.up:
            raise self._unavailable()
        try:
            result = fn(self.client)
        except self._errors as exc:
            self._failed(exc)
            raise self._unavailable() from None
        except self._response_error as exc:
            if not str(exc).startswith(_TRANSIENT):
                raise
            self._failed(exc)
            raise self._unavailable() from None
        if self._down:
            with self._lock:
                if self._down:
                    self._down = False
                    LOGGER.warning("Redis answers again")
        return result

    def do(self, command: str, *args: Any, **kwargs: Any) -> Any:
        """One Redis command by name (`do("get", key)`), through the breaker."""
        return self.call(lambda r: getattr(r, command)(*args, **kwargs))

    def ping(self) -> bool:
        try:
            return bool(self.call(lambda r: r.ping()))
        except StoreUnavailable:
            return False

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._down_until = time.monotonic() + DOWN_SECONDS
            if not self._down:
                self._down = True
                LOGGER.warning("Redis does not answer (%s); what needs it gets a 503 until it is back",
                               type(exc).__name__)

    @staticmethod
    def _unavailable() -> StoreUnavailable:
        return StoreUnavailable("The shared store does not answer just now. Please try again in a moment.",
                                retry_after=RETRY_AFTER)


def shared_redis(url: str) -> SharedRedis:
    """The one client of `url` in this process (its pool is fork-safe: a forked worker reconnects)."""
    with _POOLS_LOCK:
        if url not in _POOLS:
            _POOLS[url] = SharedRedis(url)
        return _POOLS[url]


class RedisLocks:
    """Single-flight locks in Redis that die with their holder (see the module's docstring)."""

    def __init__(self, shared: SharedRedis) -> None:
        self.shared = shared
        self._renew = shared.client.register_script(_RENEW)
        self._release = shared.client.register_script(_RELEASE)
        self._held: dict[str, str] = {}  # lock key -> token, renewed by this process's thread
        self._guard = threading.Lock()
        self._renewer_pid = 0

    def _name(self, key: str) -> str:
        return self.shared.key("lock", key)

    def acquire(self, key: str, timeout: float) -> Callable[[], None] | None:
        """Hold `key`; the result lets go. None when Redis is away (the caller goes on with its
        local lock) or after `timeout` s of waiting (going ahead beats waiting for ever)."""
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            try:
                release = self.try_acquire(key)
            except StoreUnavailable:
                return None
            if release is not None:
                return release
            if time.monotonic() >= deadline:
                LOGGER.warning("shared audio lock held for over %.0f s; going ahead", timeout)
                return None
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    def try_acquire(self, key: str) -> Callable[[], None] | None:
        """Hold `key` if it is free (the result lets go), None if it is held; StoreUnavailable
        when Redis is away."""
        name, token = self._name(key), secrets.token_hex(16)
        if not self.shared.call(lambda r: r.set(name, token, nx=True, px=int(LOCK_TTL * 1000))):
            return None
        with self._guard:
            self._held[name] = token
            self._start_renewer()
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            with self._guard:
                self._held.pop(name, None)
            try:
                self.shared.call(lambda r: self._release(keys=[name], args=[token], client=r))
            except StoreUnavailable:
                pass  # it expires by itself

        return release

    def busy(self, key: str) -> bool:
        try:
            return bool(self.shared.call(lambda r: r.exists(self._name(key))))
        except StoreUnavailable:
            return False

    def _start_renewer(self) -> None:
        if self._renewer_pid == os.getpid():
            return
        self._renewer_pid = os.getpid()  # a forked worker starts its own
        threading.Thread(target=self._renew_loop, name="reader-lock-renewer", daemon=True).start()

    def _renew_loop(self) -> None:
        while True:
            time.sleep(RENEW_EVERY)
            with self._guard:
                held = list(self._held.items())
            for name, token in held:
                try:
                    self._renew(keys=[name], args=[token, int(LOCK_TTL * 1000)])
                except Exception:  # Redis away: the lock expires; renewing goes on after
                    break
