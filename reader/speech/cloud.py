"""Cloud speech over the openai SDK: one implementation behind the `azure` and `openai` engines."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import numpy as np

from .. import audio
from ..audio_cache.stream import ClosingStream
from ..errors import CloudBusy
from ..text.segment import split_for_synthesis
from .base import Capabilities, Speech, Transcript, Voice
from .cloud_errors import Profile, translate

LOGGER = logging.getLogger(__name__)

MAX_INPUT = 4096  # characters per speech request (gpt-4o-mini-tts, tts-1)
# Encoded audio that can be joined end to end and still play: the parts of a long input.
# Not mp3: an encoder's Xing/Info header gives a frame count, and decoders stop there.
JOINABLE = frozenset(("aac", "pcm"))
PCM_RATE = 24000  # the services' "pcm": 24 kHz, 16-bit, mono, little-endian

STYLE_PRESETS: dict[str, str] = {
    "calm narrator": "Read as a calm, warm narrator: an even pace, clear diction and gentle pauses "
                     "between sentences.",
    "clear and slow": "Read slowly and very clearly, with short pauses between phrases, for a "
                      "listener who needs time to follow.",
    "news presenter": "Read like a neutral news presenter: confident, measured and precise.",
    "storyteller": "Read like an engaging storyteller reading aloud, with natural expression.",
    "friendly": "Read in a friendly, upbeat, conversational tone.",
}


class Slots:
    """At most `size` requests at once to one deployment: bursts get 429 even under the per-minute quota."""

    def __init__(self, size: int, wait: float, profile: Profile) -> None:
        self._sem = threading.BoundedSemaphore(max(size, 1))
        self._wait = wait
        self._profile = profile

    def acquire(self) -> Callable[[], None]:
        if not self._sem.acquire(timeout=self._wait):
            raise CloudBusy(f"All connections to the {self._profile.service} are busy. Please try again.")
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._sem.release()

        return release


class Pacer:
    """At most `per_window` requests in any `window` seconds: a request over it waits its turn (up to
    `wait` seconds) instead of meeting the service's 429. Per worker process."""

    def __init__(self, per_window: int, *, window: float = 60.0, wait: float = 120.0) -> None:
        self.per_window = per_window
        self.window = window
        self.wait = wait
        self._sent: list[float] = []
        self._lock = threading.Lock()

    def take(self, profile: Profile, *, share: float = 1.0) -> None:
        """Wait for a turn. With `share` < 1 (live dictation's passes, which can be skipped), take one
        only while the window is less than that share full, and never wait: the rest of the quota is
        kept for the dictations that end a recording."""
        if self.per_window <= 0:
            return
        deadline = time.monotonic() + self.wait
        limit = self.per_window if share >= 1 else max(1, int(self.per_window * share))
        while True:
            with self._lock:
                now = time.monotonic()
                self._sent = [t for t in self._sent if now - t < self.window]
                if len(self._sent) < limit:
                    self._sent.append(now)
                    return
                free_at = self._sent[len(self._sent) - limit] + self.window
            if share < 1:
                raise CloudBusy(f"The {profile.service}'s quota is kept for finished recordings just now.",
                                retry_after=free_at - now)
            if free_at > deadline:
                raise CloudBusy(f"The {profile.service} takes {self.per_window} dictations a minute and more are "
                                "waiting. Please try again in a minute.", retry_after=free_at - now)
            time.sleep(max(free_at - time.monotonic(), 0.01))


class CloudSynthesizer:
    """Text to speech on an OpenAI-style /audio/speech route, streamed in the requested format."""

    def __init__(self, client: Any, profile: Profile, *, voices: tuple[str, ...], host: str,
                 concurrency: int, timeout: float, allow_free_instructions: bool) -> None:
        self.name = profile.engine
        self.model = f"{profile.model}@{host}"  # same name on another resource may be another model
        # Costs money and leaves the host; no word timings from the service (Whisper times them).
        self.capabilities = Capabilities(
            remote=True, streams=True, word_timings="aligned", styles=tuple(STYLE_PRESETS.items()),
            free_styles=allow_free_instructions, speed=True, unit_chars=MAX_INPUT, unit_words=MAX_INPUT,
            destination=f"the {profile.service}")
        self._client = client
        self._profile = profile
        self._voices = voices
        self._slots = Slots(concurrency, timeout, profile)

    def close(self) -> None:
        """Close the pooled connections to the service."""
        self._client.close()

    def voices(self) -> list[Voice]:
        return [
            Voice(id=f"{self.name}:{v}", engine=self.name, name=v,
                  label=f"{v.split(':')[-1].capitalize()} ({self._profile.service}, AI-generated)",
                  language="en")
            for v in self._voices
        ]

    def default_voice(self) -> str:
        if not self._voices:
            raise ValueError(f"No voices configured for the {self.name} engine (READER_CLOUD_VOICES).")
        return self._voices[0]

    def _check_voice(self, voice: str) -> None:
        if voice not in self._voices:
            raise ValueError(f"Unknown voice {voice!r}")

    def stream(self, text: str, voice: str, fmt: str, *, instructions: str | None = None,
               speed: float = 1.0) -> ClosingStream:
        """Audio in `fmt` as the service sends it; HTTP errors raise here, before any byte."""
        self._check_voice(voice)
        parts = [text[s:e] for s, e in split_for_synthesis(text, MAX_INPUT)] or [text]
        if len(parts) > 1 and fmt not in JOINABLE:
            # Containers such as wav or ogg cannot be glued together: synthesise, then encode once.
            speech = self.synthesize(text, voice, instructions=instructions, speed=speed)
            data = audio.encode(speech.samples, speech.sample_rate, fmt)
            return ClosingStream((c for c in (data,)), lambda: None)
        release = self._slots.acquire()
        try:
            chunks = self._chunks(self._open(parts[0], voice, fmt, instructions, speed), parts[1:],
                                  voice, fmt, instructions, speed)
            # Wait for the first bytes here: a failure before them is still a clean error
            # response, and a started generator always runs its cleanup when closed.
            head = next(chunks, b"")
        except BaseException:
            release()
            raise
        return ClosingStream(chunks, release, head)

    def _open(self, text: str, voice: str, fmt: str, instructions: str | None, speed: float) -> Any:
        kwargs: dict[str, Any] = {"model": self._profile.model, "voice": voice, "input": text,
                                  "response_format": fmt}
        if instructions:
            kwargs["instructions"] = instructions
        if speed != 1.0:
            kwargs["speed"] = speed
        manager = self._client.audio.speech.with_streaming_response.create(**kwargs)
        try:
            response = manager.__enter__()
        except Exception as exc:
            raise translate(exc, self._profile, "speech") from exc
        headers = response.headers
        LOGGER.debug("%s speech: x-request-id=%s apim-request-id=%s", self.name,
                     headers.get("x-request-id"), headers.get("apim-request-id"))
        return manager, response

    def _chunks(self, opened: Any, rest: list[str], voice: str, fmt: str,
                instructions: str | None, speed: float) -> Generator[bytes, None, None]:
        manager, response = opened
        try:
            while True:
                try:
                    # No chunk size: pass on whatever has arrived, for the earliest first byte.
                    for chunk in response.iter_bytes():
                        if chunk:
                            yield chunk
                except Exception as exc:
                    raise translate(exc, self._profile, "speech") from exc
                if not rest:
                    return
                manager.__exit__(None, None, None)
                manager = None
                manager, response = self._open(rest.pop(0), voice, fmt, instructions, speed)
        finally:
            if manager is not None:
                manager.__exit__(None, None, None)

    def synthesize(self, text: str, voice: str, *, instructions: str | None = None,
                   speed: float = 1.0) -> Speech:
        """PCM for the Synthesizer protocol (the service's 24 kHz pcm, joined across parts)."""
        self._check_voice(voice)
        parts = [text[s:e] for s, e in split_for_synthesis(text, MAX_INPUT)] or [text]
        release = self._slots.acquire()
        try:
            data = b"".join(
                b"".join(self._chunks(self._open(p, voice, "pcm", instructions, speed), [], voice, "pcm",
                                      instructions, speed))
                for p in parts
            )
        finally:
            release()
        samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)
        return Speech(samples=samples, sample_rate=PCM_RATE)


# Containers by their first bytes: a MediaRecorder upload is often named "blob".
_MAGIC: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\x1a\x45\xdf\xa3", "webm", "audio/webm"),
    (0, b"OggS", "ogg", "audio/ogg"),
    (0, b"fLaC", "flac", "audio/flac"),
    (0, b"ID3", "mp3", "audio/mpeg"),
    (4, b"ftyp", "m4a", "audio/mp4"),
)
_EXTENSIONS = {"flac": "audio/flac", "m4a": "audio/mp4", "mp3": "audio/mpeg", "mp4": "audio/mp4",
               "mpeg": "audio/mpeg", "mpga": "audio/mpeg", "oga": "audio/ogg", "ogg": "audio/ogg",
               "wav": "audio/wav", "webm": "audio/webm"}


def upload_name(data: bytes, filename: str | None) -> tuple[str, str]:
    """(name.ext, mime) the service accepts: the upload's own extension, else one sniffed from the bytes."""
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext in _EXTENSIONS:
        return f"audio.{ext}", _EXTENSIONS[ext]
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio.wav", "audio/wav"
    for offset, magic, ext, mime in _MAGIC:
        if data[offset: offset + len(magic)] == magic:
            return f"audio.{ext}", mime
    if data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio.mp3", "audio/mpeg"
    return "audio.webm", "audio/webm"  # the browsers' usual recording: the retry as WAV covers a miss


def _unsupported_container(exc: BaseException) -> bool:
    message = str(getattr(exc, "message", "") or "").lower()
    code = str(getattr(exc, "code", "") or "").lower()
    return getattr(exc, "status_code", None) == 400 and (
        code in ("unsupported_format", "invalid_file_format")
        or any(w in message for w in ("format", "unsupported", "corrupt", "decode"))
    )


class CloudTranscriber:
    """Speech to text on an OpenAI-style /audio/transcriptions route; sends the recording as is."""


    def __init__(self, client: Any, profile: Profile, *, host: str, concurrency: int, timeout: float,
                 per_minute: int = 0) -> None:
        self.name = profile.engine
        self.model = f"{profile.model}@{host}"
        self._client = client
        self._profile = profile
        self._slots = Slots(concurrency, timeout, profile)
        self.capabilities = Capabilities(remote=True, accepts_files=True, destination=f"the {profile.service}")
        self.pacer = Pacer(per_minute)

    def close(self) -> None:
        """Close the pooled connections to the service."""
        self._client.close()

    def transcribe(self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None,
                   word_timestamps: bool = False, temperature: float = 0.0, task: str = "transcribe") -> Transcript:
        """Transcribe 16 kHz mono float32 samples (sent as WAV)."""
        return self.transcribe_file(_wav(samples), "audio.wav", language=language, prompt=prompt,
                                    samples=samples)

    def transcribe_file(self, data: bytes, filename: str | None, *, language: str | None = None,
                        prompt: str | None = None, samples: np.ndarray | None = None) -> Transcript:
        """Send the recording in its own container; if the service rejects it, once more as WAV."""
        name, mime = upload_name(data, filename)
        self.pacer.take(self._profile)  # the deployment's requests-per-minute quota: wait, do not fail
        release = self._slots.acquire()
        try:
            try:
                result = self._send((name, data, mime), language, prompt)
            except Exception as exc:
                if name.endswith(".wav") or not _unsupported_container(exc):
                    raise translate(exc, self._profile, "transcription") from exc
                LOGGER.info("%s rejected the %s container; retrying once as WAV", self.name, name.rsplit(".")[-1])
                pcm = samples if samples is not None else audio.decode(data)
                try:
                    result = self._send(("audio.wav", _wav(pcm), "audio/wav"), language, prompt)
                except Exception as again:
                    raise translate(again, self._profile, "transcription") from again
        finally:
            release()
        duration = len(samples) / audio.TRANSCRIBE_RATE if samples is not None else 0.0
        return Transcript(text=str(result.text).strip(), language=language, duration=duration,
                          usage=_usage(getattr(result, "usage", None)))

    def transcribe_stream(self, samples: np.ndarray, *, language: str | None = None, prompt: str | None = None,
                          hotwords: str | None = None, quick: bool = False, data: bytes | None = None,
                          filename: str | None = None) -> Iterator[str | Transcript]:
        """The service's own streaming (`stream=true`): text deltas as it decodes, then the whole
        Transcript. `data` is sent as it came; without it, `samples` go as WAV. Words have no
        times here (the service does not give them with a stream). `hotwords` and `quick` are
        for local models: the service decodes its own way."""
        if data is None:
            data, filename = _wav(samples), "audio.wav"
        file = upload_name(data, filename)
        self.pacer.take(self._profile, share=0.5 if quick else 1.0)
        release = self._slots.acquire()
        try:
            try:
                events = self._open_stream((file[0], data, file[1]), language, prompt)
            except Exception as exc:
                if file[0].endswith(".wav") or not _unsupported_container(exc):
                    raise translate(exc, self._profile, "transcription") from exc
                LOGGER.info("%s rejected the %s container; retrying once as WAV", self.name,
                            file[0].rsplit(".")[-1])
                try:
                    events = self._open_stream(("audio.wav", _wav(samples), "audio/wav"), language, prompt)
                except Exception as again:
                    raise translate(again, self._profile, "transcription") from again
            text, usage = "", None
            try:
                for event in events:
                    kind = getattr(event, "type", "")
                    if kind == "transcript.text.delta" and getattr(event, "delta", ""):
                        text += str(event.delta)
                        yield str(event.delta)
                    elif kind == "transcript.text.done":
                        text = str(getattr(event, "text", text))
                        usage = getattr(event, "usage", None)
            except Exception as exc:
                raise translate(exc, self._profile, "transcription") from exc
            finally:
                events.close()
        finally:
            release()
        yield Transcript(text=text.strip(), language=language, duration=len(samples) / audio.TRANSCRIBE_RATE,
                         usage=_usage(usage))

    def _open_stream(self, file: tuple[str, bytes, str], language: str | None, prompt: str | None) -> Any:
        kwargs: dict[str, Any] = {"model": self._profile.model, "file": file, "response_format": "json",
                                  "stream": True}
        if language:
            kwargs["language"] = language
        if prompt:
            kwargs["prompt"] = prompt
        return self._client.audio.transcriptions.create(**kwargs)

    def _send(self, file: tuple[str, bytes, str], language: str | None, prompt: str | None) -> Any:
        kwargs: dict[str, Any] = {"model": self._profile.model, "file": file, "response_format": "json"}
        if language:
            kwargs["language"] = language
        if prompt:
            kwargs["prompt"] = prompt
        raw = self._client.audio.transcriptions.with_raw_response.create(**kwargs)
        LOGGER.debug("%s transcription: x-request-id=%s apim-request-id=%s", self.name,
                     raw.headers.get("x-request-id"), raw.headers.get("apim-request-id"))
        return raw.parse()



def _usage(usage: Any) -> tuple[tuple[str, int], ...]:
    """Token counts the service reported, as (kind, count)."""
    counts: list[tuple[str, int]] = []
    for kind in ("input_tokens", "output_tokens"):
        value = getattr(usage, kind, None)
        if isinstance(value, int) and value > 0:
            counts.append((kind.removesuffix("_tokens"), value))
    return tuple(counts)


def _wav(samples: np.ndarray) -> bytes:
    pcm = np.clip(np.asarray(samples, dtype=np.float32) * 32767.0, -32768, 32767).astype(np.int16)
    return audio.encode(pcm, audio.TRANSCRIBE_RATE, "wav")


def stream_bytes(stream: Iterator[bytes]) -> bytes:
    """Drain a ClosingStream (closing it however it ends)."""
    try:
        return b"".join(stream)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
