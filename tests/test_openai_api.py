"""Reader's OpenAI-compatible /v1 endpoints on a real gunicorn, driven by the openai SDK, and the
`openai` engine of another Reader pointed at them."""

from __future__ import annotations

import dataclasses
import io
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest
from conftest import start_server, stop_server, wer

from reader import audio, create_app
from reader.speech import openai_compat

TOKEN = "reader-test-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("v1") / "data"
    data_dir.mkdir()
    base, proc = start_server(data_dir, workers=2, env={
        "READER_API_TOKEN": TOKEN, "READER_TTS": "espeak", "READER_EXTRA_TTS": "",
        # Six requests at once from one client, maybe all on one worker: more than the default
        # bounds (four per client; one running and four waiting per worker).
        "READER_HEAVY_PER_CLIENT": "8", "READER_HEAVY_QUEUE": "6"})
    try:
        yield base
    finally:
        stop_server(proc)


@pytest.fixture
def client(server: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=TOKEN, base_url=server + "/v1", max_retries=0, timeout=60) as c:
        yield c


def test_speech_through_the_sdk(client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
            model="espeak", voice="en-us", input="Any OpenAI client can use Reader's voices.",
            response_format="wav") as resp:
        assert resp.headers["X-Reader-Voice"] == "espeak:en-us"
        data = resp.read()
    assert 1.5 < audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE < 5.0
    # An OpenAI voice name the engine lacks speaks with its default voice; speed is accepted.
    again = client.audio.speech.with_raw_response.create(model="tts-1", voice="alloy", input="Hello.", speed=1.25)
    assert again.headers["X-Reader-Voice"] == "espeak:en-us" and again.headers["content-type"] == "audio/mpeg"


def test_errors_in_openai_shape(server: str, client: openai.OpenAI) -> None:
    with openai.OpenAI(api_key="wrong", base_url=server + "/v1", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError) as denied:
            stranger.models.list()
    assert "READER_API_TOKEN" in denied.value.message and denied.value.code == "invalid_api_key"
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.speech.create(model="espeak", voice="klingon", input="Hi.")
    assert bad.value.code == "unknown_voice" and "/api/voices" in bad.value.message
    assert bad.value.type == "invalid_request_error"
    with pytest.raises(openai.BadRequestError, match="mp3"):
        client.audio.speech.create(model="espeak", voice="en-us", input="Hi.",
                                   response_format="ogg")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as big:  # as OpenAI answers: 400, in its shape
        client.audio.speech.create(model="espeak", voice="en-us", input="x" * 4097)
    assert big.value.status_code == 400 and "4,096" in big.value.message


def test_transcriptions_and_models_through_the_sdk(client: openai.OpenAI, espeak: Any) -> None:
    said = "Please call me back tomorrow morning."
    speech = espeak.synthesize(said, "en-us")
    wav = audio.encode(speech.samples, speech.sample_rate, "wav")
    result = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", wav, "audio/wav"),
                                                language="en")
    assert wer(said, result.text) < 0.3
    assert result.usage is not None and result.usage.type == "duration"
    text = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", wav, "audio/wav"),
                                              response_format="text")
    assert wer(said, str(text)) < 0.3
    assert {m.id for m in client.models.list()} == {"espeak", "whisper"}


def test_the_openai_engine_of_another_reader(server: str, settings: Any, whisper: Any, espeak: Any) -> None:
    s = dataclasses.replace(settings, tts="openai", stt="openai", openai_base_url=server + "/v1",
                            openai_api_key=TOKEN, openai_tts_model="espeak", openai_stt_model="whisper",
                            cloud_voices=("espeak:en-us",))
    synth, transcriber = openai_compat.build_synthesizer(s), openai_compat.build_transcriber(s)
    app = create_app(s, synthesizers={"openai": synth}, transcribers={"openai": transcriber, "whisper": whisper})
    try:
        local = app.test_client()
        said = "Please call me back tomorrow morning about the meeting."
        resp = local.post("/api/speech", json={"text": said, "voice": "openai:espeak:en-us", "format": "opus"})
        assert resp.status_code == 200 and resp.headers["X-Reader-Cache"] == "miss"
        assert resp.mimetype == "audio/ogg"
        heard = local.post("/api/transcriptions", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(resp.data), "clip.ogg"), "language": "en"})
        assert heard.status_code == 200, heard.get_data(as_text=True)
        assert wer(said, heard.get_json()["text"]) < 0.3
        again = local.post("/api/speech", json={"text": said, "voice": "openai:espeak:en-us", "format": "opus"})
        assert again.headers["X-Reader-Cache"] == "hit" and again.data == resp.data
    finally:
        app.extensions["reader"].speech.close()
        synth.close()
        transcriber.close()


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def _scrape(server: str) -> str:
    req = urllib.request.Request(server + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        return str(resp.read().decode())


def test_metrics_sum_every_gunicorn_worker(server: str, client: openai.OpenAI) -> None:
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(server + "/metrics", timeout=30)
    assert denied.value.code == 401
    denied.value.close()
    name = 'reader_tts_characters_total{engine="espeak"}'
    cached = 'reader_tts_cached_characters_total{engine="espeak"}'
    before = _scrape(server)
    # Plain words: the spoken text (what is billed) is then the text itself.
    texts = [f"Metrics sentence {n} for the workers." for n in "one two three four five six".split()]

    def say(text: str) -> bytes:
        return client.audio.speech.create(model="espeak", voice="en-us", input=text).read()

    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(say, texts))
    say(texts[0])
    after = _scrape(server)
    assert _metric(after, name) - _metric(before, name) == sum(map(len, texts))
    assert _metric(after, cached) - _metric(before, cached) == len(texts[0])
    assert 'pid="' not in after  # summed across workers, not one series per process


def test_speed_is_honoured_by_the_offline_voices(client: openai.OpenAI) -> None:
    text = "Reading speed changes how long this sentence takes to say out loud."
    seconds = {}
    for speed in (0.5, 1.0, 2.0):
        data = client.audio.speech.create(model="espeak", voice="en-us", input=text, speed=speed,
                                          response_format="wav").read()
        seconds[speed] = audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE
    assert seconds[0.5] > 1.6 * seconds[1.0] and seconds[2.0] < 0.65 * seconds[1.0], seconds


def test_instructions_a_voice_cannot_apply_never_fail(client: openai.OpenAI) -> None:
    for instructions in ("None", "Speak like a pirate", ""):  # Home Assistant sends "None"
        resp = client.audio.speech.with_raw_response.create(model="espeak", voice="en-us", input="Ahoy.",
                                                            instructions=instructions)
        assert resp.status_code == 200 and resp.headers["content-type"] == "audio/mpeg"


def test_voices_and_models_for_open_webui(server: str, client: openai.OpenAI) -> None:
    import json
    import urllib.request

    def get(path: str) -> Any:
        req = urllib.request.Request(server + path, headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    voices = get("/v1/audio/voices")["voices"]
    assert any(v["id"] == "espeak:en-us" for v in voices) and all({"id", "name"} <= set(v) for v in voices)
    assert get("/v1/audio/models") == {"models": [{"id": "espeak"}]}
    assert client.models.retrieve("whisper").id == "whisper"
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-9")
    assert missing.value.code == "model_not_found"


def test_transcription_formats_through_the_sdk(client: openai.OpenAI, espeak: Any) -> None:
    said = "Please call me back tomorrow morning. The meeting moved to Friday."
    speech = espeak.synthesize(said, "en-us")
    wav = audio.encode(speech.samples, speech.sample_rate, "wav")
    file = ("clip.wav", wav, "audio/wav")
    verbose = client.audio.transcriptions.create(model="whisper-1", file=file, response_format="verbose_json",
                                                 timestamp_granularities=["word", "segment"])
    assert wer(said, verbose.text) < 0.3 and verbose.language == "english"
    assert verbose.segments and verbose.segments[0].start >= 0 and verbose.segments[-1].end <= verbose.duration + 0.1
    assert verbose.words and len(verbose.words) >= 8
    assert all(a.start <= b.start for a, b in zip(verbose.words, verbose.words[1:]))
    srt = str(client.audio.transcriptions.create(model="whisper-1", file=file, response_format="srt"))
    assert srt.startswith("1\n00:00:0") and " --> " in srt and "Friday" in srt
    vtt = str(client.audio.transcriptions.create(model="whisper-1", file=file, response_format="vtt"))
    assert vtt.startswith("WEBVTT") and "Friday" in vtt
    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.audio.transcriptions.create(model="whisper-1", file=file, temperature=1.5)


def test_speech_as_server_sent_events(client: openai.OpenAI) -> None:
    import base64
    import json

    with client.audio.speech.with_streaming_response.create(
            model="espeak", voice="en-us", input="Events carry the audio in pieces.", response_format="mp3",
            stream_format="sse") as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[5:]) for line in resp.iter_lines() if line.startswith("data:")]
    assert [e["type"] for e in events][-1] == "speech.audio.done" and events[-1]["usage"]["input_tokens"] > 0
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert deltas and all(e["type"] == "speech.audio.delta" for e in events[:-1])
    data = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    assert 1.0 < audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE < 5.0


def test_streamed_transcription_and_translation(client: openai.OpenAI, espeak: Any) -> None:
    said = "Please call me back tomorrow morning."
    speech = espeak.synthesize(said, "en-us")
    file = ("clip.wav", audio.encode(speech.samples, speech.sample_rate, "wav"), "audio/wav")
    events = list(client.audio.transcriptions.create(model="whisper-1", file=file, stream=True))
    kinds = [e.type for e in events]
    assert kinds[-1] == "transcript.text.done" and set(kinds[:-1]) == {"transcript.text.delta"}
    done = events[-1]
    assert wer(said, done.text) < 0.3  # type: ignore[union-attr]
    assert "".join(e.delta for e in events[:-1]).strip() == done.text  # type: ignore[union-attr]
    # Spanish speech into English text, by the multilingual model (the SDK marks translations
    # deprecated, but clients use them).
    spanish = espeak.synthesize("Buenos días, quisiera reservar una mesa para dos personas esta noche.", "es")
    clip = ("es.wav", audio.encode(spanish.samples, spanish.sample_rate, "wav"), "audio/wav")
    with pytest.warns(DeprecationWarning):
        translated = client.audio.translations.create(model="whisper-1", file=clip)
    from reader.text.language import identify

    found = identify(translated.text + " " + translated.text)
    # Whisper base's translation of eSpeak's Spanish varies from run to run (its int8 run on
    # several threads): "Good morning, I would like to book a table…", "Good days, if you want
    # to save a table…". What holds is that the Spanish came out in English, greeting first.
    english = translated.text.lower()
    assert found is not None and found[0] == "en", translated.text
    assert english.startswith("good") and "buenos" not in english, translated.text


def test_long_input_streams_from_the_first_unit(server: str) -> None:
    """4,000 characters for the offline voice (four of eSpeak's units): the first bytes come after the
    first unit, long before the whole is synthesised; the stream decodes whole, and is then cached."""
    import json
    import time
    import urllib.request

    text = " ".join(f"Sentence {n} of a long input that an OpenAI client sends in one go, to be read aloud."
                    for n in range(60))[:4000]
    body = json.dumps({"model": "espeak", "voice": "en-us", "input": text, "response_format": "mp3"}).encode()
    req = urllib.request.Request(server + "/v1/audio/speech", data=body,
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as resp:
        assert resp.headers["X-Reader-Cache"] == "miss" and resp.headers.get("Content-Length") is None
        first = resp.read(1024)
        first_at = time.perf_counter() - started
        data = first + resp.read()
    total = time.perf_counter() - started
    seconds = audio.decode(data).shape[0] / audio.TRANSCRIBE_RATE
    assert seconds > 150  # all of it: about 4,000 characters of speech
    assert first_at < total * 0.6, (first_at, total)
    with urllib.request.urlopen(urllib.request.Request(server + "/v1/audio/speech", data=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}), timeout=60) as again:
        assert again.headers["X-Reader-Cache"] == "hit" and again.read() == data
