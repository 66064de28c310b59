"""Engines by name: a registry maps each name to a factory that builds it from settings."""

from __future__ import annotations

from collections.abc import Callable

from ..config import Settings
from .base import Synthesizer, Transcriber


def _piper(settings: Settings) -> Synthesizer:
    from .piper import PiperSynthesizer

    return PiperSynthesizer(settings.piper_model, settings.piper_config)


def _espeak(settings: Settings) -> Synthesizer:
    from .espeak import EspeakSynthesizer

    return EspeakSynthesizer()


def _whisper(settings: Settings) -> Transcriber:
    from .whisper import WhisperTranscriber

    return WhisperTranscriber(settings.whisper_model, threads=settings.whisper_threads)


SYNTHESIZERS: dict[str, Callable[[Settings], Synthesizer]] = {
    "piper": _piper,
    "espeak": _espeak,
}
TRANSCRIBERS: dict[str, Callable[[Settings], Transcriber]] = {
    "whisper": _whisper,
}


def build_synthesizer(name: str, settings: Settings) -> Synthesizer:
    """Build the named reading engine; an unknown name is a loud error naming the choices."""
    try:
        factory = SYNTHESIZERS[name]
    except KeyError:
        raise ValueError(f"Unknown engine {name!r}. Available: {sorted(SYNTHESIZERS)}") from None
    return factory(settings)


def build_transcriber(name: str, settings: Settings) -> Transcriber:
    """Build the named dictation engine; an unknown name is a loud error naming the choices."""
    try:
        factory = TRANSCRIBERS[name]
    except KeyError:
        raise ValueError(f"Unknown engine {name!r}. Available: {sorted(TRANSCRIBERS)}") from None
    return factory(settings)
