"""Dictation: a recording to text. The audio is checked locally, never stored, never logged."""

from __future__ import annotations

from contextlib import nullcontext
from typing import cast

import numpy as np

from .. import audio
from ..errors import NoSpeech, Unprocessable
from ..limits import HeavyWork
from ..metrics import Metrics
from .base import FileTranscriber, Transcriber, Transcript

_LANGUAGE_NAMES = {"en": "English"}  # for the message; other codes are shown as they are


def dictate(transcriber: Transcriber, data: bytes, filename: str | None, *, language: str | None,
            prompt: str | None, max_seconds: float, client: str | None = None,
            metrics: Metrics | None = None, heavy: HeavyWork | None = None, words: bool = False,
            temperature: float = 0.0, task: str = "transcribe") -> Transcript:
    """A recording to text: decoded and checked here, then sent as is where the engine takes files."""
    samples = audio.decode(data, max_seconds=max_seconds)
    caps = transcriber.capabilities
    if language and caps.languages and language not in caps.languages:
        names = ", ".join(_LANGUAGE_NAMES.get(code, code) for code in caps.languages)
        raise Unprocessable(f"The dictation model understands {names} only; {language!r} cannot be transcribed.")
    if float(np.abs(samples).max(initial=0.0)) < 1e-3:
        raise NoSpeech("The recording is silent. Check the microphone and try again.")
    gate = heavy.slot(client) if heavy is not None and not caps.remote else nullcontext()
    with gate:
        if caps.accepts_files:
            result = cast(FileTranscriber, transcriber).transcribe_file(
                data, filename, language=language, prompt=prompt, samples=samples)
        else:
            result = transcriber.transcribe(samples, language=language, prompt=prompt, word_timestamps=words,
                                            temperature=temperature, task=task)
    if metrics is not None:
        metrics.transcribed(transcriber.name, samples.shape[0] / audio.TRANSCRIBE_RATE)
        for kind, count in result.usage:
            metrics.used_tokens(transcriber.name, kind, count)
    if not result.text.strip():
        raise NoSpeech("No speech was heard in the recording. Please try again, a little closer to the microphone.")
    return result
