"""One audio file from many sentence clips: even loudness, no clicks at joins, pauses, chapters.

Clips are written to the encoder as they come (a book never sits in memory whole). Each clip
is brought to the same loudness (RMS, with a peak limit), faded in and out over a few
milliseconds so that joins cannot click, and followed by the pause the plan gives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .plan import Chapter

RATE = 24000  # every output is made at this rate (the cloud voices' own; Piper's resampled)
TARGET_RMS = 10 ** (-20 / 20)  # -20 dBFS: speech loudness that leaves room for peaks
PEAK = 10 ** (-1 / 20)  # -1 dBFS
MAX_GAIN = 4.0
FADE = int(RATE * 0.005)  # 5 ms in and out


@dataclass(frozen=True)
class Output:
    """An audiobook format: container, codec and file suffix."""

    name: str
    container: str
    codec: str
    suffix: str
    mime: str
    bit_rate: int = 0


OUTPUTS: dict[str, Output] = {
    "m4b": Output("m4b", "mp4", "aac", ".m4b", "audio/mp4", 64000),
    "mp3": Output("mp3", "mp3", "libmp3lame", ".mp3", "audio/mpeg", 64000),
    "opus": Output("opus", "ogg", "libopus", ".opus", "audio/ogg; codecs=opus", 32000),
    "wav": Output("wav", "wav", "pcm_s16le", ".wav", "audio/wav"),
}


def level(clip: np.ndarray) -> np.ndarray:
    """`clip` (float32) at the target loudness, peak-limited, with short fades at both ends."""
    clip = np.asarray(clip, dtype=np.float32)
    if clip.size == 0:
        return clip
    rms = float(np.sqrt(np.mean(np.square(clip, dtype=np.float64))))
    gain = min(TARGET_RMS / rms, MAX_GAIN) if rms > 1e-5 else 1.0
    out = clip * gain
    peak = float(np.max(np.abs(out)))
    if peak > PEAK:
        out *= PEAK / peak
    n = min(FADE, out.size // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


class Encoder:
    """Writes int16 mono samples at RATE into `path` in one of OUTPUTS, as they come."""

    def __init__(self, path: Path, fmt: str, *, tags: dict[str, str]) -> None:
        import av

        self.spec = OUTPUTS[fmt]
        self.path = path
        self._out = av.open(str(path), mode="w", format=self.spec.container)
        for key, value in tags.items():
            self._out.metadata[key] = value
        self._stream: av.AudioStream = self._out.add_stream(  # type: ignore[assignment]
            self.spec.codec, rate=RATE, layout="mono")
        if self.spec.bit_rate:
            self._stream.bit_rate = self.spec.bit_rate
        self._resampler = av.AudioResampler(format=self._stream.codec_context.format.name, layout="mono", rate=RATE)
        self.samples = 0

    @property
    def seconds(self) -> float:
        return self.samples / RATE

    def write(self, clip: np.ndarray) -> None:
        """Append float32 samples in [-1, 1]."""
        import av

        pcm = np.clip(clip * 32767.0, -32768, 32767).astype(np.int16)
        for i in range(0, pcm.size, 8192):
            chunk = pcm[i : i + 8192]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = RATE
            for f in self._resampler.resample(frame):
                for packet in self._stream.encode(f):
                    self._out.mux(packet)
        self.samples += pcm.size

    def silence(self, seconds: float) -> None:
        if seconds > 0:
            self.write(np.zeros(int(round(seconds * RATE)), dtype=np.float32))

    def close(self, chapters: Sequence[tuple[str, float, float]] = ()) -> None:
        """Flush, write the chapters ((title, start, end) in seconds) where the container keeps them."""
        for f in self._resampler.resample(None):
            for packet in self._stream.encode(f):
                self._out.mux(packet)
        for packet in self._stream.encode(None):
            self._out.mux(packet)
        if chapters and self.spec.container == "mp4":
            self._out.set_chapters(_chapter_list(chapters))  # type: ignore[arg-type]
        self._out.close()
        if chapters and self.spec.name == "mp3":
            mp3_chapters(self.path, chapters)

    def abort(self) -> None:
        try:
            self._out.close()
        except Exception:  # already broken: the caller removes the file
            pass


def _chapter_list(chapters: Sequence[tuple[str, float, float]]) -> list[dict[str, object]]:
    return [{"id": k + 1, "start": int(start * 1000), "end": int(end * 1000), "time_base": Fraction(1, 1000),
             "metadata": {"title": title}} for k, (title, start, end) in enumerate(chapters)]


def mp3_chapters(path: Path, chapters: Sequence[tuple[str, float, float]]) -> None:
    """Chapters into an MP3 after the fact: FFmpeg's muxer writes ID3v2 CHAP frames (under a CTOC,
    in order) only before the first packet, so the packets are copied into a new file behind them."""
    import av

    tmp = path.with_name(path.name + ".chapters")
    with av.open(str(path)) as source, av.open(str(tmp), mode="w", format="mp3") as out:
        for key, value in source.metadata.items():
            out.metadata[key] = value
        stream = source.streams.audio[0]
        copy = out.add_stream_from_template(stream)
        out.set_chapters(_chapter_list(chapters))  # type: ignore[arg-type]
        for packet in source.demux(stream):
            if packet.dts is None:  # the demuxer's empty end-of-stream packet
                continue
            packet.stream = copy
            out.mux(packet)
    tmp.replace(path)


def chapter_times(chapters: Sequence[Chapter], spans: Sequence[tuple[float, float]],
                  total: float) -> list[tuple[str, float, float]]:
    """(title, start, end) in seconds: a chapter runs from its first sentence to the next chapter."""
    out = []
    for k, chapter in enumerate(chapters):
        start = 0.0 if k == 0 else spans[chapter.first][0]
        end = spans[chapters[k + 1].first][0] if k + 1 < len(chapters) else total
        out.append((chapter.title, start, max(end, start)))
    return out
