"""The two small protocols every speech engine implements, and the values they pass."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

# libespeak-ng is a process-wide singleton: Piper's phonemiser and the eSpeak engine both
# call into it, and concurrent calls abort the process. Every call holds this lock.
ESPEAK_LOCK = threading.RLock()


@dataclass(frozen=True)
class WordTiming:
    """One spoken word: character span in the synthesised text and its time in seconds."""

    start: int
    end: int
    t0: float
    t1: float


@dataclass(frozen=True)
class Speech:
    """Synthesised audio: mono int16 samples, their rate, and word timings where known."""

    samples: np.ndarray  # int16, mono
    sample_rate: int
    words: tuple[WordTiming, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


@dataclass(frozen=True)
class Voice:
    """A voice offered to users. `id` is unique across engines: "<engine>:<name>"."""

    id: str
    engine: str
    name: str
    label: str
    language: str
    gender: str | None = None


@dataclass(frozen=True)
class TranscriptWord:
    text: str
    t0: float
    t1: float


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None = None
    duration: float = 0.0
    words: tuple[TranscriptWord, ...] = field(default_factory=tuple)


@runtime_checkable
class Synthesizer(Protocol):
    """Text to speech. `name` is the engine name; `model` identifies the model in cache keys."""

    name: str
    model: str

    def voices(self) -> list[Voice]: ...

    def default_voice(self) -> str: ...

    def synthesize(self, text: str, voice: str, *, instructions: str | None = None) -> Speech:
        """Synthesise `text` with the engine-local voice name `voice`."""
        ...


@runtime_checkable
class Transcriber(Protocol):
    """Speech to text on 16 kHz mono float32 samples in [-1, 1]."""

    name: str
    model: str

    def transcribe(
        self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript: ...
