"""The audio cache's shared second tier in Redis, and the single-flight lock across hosts.

Each host keeps its local diskcache as the first tier; this tier lets a sentence made on one
host be a hit on every other. It keeps its own size bound with least-recently-used eviction
(a Lua script, so the bound holds whatever Redis's own `maxmemory-policy`: documents and jobs
in the same Redis are never evicted for audio). Values are checksummed and checked on read;
they are never pickles, so whoever can write to Redis cannot make a host run code.
(The single-flight lock across hosts is reader.shared.RedisLocks.)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from ..shared import RedisLocks, SharedRedis
from .entry import CachedAudio, Words

LOGGER = logging.getLogger(__name__)

EVICT_PER_PUT = 64  # entries one write may evict (each write stays short)

# Store one entry and evict the least recently used ones past the byte bound. KEYS: entry, lru
# (sorted set of entry keys by last use), sizes (hash), total (counter). ARGV: value, now,
# bound, ttl seconds.
_PUT = """
local old = tonumber(redis.call('HGET', KEYS[3], KEYS[1]) or '0')
local size = string.len(ARGV[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], size)
local total = redis.call('INCRBY', KEYS[4], size - old)
local evicted = 0
while total > tonumber(ARGV[3]) and evicted < tonumber(ARGV[5]) do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 or oldest[1] == KEYS[1] then break end
  local gone = tonumber(redis.call('HGET', KEYS[3], oldest[1]) or '0')
  redis.call('DEL', oldest[1])
  redis.call('ZREM', KEYS[2], oldest[1])
  redis.call('HDEL', KEYS[3], oldest[1])
  total = redis.call('DECRBY', KEYS[4], gone)
  evicted = evicted + 1
end
return evicted
"""

# Remove one entry and its bookkeeping. KEYS: entry, lru, sizes, total.
_DROP = """
local size = tonumber(redis.call('HGET', KEYS[3], KEYS[1]) or '0')
local gone = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
redis.call('HDEL', KEYS[3], KEYS[1])
if size > 0 then redis.call('DECRBY', KEYS[4], size) end
return gone
"""

def encode(entry: CachedAudio) -> bytes:
    """An entry as bytes: a length, JSON of the metadata (with the checksum), the audio."""
    value = entry.to_value()
    meta = json.dumps({k: v for k, v in value.items() if k != "audio"}, separators=(",", ":")).encode()
    return len(meta).to_bytes(4, "big") + meta + entry.audio


def decode(data: bytes) -> CachedAudio:
    """The entry, or ValueError when the bytes are not a whole entry."""
    if len(data) < 4:
        raise ValueError("too short")
    n = int.from_bytes(data[:4], "big")
    try:
        meta = json.loads(data[4:4 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("metadata unreadable") from exc
    if not isinstance(meta, dict):
        raise ValueError("metadata unreadable")
    return CachedAudio.from_value({**meta, "audio": data[4 + n:]})


class RedisAudioTier:
    """Entries, word timings and document references in Redis, bounded to `size_bytes`."""

    def __init__(self, shared: SharedRedis, size_bytes: int, *, max_age_seconds: float) -> None:
        self.shared = shared
        self.size_bytes = size_bytes
        self.ttl = int(max_age_seconds) if max_age_seconds > 0 else 30 * 86400
        self._lru = shared.key("audio-lru")
        self._sizes = shared.key("audio-sizes")
        self._total = shared.key("audio-bytes")
        self._put = shared.client.register_script(_PUT)
        self._drop = shared.client.register_script(_DROP)
        self.locks = RedisLocks(shared)

    def _entry(self, key: str) -> str:
        return self.shared.key("audio", key)

    def get(self, key: str) -> CachedAudio | None:
        """The verified entry, or None (a damaged one is dropped). StoreUnavailable when Redis is away."""
        name = self._entry(key)
        # One round trip: the value, and its use noted (XX: only if it is there to note).
        data, _ = self.shared.call(lambda r: r.pipeline(transaction=False).get(name)
                                   .zadd(self._lru, {name: time.time()}, xx=True).execute())
        if data is None:
            return None
        try:
            entry = decode(data)
        except (ValueError, TypeError, KeyError) as exc:
            LOGGER.warning("shared audio entry failed its check (%s); dropping it", exc)
            self.shared.call(lambda r: self._drop(keys=[name, self._lru, self._sizes, self._total], client=r))
            return None
        return entry

    def put(self, key: str, entry: CachedAudio) -> None:
        data = encode(entry)
        if len(data) > self.size_bytes // 8:
            return  # one entry may not take the tier over
        name = self._entry(key)
        self.shared.call(lambda r: self._put(keys=[name, self._lru, self._sizes, self._total],
                                             args=[data, time.time(), self.size_bytes, self.ttl, EVICT_PER_PUT],
                                             client=r))

    def get_words(self, key: str) -> Words | None:
        data = self.shared.call(lambda r: r.get(self.shared.key("words", key)))
        if data is None:
            return None
        try:
            return tuple((int(a), int(b), float(c), float(d)) for a, b, c, d in json.loads(data))
        except (ValueError, TypeError):
            return None

    def set_words(self, key: str, words: Iterable[tuple[int, int, float, float]]) -> None:
        data = json.dumps([list(w) for w in words])
        self.shared.call(lambda r: r.set(self.shared.key("words", key), data, ex=self.ttl))

    def own(self, key: str, doc_id: str) -> None:
        refs, uses = self.shared.key("audio-refs", key), self.shared.key("doc-audio", doc_id)

        def note(r: Any) -> None:
            with r.pipeline(transaction=False) as pipe:
                pipe.sadd(refs, doc_id).expire(refs, self.ttl).sadd(uses, key).expire(uses, self.ttl)
                pipe.execute()

        self.shared.call(note)

    def forget(self, doc_id: str) -> int:
        """Remove the shared audio only `doc_id` uses; returns how many entries went."""
        uses = self.shared.key("doc-audio", doc_id)

        def remove(r: Any) -> int:
            removed = 0
            for raw in r.smembers(uses):
                key = raw.decode()
                refs = self.shared.key("audio-refs", key)
                r.srem(refs, doc_id)
                if r.scard(refs) == 0:
                    removed += int(self._drop(keys=[self._entry(key), self._lru, self._sizes, self._total],
                                              client=r))
                    r.delete(self.shared.key("words", key), refs)
            r.delete(uses)
            return removed

        return self.shared.call(remove)

    def stats(self) -> dict[str, int]:
        entries, total = self.shared.call(lambda r: r.pipeline(transaction=False).zcard(self._lru)
                                          .get(self._total).execute())
        return {"entries": int(entries or 0), "bytes": int(total or 0)}
