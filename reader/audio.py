"""Audio encode and decode with PyAV (FFmpeg): mp3, opus, aac, flac, wav, pcm."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np

from .errors import TooLarge, Unprocessable, UnsupportedMedia

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    name: str
    mime: str
    container: str | None  # None: raw samples, no container
    codec: str
    rates: tuple[int, ...]  # sample rates the codec accepts; first is preferred
    bit_rate: int = 0  # 0: the codec's default (lossless formats)


FORMATS: dict[str, Format] = {
    "mp3": Format("mp3", "audio/mpeg", "mp3", "libmp3lame", (22050, 24000, 16000, 44100, 48000), 64000),
    "opus": Format("opus", "audio/ogg; codecs=opus", "ogg", "libopus", (48000, 24000, 16000), 32000),
    "aac": Format("aac", "audio/aac", "adts", "aac", (22050, 24000, 16000, 44100, 48000), 64000),
    "flac": Format("flac", "audio/flac", "flac", "flac", ()),
    "wav": Format("wav", "audio/wav", "wav", "pcm_s16le", ()),
    # Like OpenAI's "pcm": 24 kHz, 16-bit signed little-endian, mono, no header.
    "pcm": Format("pcm", "audio/pcm", None, "pcm_s16le", (24000,)),
}

TRANSCRIBE_RATE = 16000


def get_format(name: str) -> Format:
    from .errors import UnknownFormat

    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownFormat(
            f"Unknown audio format {name!r}. Available: {', '.join(FORMATS)}."
        ) from None


def _resample(samples: np.ndarray, rate: int, out_rate: int) -> np.ndarray:
    """int16 mono at `rate` -> int16 mono at `out_rate`, with FFmpeg's resampler."""
    if rate == out_rate:
        return samples
    import av

    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=out_rate)
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def encode(samples: np.ndarray, rate: int, fmt: str) -> bytes:
    """Encode int16 mono samples into the named format."""
    import av

    spec = get_format(fmt)
    out_rate = rate if not spec.rates or rate in spec.rates else spec.rates[0]
    samples = _resample(np.ascontiguousarray(samples, dtype=np.int16), rate, out_rate)
    if spec.container is None:
        return samples.astype("<i2").tobytes()
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=spec.container) as out:
        stream: av.AudioStream = out.add_stream(spec.codec, rate=out_rate, layout="mono")  # type: ignore[assignment]
        if spec.bit_rate:
            stream.bit_rate = spec.bit_rate
        sample_format = stream.codec_context.format.name
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=out_rate)
        # Feed in frames of a codec-friendly size; the resampler re-chunks as needed.
        step = 4096
        for i in range(0, max(len(samples), 1), step):
            chunk = samples[i : i + step]
            if len(chunk) == 0:
                break
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = out_rate
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for f in resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def decode(data: bytes, *, rate: int = TRANSCRIBE_RATE, max_seconds: float | None = None) -> np.ndarray:
    """Decode any audio container FFmpeg knows into float32 mono samples at `rate`.

    A truncated file decodes as far as it goes; data that holds no audio stream, or that
    FFmpeg cannot read at all, raises UnsupportedMedia.
    """
    import av

    if not data:
        raise UnsupportedMedia("The upload is empty: send an audio recording.")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise UnsupportedMedia(
            "This file is not audio that can be read. Send webm/opus, ogg, mp4/aac, mp3, flac or wav."
        ) from exc
    parts: list[np.ndarray] = []
    total = 0
    limit = None if max_seconds is None else int(max_seconds * rate)
    with container:
        if not container.streams.audio:
            raise UnsupportedMedia("The file has no audio track.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        try:
            for frame in container.decode(stream):
                for f in resampler.resample(frame):
                    parts.append(f.to_ndarray().reshape(-1))
                    total += parts[-1].shape[0]
                if limit is not None and total > limit:
                    raise TooLarge(f"The recording is longer than {max_seconds:.0f} seconds.")
            for f in resampler.resample(None):
                parts.append(f.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            # A truncated or damaged tail: keep what decoded, as a player would.
            LOGGER.info("audio decode stopped early: %s", type(exc).__name__)
    if not parts:
        raise Unprocessable("The recording holds no audio that could be decoded.")
    samples = np.concatenate(parts).astype(np.float32, copy=False)
    if samples.size == 0:
        raise Unprocessable("The recording holds no audio that could be decoded.")
    return samples


def duration_of(data: bytes) -> float:
    """Seconds of audio in an encoded file (by decoding it)."""
    return float(decode(data).shape[0]) / TRANSCRIBE_RATE


class _Sink:
    """A write-only file for PyAV: what was written since the last take()."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class StreamEncoder:
    """Encodes int16 mono samples piece by piece, giving back the bytes each piece made, so audio
    can be sent while the rest is still being synthesised (one stream: no joins between pieces)."""

    def __init__(self, fmt: str, rate: int) -> None:
        import av

        self.spec = get_format(fmt)
        self.rate = rate
        self.out_rate = rate if not self.spec.rates or rate in self.spec.rates else self.spec.rates[0]
        self._sink = _Sink()
        self._out: av.container.OutputContainer | None = None
        if self.spec.container is not None:
            self._out = av.open(self._sink, mode="w", format=self.spec.container)
            self._stream: av.AudioStream = self._out.add_stream(  # type: ignore[assignment]
                self.spec.codec, rate=self.out_rate, layout="mono")
            if self.spec.bit_rate:
                self._stream.bit_rate = self.spec.bit_rate
            self._resampler = av.AudioResampler(format=self._stream.codec_context.format.name, layout="mono",
                                                rate=self.out_rate)

    def feed(self, samples: np.ndarray) -> bytes:
        """Encode more samples (at the rate given); the bytes they made so far."""
        import av

        pcm = _resample(np.ascontiguousarray(samples, dtype=np.int16), self.rate, self.out_rate)
        if self._out is None:
            return bytes(pcm.astype("<i2").tobytes())
        for i in range(0, pcm.size, 4096):
            frame = av.AudioFrame.from_ndarray(pcm[i:i + 4096].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = self.out_rate
            for f in self._resampler.resample(frame):
                for packet in self._stream.encode(f):
                    self._out.mux(packet)
        return self._sink.take()

    def close(self) -> bytes:
        """Flush the encoder; the last bytes."""
        if self._out is None:
            return b""
        for f in self._resampler.resample(None):
            for packet in self._stream.encode(f):
                self._out.mux(packet)
        for packet in self._stream.encode(None):
            self._out.mux(packet)
        self._out.close()
        return self._sink.take()
