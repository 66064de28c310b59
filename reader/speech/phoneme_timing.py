"""Word timings from a neural voice's own phoneme durations (Piper's alignment output).

Piper's model decides how many audio samples each phoneme id gets; the audio is made from
exactly those durations, so the time of every phoneme is known the moment the audio is. Words
are laid onto the phonemes by their own phoneme counts: eSpeak NG sometimes writes two words as
one ("on the" as "ɔnðə"), so a word's place in the phoneme stream is found in proportion and
snapped to the nearest word break.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .base import WordTiming

BOS, PAD = "^", "_"  # (the end mark, "$", needs no place of its own here)
_SILENT = frozenset(" ,.!?;:—–-\"'()…¡¿ˈˌ")  # breaks, punctuation and stress marks: no sound of their own
_BREAKS = frozenset(" ,.!?;:—–…")


def phoneme_times(phonemes: Sequence[str], per_id: np.ndarray, id_map: Mapping[str, Sequence[int]],
                  offset: int) -> list[tuple[str, int, int]]:
    """(phoneme, first sample, end sample) of each phoneme of one utterance, from the samples
    Piper gave each phoneme id (BOS, a pad after each phoneme, EOS, as phonemes_to_ids lays them)."""
    pad = len(id_map.get(PAD, ()))
    pos = len(id_map.get(BOS, ())) + pad
    cursor = offset + int(per_id[:pos].sum())
    out = []
    for phoneme in phonemes:
        n = len(id_map[phoneme]) + pad if phoneme in id_map else 0
        length = int(per_id[pos:pos + n].sum())
        out.append((phoneme, cursor, cursor + length))
        pos += n
        cursor += length
    return out


def word_timings(text: str, tokens: Sequence[tuple[int, int]], times: Sequence[tuple[str, int, int]],
                 rate: int, count: Callable[[str], int]) -> tuple[WordTiming, ...]:
    """One timing per token of `text` from phoneme `times` (all utterances, in order); `count`
    gives a word's number of sounding phonemes."""
    sounding = [(a, b) for p, a, b in times if p not in _SILENT]
    if not tokens or not sounding:
        return ()
    # Where each word break falls in the sounding phonemes.
    starts: list[int] = [0]
    seen = 0
    broke = False
    for p, _, _ in times:
        if p in _BREAKS:
            broke = True
        elif p not in _SILENT:
            if broke and seen:
                starts.append(seen)
            broke = False
            seen += 1
    counts = [max(count(text[s:e]), 1) for s, e in tokens]
    total, n = sum(counts), len(sounding)
    breaks = np.array(starts)
    place: list[int] = []
    at = 0
    for c in counts:
        guess = at * n / total
        near = int(breaks[np.argmin(np.abs(breaks - guess))])
        chosen = near if abs(near - guess) <= max(1.5, 0.35 * c * n / total) else round(guess)
        if place and chosen <= place[-1]:
            chosen = place[-1] + 1
        place.append(min(chosen, n - 1))
        at += c
    out: list[WordTiming] = []
    for i, (s, e) in enumerate(tokens):
        first = place[i]
        last = max(first, (place[i + 1] - 1) if i + 1 < len(place) else n - 1)
        t0 = sounding[first][0] / rate
        t1 = max(sounding[last][1] / rate, t0 + 0.001)
        out.append(WordTiming(s, e, round(t0, 3), round(t1, 3)))
    return tuple(out)
