"""Word timings there the moment a sentence's audio starts: Piper's own phoneme durations, or
for voices without them a first estimate from the audio's silences that the aligner refines."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import pytest
from fake_azure import FakeAzure, fake_azure  # noqa: F401
from test_cloud_app import document, fetch, make_cloud_app  # noqa: F401

from reader.speech.align import align, estimate
from reader.speech.base import WordTiming
from reader.speech.espeak import word_spans
from reader.speech.phoneme_timing import phoneme_times, word_timings

SENTENCES = [
    "The lighthouse stood on the rocks at the edge of the bay.",
    "Every night the keeper climbed the stairs and lit the lamp, and every morning he wrote the weather down.",
    "In the winter the storms came early, and the supply boat could not land for three weeks.",
]


def test_phonemes_are_laid_onto_words_when_espeak_joins_two() -> None:
    """"on the" comes out of eSpeak as one phoneme word ("ɔnðə"): both words still get their time."""
    text = "sat on the mat"
    phonemes = list("sæt ɔnðə mæt")
    id_map = {p: [i + 3] for i, p in enumerate(sorted(set(phonemes)))} | {"^": [1], "$": [2], "_": [0]}
    # 100 samples for every id: each phoneme (and its pad) 200, BOS and its pad 200, EOS 100.
    per_id = np.full(2 + 2 * len(phonemes) + 1, 100)
    times = phoneme_times(phonemes, per_id, id_map, offset=0)
    assert times[0] == ("s", 200, 400) and times[3] == (" ", 800, 1000)
    counts = {"sat": 3, "on": 2, "the": 2, "mat": 3}
    got = word_timings(text, word_spans(text), times, 1000, lambda w: counts[w])
    assert [text[w.start:w.end] for w in got] == ["sat", "on", "the", "mat"]
    assert [w.t0 for w in got] == [0.2, 1.0, 1.4, 2.0]  # "the" starts at "ð", inside "ɔnðə"
    assert all(a.t1 <= b.t0 + 1e-9 for a, b in zip(got, got[1:]))


def _tone(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def _quiet(seconds: float, rate: int = 16000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def test_an_estimate_puts_pauses_at_the_punctuation() -> None:
    text = "Yes, of course. Then we left"
    audio = np.concatenate([_quiet(0.2), _tone(0.3), _quiet(0.25), _tone(0.6), _quiet(0.4), _tone(0.7), _quiet(0.1)])
    got = estimate(text, audio, 16000)
    words = {text[s:e]: (t0, t1) for s, e, t0, t1 in got}
    assert words["Yes"][0] == pytest.approx(0.2, abs=0.02)
    assert words["of"][0] == pytest.approx(0.75, abs=0.02)  # after the comma's pause
    assert words["Then"][0] == pytest.approx(1.75, abs=0.02)  # after the full stop's
    assert words["left"][1] == pytest.approx(2.45, abs=0.02)
    assert [t[2] for t in got] == sorted(t[2] for t in got)


def test_piper_times_its_words_as_it_speaks(piper: Any, whisper: Any) -> None:
    """Piper's timings come with its audio and agree with what Whisper hears."""
    from reader import audio as audio_mod

    errors: list[float] = []
    for text in SENTENCES:
        speech = piper.synthesize(text, piper.voice_name)
        assert [text[w.start:w.end] for w in speech.words] == [text[s:e] for s, e in word_spans(text)]
        starts = [w.t0 for w in speech.words]
        assert starts == sorted(starts) and speech.words[-1].t1 <= speech.duration
        samples = audio_mod.decode(audio_mod.encode(speech.samples, speech.sample_rate, "wav"))
        heard = whisper.transcribe(samples, word_timestamps=True, language="en").words
        aligned = align(text, heard, samples.shape[0] / audio_mod.TRANSCRIBE_RATE)
        errors += [abs(w.t0 - a[2]) for w, a in zip(speech.words, aligned)]
    median = statistics.median(errors)
    print(f"Piper's timings against Whisper's: median {median * 1000:.0f} ms over {len(errors)} words")
    assert median < 0.12  # bench/word_timing.py measures it; Whisper's own error is of this order


def test_piper_timings_are_ready_with_the_audio(client: Any) -> None:
    made = client.post("/api/documents", json={"text": " ".join(SENTENCES[:2])}).get_json()
    base = f"/api/documents/{made['id']}/sentences/1"
    assert client.get(f"{base}/speech").status_code == 200
    body = client.get(f"{base}/timings").get_json()
    assert body["estimated"] is False and len(body["words"]) == len(made["sentences"][1]["text"].split())
    speech = client.application.extensions["reader"].speech
    key = speech.speak_key(speech_request(made, 1))
    assert speech.cache.get(key).words  # stored with the audio
    assert speech.aligner.refined(key) is None  # Whisper never had to run


def speech_request(made: dict[str, Any], n: int) -> Any:
    from reader.speech.base import SpeechRequest

    return SpeechRequest(text=made["sentences"][n]["text"], language="en")


def test_a_cloud_voice_gets_an_estimate_at_once_then_the_aligners_timings(
        make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    app = make_cloud_app()
    client = app.test_client()
    doc = document(client, " ".join(SENTENCES))
    errors: list[float] = []
    for n in range(3):
        base = f"/api/documents/{doc}/sentences/{n}"
        first = client.get(f"{base}/timings?voice=azure:coral")
        body = first.get_json()
        assert body["estimated"] is True and first.headers["Cache-Control"] == "no-store"
        refined = client.get(f"{base}/timings?voice=azure:coral&refined=1").get_json()
        assert refined["estimated"] is False
        assert [(w["start"], w["end"]) for w in body["words"]] == [(w["start"], w["end"]) for w in refined["words"]]
        errors += [abs(a["t0"] - b["t0"]) for a, b in zip(body["words"], refined["words"])]
        again = client.get(f"{base}/timings?voice=azure:coral").get_json()
        assert again["estimated"] is False  # the aligner's timings, from now on
    assert len(fake_azure.speech_requests()) == 3
    median = statistics.median(errors)
    print(f"first estimate against the aligner: median {median * 1000:.0f} ms over {len(errors)} words")
    assert median < 0.2


def test_word_timing_type_is_unchanged() -> None:
    assert WordTiming(0, 1, 0.0, 0.1).t1 == 0.1
