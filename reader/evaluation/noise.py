"""Noise mixed into recordings at a set signal-to-noise ratio.

White noise is Gaussian. Babble is a crowd talking at once, made here from the offline
voices reading sentences (twelve talkers: six eSpeak NG accents, each reading two of the
sentences, at random offsets): no recording needs to be downloaded. With fewer talkers single
words stay intelligible, and a recogniser transcribes the crowd instead of the speaker. A
user's noise file is decoded and looped.
Every mix is deterministic for its clip and condition (seeded), so a resumed run hears the
same noise, and its SNR is measured back: `measured_snr` of a mix is the asked SNR.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..audio import TRANSCRIBE_RATE

BABBLE_VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc")
BABBLE_TEXTS = (
    "I told him the meeting was moved to the other room on the second floor.",
    "We could take the early train and still be back before the shops close.",
    "Nobody knew where the keys had gone after the party last night.",
    "The weather looked fine this morning but it started raining at noon.",
    "She wants to paint the kitchen yellow before her parents visit.",
    "They said the new library opens next month with a café inside.",
)


def seed_for(*parts: str) -> int:
    return int(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8], 16)


def power(samples: np.ndarray) -> float:
    return float(np.mean(np.square(samples.astype(np.float64))))


def mix(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> tuple[np.ndarray, float]:
    """`clean` with `noise` (looped or cut to its length) at `snr_db`. Returns (mix, gain): the
    mix is scaled by `gain` (at most 1) only if it would clip, which keeps the SNR."""
    if noise.size == 0 or power(noise) == 0:
        raise ValueError("The noise is silent.")
    noise = np.resize(noise.astype(np.float64), clean.shape[0])
    scale = np.sqrt(power(clean) / (power(noise) * 10 ** (snr_db / 10)))
    mixed = clean.astype(np.float64) + scale * noise
    peak = float(np.max(np.abs(mixed))) if mixed.size else 0.0
    gain = min(1.0, 0.99 / peak) if peak > 0 else 1.0
    return (mixed * gain).astype(np.float32), gain


def measured_snr(clean: np.ndarray, mixed: np.ndarray, gain: float) -> float:
    """The SNR of a mix, measured: the clean part against what else is in it."""
    signal = clean.astype(np.float64) * gain
    rest = mixed.astype(np.float64) - signal
    return 10 * float(np.log10(power(signal) / power(rest)))


def white(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(length).astype(np.float32)


def babble(seconds: float = 12.0, seed: int = 7) -> np.ndarray:
    """Twelve offline talkers over each other, equal in loudness, at 16 kHz."""
    from ..speech.espeak import EspeakSynthesizer

    engine = EspeakSynthesizer()
    length = int(seconds * TRANSCRIBE_RATE)
    total = np.zeros(length, dtype=np.float64)
    rng = np.random.default_rng(seed)
    available = {v.name for v in engine.voices()}
    voices = [v for v in BABBLE_VOICES if v in available] or ["en-us"]
    for n in range(2 * len(BABBLE_TEXTS)):
        text = BABBLE_TEXTS[(n + n // len(BABBLE_TEXTS)) % len(BABBLE_TEXTS)]
        speech = engine.synthesize(text, voices[n % len(voices)])
        talk = _to_rate(speech.samples.astype(np.float64) / 32768.0, speech.sample_rate)
        talk = talk / np.sqrt(power(talk) or 1.0)
        track = np.resize(np.concatenate([talk, np.zeros(int(0.3 * TRANSCRIBE_RATE))]), length)
        total += np.roll(track, int(rng.integers(0, length)))
    result: np.ndarray = (total / np.max(np.abs(total))).astype(np.float32)
    return result


def from_file(path: str | Path) -> np.ndarray:
    from ..audio import decode

    return decode(Path(path).read_bytes())


def _to_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == TRANSCRIBE_RATE:
        return samples
    positions = np.arange(0, samples.shape[0], rate / TRANSCRIBE_RATE)
    result: np.ndarray = np.interp(positions, np.arange(samples.shape[0]), samples)
    return result
