"""The real offline engines: Piper speaks, Whisper listens, PyAV carries the audio between."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from conftest import SPEECH, speech_manifest, wer

from reader import audio


def test_piper_speaks_a_sentence_at_a_natural_pace(piper: Any) -> None:
    text = "Reading aloud helps people who find long documents tiring."
    speech = piper.synthesize(text, piper.default_voice())
    assert speech.sample_rate == 22050
    assert speech.samples.dtype == np.int16
    # About 2.5 words per second of natural speech, with room either way.
    words = len(text.split())
    assert words / 5.0 < speech.duration < words / 1.2
    encoded = audio.encode(speech.samples, speech.sample_rate, "mp3")
    decoded = audio.decode(encoded)
    assert abs(decoded.shape[0] / 16000 - speech.duration) < 0.15
    assert float(np.sqrt(np.mean(decoded**2))) > 0.01


def test_piper_rejects_an_unknown_voice(piper: Any) -> None:
    with pytest.raises(ValueError, match="Unknown voice"):
        piper.synthesize("Hi.", "nobody")


PASSAGE = [
    "The library opens early on weekdays and closes late on weekends.",
    "Reading aloud helps people who find long documents tiring.",
    "Please remember to bring your own bag when you visit the market.",
    "The weather turned cold and the river froze over during the night.",
]


def test_whisper_reads_back_piper(piper: Any, whisper: Any) -> None:
    """Word error rate over a short passage, each sentence through opus and back."""
    heard = []
    for text in PASSAGE:
        speech = piper.synthesize(text, piper.default_voice())
        samples = audio.decode(audio.encode(speech.samples, speech.sample_rate, "opus"))
        heard.append(whisper.transcribe(samples).text)
    assert wer(" ".join(PASSAGE), " ".join(heard)) < 0.15, heard


@pytest.mark.parametrize("clip_id", ["LJ001-0001", "LJ001-0006", "jfk"])
def test_whisper_on_human_recordings(whisper: Any, clip_id: str) -> None:
    manifest = speech_manifest()
    row = manifest.get(clip_id) or next(r for r in manifest.values() if clip_id in r["path"])
    samples = audio.decode((SPEECH / row["path"]).read_bytes())
    assert abs(samples.shape[0] / 16000 - row["duration_s"]) < 0.1
    result = whisper.transcribe(samples)
    assert wer(row["reference"], result.text) < 0.15, result.text


def _transcode(data: bytes, container: str, codec: str, rate: int) -> bytes:
    """Re-encode audio as a browser would record it (webm/opus, mp4/aac)."""
    import av

    samples = audio.decode(data, rate=rate)
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for p in stream.encode(f):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return buf.getvalue()


@pytest.mark.parametrize("container,codec,rate", [
    ("webm", "libopus", 48000), ("mp4", "aac", 44100), ("ogg", "libopus", 48000),
    ("mp3", "libmp3lame", 44100), ("flac", "flac", 16000), ("wav", "pcm_s16le", 44100),
])
def test_decode_browser_containers(container: str, codec: str, rate: int) -> None:
    source = (SPEECH / "ljspeech" / "LJ001-0002.wav").read_bytes()
    expected = audio.decode(source).shape[0] / 16000
    data = _transcode(source, container, codec, rate)
    got = audio.decode(data).shape[0] / 16000
    assert abs(got - expected) < 0.1
