"""A daily allowance of cloud speech per client, counted in a diskcache shared by all workers."""

from __future__ import annotations

import datetime as dt
import hashlib

import diskcache

from .speech.cloud_errors import OverBudget

DAY = 86400


def seconds_to_midnight(now: dt.datetime | None = None) -> float:
    """Seconds until the allowance renews (midnight UTC)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max((tomorrow - now).total_seconds(), 1.0)


class DailyBudget:
    """Characters of cloud synthesis per client (remote address) per UTC day."""

    def __init__(self, directory: str, limit: int) -> None:
        self.limit = limit
        self._store = diskcache.Cache(directory, eviction_policy="none")

    def _key(self, client: str) -> str:
        # Addresses are personal data: only a hash of one is written to disk.
        day = dt.datetime.now(dt.timezone.utc).date().isoformat()
        return f"{day}:{hashlib.sha256(client.encode()).hexdigest()[:32]}"

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
