"""Dictation: a recording to text. The audio is checked locally, never stored, never logged.

Live dictation is a series of passes over the recording as it grows: the browser sends what it
has recorded so far (with `offset`, the seconds it has already settled) and gets the text back as
it is decoded; the final pass, on stop, is the one-shot transcription of the whole recording.
Nothing is kept between passes: any worker can take the next one.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any, cast

import numpy as np

from .. import audio
from ..errors import NoSpeech, Unprocessable
from ..limits import HeavyWork
from ..metrics import Metrics
from .base import FileTranscriber, StreamingTranscriber, Transcriber, Transcript

# Words a dictating user says as commands (dictate-text.js acts on them), given to Whisper as
# `hotwords` for English: spoken by a voice alone, "undo" was heard as "And you", "comma" as
# "Comment" and "colon" as "Colin" without them. (A prompt of them made Whisper loop:
# "Comma. Comma. Comma...".) They are given for short recordings only, where a command stands on
# its own: on longer speech they cost words (bench/live_dictation.py: WER 0.053 against 0.037
# with them on every recording; "of about 1455" was dropped at the end of a sentence).
COMMAND_HOTWORDS = ("Comma, full stop, period, question mark, exclamation mark, colon, semicolon, new line, "
                    "new paragraph, undo, delete that, scratch that, double, triple, oh.")
COMMAND_UTTERANCE_SECONDS = 4.0
# What a field of each kind is biased towards (dictate.js sends the kind): the commands in text
# fields; nothing in addresses, where command words only got in the way ("at" was lost from "john
# dot smith at example dot com" with them); nothing in number fields either. There, hotwords of
# the digit patterns ("Double, triple, oh.") made recognition hang on the CPU's kernels: eSpeak's
# "triple nine" was "Triple down." under four of the eight CT2_FORCE_CPU_ISA x CT2_USE_MKL settings
# and "Triple 9." under none without them; on the human recordings they changed no digit
# (bench/commands.py). A number field reads misheard number words in dictate-text.js instead.
_FIELD_HOTWORDS: dict[str, str | None] = {"email": None, "url": None, "tel": None, "number": None, "month": None}
FIELD_KINDS = frozenset({"text", "line", "name", "postal", *_FIELD_HOTWORDS})


def hotwords_for(field: str | None) -> str | None:
    """The hotwords for a field of this kind (dictate-text.js's fieldKind); the commands when unknown."""
    return _FIELD_HOTWORDS.get(field or "", COMMAND_HOTWORDS)


_LOOP = re.compile(r"\b((?:[\w']+[,.!?]?\s+){1,3}?)\1{3,}", re.IGNORECASE)


def without_loops(text: str) -> str:
    """Whisper's looping ("Triple, oh, yeah, yeah, yeah, ...") cut to one of each: a run of the same
    one to three words said more than three times over is not speech."""
    return _LOOP.sub(r"\1", text + " ").strip()
_LANGUAGE_NAMES = {"en": "English"}  # for the message; other codes are shown as they are


def _check_language(languages: tuple[str, ...], language: str | None) -> None:
    if language and languages and language not in languages:
        names = ", ".join(_LANGUAGE_NAMES.get(code, code) for code in languages)
        raise Unprocessable(f"The dictation model understands {names} only; {language!r} cannot be transcribed.")


def _count(metrics: Metrics | None, engine: str, samples: np.ndarray, result: Transcript) -> None:
    """The audio seconds transcribed and the tokens a service reported, for /metrics."""
    if metrics is not None:
        metrics.transcribed(engine, samples.shape[0] / audio.TRANSCRIBE_RATE)
        for kind, count in result.usage:
            metrics.used_tokens(engine, kind, count)


def dictate(transcriber: Transcriber, data: bytes, filename: str | None, *, language: str | None,
            prompt: str | None, max_seconds: float, client: str | None = None,
            metrics: Metrics | None = None, heavy: HeavyWork | None = None, words: bool = False,
            temperature: float = 0.0, task: str = "transcribe") -> Transcript:
    """A recording to text: decoded and checked here, then sent as is where the engine takes files."""
    samples = audio.decode(data, max_seconds=max_seconds)
    caps = transcriber.capabilities
    _check_language(caps.languages, language)
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
    _count(metrics, transcriber.name, samples, result)
    if not result.text.strip():
        raise NoSpeech("No speech was heard in the recording. Please try again, a little closer to the microphone.")
    return result


# A pass while someone speaks decodes at most this much: Whisper's window is 30 s, and the
# browser settles the words before it (sends a later `offset`) long before that.
LIVE_WINDOW_SECONDS = 28.0


class LiveTranscription:
    """One pass of live dictation as events: {"type": "delta", "text"} while the text is decoded,
    then {"type": "done", "text", "words", "offset", "duration"}, or {"type": "error", ...} if the
    engine fails once started. Holds its heavy-work slot until iterated to the end or closed."""

    def __init__(self, events: Iterator[str | Transcript], gate: Any, *, offset: float, duration: float,
                 partial: bool, on_done: Any = None, source: Iterator[str | Transcript] | None = None,
                 next_after: float | None = 0.0) -> None:
        self.next_after = next_after
        self._source = source if source is not None else events
        self._events = events
        self._gate = gate
        self.offset = offset
        self.duration = duration
        self.partial = partial
        self._on_done = on_done
        self._closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from ..errors import ReaderError

        try:
            for event in self._events:
                if isinstance(event, Transcript):
                    if self._on_done is not None:
                        self._on_done(event)
                    yield self._done(event)
                else:
                    yield {"type": "delta", "text": event}
        except ReaderError as exc:
            yield {"type": "error", "status": exc.status, "title": exc.title, "detail": exc.detail}
        finally:
            self.close()

    def _done(self, result: Transcript) -> dict[str, Any]:
        words = [{"text": w.text, "start": round(w.t0 + self.offset, 3), "end": round(w.t1 + self.offset, 3)}
                 for w in result.words]
        done = {"type": "done", "text": without_loops(result.text), "words": words, "partial": self.partial,
                "offset": round(self.offset, 3), "duration": round(self.duration, 3), "language": result.language}
        if self.partial:  # how long the browser waits before the next pass; None: no more passes
            done["next_after"] = self.next_after
        return done

    def close(self) -> None:
        """Stop decoding (the client went away) and give the heavy-work slot back."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        self._gate.__exit__(None, None, None)


def live_dictation(transcriber: Transcriber, data: bytes, filename: str | None, *, language: str | None,
                   prompt: str | None, max_seconds: float, partial: bool, offset: float = 0.0,
                   hotwords: str | None = None, client: str | None = None, metrics: Metrics | None = None,
                   heavy: HeavyWork | None = None, next_after: float | None = 0.0) -> LiveTranscription:
    """A pass of live dictation over the recording so far (`partial`) or the whole of it (the
    final pass). Every check (audio, language, silence, a free slot) is made here, before the
    first event, so that a refusal is an ordinary error response."""
    samples = audio.decode(data, max_seconds=max_seconds)
    caps = transcriber.capabilities
    _check_language(caps.languages, language)
    duration = samples.shape[0] / audio.TRANSCRIBE_RATE
    start = min(max(offset, 0.0), duration) if partial else 0.0
    if partial and duration - start > LIVE_WINDOW_SECONDS:
        start = duration - LIVE_WINDOW_SECONDS
    window = samples[int(start * audio.TRANSCRIBE_RATE):]
    if duration > COMMAND_UTTERANCE_SECONDS:
        hotwords = None
    if partial and next_after is None:  # no live passes with this engine: nothing is decoded
        return LiveTranscription(iter([Transcript(text="", language=language, duration=duration)]), nullcontext(),
                                 offset=start, duration=duration, partial=True, next_after=None)
    silent = float(np.abs(window).max(initial=0.0)) < 1e-3
    if silent and not partial:
        raise NoSpeech("The recording is silent. Check the microphone and try again.")
    gate = heavy.slot(client) if heavy is not None and not caps.remote and not silent else nullcontext()
    gate.__enter__()
    try:
        source = _events(transcriber, window, data if not partial else None, filename, language=language,
                         prompt=prompt, hotwords=hotwords, quick=partial, silent=silent)
        # The first event is waited for here: a service that refuses the request (a quota, a
        # key) is an error response with its status, not an error event after a 200.
        first = next(source, None)
    except BaseException:
        gate.__exit__(None, None, None)
        raise
    events = itertools.chain([first] if first is not None else [], source)

    def done(result: Transcript) -> None:
        if not silent:
            _count(metrics, transcriber.name, window, result)

    return LiveTranscription(events, gate, offset=start, duration=duration, partial=partial, on_done=done,
                             source=source, next_after=next_after)


def _events(transcriber: Transcriber, samples: np.ndarray, data: bytes | None, filename: str | None, *,
            language: str | None, prompt: str | None, hotwords: str | None, quick: bool,
            silent: bool) -> Iterator[str | Transcript]:
    if silent:  # nothing said yet: no pass needed
        return iter([Transcript(text="", language=language, duration=samples.shape[0] / audio.TRANSCRIBE_RATE)])
    if isinstance(transcriber, StreamingTranscriber):
        if transcriber.capabilities.accepts_files and data is not None:
            whole: Any = transcriber  # a CloudTranscriber: the recording goes as it came
            return cast(Iterator[str | Transcript], whole.transcribe_stream(
                samples, language=language, prompt=prompt, data=data, filename=filename))
        # The passes while speaking are only shown: quick, and without the command words, which
        # slowed them down tenfold. The final pass has them.
        return transcriber.transcribe_stream(samples, language=language, prompt=prompt,
                                             hotwords=None if quick else hotwords, quick=quick)
    return iter([transcriber.transcribe(samples, language=language, prompt=prompt, word_timestamps=True)])
