"""Kokoro-82M, the real model (joined from its PyPI parts and checked) with the voices of the npm
package kokoro-js: it reads the languages it has voices for, is chosen for them over eSpeak NG,
and is left out (with a warning) where its voices are not installed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from reader.speech.base import EngineUnavailable
from reader.speech.kokoro import KokoroSynthesizer, default_voices_dir


@pytest.fixture(scope="module")
def kokoro(tmp_path_factory: pytest.TempPathFactory) -> KokoroSynthesizer:
    if not default_voices_dir().is_dir():
        pytest.fail(f"Kokoro's voices are needed in {default_voices_dir()} (make test unpacks the npm package)")
    return KokoroSynthesizer(tmp_path_factory.mktemp("kokoro"), threads=2)


def test_kokoro_offers_its_languages_and_reads(kokoro: KokoroSynthesizer) -> None:
    voices = {v.name: v for v in kokoro.voices()}
    assert voices["af_heart"].language == "en-US" and voices["ff_siwis"].language == "fr"
    assert {"en-US", "en-GB", "es", "fr", "it", "pt-BR"} <= set(kokoro.capabilities.languages)
    speech = kokoro.synthesize("The keeper lit the lamp.", "af_heart")
    seconds = len(speech.samples) / speech.sample_rate
    assert speech.sample_rate == 24000 and 1.0 < seconds < 4.0
    assert float(abs(speech.samples.astype(float)).max()) > 3000  # sound, not silence
    faster = kokoro.synthesize("The keeper lit the lamp.", "af_heart", speed=1.5)
    assert len(faster.samples) < len(speech.samples)


def test_a_french_text_is_read_by_kokoro_and_heard_as_french(settings: Any, piper: Any, espeak: Any,
                                                            kokoro: KokoroSynthesizer, tmp_path: Path) -> None:
    import jiwer

    from reader import audio, create_app
    from reader.evaluation.normalise import general
    from reader.speech.whisper import WhisperTranscriber
    from reader.speech.whisper_models import multilingual_base
    from reader.text.language import identify

    app = create_app(settings, synthesizers={"piper": piper, "espeak": espeak, "kokoro": kokoro},
                     transcribers={"whisper": WhisperTranscriber(str(multilingual_base(tmp_path)))})
    client = app.test_client()
    text = "Le gardien du phare a allumé la lampe avant la nuit."
    doc = client.post("/api/documents", json={"text": text}).get_json()
    assert doc["voices"] == {"fr": "kokoro:ff_siwis"}  # the neural voice before eSpeak NG
    resp = client.get(f"/api/documents/{doc['id']}/sentences/0/speech?format=wav")
    assert resp.status_code == 200 and resp.headers["X-Reader-Voice"] == "kokoro:ff_siwis"
    heard = app.extensions["reader"].transcriber.transcribe(audio.decode(resp.data), language="fr").text
    found = identify(heard + " " + heard)
    assert found is not None and found[0] == "fr", heard
    assert jiwer.wer(general(text), general(heard)) <= 0.3, heard


def test_kokoro_is_left_out_where_its_voices_are_missing(settings: Any, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    import dataclasses

    from reader.wiring import _synthesizers

    with pytest.raises(EngineUnavailable, match="No Kokoro voices"):
        KokoroSynthesizer(tmp_path, tmp_path / "none")
    plain = dataclasses.replace(settings, kokoro_voices=str(tmp_path / "none"), tts="espeak")
    with caplog.at_level(logging.WARNING):
        built = _synthesizers(["espeak", "kokoro"], plain)
    assert list(built) == ["espeak"] and "kokoro is not offered" in caplog.text
    with pytest.raises(EngineUnavailable):
        _synthesizers(["kokoro"], dataclasses.replace(plain, tts="kokoro"))  # the main engine: loudly


def test_the_joined_model_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reader.speech import kokoro as module

    monkeypatch.setattr(module, "MODEL_SHA256", "0" * 64)
    with pytest.raises(module.KokoroUnavailable, match="refusing"):
        module.joined_model(tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-made is left
