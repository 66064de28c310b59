"""What a narration is: its spec (the same spec is the same job) and the formats it can be made in."""

from __future__ import annotations

from dataclasses import dataclass

from .assemble import OUTPUTS

# What a narration can be exported as: the audio formats, captions, and the read-along book.
FORMATS = ("m4b", "mp3", "opus", "wav", "epub", "vtt", "srt")
MIME = {**{name: out.mime for name, out in OUTPUTS.items()},
        "epub": "application/epub+zip", "vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip"}
SUFFIX = {**{name: out.suffix for name, out in OUTPUTS.items()}, "epub": ".epub", "vtt": ".vtt", "srt": ".srt"}


@dataclass(frozen=True)
class Spec:
    """One narration: the same spec is the same job."""

    doc_id: str
    voice: str
    format: str
    style: str | None = None
    speed: float = 1.0
