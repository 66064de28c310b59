"""The speaking service: voice ids across engines, synthesis through the audio cache, cloud extras.

Engine differences are capabilities, looked up once here so views never branch on an engine:
`stream` (encoded bytes as they arrive), `remote` (costs money: budget, fallback),
`needs_alignment` (Whisper times the words), `instructions_for` (style presets), `supports_speed`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import audio
from ..cache import AudioCache, CachedAudio, TeeStream, cache_key
from ..errors import BadRequest, EngineError, NoSpeech, ReaderError, UnknownVoice, Unprocessable
from .align import Timing, WordAligner
from .base import Synthesizer, Transcriber, Transcript, Voice
from .cloud import stream_bytes
from .cloud_errors import CloudError, CloudNotConfigured, CloudRejected, OverBudget, RateLimited

LOGGER = logging.getLogger(__name__)

# How long a failing cloud engine is skipped (fallback on) before it is tried again, in seconds.
COOL_DOWN = {CloudNotConfigured: 60.0, RateLimited: 60.0}
COOL_DOWN_DEFAULT = 10.0
# How long a timings request waits for the matching audio request to start streaming, in seconds.
STREAM_GRACE = 1.0


@dataclass
class Spoken:
    """Audio for one request: a cache entry, or (on a streamed miss) a stream that fills the cache."""

    mime: str
    hit: bool
    voice: str  # the voice id that actually spoke
    key: str
    entry: CachedAudio | None = None
    stream: TeeStream | None = None
    fallback: str | None = None  # why the offline voice read this instead of the voice asked for
    needs_alignment: bool = False


class SpeechService:
    """Resolves "engine:name" voice ids and serves synthesis through the cache."""

    def __init__(
        self,
        synthesizers: Mapping[str, Synthesizer],
        cache: AudioCache,
        *,
        default_engine: str,
        default_voice: str = "",
        metrics: Any = None,
        budget: Any = None,
        fallback: bool = False,
        aligner: WordAligner | None = None,
        align_eagerly: bool = True,
        prefetch_workers: int = 4,
    ) -> None:
        if default_engine not in synthesizers:
            raise ValueError(f"Default engine {default_engine!r} is not configured")
        self.synthesizers = dict(synthesizers)
        self.cache = cache
        self.default_engine = default_engine
        self.metrics = metrics
        self.budget = budget
        self.aligner = aligner
        self._default_voice = default_voice
        self._voices: list[Voice] | None = None
        offline = [n for n, s in self.synthesizers.items() if not getattr(s, "remote", False)]
        self.fallback_engine = offline[0] if fallback and offline else None
        if fallback and not offline:
            LOGGER.warning("READER_FALLBACK is on but no offline reading engine is configured")
        self._cooling: dict[str, tuple[float, CloudError]] = {}
        self._align_eagerly = align_eagerly
        self._prefetch_workers = max(prefetch_workers, 1)
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._warming: set[str] = set()
        self._guard = threading.Lock()

    # -- voices ----------------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        if self._voices is None:
            voices: list[Voice] = []
            for synth in self.synthesizers.values():
                voices.extend(synth.voices())
            self._voices = voices
        return self._voices

    def default_voice(self) -> str:
        if self._default_voice:
            return self._default_voice
        synth = self.synthesizers[self.default_engine]
        return f"{synth.name}:{synth.default_voice()}"

    def is_remote(self, engine: str) -> bool:
        """True for engines that send text to a service (tell users; budgets apply)."""
        return bool(getattr(self.synthesizers.get(engine), "remote", False))

    def styles(self) -> list[str]:
        """Named style presets offered by any engine, in order."""
        names: dict[str, None] = {}
        for synth in self.synthesizers.values():
            names.update(dict.fromkeys(getattr(synth, "styles", ())))
        return list(names)

    def free_styles(self) -> bool:
        return any(getattr(s, "free_styles", False) for s in self.synthesizers.values())

    def resolve(self, voice_id: str | None) -> tuple[Synthesizer, str]:
        """Map a voice id ("engine:name", or a bare name of the default engine) to its engine."""
        voice_id = voice_id or self.default_voice()
        engine, sep, name = voice_id.partition(":")
        if not sep:
            engine, name = self.default_engine, voice_id
        synth = self.synthesizers.get(engine)
        if synth is None or not any(v.name == name for v in synth.voices()):
            raise UnknownVoice(
                f"Unknown voice {voice_id!r}. See GET /api/voices for the voices on offer."
            )
        return synth, name

    # -- speaking --------------------------------------------------------------------------

    def speak(
        self, text: str, voice_id: str | None, fmt: str, *, instructions: str | None = None
    ) -> tuple[CachedAudio, bool]:
        """Audio for `text` from the cache, synthesising it once on a miss."""
        spoken = self.open(text, voice_id, fmt, instructions=instructions, stream=False)
        assert spoken.entry is not None
        return spoken.entry, spoken.hit

    def open(
        self, text: str, voice_id: str | None, fmt: str, *, instructions: str | None = None,
        speed: float = 1.0, client: str | None = None, stream: bool = True, fallback: bool = True,
    ) -> Spoken:
        """A cache hit, or a miss that streams where the engine can (falling back where allowed)."""
        spec = audio.get_format(fmt)
        synth, name = self.resolve(voice_id)
        style = self._style(synth, instructions)
        if not getattr(synth, "supports_speed", False):
            speed = 1.0
        try:
            return self._open(synth, name, text, spec, style, speed, client, stream)
        except CloudError as exc:
            offline = self.fallback_engine
            if not fallback or offline is None or offline == synth.name:
                raise
            if not isinstance(exc, (OverBudget, CloudRejected)):
                wait = min(exc.retry_after or COOL_DOWN.get(type(exc), COOL_DOWN_DEFAULT), 60.0)
                with self._guard:
                    self._cooling[synth.name] = (time.monotonic() + wait, exc)
            if self.metrics is not None:
                self.metrics.fell_back(synth.name, exc.reason)
            LOGGER.info("%s voice unavailable (%s): reading with %s", synth.name, exc.reason, offline)
            engine = self.synthesizers[offline]
            spoken = self._open(engine, engine.default_voice(), text, spec, None, 1.0, None, False)
            spoken.fallback = exc.reason
            return spoken

    def _style(self, synth: Synthesizer, instructions: str | None) -> str | None:
        resolve = getattr(synth, "instructions_for", None)
        if resolve is None:  # no style control: keep instructions out of the cache key
            return None
        try:
            return resolve(instructions)  # type: ignore[no-any-return]
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc

    def _open(self, synth: Synthesizer, name: str, text: str, spec: audio.Format, style: str | None,
              speed: float, client: str | None, stream: bool) -> Spoken:
        key = cache_key(engine=synth.name, model=synth.model, voice=name, instructions=style,
                        fmt=spec.name, text=text, speed=speed)
        align = bool(getattr(synth, "needs_alignment", False)) and self.aligner is not None
        spoken = Spoken(mime=spec.mime, hit=True, voice=f"{synth.name}:{name}", key=key,
                        needs_alignment=align)
        entry = self.cache.get(key)
        if entry is not None:
            return self._hit(spoken, synth, text, entry)
        remote = bool(getattr(synth, "remote", False))
        cooling = self._cooling_down(synth.name)
        if cooling is not None:
            raise cooling

        def check_budget() -> None:
            if remote and self.budget is not None:
                self.budget.check(client, len(text))

        def committed(made: CachedAudio) -> None:
            if self.metrics is not None:
                self.metrics.synthesised(synth.name, len(text))
            if remote and self.budget is not None:
                self.budget.spend(client, len(text))
            if align and self._align_eagerly:
                self._pool("align", 1, _background).submit(self._align_quietly, key, made.audio, spec.name, text)

        streamer = getattr(synth, "stream", None)
        if stream and streamer is not None:
            def start() -> Any:
                check_budget()
                with _engine_errors(synth):
                    return streamer(text, name, spec.name, instructions=style, speed=speed)

            entry, tee = self.cache.open_stream(key, start, lambda data: _entry(data, spec), committed)
            if entry is not None:
                return self._hit(spoken, synth, text, entry)
            spoken.hit, spoken.stream = False, tee
            return spoken

        def produce() -> CachedAudio:
            check_budget()
            with _engine_errors(synth):
                if streamer is not None:
                    return _entry(stream_bytes(streamer(text, name, spec.name, instructions=style,
                                                        speed=speed)), spec)
                speech = synth.synthesize(text, name, instructions=style)
            data = audio.encode(speech.samples, speech.sample_rate, spec.name)
            return CachedAudio(audio=data, mime=spec.mime, duration=speech.duration,
                               words=tuple((w.start, w.end, w.t0, w.t1) for w in speech.words),
                               etag=hashlib.sha256(data).hexdigest())

        entry, hit = self.cache.get_or_create(key, produce)
        if hit:
            return self._hit(spoken, synth, text, entry)
        committed(entry)
        spoken.hit, spoken.entry = False, entry
        return spoken

    def _cooling_down(self, engine: str) -> CloudError | None:
        """The error that made `engine` fail recently, while it is skipped for the offline voice."""
        with self._guard:
            cooling = self._cooling.get(engine)
        return cooling[1] if cooling is not None and cooling[0] > time.monotonic() else None

    def _hit(self, spoken: Spoken, synth: Synthesizer, text: str, entry: CachedAudio) -> Spoken:
        if self.metrics is not None:
            self.metrics.cached(synth.name, len(text))  # synthesis (and its bill) saved
        spoken.hit, spoken.entry = True, entry
        return spoken

    # -- word timings ----------------------------------------------------------------------

    def timings(self, text: str, voice_id: str | None, fmt: str, *, instructions: str | None = None,
                client: str | None = None) -> tuple[Spoken, tuple[Timing, ...]]:
        """The audio's entry and its word timings: the engine's own, or Whisper's where it gives none."""
        synth, name = self.resolve(voice_id)
        if getattr(synth, "stream", None) is not None and self._cooling_down(synth.name) is None:
            # The browser asks for audio and timings at once: let the audio request start its
            # stream rather than synthesise here without streaming and make it wait.
            spec = audio.get_format(fmt)
            key = cache_key(engine=synth.name, model=synth.model, voice=name, fmt=spec.name, text=text,
                            instructions=self._style(synth, instructions))
            deadline = time.monotonic() + STREAM_GRACE
            while time.monotonic() < deadline and not self.cache.busy(key) and self.cache.get(key) is None:
                time.sleep(0.05)
        spoken = self.open(text, voice_id, fmt, instructions=instructions, client=client, stream=False)
        assert spoken.entry is not None
        words = spoken.entry.words
        if not words and spoken.needs_alignment and self.aligner is not None:
            words = self.aligner.words(spoken.key, spoken.entry.audio, audio.get_format(fmt).name, text)
        return spoken, words

    def _align_quietly(self, key: str, data: bytes, fmt: str, text: str) -> None:
        try:
            assert self.aligner is not None
            self.aligner.words(key, data, fmt, text)
        except Exception as exc:  # a background nicety: the timings route will try again
            LOGGER.warning("word alignment failed: %s", type(exc).__name__)

    # -- prefetch --------------------------------------------------------------------------

    def warm(self, texts: Sequence[str], voice_id: str | None, fmt: str, *,
             instructions: str | None = None, client: str | None = None) -> int:
        """Synthesise upcoming sentences of a cloud voice in the background; returns how many were queued."""
        synth, _ = self.resolve(voice_id)
        if not getattr(synth, "remote", False):
            return 0  # local engines share the CPU with the sentence being read: no parallel work
        queued = 0
        for text in texts:
            tag = hashlib.sha256(f"{voice_id}\0{fmt}\0{instructions}\0{text}".encode()).hexdigest()
            with self._guard:
                if tag in self._warming:
                    continue
                self._warming.add(tag)
            self._pool("warm", self._prefetch_workers).submit(
                self._warm_one, tag, text, voice_id, fmt, instructions, client)
            queued += 1
        return queued

    def _warm_one(self, tag: str, text: str, voice_id: str | None, fmt: str,
                  instructions: str | None, client: str | None) -> None:
        try:
            self.open(text, voice_id, fmt, instructions=instructions, client=client, stream=False,
                      fallback=False)
        except ReaderError as exc:
            LOGGER.info("prefetch skipped: %s", exc.slug)
        except Exception as exc:
            LOGGER.warning("prefetch failed: %s", type(exc).__name__)
        finally:
            with self._guard:
                self._warming.discard(tag)

    def _pool(self, name: str, workers: int, initializer: Any = None) -> ThreadPoolExecutor:
        with self._guard:
            pool = self._pools.get(name)
            if pool is None:
                pool = self._pools[name] = ThreadPoolExecutor(
                    workers, thread_name_prefix=f"reader-{name}", initializer=initializer)
            return pool

    def close(self) -> None:
        """Wait for background work (prefetch, alignment) to finish."""
        with self._guard:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True)


def _background() -> None:
    """Lower this thread's CPU priority (Linux: per thread), so requests go first on a small machine."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # not on this platform: run at normal priority
        pass


@contextmanager
def _engine_errors(synth: Synthesizer) -> Iterator[None]:
    """Engine failures as ReaderErrors: a bad voice is the caller's 400, anything else a 503."""
    try:
        yield
    except ReaderError:
        raise
    except ValueError as exc:
        raise UnknownVoice(str(exc)) from exc
    except Exception as exc:
        LOGGER.error("synthesis failed in engine %s: %s", synth.name, type(exc).__name__)
        raise EngineError(f"The {synth.name} voice could not speak this sentence.") from exc


def _entry(data: bytes, spec: audio.Format) -> CachedAudio:
    """A cache entry for audio that arrived encoded in `spec` (from a cloud engine)."""
    if not data:
        raise EngineError("The voice service sent no audio.")
    if spec.container is None:
        duration = len(data) / 2 / 24000  # the services' pcm: 24 kHz, 16-bit, mono
    else:
        duration = audio.duration_of(data)
    return CachedAudio(audio=data, mime=spec.mime, duration=duration, words=(),
                       etag=hashlib.sha256(data).hexdigest())


def dictate(transcriber: Transcriber, data: bytes, filename: str | None, *, language: str | None,
            prompt: str | None, max_seconds: float, metrics: Any = None) -> Transcript:
    """A recording to text: checked locally, then sent as is where the engine takes files."""
    samples = audio.decode(data, max_seconds=max_seconds)
    if language and language != "en" and getattr(transcriber, "english_only", False):
        raise Unprocessable(
            f"The dictation model understands English only; {language!r} cannot be transcribed."
        )
    if float(np.abs(samples).max(initial=0.0)) < 1e-3:
        raise NoSpeech("The recording is silent. Check the microphone and try again.")
    send_file = getattr(transcriber, "transcribe_file", None)
    if send_file is not None:
        result: Transcript = send_file(data, filename, language=language, prompt=prompt, samples=samples)
    else:
        result = transcriber.transcribe(samples, language=language, prompt=prompt)
    if metrics is not None:
        metrics.transcribed(transcriber.name, samples.shape[0] / audio.TRANSCRIBE_RATE)
    if not result.text.strip():
        raise NoSpeech("No speech was heard in the recording. Please try again, a little closer to the microphone.")
    return result
