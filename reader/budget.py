"""Per-client limits: a daily allowance of cloud speech, and a rate limit on free-text speech.

They are counted in a diskcache the workers of one host share, or in Redis when many hosts
serve (READER_REDIS_URL), so that a client's allowance is one across hosts. While Redis is
away the rate limit counts per host; the allowance, which is money, is not spent unchecked:
cloud speech gets a 503 until Redis is back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

import diskcache

from .errors import OverBudget, RateLimited, StoreUnavailable

if TYPE_CHECKING:
    from .shared import SharedRedis

DAY = 86400
LOGGER = logging.getLogger(__name__)


class Counters(Protocol):
    """Integer counters that expire."""

    def get(self, key: str) -> int: ...

    def add(self, key: str, amount: int, ttl: int) -> int: ...

    def close(self) -> None: ...


class DiskCounters:
    """Counters in a diskcache: shared by the workers of one host."""

    def __init__(self, directory: str) -> None:
        self._store = diskcache.Cache(directory, eviction_policy="none")

    def get(self, key: str) -> int:
        return int(self._store.get(key, 0))

    def add(self, key: str, amount: int, ttl: int) -> int:
        count = int(self._store.incr(key, amount, default=0))
        if count == amount:
            self._store.touch(key, expire=ttl)
        return count

    def close(self) -> None:
        self._store.close()


class RedisCounters:
    """Counters in Redis: shared by every host."""

    def __init__(self, shared: SharedRedis, name: str) -> None:
        self.shared = shared
        self.name = name

    def get(self, key: str) -> int:
        value = self.shared.call(lambda r: r.get(self.shared.key(self.name, key)))
        return int(value or 0)

    def add(self, key: str, amount: int, ttl: int) -> int:
        full = self.shared.key(self.name, key)

        def incr(r: Any) -> int:
            with r.pipeline() as pipe:
                pipe.incrby(full, amount)
                pipe.expire(full, ttl, nx=True)
                count, _ = pipe.execute()
            return int(count)

        return self.shared.call(incr)

    def close(self) -> None:
        return None


class FallbackCounters:
    """Redis counters, or this host's while Redis does not answer."""

    def __init__(self, primary: RedisCounters, local: Counters) -> None:
        self.primary = primary
        self.local = local

    def get(self, key: str) -> int:
        try:
            return self.primary.get(key)
        except StoreUnavailable:
            return self.local.get(key)

    def add(self, key: str, amount: int, ttl: int) -> int:
        try:
            return self.primary.add(key, amount, ttl)
        except StoreUnavailable:
            return self.local.add(key, amount, ttl)

    def close(self) -> None:
        self.local.close()


def seconds_to_midnight(now: dt.datetime | None = None) -> float:
    """Seconds until the allowance renews (midnight UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max((tomorrow - now).total_seconds(), 1.0)


class DailyBudget:
    """Characters of cloud synthesis per client (remote address) per UTC day."""

    def __init__(self, counters: Counters, limit: int) -> None:
        self.limit = limit
        self._store = counters

    def _key(self, client: str) -> str:
        day = dt.datetime.now(dt.UTC).date().isoformat()
        return f"{day}:{_client_hash(client)}"

    def used(self, client: str) -> int:
        return self._store.get(self._key(client))

    def check(self, client: str | None, chars: int) -> None:
        """Raise OverBudget if `chars` more would pass today's limit."""
        if client is None or self.limit <= 0:
            return
        if self.used(client) + chars > self.limit:
            wait = seconds_to_midnight()
            hours, minutes = int(wait // 3600), int(wait % 3600 // 60)
            raise OverBudget(
                f"Today's allowance of {self.limit:,} characters of cloud speech is used up. It renews "
                f"at midnight UTC, in about {hours} h {minutes} min. An offline voice can keep reading "
                "until then.",
                retry_after=wait,
            )

    def spend(self, client: str | None, chars: int) -> None:
        """Count characters that were synthesised (cache hits cost nothing and are not counted)."""
        if client is None or self.limit <= 0:
            return
        try:
            self._store.add(self._key(client), chars, 2 * DAY)
        except StoreUnavailable:  # the audio is made and on its way: it is not lost for a count
            LOGGER.warning("Redis away: %d characters of cloud speech went uncounted", chars)

    def close(self) -> None:
        self._store.close()


def _client_hash(client: str) -> str:
    # Addresses are personal data: only a hash of one is written to disk.
    return hashlib.sha256(client.encode()).hexdigest()[:32]


class RateLimit:
    """At most `per_minute` requests per client in each clock minute (a fixed window)."""

    def __init__(self, counters: Counters, per_minute: int) -> None:
        self.per_minute = per_minute
        self._store = counters

    def hit(self, client: str | None) -> None:
        """Count one request; raise RateLimited when the client is over the limit."""
        if client is None or self.per_minute <= 0:
            return
        now = time.time()
        minute = int(now // 60)
        key = f"{minute}:{_client_hash(client)}"
        count = self._store.add(key, 1, 120)
        if count > self.per_minute:
            wait = 60 - (now % 60)
            raise RateLimited(
                f"Too many speech requests: at most {self.per_minute} a minute. "
                f"Try again in {max(int(wait), 1)} s.",
                retry_after=wait,
            )

    def close(self) -> None:
        self._store.close()
