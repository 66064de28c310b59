"""Engines by name: a registry maps each name to a factory that builds it from settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..config import Settings
from .base import Synthesizer, Transcriber


def _piper(settings: Settings) -> Synthesizer:
    from .piper import PiperSynthesizer

    return PiperSynthesizer(settings.piper_model, settings.piper_config, threads=settings.piper_threads)


def _espeak(settings: Settings) -> Synthesizer:
    from .espeak import EspeakSynthesizer

    return EspeakSynthesizer()


def _whisper(settings: Settings) -> Transcriber:
    """tiny.en for English; with the multilingual model (READER_WHISPER_MULTILINGUAL), every language."""
    from pathlib import Path

    from .whisper import LanguageRoutedWhisper, WhisperTranscriber
    from .whisper_models import multilingual_base, packaged_base

    english = WhisperTranscriber(settings.whisper_model, threads=settings.whisper_threads)
    choice = settings.whisper_multilingual
    if choice == "none" or (settings.whisper_model and not choice):
        return english  # an operator's own model stands alone unless a multilingual one is named too
    if choice:
        return LanguageRoutedWhisper(english, WhisperTranscriber(choice, threads=settings.whisper_threads))
    if packaged_base() is None:
        return english

    def joined() -> WhisperTranscriber:  # on first use, not at start
        path = multilingual_base(Path(settings.data_dir) / "models")
        assert path is not None
        return WhisperTranscriber(str(path), threads=settings.whisper_threads)

    return LanguageRoutedWhisper(english, joined)


def _kokoro(settings: Settings) -> Synthesizer:
    from .kokoro import KokoroSynthesizer

    return KokoroSynthesizer(settings.data_dir, settings.kokoro_voices or None, threads=settings.piper_threads)


def _azure_tts(settings: Settings) -> Synthesizer:
    from . import azure

    return azure.build_synthesizer(settings)


def _azure_stt(settings: Settings) -> Transcriber:
    from . import azure

    return azure.build_transcriber(settings)


def _openai_tts(settings: Settings) -> Synthesizer:
    from . import openai_compat

    return openai_compat.build_synthesizer(settings)


def _openai_stt(settings: Settings) -> Transcriber:
    from . import openai_compat

    return openai_compat.build_transcriber(settings)


SYNTHESIZERS: dict[str, Callable[[Settings], Synthesizer]] = {
    "piper": _piper,
    "espeak": _espeak,
    "kokoro": _kokoro,
}
TRANSCRIBERS: dict[str, Callable[[Settings], Transcriber]] = {
    "whisper": _whisper,
}
# Engines that need a service and its credentials, listed apart in the error for an unknown name.
CLOUD_SYNTHESIZERS: dict[str, Callable[[Settings], Synthesizer]] = {
    "azure": _azure_tts,
    "openai": _openai_tts,
}
CLOUD_TRANSCRIBERS: dict[str, Callable[[Settings], Transcriber]] = {
    "azure": _azure_stt,
    "openai": _openai_stt,
}


def build_synthesizer(name: str, settings: Settings) -> Synthesizer:
    """Build the named reading engine; an unknown name is a loud error naming the choices."""
    factory = SYNTHESIZERS.get(name) or CLOUD_SYNTHESIZERS.get(name)
    if factory is None:
        raise ValueError(_unknown(name, SYNTHESIZERS, CLOUD_SYNTHESIZERS))
    return factory(settings)


def build_transcriber(name: str, settings: Settings) -> Transcriber:
    """Build the named dictation engine; an unknown name is a loud error naming the choices."""
    factory = TRANSCRIBERS.get(name) or CLOUD_TRANSCRIBERS.get(name)
    if factory is None:
        raise ValueError(_unknown(name, TRANSCRIBERS, CLOUD_TRANSCRIBERS))
    return factory(settings)


def _unknown(name: str, offline: Mapping[str, object], cloud: Mapping[str, object]) -> str:
    return (f"Unknown engine {name!r}. Available: {sorted(offline)}, and cloud engines {sorted(cloud)} "
            "(these need AZURE_OPENAI_ENDPOINT or OPENAI_API_KEY).")
