"""Captions for a narration: WebVTT (a cue per sentence, word timings as inner timestamps where
they exist) and SRT (a cue per sentence)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    words: tuple[tuple[int, int, float], ...] = ()  # (start, end) in `text`, and when it is said


def _clock(seconds: float, sep: str = ".") -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(text: str) -> str:
    return " ".join(text.split())  # a blank line would end the cue


def webvtt(cues: Sequence[Cue]) -> str:
    """WebVTT with karaoke-style inner timestamps (<00:00:01.200>) before each timed word."""
    out = ["WEBVTT", ""]
    for n, cue in enumerate(cues, 1):
        text = cue.text
        parts: list[str] = []
        at = 0
        for start, end, when in cue.words:
            if start < at or not cue.start < when < cue.end:
                continue
            parts.append(_escape(text[at:start]))
            parts.append(f"<{_clock(when)}>{_escape(text[start:end])}")
            at = end
        parts.append(_escape(text[at:]))
        out += [str(n), f"{_clock(cue.start)} --> {_clock(cue.end)}", _one_line("".join(parts)), ""]
    return "\n".join(out)


def srt(cues: Sequence[Cue]) -> str:
    out = []
    for n, cue in enumerate(cues, 1):
        out += [str(n), f"{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}", _one_line(cue.text), ""]
    return "\n".join(out)
