"""Cloud voices through the app: streaming into the cache, aborts, fallback, budget, timings, metrics."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_azure import FakeAzure, Fault, cloud_settings, fake_azure  # noqa: F401

from reader import audio, create_app
from reader.speech import azure

TEXT = "The library opens early on weekdays. It closes late on weekends. Children read in the garden."


@pytest.fixture
def make_cloud_app(settings: Any, fake_azure: FakeAzure, espeak: Any, whisper: Any) -> Iterator[Callable[..., Any]]:
    """An app reading with the azure engine on FakeAzure (eSpeak as the offline voice)."""
    made: list[tuple[Any, list[Any]]] = []

    def make(*, stt: bool = False, **overrides: Any) -> Any:
        s = cloud_settings(settings, fake_azure, **overrides)
        engines: list[Any] = [azure.build_synthesizer(s)]
        transcribers: dict[str, Any] = {"whisper": whisper}
        if stt:
            engines.append(azure.build_transcriber(s))
            transcribers["azure"] = engines[-1]
            s = dataclasses.replace(s, stt="azure")
        app = create_app(s, synthesizers={"azure": engines[0], "espeak": espeak}, transcribers=transcribers)
        made.append((app, engines))
        return app

    yield make
    for app, engines in made:
        app.extensions["reader"].speech.close()
        for engine in engines:
            engine.close()


def document(client: Any, text: str = TEXT) -> str:
    resp = client.post("/api/documents", json={"text": text})
    assert resp.status_code in (200, 201)
    return str(resp.get_json()["id"])


def fetch(client: Any, url: str, **kwargs: Any) -> Any:
    """GET and read the whole body (an unread stream would hold its cache key)."""
    resp = client.get(url, **kwargs)
    _ = resp.data
    return resp


def problem_of(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    return resp.get_json()  # type: ignore[no-any-return]


def test_a_miss_streams_then_the_cache_serves_the_same_bytes(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    fake_azure.chunk_size, fake_azure.chunk_delay = 2048, 0.08
    client = make_cloud_app().test_client()
    url = f"/api/documents/{document(client)}/sentences/0/speech?voice=azure:coral"
    started = time.perf_counter()
    resp = client.get(url, buffered=False)
    chunks = iter(resp.response)
    first = next(chunks)
    first_at = time.perf_counter() - started
    data = first + b"".join(chunks)
    total = time.perf_counter() - started
    resp.close()
    assert resp.headers["X-Reader-Cache"] == "miss" and "ETag" not in resp.headers
    assert resp.headers["X-Reader-Voice"] == "azure:coral" and resp.mimetype == "audio/mpeg"
    assert len(data) > 4 * 2048 and first_at < total / 2  # the first bytes came long before the last
    again = client.get(url)
    assert again.headers["X-Reader-Cache"] == "hit" and again.data == data
    assert again.headers["ETag"] and float(again.headers["X-Reader-Duration"]) > 1.0
    assert len(fake_azure.speech_requests()) == 1


def test_no_partial_entry_when_the_client_goes_away(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    fake_azure.chunk_size, fake_azure.chunk_delay = 1024, 0.05
    app = make_cloud_app()
    client = app.test_client()
    url = f"/api/documents/{document(client)}/sentences/0/speech?voice=azure:coral"
    resp = client.get(url, buffered=False)
    next(iter(resp.response))
    resp.close()  # the listener skipped ahead
    assert app.extensions["reader"].speech.cache.stats()["entries"] == 0
    whole = client.get(url)
    assert whole.headers["X-Reader-Cache"] == "miss" and audio.decode(whole.data).shape[0] > 16000
    assert fetch(client, url).headers["X-Reader-Cache"] == "hit"


def test_no_partial_entry_when_the_service_drops_the_connection(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    fake_azure.chunk_size = 1024
    app = make_cloud_app()
    client = app.test_client()
    url = f"/api/documents/{document(client)}/sentences/1/speech?voice=azure:coral"
    fake_azure.faults.append(Fault(drop_after=3000))
    resp = client.get(url, buffered=False)
    assert resp.status_code == 200 and resp.headers["X-Reader-Cache"] == "miss"
    with pytest.raises(Exception, match="broke off"):
        b"".join(resp.response)
    resp.close()
    assert app.extensions["reader"].speech.cache.stats()["entries"] == 0
    assert fetch(client, url).headers["X-Reader-Cache"] == "miss"
    assert fetch(client, url).headers["X-Reader-Cache"] == "hit"


def test_errors_become_actionable_problems(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    client = make_cloud_app(cloud_retries=0).test_client()
    base = f"/api/documents/{document(client)}/sentences"
    fake_azure.faults.append(Fault(status=429, retry_after_ms=4200))
    resp = fetch(client, f"{base}/0/speech?voice=azure:coral")
    body = problem_of(resp, 429)
    assert resp.headers["Retry-After"] == "5" and "Try again in 5 s" in body["detail"]
    fake_azure.faults.append(Fault(status=401))
    body = problem_of(fetch(client, f"{base}/0/speech?voice=azure:coral"), 502)
    assert "AZURE_OPENAI_API_KEY" in body["detail"] and body["type"] == "/problems/cloud-configuration"
    problem_of(fetch(client, f"{base}/0/speech?voice=azure:coral&instructions=like+a+pirate"), 400)
    problem_of(fetch(client, f"{base}/0/speech?voice=azure:nobody"), 400)


def test_fallback_reads_with_the_offline_voice_and_says_why(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    app = make_cloud_app(fallback=True, cloud_retries=0)
    client = app.test_client()
    base = f"/api/documents/{document(client)}/sentences"
    fake_azure.faults.append(Fault(status=503))
    resp = fetch(client, f"{base}/0/speech?voice=azure:coral")
    assert resp.status_code == 200 and resp.headers["X-Reader-Fallback"] == "unavailable"
    assert resp.headers["X-Reader-Voice"] == "espeak:en-us" and resp.headers["Cache-Control"] == "no-store"
    assert "ETag" not in resp.headers and audio.decode(resp.data).shape[0] > 16000
    # While the engine cools down, the next sentences go straight to the offline voice.
    resp = fetch(client, f"{base}/1/speech?voice=azure:coral")
    assert resp.headers["X-Reader-Fallback"] == "unavailable" and len(fake_azure.speech_requests()) == 1
    timings = client.get(f"{base}/1/timings?voice=azure:coral")
    assert timings.headers["X-Reader-Fallback"] == "unavailable" and timings.get_json()["words"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'reader_fallbacks_total{engine="azure",reason="unavailable"} 3.0' in metrics


def test_daily_budget_per_client(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    sentences = ["The library opens early on weekdays.", "It closes late on weekends.",
                 "Children read in the garden."]
    client = make_cloud_app(daily_char_budget=50).test_client()
    base = f"/api/documents/{document(client, ' '.join(sentences))}/sentences"
    assert fetch(client, f"{base}/0/speech?voice=azure:coral").status_code == 200
    resp = fetch(client, f"{base}/1/speech?voice=azure:coral")
    body = problem_of(resp, 429)
    assert body["type"] == "/problems/over-budget" and "50 characters" in body["detail"]
    assert 0 < int(resp.headers["Retry-After"]) <= 86400
    assert fetch(client, f"{base}/0/speech?voice=azure:coral").headers["X-Reader-Cache"] == "hit"  # free
    other = fetch(client, f"{base}/1/speech?voice=azure:coral", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200  # another client has its own allowance
    with_fallback = make_cloud_app(daily_char_budget=50, fallback=True).test_client()
    resp = fetch(with_fallback, f"{base}/2/speech?voice=azure:coral")  # the same data dir: 36 used
    assert resp.headers["X-Reader-Fallback"] == "budget" and resp.headers["X-Reader-Voice"] == "espeak:en-us"
    assert len(fake_azure.speech_requests()) == 2


def test_cloud_words_are_timed_by_whisper_once(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    app = make_cloud_app()
    client = app.test_client()
    doc = document(client, "The quick brown fox jumps over the lazy dog.")
    assert fetch(client, f"/api/documents/{doc}/sentences/0/speech?voice=azure:coral").status_code == 200
    speech = app.extensions["reader"].speech
    speech.close()  # let the background alignment finish
    body = client.get(f"/api/documents/{doc}/sentences/0/timings?voice=azure:coral").get_json()
    sentence = "The quick brown fox jumps over the lazy dog."
    assert [sentence[w["start"]:w["end"]] for w in body["words"]] == sentence[:-1].split()
    times = [(w["t0"], w["t1"]) for w in body["words"]]
    assert all(t0 < t1 for t0, t1 in times) and all(a[0] <= b[0] for a, b in zip(times, times[1:]))
    assert times[-1][1] <= body["duration"] + 0.05 and times[-1][0] > body["duration"] / 2
    assert len(fake_azure.speech_requests()) == 1


def test_dictation_and_cost_metrics(make_cloud_app: Any, fake_azure: FakeAzure, espeak: Any) -> None:
    app = make_cloud_app(stt=True)
    client = app.test_client()
    voices = client.get("/api/voices").get_json()
    coral = next(v for v in voices["voices"] if v["id"] == "azure:coral")
    assert coral["remote"] is True and "calm narrator" in voices["styles"] and voices["free_styles"] is False
    assert not next(v for v in voices["voices"] if v["id"] == "espeak:en-us")["remote"]
    said = "Reading aloud helps people rest their eyes."
    spoken = espeak.synthesize(said, "en-us")
    clip = audio.encode(spoken.samples, spoken.sample_rate, "opus")
    resp = client.post("/api/transcriptions", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(clip), "clip.ogg", "audio/ogg"), "language": "en"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "eyes" in resp.get_json()["text"].lower()
    seen = fake_azure.requests[-1]
    assert seen.files["file"][:2] == ("audio.ogg", "audio/ogg") and seen.fields["language"] == "en"
    doc = document(client, said)
    for _ in range(3):
        fetch(client, f"/api/documents/{doc}/sentences/0/speech?voice=azure:coral")
    metrics = client.get("/metrics")
    text = metrics.get_data(as_text=True)
    assert metrics.content_type.startswith("text/plain")
    assert f'reader_tts_characters_total{{engine="azure"}} {float(len(said))}' in text
    assert f'reader_tts_cached_characters_total{{engine="azure"}} {float(2 * len(said))}' in text
    assert 'reader_stt_audio_seconds_total{engine="azure"}' in text
    assert 'reader_cloud_tokens_total{engine="azure",kind="input"}' in text


def test_timings_asked_first_let_the_audio_request_stream(make_cloud_app: Any, fake_azure: FakeAzure) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake_azure.chunk_size, fake_azure.chunk_delay = 2048, 0.05
    app = make_cloud_app()
    client = app.test_client()
    base = f"/api/documents/{document(client)}/sentences/2"
    with ThreadPoolExecutor(1) as pool:
        timings = pool.submit(lambda: app.test_client().get(f"{base}/timings?voice=azure:coral"))
        time.sleep(0.2)  # the browser's two requests, timings first
        speech = fetch(client, f"{base}/speech?voice=azure:coral")
        body = timings.result()
    assert speech.headers["X-Reader-Cache"] == "miss" and body.headers["X-Reader-Cache"] == "hit"
    assert len(body.get_json()["words"]) == 5 and len(fake_azure.speech_requests()) == 1


def test_gunicorn_keeps_no_partial_entry_when_the_listener_leaves(tmp_path: Any, fake_azure: FakeAzure) -> None:
    import http.client
    import json

    from conftest import start_server, stop_server

    fake_azure.chunk_size, fake_azure.chunk_delay = 1024, 0.05
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    base, proc = start_server(data_dir, workers=1, env={
        "READER_TTS": "azure", "READER_EXTRA_TTS": "espeak", "AZURE_OPENAI_ENDPOINT": fake_azure.url,
        "AZURE_OPENAI_API_KEY": fake_azure.key})
    connections: list[http.client.HTTPConnection] = []

    def request(path: str, method: str = "GET", body: str | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=30)
        connections.append(conn)
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        return conn.getresponse()

    try:
        doc = json.loads(request("/api/documents", "POST", json.dumps({"text": TEXT})).read())
        url = f"/api/documents/{doc['id']}/sentences/0/speech?voice=azure:coral"
        leaving = request(url)
        assert leaving.headers["X-Reader-Cache"] == "miss" and leaving.read(500)
        connections[-1].close()  # the listener closed the tab mid-sentence
        time.sleep(1.5)  # gunicorn notices at its next write, then closes the stream
        whole = request(url)
        assert whole.headers["X-Reader-Cache"] == "miss" and audio.decode(whole.read()).shape[0] > 16000
        hit = request(url)
        assert hit.headers["X-Reader-Cache"] == "hit" and hit.read()
        assert len(fake_azure.speech_requests()) == 2
    finally:
        for conn in connections:
            conn.close()
        stop_server(proc)


def test_privacy_page_says_where_cloud_text_and_audio_go(make_cloud_app: Any) -> None:
    page = make_cloud_app(stt=True).test_client().get("/privacy").get_data(as_text=True)
    assert "Reading with the azure voices sends the text of each sentence to the Azure OpenAI service" in page
    assert "up to 30 days" in page and "Dictation sends your recording to the Azure OpenAI service" in page
    assert "Reading with the espeak voices: nothing leaves this server." in page


def test_live_dictation_uses_the_services_streaming(make_cloud_app: Any, fake_azure: FakeAzure, espeak: Any) -> None:
    """Behind the browser's live protocol, the cloud engine streams (stream=true): its deltas are
    passed on as they come, then the done event; a partial pass sends the unsettled audio as WAV."""
    import json

    app = make_cloud_app(stt=True)
    client = app.test_client()
    said = "Reading aloud helps people rest their eyes."
    spoken = espeak.synthesize(said, "en-us")
    clip = audio.encode(spoken.samples, spoken.sample_rate, "opus")
    resp = client.post("/api/transcriptions/live", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(clip), "clip.ogg", "audio/ogg"), "language": "en", "partial": "0"})
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    events = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    seen = fake_azure.requests[-1]
    assert seen.fields["stream"] == "true" and seen.files["file"][:2] == ("audio.ogg", "audio/ogg")
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert len(deltas) >= 5 and events[-1]["type"] == "done"
    assert "".join(deltas).strip() == events[-1]["text"] and "eyes" in events[-1]["text"].lower()
    assert events[-1]["words"] == []  # the service gives no word times with a stream

    resp = client.post("/api/transcriptions/live", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(clip), "clip.ogg", "audio/ogg"), "language": "en",
                             "partial": "1", "offset": "0.5"})
    events = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    seen = fake_azure.requests[-1]
    assert seen.files["file"][:2] == ("audio.wav", "audio/wav") and events[-1]["offset"] == 0.5
    assert events[-1]["type"] == "done" and events[-1]["partial"] is True
    assert events[-1]["next_after"] == 2.0  # READER_CLOUD_LIVE_INTERVAL: each pass is billed

    # The service fails half-way: the deltas so far, then an error event (the status was sent).
    fake_azure.stream_fail_after = 2
    resp = client.post("/api/transcriptions/live", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(clip), "clip.ogg", "audio/ogg"), "language": "en", "partial": "0"})
    events = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    assert [e["type"] for e in events] == ["delta", "delta", "error"]
    assert events[-1]["status"] >= 500 and "Azure" in events[-1]["detail"]
    # Refused before any event: an ordinary problem response.
    fake_azure.stream_fail_after = None
    fake_azure.faults.append(Fault(status=401, code="401", message="Access denied due to invalid subscription key."))
    resp = client.post("/api/transcriptions/live", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(clip), "clip.ogg", "audio/ogg"), "language": "en", "partial": "0"})
    body = problem_of(resp, resp.status_code)
    assert resp.status_code >= 500 and "key" in body["detail"].lower()


def test_live_passes_to_the_cloud_can_be_switched_off_and_keep_to_their_share(
        make_cloud_app: Any, fake_azure: FakeAzure, espeak: Any) -> None:
    """READER_CLOUD_LIVE_INTERVAL=0: a partial pass sends nothing and tells the browser to stop
    passing; the final pass still goes. With a quota per minute, live passes take at most half
    of it and never wait for a turn: the rest is kept for recordings that end."""
    import json

    spoken = espeak.synthesize("Reading aloud helps people rest their eyes.", "en-us")
    clip = audio.encode(spoken.samples, spoken.sample_rate, "opus")

    def live(client: Any, partial: str) -> Any:
        return client.post("/api/transcriptions/live", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(clip), "clip.ogg", "audio/ogg"), "language": "en",
                                 "partial": partial})

    off = make_cloud_app(stt=True, cloud_live_interval=0).test_client()
    sent = len(fake_azure.requests)
    done = json.loads(live(off, "1").get_data(as_text=True).splitlines()[-1])
    assert done["text"] == "" and done["next_after"] is None and len(fake_azure.requests) == sent
    assert "eyes" in json.loads(live(off, "0").get_data(as_text=True).splitlines()[-1])["text"].lower()

    paced = make_cloud_app(stt=True, cloud_stt_per_minute=4).test_client()
    assert live(paced, "1").status_code == 200
    assert live(paced, "1").status_code == 200
    refused = live(paced, "1")  # half of 4 are taken: refused at once, not queued
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert live(paced, "0").status_code == 200  # a finished recording still has its turn
