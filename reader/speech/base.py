"""The two small protocols every speech engine implements, and the values they pass."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

# libespeak-ng is a process-wide singleton: Piper's phonemiser and the eSpeak engine both
# call into it, and concurrent calls abort the process. Every call holds this lock.
ESPEAK_LOCK = threading.RLock()


class EngineUnavailable(RuntimeError):
    """An engine's files are not installed (or not the pinned ones): it cannot be offered."""


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What an engine can do, declared once: the service reads this and never probes the engine."""

    remote: bool = False  # text or audio leaves the host: budgets, fallback and an "AI-generated" label
    destination: str = ""  # where it goes, for people ("the Azure OpenAI service"); "" when it stays here
    streams: bool = False  # `stream()` yields encoded bytes as they arrive
    word_timings: Literal["own", "aligned", "none"] = "none"  # "aligned": the local Whisper times the words
    styles: tuple[tuple[str, str], ...] = ()  # named style presets: (name, instructions sent)
    free_styles: bool = False  # any instructions text may be sent
    speed: bool = False  # applies a speed itself (otherwise the browser changes playback rate)
    languages: tuple[str, ...] = ()  # language codes it speaks or understands; () means "see the voices"
    accepts_files: bool = False  # transcribers: takes a recording in its own container
    deterministic: bool = False  # the same text always gives the same bytes (then its URLs are immutable)
    unit_chars: int = 400  # longest text sent in one synthesis call, in characters
    unit_words: int = 48  # ... and in words: memory of neural voices grows faster than linearly

    def style_text(self, style: str | None) -> str | None:
        """The instructions for a preset name (or a preset's own text, or free text where allowed)."""
        if not style or not style.strip() or not (self.styles or self.free_styles):
            return None
        presets = dict(self.styles)
        preset = presets.get(style.strip().lower())
        if preset is not None:
            return preset
        if style in presets.values() or self.free_styles:
            return style
        raise ValueError(f"Unknown style {style!r}. Choose one of: {', '.join(presets)}.")


@dataclass(frozen=True, kw_only=True)
class SpeechRequest:
    """One request for speech, as it flows from the views through the speech service."""

    text: str  # the written text; the service builds the spoken text from it
    voice: str | None = None  # "engine:name"; None for the default voice
    format: str = "mp3"
    instructions: str | None = None  # a style preset's name, or free text where allowed
    speed: float = 1.0  # applied by engines that can; otherwise left to the player
    client: str | None = None  # who asks (for per-client limits and budgets)
    language: str | None = None  # the text's language; None: the voice's
    stream: bool = True  # a miss may stream as the engine sends it
    fallback: bool = True  # a failing cloud voice may hand over to the offline one
    timings: bool = False  # word timings will be asked for: time the words eagerly
    owner: str | None = None  # the document this is a sentence of (its audio goes when it is deleted)


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
class TranscriptSegment:
    text: str
    t0: float
    t1: float


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None = None
    duration: float = 0.0
    words: tuple[TranscriptWord, ...] = field(default_factory=tuple)
    usage: tuple[tuple[str, int], ...] = ()  # tokens a cloud service reported: (kind, count)
    segments: tuple[TranscriptSegment, ...] = ()  # phrases with their times, where the engine gives them


@runtime_checkable
class Synthesizer(Protocol):
    """Text to speech. `name` is the engine name; `model` identifies the model in cache keys."""

    name: str
    model: str
    capabilities: Capabilities

    def voices(self) -> list[Voice]: ...

    def default_voice(self) -> str: ...

    def synthesize(self, text: str, voice: str, *, instructions: str | None = None,
                   speed: float = 1.0) -> Speech:
        """Synthesise `text` (at most one unit: see Capabilities) with the engine-local voice `voice`."""
        ...


@runtime_checkable
class StreamingSynthesizer(Synthesizer, Protocol):
    """An engine with `capabilities.streams`: encoded audio as it arrives."""

    def stream(self, text: str, voice: str, fmt: str, *, instructions: str | None = None,
               speed: float = 1.0) -> Iterator[bytes]: ...


@runtime_checkable
class Transcriber(Protocol):
    """Speech to text on 16 kHz mono float32 samples in [-1, 1]."""

    name: str
    model: str

    @property
    def capabilities(self) -> Capabilities: ...

    def transcribe(
        self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None,
        word_timestamps: bool = False, temperature: float = 0.0, task: str = "transcribe",
    ) -> Transcript:
        """Transcribe (or, task "translate", into English); `word_timestamps` asks for words with times."""
        ...


@runtime_checkable
class FileTranscriber(Transcriber, Protocol):
    """A transcriber with `capabilities.accepts_files`: the recording goes as it came."""

    def transcribe_file(self, data: bytes, filename: str | None, *, language: str | None = None,
                        prompt: str | None = None, samples: np.ndarray | None = None) -> Transcript: ...


@runtime_checkable
class StreamingTranscriber(Transcriber, Protocol):
    """A transcriber that gives the text as it is decoded: string deltas, then the Transcript."""

    def transcribe_stream(self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None,
                          hotwords: str | None = None, quick: bool = False) -> Iterator[str | Transcript]: ...
