"""Word timings for engines that give none: Whisper hears the audio, its words are laid onto the text."""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import audio
from ..audio_cache import AudioCache
from .base import TranscriptWord

if TYPE_CHECKING:
    import numpy as np

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


_FRAME = 0.01  # seconds per analysis frame
_MIN_GAP = 0.12  # a silence this long inside speech is a pause
_PAUSE_AFTER = re.compile(r"[,;:.!?\u2014\u2013)\]\"”…]")


def _weight(word: str) -> float:
    """How long a word takes to say, roughly: its letters, digits said as whole words, plus a
    beat for the word itself."""
    letters = sum(c.isalpha() for c in word)
    return 1.5 + letters + 3.0 * sum(c.isdigit() for c in word)


def estimate(text: str, samples: np.ndarray, rate: int,
             weigh: Callable[[str], float] | None = None) -> tuple[Timing, ...]:
    """Word timings guessed at once from the audio's silences and the words' lengths: the voice
    starts where the sound starts, pauses fall where the text has punctuation, and the time
    between is shared by length: `weigh` (a word's phoneme count, where a phonemiser of the
    language is at hand) or its letters. The aligner's timings replace these once it has run."""

    from .espeak import word_spans

    spans = word_spans(text)
    if not spans or rate <= 0 or samples.size == 0:
        return ()
    sound = _sound(samples, rate)
    if sound is None:
        return ()
    first, last, pauses = sound
    weights = [(weigh or _weight)(text[s:e]) for s, e in spans]
    breaks = [i for i in range(len(spans) - 1) if _PAUSE_AFTER.search(text[spans[i][1]:spans[i + 1][0]])]
    # Each pause goes to the punctuation whose expected time (by length) is nearest, in order.
    speech = (last - first) * _FRAME - sum(b - a for a, b in pauses)
    total = sum(weights)
    expected = {}
    at = 0.0
    for i, w in enumerate(weights):
        at += w
        expected[i] = first * _FRAME + speech * at / total
    anchors: list[tuple[int, float, float]] = []  # (word before the pause, pause start, pause end)
    used = -1
    for a, b in pauses:
        candidates = [i for i in breaks if i > used]
        if not candidates:
            break
        shift = sum(q - p for _, p, q in anchors)
        i = min(candidates, key=lambda i: abs(expected[i] + shift - a))
        anchors.append((i, a, b))
        used = i
    out: list[Timing] = []
    segments: list[tuple[int, int, float, float]] = []  # words lo..hi spoken between t0 and t1
    lo, t0 = 0, first * _FRAME
    for i, a, b in anchors:
        segments.append((lo, i + 1, t0, a))
        lo, t0 = i + 1, b
    segments.append((lo, len(spans), t0, last * _FRAME))
    for lo, hi, a, b in segments:
        share = sum(weights[lo:hi]) or 1.0
        at = a
        for k in range(lo, hi):
            step = (b - a) * weights[k] / share
            out.append((spans[k][0], spans[k][1], round(at, 3), round(at + max(step, _EPS), 3)))
            at += step
    return tuple(out)


class WordAligner:
    """Times the words of cached audio once, with a local Whisper, and keeps them beside the audio."""

    def __init__(self, cache: AudioCache, transcriber: Callable[[], object]) -> None:
        self._cache = cache
        self._transcriber = transcriber  # built on first use: the model loads lazily

    def refined(self, key: str) -> tuple[Timing, ...] | None:
        """The aligner's timings of `key`, if it has run."""
        return self._cache.get_words(key)

    def estimated(self, data: bytes, fmt: str, text: str,
                  weigh: Callable[[str], float] | None = None) -> tuple[Timing, ...]:
        """Timings guessed from the audio at once (see `estimate`)."""
        return estimate(text, self._samples(data, fmt), audio.TRANSCRIBE_RATE, weigh)

    @staticmethod
    def _samples(data: bytes, fmt: str) -> np.ndarray:
        if fmt == "pcm":  # headerless: give it a container FFmpeg can read
            import numpy as np

            data = audio.encode(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2"), 24000, "wav")
        return audio.decode(data)

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
            samples = self._samples(data, fmt)
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


def _sound(samples: np.ndarray, rate: int) -> tuple[int, int, list[tuple[float, float]]] | None:
    """Where the sound starts and ends (in frames of _FRAME s) and the pauses inside it (runs of
    quiet frames at least _MIN_GAP long, in seconds); None for silence."""
    import numpy as np

    size = max(int(rate * _FRAME), 1)
    count = samples.size // size
    if count == 0:
        return None
    frames = np.abs(samples[: count * size].astype(np.float32)).reshape(count, size)
    level = np.sqrt((frames ** 2).mean(axis=1))
    peak = float(level.max())
    if peak <= 0:
        return None
    loud = level > 0.05 * peak  # int16 or float samples alike
    sounding = np.flatnonzero(loud)
    if sounding.size == 0:
        return None
    first, last = int(sounding[0]), int(sounding[-1]) + 1
    pauses: list[tuple[float, float]] = []
    run = 0
    for k in range(first, last):
        if not loud[k]:
            run += 1
            continue
        if run * _FRAME >= _MIN_GAP:
            pauses.append(((k - run) * _FRAME, k * _FRAME))
        run = 0
    return first, last, pauses
