"""The azure engine through the real openai SDK against FakeAzure: the wire, auth, retries, errors."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from fake_azure import FakeAzure, FakeCredential, Fault, cloud_settings, fake_azure  # noqa: F401

from reader import audio
from reader.speech import azure, cloud
from reader.speech.cloud_errors import CloudError, CloudNotConfigured, CloudRejected, CloudTimeout, RateLimited

SENTENCE = "The library opens early on weekdays."
_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close_engines() -> Any:
    """Close each engine's pooled connections (an open socket left to the GC is a warning, so an error)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def tts(settings: Any, fake: FakeAzure, **overrides: Any) -> cloud.CloudSynthesizer:
    engine = azure.build_synthesizer(cloud_settings(settings, fake, **overrides))
    _OPEN.append(engine)
    return engine


@pytest.mark.parametrize("fmt", ["mp3", "wav", "pcm"])
def test_speech_request_on_the_wire_and_real_audio_back(settings: Any, fake_azure: FakeAzure, fmt: str) -> None:
    engine = tts(settings, fake_azure)
    data = b"".join(engine.stream(SENTENCE, "coral", fmt, instructions=engine.capabilities.style_text("calm narrator")))
    seen = fake_azure.requests[-1]
    assert seen.path == "/openai/deployments/gpt-4o-mini-tts/audio/speech"
    assert seen.query == {"api-version": "2025-04-01-preview"}
    assert seen.headers["api-key"] == "test-key" and "authorization" not in seen.headers
    assert seen.json == {"model": "gpt-4o-mini-tts", "input": SENTENCE, "voice": "coral",
                         "response_format": fmt, "instructions": cloud.STYLE_PRESETS["calm narrator"]}
    if fmt == "pcm":
        seconds = len(data) / 2 / 24000
    else:
        seconds = audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE
    assert 1.0 < seconds < 5.0


def test_entra_id_token_provider_sends_a_bearer_token_for_the_scope(settings: Any, fake_azure: FakeAzure) -> None:
    fake_azure.token = "entra-token"
    credential = FakeCredential("entra-token")
    s = cloud_settings(settings, fake_azure, azure_api_key="", azure_scope="https://ai.azure.com/.default")
    engine = azure.build_synthesizer(s, credential=credential)
    _OPEN.append(engine)
    speech = engine.synthesize("Hello.", "alloy", speed=1.5)
    assert speech.sample_rate == 24000 and speech.duration > 0.2
    seen = fake_azure.requests[-1]
    assert seen.headers["authorization"] == "Bearer entra-token" and "api-key" not in seen.headers
    assert seen.json is not None and seen.json["speed"] == 1.5 and seen.json["response_format"] == "pcm"
    assert credential.scopes == [("https://ai.azure.com/.default",)]


def test_429_waits_as_long_as_retry_after_ms_says(settings: Any, fake_azure: FakeAzure) -> None:
    fake_azure.faults.append(Fault(status=429, retry_after_ms=600, route="speech"))
    started = time.perf_counter()
    data = b"".join(tts(settings, fake_azure).stream("Hi.", "coral", "mp3"))
    assert data and time.perf_counter() - started >= 0.6
    assert len(fake_azure.speech_requests()) == 2


def test_5xx_is_retried_then_reported(settings: Any, fake_azure: FakeAzure) -> None:
    engine = tts(settings, fake_azure, cloud_retries=1)
    fake_azure.faults.extend([Fault(status=500), Fault(status=503)])
    with pytest.raises(CloudError) as caught:
        engine.stream("Hi.", "coral", "mp3")
    assert caught.value.status == 502 and "(503) after 1 retries" in caught.value.detail
    assert len(fake_azure.speech_requests()) == 2
    fake_azure.faults.append(Fault(status=500))
    assert b"".join(engine.stream("Hi.", "coral", "mp3"))  # one failure, then the retry succeeds


def test_4xx_that_will_not_change_is_not_retried(settings: Any, fake_azure: FakeAzure) -> None:
    engine = tts(settings, fake_azure, cloud_retries=2)
    fake_azure.faults.append(Fault(status=400, code="invalid_value"))
    with pytest.raises(CloudRejected) as caught:
        engine.stream("Hi.", "coral", "mp3")
    assert caught.value.status == 422 and "invalid_value" in caught.value.detail
    assert len(fake_azure.speech_requests()) == 1


@pytest.mark.parametrize("overrides,words", [
    ({"azure_api_key": "wrong"}, ["(401)", "AZURE_OPENAI_API_KEY"]),
    ({"azure_tts_deployment": "gpt-4o-tts-typo"}, ["'gpt-4o-tts-typo'", "DeploymentNotFound",
                                                  "READER_AZURE_TTS_DEPLOYMENT"]),
    # A wrong route is not a missing deployment: the message says to check the route.
    ({"azure_api_version": "2023-01-01"}, ["(404", "READER_AZURE_ROUTE", "OPENAI_API_VERSION"]),
])
def test_configuration_errors_say_what_to_check(settings: Any, fake_azure: FakeAzure, overrides: dict[str, Any],
                                                words: list[str]) -> None:
    with pytest.raises(CloudNotConfigured) as caught:
        tts(settings, fake_azure, **overrides).stream("Hi.", "coral", "mp3")
    for word in words:
        assert word in caught.value.detail
    assert "wrong" not in caught.value.detail  # never the key
    assert len(fake_azure.requests) == 1  # not retried


def test_429_past_the_retries_asks_to_come_back_later(settings: Any, fake_azure: FakeAzure) -> None:
    fake_azure.faults.append(Fault(status=429, retry_after_ms=2500))
    with pytest.raises(RateLimited) as caught:
        tts(settings, fake_azure, cloud_retries=0).stream("Hi.", "coral", "mp3")
    assert caught.value.status == 429 and caught.value.retry_after == 2.5
    assert "Try again in 3 s" in caught.value.detail


def test_a_slow_service_times_out(settings: Any, fake_azure: FakeAzure) -> None:
    fake_azure.faults.append(Fault(delay=1.5))
    with pytest.raises(CloudTimeout) as caught:
        tts(settings, fake_azure, cloud_timeout=0.4, cloud_retries=0).stream("Hi.", "coral", "mp3")
    assert caught.value.status == 504


def test_a_dropped_connection_mid_body_raises_while_streaming(settings: Any, fake_azure: FakeAzure) -> None:
    fake_azure.chunk_size = 1024
    fake_azure.faults.append(Fault(drop_after=3000))
    stream = tts(settings, fake_azure).stream(SENTENCE, "coral", "mp3")
    with pytest.raises(CloudError, match="broke off"):
        for _ in stream:
            pass


def test_long_input_is_split_and_joined(settings: Any, fake_azure: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloud, "MAX_INPUT", 40)
    text = "First part of a long text, which goes on; second part of it, and a third part at the end."
    engine = tts(settings, fake_azure)
    aac = b"".join(engine.stream(text, "coral", "aac"))  # ADTS frames join end to end
    inputs = [r.json["input"] for r in fake_azure.speech_requests() if r.json]
    assert len(inputs) >= 3 and all(len(i) <= 40 for i in inputs)
    assert " ".join(inputs).replace("  ", " ") == text
    mp3 = b"".join(engine.stream(text, "coral", "mp3"))  # not joinable: pcm parts, encoded once
    assert {r.json["response_format"] for r in fake_azure.speech_requests()[len(inputs):] if r.json} == {"pcm"}
    whole = audio.decode(mp3).shape[0]
    assert whole > 4 * audio.TRANSCRIBE_RATE
    assert abs(audio.decode(aac).shape[0] - whole) < audio.TRANSCRIBE_RATE * 0.5


def test_concurrency_per_deployment_is_bounded(settings: Any, fake_azure: FakeAzure) -> None:
    fake_azure.header_delay = 0.15
    engine = tts(settings, fake_azure, cloud_concurrency=2)
    with ThreadPoolExecutor(6) as pool:
        sizes = list(pool.map(lambda i: len(b"".join(engine.stream(f"Sentence {i}.", "coral", "mp3"))), range(6)))
    assert all(sizes) and fake_azure.max_in_flight == 2


def test_styles_presets_and_free_text(settings: Any, fake_azure: FakeAzure) -> None:
    strict = tts(settings, fake_azure)
    assert strict.capabilities.style_text("Calm Narrator") == cloud.STYLE_PRESETS["calm narrator"]
    assert strict.capabilities.style_text(cloud.STYLE_PRESETS["storyteller"]) == cloud.STYLE_PRESETS["storyteller"]
    assert strict.capabilities.style_text(None) is None
    with pytest.raises(ValueError, match="calm narrator"):
        strict.capabilities.style_text("Speak like a pirate")
    free = tts(settings, fake_azure, allow_free_instructions=True)
    assert free.capabilities.style_text("Speak like a pirate") == "Speak like a pirate"
    with pytest.raises(ValueError):
        strict.stream("Hi.", "not-a-voice", "mp3")


def _webm(samples: np.ndarray) -> bytes:
    """A browser-like webm/opus recording, made with PyAV."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        stream: Any = out.add_stream("libopus", rate=48000, layout="mono")
        pcm = (np.interp(np.arange(0, len(samples) * 3) / 3, np.arange(len(samples)), samples) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def test_dictation_sends_the_recording_and_retries_once_as_wav(settings: Any, fake_azure: FakeAzure, espeak: Any) -> None:
    from conftest import wer

    said = "Please call me back tomorrow morning."
    speech = espeak.synthesize(said, "en-us")
    samples = audio.decode(audio.encode(speech.samples, speech.sample_rate, "wav"))
    recording = _webm(samples)
    fake_azure.reject_containers = ("webm",)
    engine = azure.build_transcriber(cloud_settings(settings, fake_azure))
    _OPEN.append(engine)
    result = engine.transcribe_file(recording, "blob", language="en", prompt="Names: Reader.", samples=samples)
    assert wer(said, result.text) < 0.3
    first, second = fake_azure.requests
    assert first.path == "/openai/deployments/gpt-4o-transcribe/audio/transcriptions"
    assert first.files["file"][:2] == ("audio.webm", "audio/webm") and first.files["file"][2] == recording
    assert first.fields == {"model": "gpt-4o-transcribe", "language": "en", "prompt": "Names: Reader.",
                            "response_format": "json"}
    assert second.files["file"][:2] == ("audio.wav", "audio/wav")
    assert [k for k, _ in result.usage] == ["input", "output"] and all(n > 0 for _, n in result.usage)


def test_reader_check_says_what_is_wrong(settings: Any, fake_azure: FakeAzure, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from reader.cli import main

    for name, value in {"READER_DATA_DIR": settings.data_dir, "READER_TTS": "azure", "READER_STT": "azure",
                        "AZURE_OPENAI_ENDPOINT": fake_azure.url, "AZURE_OPENAI_API_KEY": "test-key",
                        "READER_CLOUD_RETRIES": "0"}.items():
        monkeypatch.setenv(name, value)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "Reading with azure: deployment 'gpt-4o-mini-tts'" in out and "API key" in out
    assert "OK: heard 'Hello" in out and out.rstrip().endswith("All good.")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "wrong-key")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert out.count("refused Reader's credentials (401)") == 2 and "wrong-key" not in out



# -- the v1 route (Reader's default): /openai/v1/, the plain OpenAI client, no api-version --------

def test_v1_route_speech_and_transcription_on_the_wire(settings: Any, fake_azure: FakeAzure, espeak: Any) -> None:
    engine = tts(settings, fake_azure, azure_route="v1")
    data = b"".join(engine.stream(SENTENCE, "coral", "mp3"))
    seen = fake_azure.requests[-1]
    assert seen.path == "/openai/v1/audio/speech" and seen.query == {}
    assert seen.headers["api-key"] == "test-key"
    assert seen.json is not None and seen.json["model"] == "gpt-4o-mini-tts"
    assert 1.0 < audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE < 5.0
    said = "Please call me back tomorrow morning."
    speech = espeak.synthesize(said, "en-us")
    wav = audio.encode(speech.samples, speech.sample_rate, "wav")
    stt = azure.build_transcriber(cloud_settings(settings, fake_azure, azure_route="v1"))
    _OPEN.append(stt)
    result = stt.transcribe_file(wav, "clip.wav", language="en")
    seen = fake_azure.requests[-1]
    assert seen.path == "/openai/v1/audio/transcriptions" and seen.fields["model"] == "gpt-4o-transcribe"
    assert "please" in result.text.lower() and dict(result.usage)["input"] > 0


def test_v1_route_with_entra_id_and_its_errors(settings: Any, fake_azure: FakeAzure) -> None:
    fake_azure.token = "entra-token"
    credential = FakeCredential("entra-token")
    engine = azure.build_synthesizer(cloud_settings(settings, fake_azure, azure_route="v1", azure_api_key=""),
                                     credential=credential)
    _OPEN.append(engine)
    assert b"".join(engine.stream("Hi.", "coral", "mp3"))
    seen = fake_azure.requests[-1]
    assert seen.headers["authorization"] == "Bearer entra-token" and "api-key" not in seen.headers
    typo = tts(settings, fake_azure, azure_route="v1", azure_tts_deployment="gpt-4o-tts-typo")
    with pytest.raises(CloudNotConfigured, match="READER_AZURE_TTS_DEPLOYMENT"):
        typo.stream("Hi.", "coral", "mp3")


def test_policy_quota_and_model_voice_refusals_say_what_they_are(settings: Any, fake_azure: FakeAzure) -> None:
    engine = tts(settings, fake_azure, azure_route="v1", cloud_retries=0)
    fake_azure.filter_words = ("forbidden",)
    with pytest.raises(CloudRejected, match="content policy"):
        engine.stream("A forbidden sentence.", "coral", "mp3")
    fake_azure.faults.append(Fault(status=429, retry_after_ms=1500, code="429",
                                   message="Requests to the Audio API have exceeded token rate limit of your "
                                           "current quota. Please retry after 2 seconds."))
    with pytest.raises(RateLimited, match="quota") as limited:
        engine.stream("Hi.", "coral", "mp3")
    assert limited.value.retry_after == 1.5
    fake_azure.faults.append(Fault(status=429, retry_after=3, code="429", message="The server is busy."))
    with pytest.raises(RateLimited, match="busy"):
        engine.stream("Hi.", "coral", "mp3")
    old = tts(settings, fake_azure, azure_route="v1", azure_tts_deployment="tts-1", cloud_retries=0)
    fake_azure.deployments = (*fake_azure.deployments, "tts-1")
    with pytest.raises(CloudRejected) as refused:
        old.stream("Hi.", "ballad", "mp3")  # tts-1 has no ballad voice
    assert "invalid_value" in refused.value.detail


def test_a_recording_over_25_mb_is_refused_clearly(settings: Any, fake_azure: FakeAzure) -> None:
    stt = azure.build_transcriber(cloud_settings(settings, fake_azure, azure_route="v1", cloud_retries=0))
    _OPEN.append(stt)
    big = audio.encode(np.zeros(16000 * 60 * 14, dtype=np.int16), 16000, "wav")  # 27 MB
    assert len(big) > 25 * 1024 * 1024
    with pytest.raises(CloudRejected, match="25 MB"):
        stt.transcribe_file(big, "long.wav", samples=np.zeros(16000, dtype=np.float32))


def test_dictation_is_paced_to_the_quota_instead_of_failing(settings: Any, fake_azure: FakeAzure, espeak: Any) -> None:
    """Azure's default speech-to-text quota is 3 requests a minute: over it, the service answers 429.
    With the quota set, Reader queues the fourth request until there is room (a 4 s window here)."""
    speech = espeak.synthesize("Hello there.", "en-us")
    wav = audio.encode(speech.samples, speech.sample_rate, "wav")
    fake_azure.stt_quota = (3, 60.0)
    unpaced = azure.build_transcriber(cloud_settings(settings, fake_azure, azure_route="v1", cloud_retries=0))
    _OPEN.append(unpaced)
    for _ in range(3):
        unpaced.transcribe_file(wav, "a.wav")
    with pytest.raises(RateLimited, match="quota"):
        unpaced.transcribe_file(wav, "a.wav")
    fake_azure.stt_quota, fake_azure._stt_times = (3, 4.0), []
    paced = azure.build_transcriber(cloud_settings(settings, fake_azure, azure_route="v1", cloud_retries=0,
                                                   cloud_stt_per_minute=3))
    _OPEN.append(paced)
    assert paced.pacer.per_window == 3 and paced.pacer.window == 60.0
    paced.pacer = cloud.Pacer(3, window=4.5)  # a little wider than the service's window, as in practice
    started = time.perf_counter()
    texts = [paced.transcribe_file(wav, "a.wav").text for _ in range(5)]
    took = time.perf_counter() - started
    assert all("hello" in t.lower() for t in texts)
    assert took > 4.4  # the fourth and fifth waited for room in the next window, and none failed
