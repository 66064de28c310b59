"""The speaking service: voice ids across engines, synthesis through the audio cache."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

from .. import audio
from ..cache import AudioCache, CachedAudio, cache_key
from ..errors import EngineError, UnknownVoice
from .base import Synthesizer, Voice

LOGGER = logging.getLogger(__name__)


class SpeechService:
    """Resolves "engine:name" voice ids and serves synthesis through the cache."""

    def __init__(
        self,
        synthesizers: Mapping[str, Synthesizer],
        cache: AudioCache,
        *,
        default_engine: str,
        default_voice: str = "",
    ) -> None:
        if default_engine not in synthesizers:
            raise ValueError(f"Default engine {default_engine!r} is not configured")
        self.synthesizers = dict(synthesizers)
        self.cache = cache
        self.default_engine = default_engine
        self._default_voice = default_voice
        self._voices: list[Voice] | None = None

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

    def speak(
        self, text: str, voice_id: str | None, fmt: str, *, instructions: str | None = None
    ) -> tuple[CachedAudio, bool]:
        """Audio for `text` from the cache, synthesising it once on a miss."""
        spec = audio.get_format(fmt)
        synth, name = self.resolve(voice_id)
        key = cache_key(
            engine=synth.name, model=synth.model, voice=name,
            instructions=instructions, fmt=spec.name, text=text,
        )

        def produce() -> CachedAudio:
            try:
                speech = synth.synthesize(text, name, instructions=instructions)
            except ValueError as exc:
                raise UnknownVoice(str(exc)) from exc
            except Exception as exc:
                LOGGER.error("synthesis failed in engine %s: %s", synth.name, type(exc).__name__)
                raise EngineError(f"The {synth.name} voice could not speak this sentence.") from exc
            data = audio.encode(speech.samples, speech.sample_rate, spec.name)
            return CachedAudio(
                audio=data,
                mime=spec.mime,
                duration=speech.duration,
                words=tuple((w.start, w.end, w.t0, w.t1) for w in speech.words),
                etag=hashlib.sha256(data).hexdigest(),
            )

        return self.cache.get_or_create(key, produce)
