"""Word timings for engines that give none: Whisper hears the audio, its words are laid onto the text."""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Sequence

from .. import audio
from ..cache import AudioCache
from .base import TranscriptWord

LOGGER = logging.getLogger(__name__)

Timing = tuple[int, int, float, float]
_NOT_WORD = re.compile(r"[\W_]+")
_EPS = 0.001


def _norm(word: str) -> str:
    return _NOT_WORD.sub("", word.lower().replace("’", "'"))


def align(text: str, heard: Sequence[TranscriptWord], duration: float) -> tuple[Timing, ...]:
    """One (start, end, t0, t1) per word of `text`, from the words Whisper heard.

    Words heard as written take Whisper's times; runs heard differently ("3.30" as "3:30")
    share the time of what was heard in their place; words not heard at all are spaced by
    character length between their neighbours.
    """
    from .espeak import word_spans  # pure Python: loads no library

    spans = word_spans(text)
    if not spans or duration <= 0:
        return ()
    ref = [_norm(text[s:e]) for s, e in spans]
    hyp = [_norm(w.text) for w in heard]
    times: list[tuple[float, float] | None] = [None] * len(spans)
    matcher = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for k in range(a1 - a0):
                times[a0 + k] = (heard[b0 + k].t0, heard[b0 + k].t1)
        elif op == "replace":
            _spread(spans, times, a0, a1, heard[b0].t0, heard[b1 - 1].t1)
    _fill_gaps(spans, times, duration)
    out: list[Timing] = []
    last = 0.0
    for (s, e), t in zip(spans, times):
        assert t is not None
        t0 = min(max(t[0], last), duration)
        t1 = min(max(t[1], t0 + _EPS), duration)
        t0 = min(t0, t1 - _EPS) if t1 > _EPS else 0.0
        out.append((s, e, round(max(t0, 0.0), 3), round(t1, 3)))
        last = t0
    return tuple(out)


def _spread(spans: list[tuple[int, int]], times: list[tuple[float, float] | None],
            a0: int, a1: int, t0: float, t1: float) -> None:
    """Share [t0, t1] among words a0..a1 in proportion to their length."""
    total = sum(spans[k][1] - spans[k][0] for k in range(a0, a1)) or 1
    at = t0
    for k in range(a0, a1):
        step = (t1 - t0) * (spans[k][1] - spans[k][0]) / total
        times[k] = (at, at + step)
        at += step


def _fill_gaps(spans: list[tuple[int, int]], times: list[tuple[float, float] | None], duration: float) -> None:
    k = 0
    while k < len(times):
        if times[k] is not None:
            k += 1
            continue
        j = k
        while j < len(times) and times[j] is None:
            j += 1
        before = times[k - 1][1] if k > 0 and times[k - 1] is not None else 0.0  # type: ignore[index]
        after = times[j][0] if j < len(times) and times[j] is not None else duration  # type: ignore[index]
        _spread(spans, times, k, j, before, max(after, before))
        k = j


class WordAligner:
    """Times the words of cached audio once, with a local Whisper, and keeps them beside the audio."""

    def __init__(self, cache: AudioCache, transcriber: Callable[[], object]) -> None:
        self._cache = cache
        self._transcriber = transcriber  # built on first use: the model loads lazily

    def words(self, key: str, data: bytes, fmt: str, text: str, *, language: str | None = None) -> tuple[Timing, ...]:
        """Timings for the audio `data` of cache entry `key`, computed at most once across workers."""
        found = self._cache.get_words(key)
        if found is not None:
            return found
        release = self._cache.single_flight("words:" + key)
        try:
            found = self._cache.get_words(key)
            if found is not None:
                return found
            if fmt == "pcm":  # headerless: give it a container FFmpeg can read
                import numpy as np

                data = audio.encode(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2"), 24000, "wav")
            samples = audio.decode(data)
            whisper = self._transcriber()
            # The voice's language picks the model (English: the fast tiny.en).
            heard = whisper.transcribe(samples, word_timestamps=True,  # type: ignore[attr-defined]
                                       language=(language or "").split("-")[0].lower() or None)
            words = align(text, heard.words, samples.shape[0] / audio.TRANSCRIBE_RATE)
            self._cache.set_words(key, words)
            LOGGER.debug("aligned %d words (%d heard)", len(words), len(heard.words))
            return words
        finally:
            release()
