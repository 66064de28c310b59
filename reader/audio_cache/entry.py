"""One cache entry (encoded audio, its duration and word timings, checksummed) and the key
that names it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Words = tuple[tuple[int, int, float, float], ...]


@dataclass(frozen=True)
class CachedAudio:
    """One cache entry: encoded audio and what the reader needs to highlight it."""

    audio: bytes
    mime: str
    duration: float
    words: Words  # (start, end, t0, t1) into the spoken text
    etag: str  # sha256 of `audio`: the bytes alone decide it

    @classmethod
    def of(cls, audio: bytes, mime: str, duration: float, words: Iterable[tuple[int, int, float, float]] = ()
           ) -> CachedAudio:
        return cls(audio=audio, mime=mime, duration=duration, words=tuple(tuple(w) for w in words),  # type: ignore[misc]
                   etag=hashlib.sha256(audio).hexdigest())

    def checksum(self) -> str:
        """sha256 over the audio and everything stored beside it."""
        meta = json.dumps([self.mime, self.duration, [list(w) for w in self.words], self.etag])
        return hashlib.sha256(self.audio + b"\0" + meta.encode()).hexdigest()

    def to_value(self) -> dict[str, Any]:
        return {"audio": self.audio, "mime": self.mime, "duration": self.duration,
                "words": [list(w) for w in self.words], "etag": self.etag, "sum": self.checksum()}

    @classmethod
    def from_value(cls, value: Any) -> CachedAudio:
        """The entry, or ValueError when it is not whole (damaged on disk, or from an older version)."""
        if not isinstance(value, dict) or not isinstance(value.get("audio"), bytes):
            raise ValueError("not an audio entry")
        entry = cls(audio=value["audio"], mime=str(value["mime"]), duration=float(value["duration"]),
                    words=tuple((int(a), int(b), float(c), float(d)) for a, b, c, d in value["words"]),
                    etag=str(value["etag"]))
        if value.get("sum") != entry.checksum() or hashlib.sha256(entry.audio).hexdigest() != entry.etag:
            raise ValueError("checksum mismatch")
        return entry


def cache_key(
    *, engine: str, model: str, voice: str, instructions: str | None, fmt: str, text: str,
    speed: float = 1.0,
) -> str:
    """sha256 over everything that changes the audio.

    The reader's speed is not in it (the browser sets playbackRate); only an engine-side speed
    is, and only when it is not 1, so older keys stay valid.
    """
    fields: dict[str, Any] = {"engine": engine, "model": model, "voice": voice,
                              "instructions": instructions or "", "format": fmt, "text": text}
    if speed != 1.0:
        fields["speed"] = round(speed, 3)
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
