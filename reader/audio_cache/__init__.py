"""The audio cache: content-addressed entries (entry), a local tier on diskcache shared by a
host's workers (local), a second tier in Redis shared by hosts (redis_tier), the single-flight
lock of one host (locks), and the stream that fills the cache as it is heard (stream)."""

from .entry import CachedAudio, Words, cache_key
from .local import AudioCache
from .stream import TeeStream

__all__ = ["AudioCache", "CachedAudio", "TeeStream", "Words", "cache_key"]
