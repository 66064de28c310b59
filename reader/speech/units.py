"""Bounded synthesis units: no engine is ever sent more text at once than it can take in bounded memory.

Text is cut at clause boundaries first (`;`, `:`, dashes, then commas), then between words, so
that a unit has at most `unit_chars` characters and `unit_words` words; a single "word" longer
than that (a run of digits, a URL) is cut where it must. The units' audio is joined into one
stream, and their word timings are moved by the characters and seconds that come before them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator

import numpy as np

from ..text.segment import split_for_synthesis
from .base import Speech, Synthesizer, WordTiming

_WORD = re.compile(r"\S+")
_CLAUSE_END = re.compile(r"[,;:—–]$")


def units(text: str, max_chars: int, max_words: int) -> list[tuple[int, int]]:
    """(start, end) spans of `text`, each within both limits, covering every word in order."""
    if max_chars < 1 or max_words < 1:
        raise ValueError("unit limits must be positive")
    spans: list[tuple[int, int]] = []
    for start, end in split_for_synthesis(text, max_chars):
        spans.extend(_by_words(text, start, end, max_chars, max_words))
    return spans


def _by_words(text: str, start: int, end: int, max_chars: int, max_words: int) -> Iterator[tuple[int, int]]:
    """Cut text[start:end] after at most `max_words` words, preferring a clause end in the second half."""
    words = [m.span() for m in _WORD.finditer(text, start, end)]
    while words:
        if len(words) <= max_words and words[-1][1] - words[0][0] <= max_chars:
            yield words[0][0], words[-1][1]
            return
        take = min(len(words), max_words)
        for k in range(take, max(take // 2, 1) - 1, -1):  # a clause end late in the unit
            if _CLAUSE_END.search(text[words[k - 1][0]:words[k - 1][1]]):
                take = k
                break
        first = words[0]
        if first[1] - first[0] > max_chars:  # one over-long "word": cut it where it must
            yield first[0], first[0] + max_chars
            words[0] = (first[0] + max_chars, first[1])
            continue
        while take > 1 and words[take - 1][1] - first[0] > max_chars:
            take -= 1
        yield first[0], words[take - 1][1]
        del words[:take]


def synthesize(synth: Synthesizer, text: str, voice: str, *, instructions: str | None = None,
               speed: float = 1.0) -> Speech:
    """`text` spoken by `synth` unit by unit, joined into one Speech with word timings in place."""
    caps = synth.capabilities
    spans = units(text, caps.unit_chars, caps.unit_words) or [(0, len(text))]
    if spans == [(0, len(text))]:
        return synth.synthesize(text, voice, instructions=instructions, speed=speed)
    parts: list[np.ndarray] = []
    words: list[WordTiming] = []
    rate = 0
    done = 0  # samples so far
    for start, end in spans:
        speech = synth.synthesize(text[start:end], voice, instructions=instructions, speed=speed)
        if rate and speech.sample_rate != rate:
            raise RuntimeError("an engine changed its sample rate between units")
        rate = speech.sample_rate
        at = done / rate
        words.extend(WordTiming(w.start + start, w.end + start, round(w.t0 + at, 3), round(w.t1 + at, 3))
                     for w in speech.words)
        parts.append(speech.samples)
        done += len(speech.samples)
    return Speech(samples=np.concatenate(parts), sample_rate=rate, words=tuple(words))


class UnitStream:
    """The encoded audio of `text`, unit by unit as each is synthesised, in one stream: the first
    bytes go out after the first unit, not after the whole text. The word timings and duration
    are complete once the stream has run to its end (for the cache entry it fills)."""

    def __init__(self, synth: Synthesizer, text: str, voice: str, spans: list[tuple[int, int]], fmt: str, *,
                 instructions: str | None, speed: float, release: Callable[[], None]) -> None:
        self.words: list[WordTiming] = []
        self.duration = 0.0
        self._release = release
        self._released = False
        self._chunks = self._run(synth, text, voice, spans, fmt, instructions, speed)
        self._head: bytes | None = None

    def prime(self) -> None:
        """Make the first unit now, so that an engine failure comes before any byte is sent."""
        self._head = next(self._chunks, b"")

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._head is not None:
            head, self._head = self._head, None
            if head:
                return head
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()
        self._let_go()

    def _let_go(self) -> None:
        if not self._released:
            self._released = True
            self._release()

    def _run(self, synth: Synthesizer, text: str, voice: str, spans: list[tuple[int, int]], fmt: str,
             instructions: str | None, speed: float) -> Generator[bytes, None, None]:
        from .. import audio

        encoder: audio.StreamEncoder | None = None
        done = 0
        try:
            for start, end in spans:
                speech = synth.synthesize(text[start:end], voice, instructions=instructions, speed=speed)
                if encoder is None:
                    encoder = audio.StreamEncoder(fmt, speech.sample_rate)
                elif speech.sample_rate != encoder.rate:
                    raise RuntimeError("an engine changed its sample rate between units")
                at = done / encoder.rate
                self.words.extend(WordTiming(w.start + start, w.end + start, round(w.t0 + at, 3), round(w.t1 + at, 3))
                                  for w in speech.words)
                done += len(speech.samples)
                data = encoder.feed(speech.samples)
                if data:
                    yield data
            if encoder is not None:
                self.duration = done / encoder.rate
                tail = encoder.close()
                if tail:
                    yield tail
        finally:
            self._let_go()
