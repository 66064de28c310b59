"""Per-client limits counted in a diskcache shared by all workers: a daily allowance of cloud
speech, and a rate limit on free-text speech."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import diskcache

from .errors import OverBudget, RateLimited

DAY = 86400


def seconds_to_midnight(now: dt.datetime | None = None) -> float:
    """Seconds until the allowance renews (midnight UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max((tomorrow - now).total_seconds(), 1.0)


class DailyBudget:
    """Characters of cloud synthesis per client (remote address) per UTC day."""

    def __init__(self, directory: str, limit: int) -> None:
        self.limit = limit
        self._store = diskcache.Cache(directory, eviction_policy="none")

    def _key(self, client: str) -> str:
        day = dt.datetime.now(dt.UTC).date().isoformat()
        return f"{day}:{_client_hash(client)}"

    def used(self, client: str) -> int:
        return int(self._store.get(self._key(client), 0))

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
        key = self._key(client)
        self._store.incr(key, chars, default=0)
        self._store.touch(key, expire=2 * DAY)

    def close(self) -> None:
        self._store.close()


def _client_hash(client: str) -> str:
    # Addresses are personal data: only a hash of one is written to disk.
    return hashlib.sha256(client.encode()).hexdigest()[:32]


class RateLimit:
    """At most `per_minute` requests per client in each clock minute (a fixed window)."""

    def __init__(self, directory: str, per_minute: int) -> None:
        self.per_minute = per_minute
        self._store = diskcache.Cache(directory, eviction_policy="none")

    def hit(self, client: str | None) -> None:
        """Count one request; raise RateLimited when the client is over the limit."""
        if client is None or self.per_minute <= 0:
            return
        now = time.time()
        minute = int(now // 60)
        key = f"{minute}:{_client_hash(client)}"
        count = self._store.incr(key, 1, default=0)
        if count == 1:
            self._store.touch(key, expire=120)
        if count > self.per_minute:
            wait = 60 - (now % 60)
            raise RateLimited(
                f"Too many speech requests: at most {self.per_minute} a minute. "
                f"Try again in {max(int(wait), 1)} s.",
                retry_after=wait,
            )

    def close(self) -> None:
        self._store.close()
