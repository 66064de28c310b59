"""Faults the speech core survives, each with the real parts: bounded synthesis units, damaged
cache entries, malformed bodies, audio that is not promised to be immutable, and the smaller
faults (free text in another language, a second title, voices that give no sound).

The faults that need a real server (a worker killed, a full or read-only disk, heavy load,
logs) are in test_server_faults.py."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CountingSynthesizer
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from reader import audio
from reader.speech import units
from reader.speech.base import SpeechRequest

TWO = "She had waited a long time at the station. The train came at last, slowly, in the rain."


def _app(settings: Any, piper: Any, espeak: Any, whisper: Any, **synths: Any) -> Any:
    from reader import create_app

    engines = {"piper": piper, "espeak": espeak, **synths}
    app = create_app(settings, synthesizers=engines, transcribers={"whisper": whisper})
    app.config["TESTING"] = True
    return app


# -- bounded synthesis units ------------------------------------------------------------------

def test_an_unpunctuated_run_reaches_the_engine_in_bounded_units(settings: Any, piper: Any, espeak: Any,
                                                                   whisper: Any) -> None:
    """4,000 digits once grew a worker to 20 GB: Piper got them as one unpunctuated run of words."""
    counting = CountingSynthesizer(piper)
    app = _app(settings, counting, espeak, whisper)
    digits = "".join(str(i % 10) for i in range(200))  # 200 spoken words, no punctuation
    resp = app.test_client().post("/api/speech", json={"text": digits, "format": "wav"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.data  # streamed unit by unit: read it all
    caps = piper.capabilities
    assert counting.calls >= 200 // caps.unit_words
    assert all(len(t) <= caps.unit_chars and len(t.split()) <= caps.unit_words for t in counting.texts)
    spoken = app.extensions["reader"].speech.spoken(digits, "en").text
    assert " ".join(counting.texts).split() == spoken.split()  # every word, once, in order
    seconds = audio.decode(body).shape[0] / audio.TRANSCRIBE_RATE
    assert seconds > 200 * 0.2  # all of it was spoken, joined into one stream


def test_units_join_word_timings_in_place(espeak: Any) -> None:
    small = CountingSynthesizer(espeak)
    small.capabilities = dataclasses.replace(espeak.capabilities, unit_chars=60, unit_words=6)
    text = ("The first clause runs on for a while, and the second one follows it closely; then a third part "
            "comes along with more words than one unit can hold at once")
    speech = units.synthesize(small, text, "en-us")
    assert small.calls > 3
    words = speech.words
    assert [text[w.start:w.end] for w in words] == text.replace(",", "").replace(";", "").split()
    assert all(a.t0 <= b.t0 for a, b in zip(words, words[1:]))
    assert words[-1].t1 <= speech.duration + 1e-3
    # A word of a later unit starts after the audio of the units before it.
    first_unit_words = len(small.texts[0].split())
    first_unit_seconds = len(espeak.synthesize(small.texts[0], "en-us").samples) / speech.sample_rate
    assert words[first_unit_words].t0 >= first_unit_seconds * 0.8


@given(st.text(alphabet=st.sampled_from("ab1 ,;.—\n"), max_size=400),
       st.integers(5, 80), st.integers(1, 12))
@hyp_settings(max_examples=300, deadline=None)
def test_units_stay_within_both_limits_and_keep_every_word(text: str, max_chars: int, max_words: int) -> None:
    spans = units.units(text, max_chars, max_words)
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    for s, e in spans:
        assert e - s <= max_chars and len(text[s:e].split()) <= max_words
    # Every character but white space is spoken once, in order (a cut inside a "word" falls at a
    # dash, or inside a word longer than a unit).
    assert "".join("".join(text[s:e].split()) for s, e in spans) == "".join(text.split())


def test_a_very_long_sentence_is_read_in_parts(client: Any) -> None:
    run = " ".join(["word"] * 4000)  # 20,000 characters, no punctuation
    doc = client.post("/api/documents", json={"text": run}).get_json()
    assert len(doc["sentences"]) > 30
    assert all(len(s["text"]) <= 600 for s in doc["sentences"])
    assert " ".join(s["text"] for s in doc["sentences"]).split() == run.split()


# -- damaged cache entries --------------------------------------------------------------------

def _cache_dir(app: Any) -> Path:
    return Path(app.extensions["reader"].settings.cache_dir)


def test_a_damaged_cache_file_is_never_served(app: Any, client: Any) -> None:
    doc = client.post("/api/documents", json={"text": TWO}).get_json()
    url = f"/api/documents/{doc['id']}/sentences/0/speech?voice=espeak:en-us&format=wav"  # > 32 KB: a file
    first = client.get(url)
    assert first.headers["X-Reader-Cache"] == "miss"
    files = list(_cache_dir(app).rglob("*.val"))
    assert files, "a large entry is stored as a file"
    for path in files:
        data = bytearray(path.read_bytes())
        for at in range(len(data) // 3, len(data) // 3 + 64):
            data[at] ^= 0xFF
        path.write_bytes(bytes(data))
    second = client.get(url)
    assert second.status_code == 200
    assert second.headers["X-Reader-Cache"] == "miss"  # dropped and made again
    assert second.headers["ETag"] == f'"{hashlib.sha256(second.data).hexdigest()}"'
    assert audio.decode(second.data).shape[0] > 0
    assert client.get(url).headers["X-Reader-Cache"] == "hit"
    for path in _cache_dir(app).rglob("*.val"):  # a truncated file: an unpickling error, not a 500
        path.write_bytes(path.read_bytes()[:100])
    assert client.get(url).status_code == 200


def test_a_damaged_inline_entry_is_never_served(app: Any, client: Any) -> None:
    doc = client.post("/api/documents", json={"text": "Hi. Yes."}).get_json()
    url = f"/api/documents/{doc['id']}/sentences/0/speech?voice=espeak:en-us&format=opus"  # small: in SQLite
    first = client.get(url)
    assert first.headers["X-Reader-Cache"] == "miss"
    with sqlite3.connect(_cache_dir(app) / "cache.db") as db:
        rows = db.execute("SELECT rowid, value FROM Cache WHERE key LIKE 'audio:%'").fetchall()
        assert rows and all(value is not None for _, value in rows)
        for rowid, value in rows:
            damaged = bytearray(value)
            damaged[len(damaged) // 2] ^= 0x55
            db.execute("UPDATE Cache SET value = ? WHERE rowid = ?", (bytes(damaged), rowid))
    second = client.get(url)
    assert second.status_code == 200 and second.headers["X-Reader-Cache"] == "miss"
    assert second.headers["ETag"] == f'"{hashlib.sha256(second.data).hexdigest()}"'
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'reader_cache_faults_total{kind="damaged"}' in metrics


# -- bytes that can change are never promised to be immutable ---------------------------------

@pytest.mark.parametrize("voice", ["espeak:en-us", "piper:en_US-joe-medium"])
def test_audio_that_can_change_is_revalidated_by_its_bytes(app: Any, client: Any, voice: str) -> None:
    doc = client.post("/api/documents", json={"text": TWO}).get_json()
    url = f"/api/documents/{doc['id']}/sentences/1/speech?voice={voice}"
    bodies = []
    for _ in range(2):
        resp = client.get(url)
        assert resp.headers["X-Reader-Cache"] == "miss"
        assert resp.headers["ETag"] == f'"{hashlib.sha256(resp.data).hexdigest()}"'
        assert "immutable" not in resp.headers["Cache-Control"]
        bodies.append(resp.data)
        app.extensions["reader"].speech.cache._store.clear()  # evicted: made again
    # Made again, the bytes differ (eSpeak's carried state, Piper's noise): hence no "immutable".
    assert bodies[0] != bodies[1]


# -- malformed bodies -------------------------------------------------------------------------

JSON_ROUTES = ["/api/documents", "/api/speech", "/v1/audio/speech"]


def _assert_client_error(resp: Any, path: str) -> None:
    assert 400 <= resp.status_code < 500, (path, resp.status_code, resp.get_data(as_text=True)[:200])
    body = resp.get_json()
    if path.startswith("/v1/"):
        assert set(body["error"]) >= {"message", "type", "param", "code"}
    else:
        assert resp.mimetype == "application/problem+json" and body["status"] == resp.status_code


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,
    '{"text": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"text": "\\ud800 lone surrogate"}',
    '{"input": "\\udfff", "voice": "alloy", "model": "piper"}',
    '{"text": "fine", "title": "\\ud83d"}',
    '{"text": "fine", "voice": "\\ud800"}',
    '{"url": "http://example.org/\\udc00"}',
    '{"text": 1e999999}',
    "\"just a string\"",
    "{\"text\": \"unterminated",
])
def test_malformed_json_is_a_client_error(client: Any, path: str, body: str) -> None:
    resp = client.post(path, data=body.encode("utf-8", "surrogatepass"), content_type="application/json")
    _assert_client_error(resp, path)


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_invalid_utf8_is_a_client_error(client: Any, path: str) -> None:
    resp = client.post(path, data=b'{"text": "caf\xe9"}', content_type="application/json")
    _assert_client_error(resp, path)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_FIELDS = st.fixed_dictionaries({}, optional={
    "text": _JSON | st.text(), "title": _JSON, "language": _JSON, "mode": _JSON, "voice": _JSON,
    "format": _JSON, "instructions": _JSON, "input": _JSON, "model": _JSON, "speed": _JSON,
    "response_format": _JSON, "stream_format": _JSON,
})
FUZZ_EXAMPLES = 150


@given(path=st.sampled_from(JSON_ROUTES), body=_FIELDS)
@hyp_settings(max_examples=FUZZ_EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_fuzzed_json_bodies_never_give_a_server_error(client: Any, path: str, body: dict[str, Any]) -> None:
    if isinstance(body.get("text"), str):
        body["text"] = body["text"][:40]  # keep any synthesis short
    if isinstance(body.get("input"), str):
        body["input"] = body["input"][:40]
    body.pop("url", None)  # never a network fetch
    raw = json.dumps(body).encode("utf-8", "surrogatepass")
    resp = client.post(path, data=raw, content_type="application/json")
    assert resp.status_code < 500, (path, body, resp.get_data(as_text=True)[:300])
    if resp.status_code >= 400:
        _assert_client_error(resp, path)


# -- the smaller faults -----------------------------------------------------------------------

def test_free_text_is_spoken_in_the_voice_language(app: Any) -> None:
    speech = app.extensions["reader"].speech
    french = speech.speak(SpeechRequest(text="Il a 3 chats.", voice="espeak:fr", format="wav", stream=False))
    assert french.text.text == "Il a trois chats."  # French words, not English ones
    english = speech.speak(SpeechRequest(text="He has 3 cats.", voice="espeak:en-us", format="wav", stream=False))
    assert "three" in english.text.text


def test_the_same_content_with_a_new_title_answers_what_is_stored(client: Any) -> None:
    first = client.post("/api/documents", json={"text": TWO, "title": "First title"})
    again = client.post("/api/documents", json={"text": TWO, "title": "Another title"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["title"] == "First title"
    assert client.get(f"/api/documents/{first.get_json()['id']}").get_json()["title"] == "First title"


def test_every_espeak_voice_on_offer_makes_sound(espeak: Any) -> None:
    voices = espeak.voices()
    assert len(voices) > 100
    for voice in voices:
        samples = espeak.synthesize("1 2 3", voice.name).samples
        if not samples.size or np.abs(samples.astype(np.int32)).max() <= 256:
            samples = espeak.synthesize("a b c", voice.name).samples
        assert samples.size and np.abs(samples.astype(np.int32)).max() > 256, voice.name
