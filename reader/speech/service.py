"""The speaking service: voice ids across engines, spoken text, synthesis through the audio cache.

Every request is a `SpeechRequest`; every engine difference is read from its `Capabilities`
(remote, streams, word timings, styles, speed, units), so views never branch on an engine.
Local synthesis runs in bounded units and under the heavy-work limits; cloud voices stream,
fall back to the offline voice where allowed, and count against the daily budget.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from .. import audio
from ..audio_cache import AudioCache, CachedAudio, TeeStream, Words, cache_key
from ..budget import DailyBudget
from ..errors import (
    BadRequest,
    CloudError,
    CloudNotConfigured,
    CloudRejected,
    EngineError,
    OverBudget,
    RateLimited,
    ReaderError,
    UnknownVoice,
)
from ..limits import HeavyWork
from ..metrics import Metrics
from ..text.language import decide
from ..text.speech_text import SpokenText, load_pronunciations, spoken_text
from . import units
from .align import WordAligner
from .base import SpeechRequest, StreamingSynthesizer, Synthesizer, Voice
from .cloud import stream_bytes

if TYPE_CHECKING:
    from ..documents.model import Document

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
    text: SpokenText  # what the engine was sent, with its map back to the written text
    deterministic: bool = False  # the same URL always gives these bytes: safe to call immutable
    entry: CachedAudio | None = None
    stream: TeeStream | None = None
    fallback: str | None = None  # why the offline voice read this instead of the voice asked for
    aligned: bool = False  # word timings come from the local Whisper


class SpeechService:
    """Resolves "engine:name" voice ids and serves synthesis through the cache."""

    def __init__(
        self,
        synthesizers: Mapping[str, Synthesizer],
        cache: AudioCache,
        *,
        default_engine: str,
        default_voice: str = "",
        pronunciations: str = "",
        metrics: Metrics | None = None,
        budget: DailyBudget | None = None,
        fallback: bool = False,
        aligner: WordAligner | None = None,
        heavy: HeavyWork | None = None,
        language_voices: Iterable[str] = (),
    ) -> None:
        if default_engine not in synthesizers:
            raise ValueError(f"Default engine {default_engine!r} is not configured")
        self.synthesizers = dict(synthesizers)
        self.cache = cache
        self.default_engine = default_engine
        self.metrics = metrics
        self.budget = budget
        self.aligner = aligner
        self.heavy = heavy
        self._pronunciations = pronunciations
        self.language_voices = _language_voices(language_voices)
        self._default_voice = default_voice
        self._voices: list[Voice] | None = None
        offline = [n for n, s in self.synthesizers.items() if not s.capabilities.remote]
        self.fallback_engine = offline[0] if fallback and offline else None
        if fallback and not offline:
            LOGGER.warning("READER_FALLBACK is on but no offline reading engine is configured")
        self._cooling: dict[str, tuple[float, CloudError]] = {}
        self._align_pool: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()

    # -- voices ----------------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        if self._voices is None:
            voices: list[Voice] = []
            for synth in self.synthesizers.values():
                voices.extend(synth.voices())
            self._voices = voices
        return self._voices

    def engine_status(self) -> dict[str, str]:
        """Each engine's state for readiness: "ok", "cooling" (a cloud voice failed a moment ago and
        rests) or "no voices" (its voice files are missing)."""
        now = time.monotonic()
        status = {}
        for name, synth in self.synthesizers.items():
            try:
                has_voices = bool(synth.voices())
            except Exception:  # an engine that cannot even list its voices is not ready
                has_voices = False
            cooling = self._cooling.get(name)
            status[name] = ("no voices" if not has_voices else
                            "cooling" if cooling is not None and cooling[0] > now else "ok")
        return status

    def default_voice(self) -> str:
        if self._default_voice:
            return self._default_voice
        synth = self.synthesizers[self.default_engine]
        return f"{synth.name}:{synth.default_voice()}"

    def is_remote(self, engine: str) -> bool:
        """True for engines that send text to a service (tell users; budgets apply)."""
        synth = self.synthesizers.get(engine)
        return synth is not None and synth.capabilities.remote

    def styles(self) -> list[str]:
        """Named style presets offered by any engine, in order."""
        names: dict[str, None] = {}
        for synth in self.synthesizers.values():
            names.update(dict.fromkeys(name for name, _ in synth.capabilities.styles))
        return list(names)

    def free_styles(self) -> bool:
        return any(s.capabilities.free_styles for s in self.synthesizers.values())

    def resolve(self, voice_id: str | None) -> tuple[Synthesizer, Voice]:
        """Map a voice id ("engine:name", or a bare name of the default engine) to its engine and voice."""
        voice_id = voice_id or self.default_voice()
        engine, sep, name = voice_id.partition(":")
        if not sep:
            engine, name = self.default_engine, voice_id
        synth = self.synthesizers.get(engine)
        voice = next((v for v in synth.voices() if v.name == name), None) if synth is not None else None
        if synth is None or voice is None:
            raise UnknownVoice(f"Unknown voice {voice_id!r}. See GET /api/voices for the voices on offer.")
        return synth, voice

    def sentence_request(self, doc: Document, n: int, *, voice: str | None, format: str,
                         instructions: str | None = None, **options: Any) -> SpeechRequest:
        """The request for sentence n of a document, as the reader page and a narration both make
        it (so that each finds the other's audio cached): in the language of its block, read by
        the voice that follows that language (voice_for)."""
        sentence = doc.sentences[n]
        block = doc.blocks[sentence.block] if 0 <= sentence.block < len(doc.blocks) else None
        language = (block.lang if block else None) or doc.language or "en"
        return SpeechRequest(text=sentence.text, language=language, voice=self.voice_for(voice, language),
                             format=format, instructions=instructions, owner=doc.id, **options)

    def voice_for(self, voice_id: str | None, language: str | None) -> str:
        """The voice that reads `language`: `voice_id` (or the default voice) when it speaks it (a
        cloud voice speaks them all), else the voice set for the language (READER_LANGUAGE_VOICES),
        else the first voice on offer for it (the default engine's, then Piper's, Kokoro's, eSpeak
        NG's; the closest region first), else `voice_id` all the same."""
        chosen = voice_id or self.default_voice()
        want = (language or "").split("-")[0].lower()
        if not want:
            return chosen
        synth, voice = self.resolve(chosen)
        if synth.capabilities.remote or voice.language.split("-")[0].lower() == want:
            return chosen
        mapped = self.language_voices.get(want)
        if mapped:
            try:
                return self.resolve(mapped)[1].id
            except UnknownVoice:
                LOGGER.warning("READER_LANGUAGE_VOICES names an unknown voice for %s", want)
        engines = list(self.synthesizers)
        rank = {name: (name != self.default_engine, self.synthesizers[name].capabilities.remote,
                       PREFERENCE.get(name, len(PREFERENCE)), engines.index(name)) for name in engines}
        found = [v for v in self.voices() if v.language.split("-")[0].lower() == want]
        if not found:
            return chosen
        best = min(found, key=lambda v: (rank[v.engine], v.language.lower() != (language or "").lower(),
                                         len(v.name), v.name))
        return best.id

    # -- spoken text -----------------------------------------------------------------------

    def spoken(self, text: str, language: str | None) -> SpokenText:
        """What an engine is sent: the language's rules and the operator's pronunciation list."""
        return spoken_text(text, lang=language or "en", pronunciations=load_pronunciations(self._pronunciations))

    # -- speaking --------------------------------------------------------------------------

    def speak(self, req: SpeechRequest) -> Spoken:
        """A cache hit, or a miss (streamed where the engine can), falling back where allowed."""
        spec = audio.get_format(req.format)
        synth, voice = self.resolve(req.voice)
        return self._speak_or_fall_back(synth, voice, req, spec)

    def _speak_or_fall_back(self, synth: Synthesizer, voice: Voice, req: SpeechRequest, spec: audio.Format,
                            keyed: tuple[str | None, float, SpokenText, str] | None = None) -> Spoken:
        try:
            return self._speak(synth, voice, req, spec, keyed)
        except CloudError as exc:
            offline = self.fallback_engine
            if not req.fallback or offline is None or offline == synth.name:
                raise
            if not isinstance(exc, (OverBudget, CloudRejected)):
                wait = min(exc.retry_after or COOL_DOWN.get(type(exc), COOL_DOWN_DEFAULT), 60.0)
                with self._guard:
                    self._cooling[synth.name] = (time.monotonic() + wait, exc)
            if self.metrics is not None:
                self.metrics.fell_back(synth.name, exc.reason)
            LOGGER.info("%s voice unavailable (%s): reading with %s", synth.name, exc.reason, offline)
            engine = self.synthesizers[offline]
            fallback_voice = next(v for v in engine.voices() if v.name == engine.default_voice())
            spoken = self._speak(engine, fallback_voice, replace(req, instructions=None, speed=1.0, stream=False),
                                 spec)
            spoken.fallback = exc.reason
            return spoken

    def _key(self, synth: Synthesizer, voice: Voice, req: SpeechRequest,
             spec: audio.Format) -> tuple[str | None, float, SpokenText, str]:
        """(style, speed, spoken text, cache key) of `req` for this engine and voice."""
        caps = synth.capabilities
        try:
            style = caps.style_text(req.instructions)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        speed = req.speed if caps.speed else 1.0
        # Free text in another language than the voice's is not normalised by the voice's rules
        # ("Il a 3 chats" to an English voice keeps its "3"): the text's own language decides.
        text = self.spoken(req.text, req.language or decide(voice.language, req.text) or voice.language)
        key = cache_key(engine=synth.name, model=synth.model, voice=voice.name, instructions=style,
                        fmt=spec.name, text=text.text, speed=speed)
        return style, speed, text, key

    def _speak(self, synth: Synthesizer, voice: Voice, req: SpeechRequest, spec: audio.Format,
               keyed: tuple[str | None, float, SpokenText, str] | None = None) -> Spoken:
        caps = synth.capabilities
        style, speed, text, key = keyed or self._key(synth, voice, req, spec)
        aligned = caps.word_timings == "aligned" and self.aligner is not None
        spoken = Spoken(mime=spec.mime, hit=True, voice=f"{synth.name}:{voice.name}", key=key, text=text,
                        deterministic=caps.deterministic, aligned=aligned)
        if req.owner:
            self.cache.own(key, req.owner)
        entry = self.cache.get(key)
        if entry is not None:
            return self._hit(spoken, synth, entry)
        cooling = self._cooling_down(synth.name)
        if cooling is not None:
            raise cooling
        miss = _Miss(self, synth, voice, req, spec, style, speed, text.text, key, aligned)
        if caps.streams and req.stream:
            return self._streamed(spoken, synth, miss.engine_stream, lambda data: _entry(data, spec), miss.committed)
        spans = units.units(text.text, caps.unit_chars, caps.unit_words) if req.stream and not caps.streams else []
        if len(spans) > 1:  # a long text from an offline voice: send each unit as it is made
            return self._streamed(spoken, synth, lambda: miss.unit_stream(spans), miss.units_entry, miss.committed)
        entry, hit = self.cache.get_or_create(key, miss.produce)
        if hit:
            return self._hit(spoken, synth, entry)
        miss.committed(entry)
        spoken.hit, spoken.entry = False, entry
        return spoken

    def _streamed(self, spoken: Spoken, synth: Synthesizer, start: Callable[[], Iterable[bytes]],
                  finish: Callable[[bytes], CachedAudio], committed: Callable[[CachedAudio], None]) -> Spoken:
        """A hit after all (made meanwhile), or a miss that streams into the cache as it is read."""
        entry, tee = self.cache.open_stream(spoken.key, start, finish, committed)
        if entry is not None:
            return self._hit(spoken, synth, entry)
        spoken.hit, spoken.stream = False, tee
        return spoken

    @contextmanager
    def _heavy(self, client: str | None, remote: bool) -> Iterator[None]:
        if self.heavy is None or remote:
            yield
            return
        with self.heavy.slot(client):
            yield

    def _cooling_down(self, engine: str) -> CloudError | None:
        """The error that made `engine` fail recently, while it is skipped for the offline voice."""
        with self._guard:
            cooling = self._cooling.get(engine)
        return cooling[1] if cooling is not None and cooling[0] > time.monotonic() else None

    def _hit(self, spoken: Spoken, synth: Synthesizer, entry: CachedAudio) -> Spoken:
        self.cache.record("hits")
        if self.metrics is not None:
            self.metrics.cached(synth.name, len(spoken.text.text))  # synthesis (and its bill) saved
        spoken.hit, spoken.entry = True, entry
        return spoken

    # -- word timings ----------------------------------------------------------------------

    def timings(self, req: SpeechRequest, *, wait: bool = False
                ) -> tuple[Spoken, list[tuple[int, int, float, float]], bool]:
        """The audio's entry, its word timings as spans of the written text, and whether they are
        a first estimate: the engine's own timings, or the local Whisper's once it has run; until
        then (unless `wait`) an estimate from the audio's silences, made at once, while Whisper
        runs in the background. Several spoken words for one written token are one highlight."""
        # The voice is resolved and the spoken text built once, for the probe and the audio alike.
        synth, voice = self.resolve(req.voice)
        spec = audio.get_format(req.format)
        whole = replace(req, stream=False, timings=False)
        keyed = self._key(synth, voice, whole, spec)
        if synth.capabilities.streams and self._cooling_down(synth.name) is None:
            # The browser asks for audio and timings at once: let the audio request start its
            # stream rather than synthesise here without streaming and make it wait.
            probe = keyed[3]
            deadline = time.monotonic() + STREAM_GRACE
            while time.monotonic() < deadline and not self.cache.busy(probe) and self.cache.get(probe) is None:
                time.sleep(0.05)
        spoken = self._speak_or_fall_back(synth, voice, whole, spec, keyed)
        assert spoken.entry is not None
        words: Words = spoken.entry.words
        estimated = False
        if not words and spoken.aligned and self.aligner is not None:
            spoke = voice if spoken.voice == f"{synth.name}:{voice.name}" else self.resolve(spoken.voice)[1]
            fmt, language = spec.name, spoke.language
            found = self.aligner.refined(spoken.key)
            if found is not None:
                words = found
            elif wait:
                words = self.aligner.words(spoken.key, spoken.entry.audio, fmt, spoken.text.text, language=language)
            else:
                weigh = self._phoneme_weigher(language)
                words, estimated = self.aligner.estimated(spoken.entry.audio, fmt, spoken.text.text, weigh), True
                self._align_later(spoken.key, spoken.entry.audio, fmt, spoken.text.text, language)
        return spoken, source_words(spoken.text, words), estimated

    def _phoneme_weigher(self, language: str | None) -> Callable[[str], float] | None:
        """A word's length in phonemes, by Piper's phonemiser when it speaks `language`: what the
        estimate shares a sentence's time by (letters otherwise)."""
        piper = self.synthesizers.get("piper")
        count = getattr(piper, "count_phonemes", None)
        spoken = getattr(piper, "capabilities", None)
        if count is None or spoken is None or not language:
            return None
        if language.split("-")[0].lower() not in {lang.split("-")[0].lower() for lang in spoken.languages}:
            return None
        return lambda word: 1.0 + count(word)

    def speak_key(self, req: SpeechRequest) -> str:
        """The cache key `req` would be stored under (no synthesis)."""
        synth, voice = self.resolve(req.voice)
        return self._key(synth, voice, req, audio.get_format(req.format))[3]

    def _align_later(self, key: str, data: bytes, fmt: str, text: str, language: str | None) -> None:
        with self._guard:
            if self._align_pool is None:
                self._align_pool = ThreadPoolExecutor(1, thread_name_prefix="reader-align", initializer=_background)
            pool = self._align_pool
        pool.submit(self._align_quietly, key, data, fmt, text, language)

    def _align_quietly(self, key: str, data: bytes, fmt: str, text: str, language: str | None) -> None:
        try:
            assert self.aligner is not None
            self.aligner.words(key, data, fmt, text, language=language)
        except Exception as exc:  # a background nicety: the timings route will try again
            LOGGER.warning("word alignment failed: %s", type(exc).__name__)

    def close(self) -> None:
        """Wait for background work (word alignment) to finish."""
        with self._guard:
            pool, self._align_pool = self._align_pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def source_words(text: SpokenText, words: Words) -> list[tuple[int, int, float, float]]:
    """Timings of spoken words as spans of the written text; several spoken words for one written
    token ("$3,497") become one, from the first one's start to the last one's end."""
    out: list[tuple[int, int, float, float]] = []
    for start, end, t0, t1 in words:
        s, e = text.to_source(start, end)
        if out and out[-1][:2] == (s, e):
            out[-1] = (s, e, out[-1][2], t1)
            continue
        out.append((s, e, t0, t1))
    return out


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



class _Miss:
    """The making of one uncached clip: whole, streamed by its engine, or unit by unit; and what
    is counted once it is in the cache (a miss, the characters, the budget, the words to align)."""

    def __init__(self, service: SpeechService, synth: Synthesizer, voice: Voice, req: SpeechRequest,
                 spec: audio.Format, style: str | None, speed: float, text: str, key: str, aligned: bool) -> None:
        self.service, self.synth, self.voice, self.req, self.spec = service, synth, voice, req, spec
        self.style, self.speed, self.text, self.key, self.aligned = style, speed, text, key, aligned
        self.caps = synth.capabilities
        self._units: list[units.UnitStream] = []

    def check_budget(self) -> None:
        if self.caps.remote and self.service.budget is not None:
            self.service.budget.check(self.req.client, len(self.text))

    def committed(self, made: CachedAudio) -> None:
        svc, chars = self.service, len(self.text)
        svc.cache.record("misses")
        if svc.metrics is not None:
            svc.metrics.synthesised(self.synth.name, chars)
        if self.caps.remote and svc.budget is not None:
            svc.budget.spend(self.req.client, chars)
        if self.aligned and self.req.timings and not made.words:  # Piper times its own words; others wait for Whisper
            svc._align_later(self.key, made.audio, self.spec.name, self.text, self.voice.language)

    def engine_stream(self) -> Iterator[bytes]:
        """The engine's own stream of encoded audio."""
        self.check_budget()
        with _engine_errors(self.synth):
            return cast(StreamingSynthesizer, self.synth).stream(self.text, self.voice.name, self.spec.name,
                                                                instructions=self.style, speed=self.speed)

    def unit_stream(self, spans: list[tuple[int, int]]) -> Iterator[bytes]:
        """Each unit encoded as it is made, in a heavy-work slot held until the stream ends."""
        held = ExitStack()
        held.enter_context(self.service._heavy(self.req.client, self.caps.remote))
        try:
            stream = units.UnitStream(self.synth, self.text, self.voice.name, spans, self.spec.name,
                                      instructions=self.style, speed=self.speed, release=held.close)
            with _engine_errors(self.synth):
                stream.prime()
        except BaseException:
            held.close()
            raise
        self._units.append(stream)
        return stream

    def units_entry(self, data: bytes) -> CachedAudio:
        stream = self._units[0]
        words = ((w.start, w.end, w.t0, w.t1) for w in stream.words)
        return CachedAudio.of(data, self.spec.mime, stream.duration, words)

    def produce(self) -> CachedAudio:
        """The whole clip, made here."""
        self.check_budget()
        synth, spec = self.synth, self.spec
        with _engine_errors(synth):
            if self.caps.streams:
                streamer = cast(StreamingSynthesizer, synth)
                return _entry(stream_bytes(streamer.stream(self.text, self.voice.name, spec.name,
                                                           instructions=self.style, speed=self.speed)), spec)
            with self.service._heavy(self.req.client, self.caps.remote):
                speech = units.synthesize(synth, self.text, self.voice.name, instructions=self.style, speed=self.speed)
                data = audio.encode(speech.samples, speech.sample_rate, spec.name)
        timings = ((w.start, w.end, w.t0, w.t1) for w in speech.words)
        return CachedAudio.of(data, spec.mime, speech.duration, timings)

def _entry(data: bytes, spec: audio.Format) -> CachedAudio:
    """A cache entry for audio that arrived encoded in `spec` (from a cloud engine)."""
    if not data:
        raise EngineError("The voice service sent no audio.")
    if spec.container is None:
        duration = len(data) / 2 / 24000  # the services' pcm: 24 kHz, 16-bit, mono
    else:
        duration = audio.duration_of(data)
    return CachedAudio.of(data, spec.mime, duration)




# Which offline engine reads a language the chosen voice does not speak: the neural voices first
# (Piper, then Kokoro where it has a voice), eSpeak NG for the rest.
PREFERENCE = {"piper": 0, "kokoro": 1, "espeak": 2}


def _language_voices(pairs: Iterable[str]) -> dict[str, str]:
    """READER_LANGUAGE_VOICES: "fr=espeak:fr" pairs; a pair without "=" is a loud error."""
    found = {}
    for pair in pairs:
        lang, sep, voice = pair.partition("=")
        if not sep or not lang.strip() or not voice.strip():
            raise ValueError(f"READER_LANGUAGE_VOICES: {pair!r} is not language=voice (fr=espeak:fr)")
        found[lang.strip().split("-")[0].lower()] = voice.strip()
    return found
