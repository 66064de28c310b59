"""The JSON API with the real engines: documents, voices, speech, timings, transcriptions."""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any

import numpy as np
import pytest

from reader import audio

TEXT = (
    "# A short story\n\n"
    "Dr. Smith arrived at 3.30 p.m. on Friday. She had waited a long time.\n\n"
    "- First item of the list\n- Second item\n\n"
    "The end."
)


def problem_of(resp: Any, status: int) -> dict[str, Any]:
    """Assert a problem+json response with the given status and the standard shape."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert "Traceback" not in body["detail"]
    return body


def create(client: Any, text: str = TEXT, **extra: Any) -> dict[str, Any]:
    resp = client.post("/api/documents", json={"text": text, **extra})
    assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    return resp.get_json()


def test_create_document_has_blocks_and_sentences_with_offsets(client: Any) -> None:
    resp = client.post("/api/documents", json={"text": TEXT})
    assert resp.status_code == 201
    doc = resp.get_json()
    assert resp.headers["Location"] == f"/api/documents/{doc['id']}"
    assert doc["title"] == "A short story"
    kinds = [b["kind"] for b in doc["blocks"]]
    assert kinds == ["heading", "paragraph", "list_item", "list_item", "paragraph"]
    texts = [s["text"] for s in doc["sentences"]]
    assert texts == [
        "A short story",
        "Dr. Smith arrived at 3.30 p.m. on Friday.",
        "She had waited a long time.",
        "First item of the list",
        "Second item",
        "The end.",
    ]
    for s in doc["sentences"]:
        block = doc["blocks"][s["block"]]
        assert block["text"][s["start"]:s["end"]] == s["text"]
    assert [s["index"] for s in doc["sentences"]] == list(range(len(texts)))


def test_same_text_same_id_and_get_returns_it(client: Any) -> None:
    first = client.post("/api/documents", json={"text": "Hello there. Bye."})
    second = client.post("/api/documents", json={"text": "Hello there. Bye."})
    assert first.status_code == 201
    assert second.status_code == 200  # already stored: same content, same id
    assert first.get_json()["id"] == second.get_json()["id"]
    got = client.get(f"/api/documents/{first.get_json()['id']}")
    assert got.status_code == 200
    assert got.get_json() == first.get_json()
    other = create(client, "Hello there. Bye now.")
    assert other["id"] != first.get_json()["id"]


def test_documents_survive_a_restart(make_app: Any) -> None:
    doc = create(make_app().test_client())
    again = make_app().test_client().get(f"/api/documents/{doc['id']}")
    assert again.status_code == 200
    assert again.get_json()["sentences"] == doc["sentences"]


def test_voices_lists_piper_default_and_espeak(client: Any) -> None:
    body = client.get("/api/voices").get_json()
    ids = [v["id"] for v in body["voices"]]
    assert body["default"] == "piper:en_US-joe-medium"
    assert body["default"] in ids
    assert "espeak:en-us" in ids
    assert [v["id"] for v in body["voices"] if v["default"]] == [body["default"]]
    assert set(body["formats"]) == {"mp3", "opus", "aac", "flac", "wav", "pcm"}


def test_sentence_speech_is_cached_and_conditional(client: Any) -> None:
    doc = create(client)
    url = f"/api/documents/{doc['id']}/sentences/2/speech"
    first = client.get(url)
    assert first.status_code == 200
    assert first.mimetype == "audio/mpeg"
    assert first.headers["X-Reader-Cache"] == "miss"
    seconds = audio.decode(first.data).shape[0] / audio.TRANSCRIBE_RATE
    assert 1.0 < seconds < 5.0  # "She had waited a long time." at a natural pace
    # Piper's noise makes each synthesis a little different: the bytes decide the ETag, and no
    # cache may keep them as immutable (a re-synthesis after eviction gives other bytes).
    assert first.headers["Cache-Control"] == "public, no-cache"
    etag = first.headers["ETag"]
    assert etag == f'"{hashlib.sha256(first.data).hexdigest()}"'

    second = client.get(url)
    assert second.headers["X-Reader-Cache"] == "hit"
    assert second.data == first.data
    assert second.headers["ETag"] == etag

    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


@pytest.mark.parametrize("fmt,mime", [
    ("opus", "audio/ogg"), ("aac", "audio/aac"), ("flac", "audio/flac"), ("wav", "audio/wav"),
])
def test_sentence_speech_formats_decode(client: Any, fmt: str, mime: str) -> None:
    doc = create(client, "Formats are easy to check.")
    resp = client.get(f"/api/documents/{doc['id']}/sentences/0/speech?format={fmt}&voice=espeak:en-us")
    assert resp.status_code == 200
    assert resp.mimetype == mime
    seconds = audio.decode(resp.data).shape[0] / audio.TRANSCRIBE_RATE
    assert 0.8 < seconds < 5.0


def test_pcm_is_24khz_mono_s16(client: Any) -> None:
    resp = client.post("/api/speech", json={"text": "Raw samples.", "format": "pcm",
                                             "voice": "espeak:en-us"})
    assert resp.status_code == 200
    samples = np.frombuffer(resp.data, dtype="<i2")
    seconds = samples.shape[0] / 24000
    assert 0.4 < seconds < 3.0
    assert np.abs(samples).max() > 1000


def test_voice_is_part_of_the_cache_key_but_speed_is_not(client: Any) -> None:
    doc = create(client, "Voices differ.")
    base = f"/api/documents/{doc['id']}/sentences/0/speech"
    assert client.get(base).headers["X-Reader-Cache"] == "miss"
    assert client.get(base + "?voice=espeak:en-us").headers["X-Reader-Cache"] == "miss"
    assert client.get(base + "?voice=espeak:en-us").headers["X-Reader-Cache"] == "hit"
    # A speed parameter is not part of the audio: the browser sets playbackRate.
    assert client.get(base + "?speed=2").headers["X-Reader-Cache"] == "hit"


def test_timings_from_espeak_map_onto_the_sentence_words(client: Any) -> None:
    doc = create(client, "The   quick brown fox jumps over the lazy dog.")
    sentence = doc["sentences"][0]["text"]
    body = client.get(
        f"/api/documents/{doc['id']}/sentences/0/timings?voice=espeak:en-us"
    ).get_json()
    words = [sentence[w["start"]:w["end"]] for w in body["words"]]
    assert words == ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]
    times = [(w["t0"], w["t1"]) for w in body["words"]]
    assert all(t0 < t1 for t0, t1 in times)
    assert all(a[0] <= b[0] for a, b in zip(times, times[1:]))
    assert times[-1][1] <= body["duration"] + 0.05


def test_timings_for_piper_map_onto_the_written_words(client: Any) -> None:
    """Piper times its spoken words from its phoneme durations; they map back onto the
    written words, numbers and abbreviations read as several words included."""
    doc = create(client, "The quick brown fox jumps over the lazy dog. It cost $3,497 on Oct. 5.")
    for n, expected in [(0, ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]),
                        (1, ["It", "cost", "$3,497", "on", "Oct.", "5"])]:
        sentence = doc["sentences"][n]["text"]
        body = client.get(f"/api/documents/{doc['id']}/sentences/{n}/timings").get_json()
        assert [sentence[w["start"]:w["end"]] for w in body["words"]] == expected
        starts = [w["t0"] for w in body["words"]]
        assert starts == sorted(starts) and starts[-1] > starts[0]
        assert body["words"][-1]["t1"] <= body["duration"] + 0.05


def test_free_speech_endpoint(client: Any) -> None:
    resp = client.post("/api/speech", json={"text": "Hello from the speech endpoint."})
    assert resp.status_code == 200
    assert resp.mimetype == "audio/mpeg"
    assert resp.headers["X-Reader-Cache"] == "miss"
    assert client.post("/api/speech", json={"text": "Hello from the speech endpoint."}).headers[
        "X-Reader-Cache"] == "hit"


def test_transcription_of_piper_speech(client: Any) -> None:
    from conftest import wer

    sentence = "The library opens early on weekdays and closes late on weekends."
    speech = client.post("/api/speech", json={"text": sentence, "format": "opus"})
    resp = client.post(
        "/api/transcriptions",
        data={"file": (io.BytesIO(speech.data), "clip.ogg", "audio/ogg"), "language": "en"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert wer(sentence, resp.get_json()["text"]) < 0.15


def test_healthz(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_security_headers(client: Any) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp


# -- bad input: every one a clear 4xx problem+json --------------------------------------------


@pytest.mark.parametrize("payload,status", [
    ({"text": ""}, 400),
    ({"text": "   \n\t  \n "}, 400),
    ({"text": 42}, 400),
    ({}, 400),
    ({"text": "Fine.", "language": "not a language!"}, 400),
])
def test_bad_document_bodies(client: Any, payload: dict[str, Any], status: int) -> None:
    problem_of(client.post("/api/documents", json=payload), status)


def test_document_text_over_the_limit(make_app: Any) -> None:
    client = make_app(max_text_chars=1000).test_client()
    body = problem_of(client.post("/api/documents", json={"text": "word " * 300}), 413)
    assert "1,000" in body["detail"]


def test_request_body_over_the_upload_limit(make_app: Any) -> None:
    client = make_app(max_upload_mb=1).test_client()
    boundary = "b0undary"
    big = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n".encode()
           + b"x" * (1024 * 1024 + 10) + f"\r\n--{boundary}--\r\n".encode())
    body = problem_of(client.post("/api/transcriptions", data=big,
                                  content_type=f"multipart/form-data; boundary={boundary}"), 413)
    assert "1 MB" in body["detail"]


def test_not_json(client: Any) -> None:
    problem_of(client.post("/api/documents", data="text=hi", content_type="text/plain"), 415)
    problem_of(client.post("/api/documents", data="{not json", content_type="application/json"), 400)


def test_unknown_document_voice_format_and_index(client: Any) -> None:
    doc = create(client, "One. Two.")
    base = f"/api/documents/{doc['id']}/sentences"
    problem_of(client.get("/api/documents/0123456789abcdef01234567"), 404)
    problem_of(client.get("/api/documents/../../etc/passwd"), 404)
    problem_of(client.get("/api/documents/nonsense"), 404)
    problem_of(client.get(f"{base}/2/speech"), 404)
    problem_of(client.get(f"{base}/-1/speech"), 404)
    body = problem_of(client.get(f"{base}/0/speech?voice=piper:nobody"), 400)
    assert "/api/voices" in body["detail"]
    problem_of(client.get(f"{base}/0/speech?voice=martian:zork"), 400)
    body = problem_of(client.get(f"{base}/0/speech?format=ogg-vorbis"), 400)
    assert "mp3" in body["detail"]
    problem_of(client.get(f"{base}/0/timings?voice=espeak:klingon"), 400)
    problem_of(client.get("/api/nothing-here"), 404)
    problem_of(client.delete("/api/documents"), 405)


def test_bad_speech_requests(make_app: Any) -> None:
    client = make_app(max_speech_chars=50).test_client()
    problem_of(client.post("/api/speech", json={"text": ""}), 400)
    problem_of(client.post("/api/speech", json={"text": "x" * 51}), 413)
    problem_of(client.post("/api/speech", json={"text": "Hi.", "voice": 3}), 400)
    problem_of(client.post("/api/speech", json={"text": "Hi.", "format": "mp9"}), 400)
    problem_of(client.post("/api/speech", data=b"hi", content_type="text/plain"), 415)


def _upload(client: Any, data: bytes, name: str = "clip.webm", **form: str) -> Any:
    return client.post(
        "/api/transcriptions",
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def test_bad_transcriptions(client: Any) -> None:
    problem_of(client.post("/api/transcriptions", data={}, content_type="multipart/form-data"), 400)
    problem_of(_upload(client, b""), 415)
    problem_of(_upload(client, b"\x00\x01binary junk that is not audio" * 50), 415)
    problem_of(_upload(client, b"%PDF-1.4\n1 0 obj<<>>endobj\n" * 20, "doc.pdf"), 415)
    silence = audio.encode(np.zeros(16000 * 2, dtype=np.int16), 16000, "wav")
    body = problem_of(_upload(client, silence, "silence.wav"), 422)
    assert "silent" in body["detail"] or "speech" in body["detail"]
    noise_floor = audio.encode((np.random.default_rng(1).normal(0, 30, 16000 * 2)).astype(np.int16), 16000, "wav")
    problem_of(_upload(client, noise_floor, "hiss.wav"), 422)
    problem_of(_upload(client, silence, "a.wav", language="xx yy"), 400)
    speech = client.post("/api/speech", json={"text": "Hello.", "format": "wav"}).data
    problem_of(_upload(client, speech, "a.wav", language="de"), 422)


def test_truncated_audio_transcribes_what_it_has(client: Any) -> None:
    from conftest import wer

    sentence = "Please call me back tomorrow morning about the meeting with the architects."
    data = client.post("/api/speech", json={"text": sentence, "format": "mp3"}).data
    resp = _upload(client, data[: len(data) * 2 // 3], "cut.mp3")
    assert resp.status_code == 200
    text = resp.get_json()["text"]
    assert text and wer(sentence, text) < 0.6  # the tail is missing, the start is there
    assert "call me back" in text.lower()


def test_too_long_recording(make_app: Any) -> None:
    client = make_app(max_audio_seconds=2).test_client()
    long = audio.encode(np.zeros(16000 * 5, dtype=np.int16), 16000, "flac")
    problem_of(_upload(client, long, "long.flac"), 413)


def test_free_speech_is_rate_limited_per_client(make_app: Any) -> None:
    client = make_app(speech_per_minute=3).test_client()
    for _ in range(3):
        assert client.post("/api/speech", json={"text": "Once more.", "voice": "espeak:en-us"}).status_code == 200
    resp = client.post("/api/speech", json={"text": "Once more.", "voice": "espeak:en-us"})
    body = problem_of(resp, 429)
    assert "3 a minute" in body["detail"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    other = client.post("/api/speech", json={"text": "Hi.", "voice": "espeak:en-us"},
                        environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200  # another client has its own allowance


def test_syllable_breaks_of_a_document(client: Any) -> None:
    doc = create(client, "Reading syllables is helpful. Ok.")
    body = client.get(f"/api/documents/{doc['id']}/syllables").get_json()
    sentence = doc["sentences"][0]["text"]
    cuts = body["sentences"]["0"]
    marked = "".join(ch + ("·" if i + 1 in cuts else "") for i, ch in enumerate(sentence))
    assert marked == "Read·ing syl·lables is help·ful."  # the hyphenation patterns keep 3 letters at the end
    assert "1" not in body["sentences"]  # "Ok." has no word long enough
    problem_of(client.get("/api/documents/000000000000000000000000/syllables"), 404)


def _live(client: Any, data: bytes, name: str = "clip.wav", **form: str) -> Any:
    return client.post("/api/transcriptions/live", data={"file": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data", buffered=True)


def _events(resp: Any) -> list[dict[str, Any]]:
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson", resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    return [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]


def test_live_dictation_passes(client: Any) -> None:
    """Passes over a growing recording: the words so far with their times, from `offset` on;
    the final pass takes the whole recording."""
    from conftest import wer

    sentence = "Please call me back tomorrow morning about the meeting with the architects."
    speech = client.post("/api/speech", json={"text": sentence, "format": "wav", "voice": "espeak:en-us"}).data
    samples = audio.decode(speech)
    half = audio.encode((samples[: len(samples) // 2] * 32767).astype(np.int16), 16000, "wav")
    events = _events(_live(client, half, partial="1", language="en"))
    done = events[-1]
    assert done["type"] == "done" and done["partial"] is True and done["offset"] == 0 and done["next_after"] == 0
    assert "call me back" in done["text"].lower() and "meeting" not in done["text"].lower()
    assert "".join(e["text"] for e in events if e["type"] == "delta").strip() == done["text"]
    times = [(w["start"], w["end"]) for w in done["words"]]
    assert times == sorted(times) and all(0 <= a <= b <= done["duration"] + 0.05 for a, b in times)
    # From the end of "back" on: only what follows is heard again, its times in the whole recording.
    back = next(w for w in done["words"] if "back" in w["text"].lower())
    later = _events(_live(client, speech, partial="1", language="en", offset=str(back["end"])))[-1]
    assert later["offset"] == round(back["end"], 3)
    assert not re.search(r"\bcall\b", later["text"].lower()) and "meeting" in later["text"].lower()
    assert all(w["start"] >= back["end"] - 0.01 for w in later["words"])
    final = _events(_live(client, speech, partial="0", language="en"))[-1]
    assert final["partial"] is False and wer(sentence, final["text"]) < 0.2


def test_live_dictation_refusals_and_silence(client: Any, make_app: Any) -> None:
    silence = audio.encode(np.zeros(16000, dtype=np.int16), 16000, "wav")
    done = _events(_live(client, silence, partial="1"))[-1]  # nothing said yet: no text, no error
    assert done == {"type": "done", "text": "", "words": [], "partial": True, "offset": 0.0, "duration": 1.0,
                    "language": None, "next_after": 0.0}
    problem_of(_live(client, silence, partial="0"), 422)
    problem_of(_live(client, b"\x00\x01binary junk" * 80), 415)
    problem_of(_live(client, silence, partial="1", offset="soon"), 400)
    problem_of(_live(client, silence, partial="1", offset="-1"), 400)
    problem_of(_live(client, silence, partial="1", offset="1e9"), 400)
    problem_of(_live(client, silence, language="xx yy"), 400)
    problem_of(client.post("/api/transcriptions/live", data={}, content_type="multipart/form-data"), 400)
    problem_of(_live(client, silence, prompt="x" * 1001), 400)
    problem_of(_live(client, silence, field="password"), 400)
    short = make_app(max_audio_seconds=2).test_client()
    long = audio.encode(np.zeros(16000 * 5, dtype=np.int16), 16000, "flac")
    problem_of(_live(short, long, "long.flac", partial="1"), 413)


def test_a_live_pass_decodes_at_most_its_window(client: Any) -> None:
    """However long the recording and whatever the offset, a pass decodes at most the last 28 s."""
    from reader.speech.dictation import LIVE_WINDOW_SECONDS

    speech = audio.decode(client.post("/api/speech", json={"text": "One more thing.", "format": "wav",
                                                             "voice": "espeak:en-us"}).data)
    long = np.concatenate([np.zeros(16000 * 40, dtype=np.float32), speech])
    flac = audio.encode((long * 32767).astype(np.int16), 16000, "flac")  # small: the silence packs away
    done = _events(_live(client, flac, "long.flac", partial="1", language="en"))[-1]
    assert done["offset"] == round(len(long) / 16000 - LIVE_WINDOW_SECONDS, 3)
    assert "thing" in done["text"].lower() and done["words"][0]["start"] > 40 - 0.5


def test_a_live_pass_left_early_gives_its_slot_back(make_app: Any) -> None:
    """The client goes away mid-pass (the browser aborts it): decoding stops, the slot is free."""
    app = make_app(heavy_per_client=1)
    client = app.test_client()
    speech = client.post("/api/speech", json={"text": "Hello there, how are you today?", "format": "wav"}).data
    for _ in range(3):
        resp = client.post("/api/transcriptions/live", data={"file": (io.BytesIO(speech), "a.wav"), "partial": "1",
                                                             "language": "en"},
                           content_type="multipart/form-data", buffered=False)
        assert resp.status_code == 200
        resp.close()  # before reading a line
    assert app.extensions["reader"].heavy.stats()["active"] == 0
    assert _events(_live(client, speech, partial="1", language="en"))[-1]["text"]


def test_whisper_loops_are_cut_from_the_final_text() -> None:
    from reader.speech.dictation import hotwords_for, without_loops

    assert without_loops("Triple, oh, yeah, yeah, yeah, yeah, yeah, yeah, yeah") == "Triple, oh, yeah, yeah"
    assert without_loops("Comma. Comma. Comma. Comma.") == "Comma."
    assert without_loops("I said no, no, no to him.") == "I said no, no, no to him."
    assert without_loops("Thank you very much.") == "Thank you very much."
    # Addresses and numbers get no hotwords (digit patterns made recognition hang on the CPU's kernels).
    assert all(hotwords_for(kind) is None for kind in ("email", "url", "tel", "number", "month"))
    assert "question mark" in str(hotwords_for("text")) and hotwords_for(None) == hotwords_for("text")
