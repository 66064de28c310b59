"""The JSON API: documents, voices, sentence audio and timings, speech, transcriptions."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from .. import audio, services
from ..cache import CachedAudio
from ..documents import ingest
from ..documents.model import Document, Sentence
from ..errors import BadRequest, NoSpeech, NotFound, UnsupportedMedia, Unprocessable
from ..text.speech_text import spoken_text

LOGGER = logging.getLogger(__name__)
bp = Blueprint("api", __name__)

AUDIO_MAX_AGE = 31536000  # content-addressed: the same URL always means the same audio


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedMedia("Send JSON (Content-Type: application/json).")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


def _document_json(doc: Document) -> dict[str, Any]:
    data = doc.to_json()
    data["url"] = doc.url
    return data


@bp.post("/api/documents")
def create_document() -> Any:
    """JSON {"text", "title"?, "language"?} -> 201 (new) or 200 (same content, same id)."""
    svc = services()
    if request.mimetype == "multipart/form-data" or request.files:
        raise UnsupportedMedia("File uploads are not supported yet: paste the text as JSON {\"text\": ...}.")
    data = _json_body()
    if "url" in data and "text" not in data:
        raise UnsupportedMedia("Reading from a web address is not supported yet: send {\"text\": ...}.")
    if "text" not in data:
        raise BadRequest("Send {\"text\": \"...\"} with the text to read.")
    doc, created = ingest.from_text(
        svc.documents, data["text"], max_chars=svc.settings.max_text_chars,
        title=data.get("title"), language=data.get("language"),
    )
    resp = jsonify(_document_json(doc))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = url_for("api.get_document", doc_id=doc.id)
    return resp


@bp.get("/api/documents/<doc_id>")
def get_document(doc_id: str) -> Any:
    return jsonify(_document_json(services().documents.get(doc_id)))


def _sentence(doc_id: str, n: int) -> Sentence:
    doc = services().documents.get(doc_id)
    if not 0 <= n < len(doc.sentences):
        raise NotFound(
            f"Document {doc_id} has {len(doc.sentences)} sentences (0 to {len(doc.sentences) - 1}); "
            f"there is no sentence {n}."
        )
    return doc.sentences[n]


def _format_arg() -> str:
    return request.args.get("format") or services().settings.default_format


def _audio_response(entry: CachedAudio, hit: bool) -> Any:
    resp = Response(entry.audio, mimetype=entry.mime)
    resp.headers["X-Reader-Cache"] = "hit" if hit else "miss"
    resp.headers["Cache-Control"] = f"public, max-age={AUDIO_MAX_AGE}, immutable"
    resp.headers["X-Reader-Duration"] = f"{entry.duration:.3f}"
    resp.set_etag(entry.etag)
    return resp.make_conditional(request, accept_ranges=True)


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/speech")
def sentence_speech(doc_id: str, n: int) -> Any:
    sentence = _sentence(doc_id, n)
    entry, hit = services().speech.speak(
        spoken_text(sentence.text).text, request.args.get("voice"), _format_arg()
    )
    return _audio_response(entry, hit)


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/timings")
def sentence_timings(doc_id: str, n: int) -> Any:
    """Word timings as offsets into the sentence text, where the engine gives them."""
    sentence = _sentence(doc_id, n)
    spoken = spoken_text(sentence.text)
    voice = request.args.get("voice")
    entry, hit = services().speech.speak(spoken.text, voice, _format_arg())
    words = []
    for start, end, t0, t1 in entry.words:
        s, e = spoken.to_source(start, end)
        words.append({"start": s, "end": e, "t0": round(t0, 3), "t1": round(t1, 3)})
    resp = jsonify({"duration": round(entry.duration, 3), "words": words,
                    "voice": voice or services().speech.default_voice()})
    resp.headers["X-Reader-Cache"] = "hit" if hit else "miss"
    return resp


@bp.get("/api/voices")
def voices() -> Any:
    speech = services().speech
    default = speech.default_voice()
    return jsonify({
        "default": default,
        "voices": [
            {"id": v.id, "engine": v.engine, "name": v.name, "label": v.label,
             "language": v.language, "gender": v.gender, "default": v.id == default}
            for v in speech.voices()
        ],
        "formats": list(audio.FORMATS),
    })


@bp.post("/api/speech")
def speech() -> Any:
    """JSON {"text", "voice"?, "format"?, "instructions"?} -> audio, for short free text."""
    svc = services()
    data = _json_body()
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("Send {\"text\": \"...\"} with some text to speak.")
    if len(text) > svc.settings.max_speech_chars:
        from ..errors import TooLarge

        raise TooLarge(
            f"POST /api/speech takes at most {svc.settings.max_speech_chars:,} characters; "
            "create a document for longer text."
        )
    for name in ("voice", "format", "instructions"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRequest(f"'{name}' must be a string.")
    entry, hit = svc.speech.speak(
        spoken_text(text).text, data.get("voice"),
        data.get("format") or svc.settings.default_format,
        instructions=data.get("instructions") or None,
    )
    return _audio_response(entry, hit)


@bp.post("/api/transcriptions")
def transcriptions() -> Any:
    """Multipart `file` (+ `language`, `prompt`) -> {"text"}. The audio is never stored."""
    svc = services()
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("Send the recording as a multipart form field named 'file'.")
    language = request.form.get("language") or None
    if language is not None:
        language = ingest.check_language(language).split("-")[0].lower()
    prompt = request.form.get("prompt") or None
    if prompt is not None and len(prompt) > 1000:
        raise BadRequest("'prompt' is limited to 1,000 characters.")
    data = upload.read()
    samples = audio.decode(data, max_seconds=svc.settings.max_audio_seconds)
    transcriber = svc.transcriber
    if language and language != "en" and getattr(transcriber, "english_only", False):
        raise Unprocessable(
            f"The dictation model understands English only; {language!r} cannot be transcribed."
        )
    if float(abs(samples).max(initial=0.0)) < 1e-3:
        raise NoSpeech("The recording is silent. Check the microphone and try again.")
    result = transcriber.transcribe(samples, language=language, prompt=prompt)
    if not result.text.strip():
        raise NoSpeech("No speech was heard in the recording. Please try again, a little closer to the microphone.")
    return jsonify({"text": result.text, "language": result.language,
                    "duration": round(result.duration, 3)})


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})
