"""The JSON API: documents, voices, sentence audio and timings, speech, transcriptions."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from .. import audio, services
from ..cache import CachedAudio
from ..speech.service import Spoken, dictate
from ..documents import ingest
from ..documents.model import Document, Sentence
from ..errors import BadRequest, NotFound, TooLarge, UnsupportedMedia
from ..speech.base import Transcript
from ..text.speech_text import SpokenText, load_pronunciations, spoken_text

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
    """JSON {"text" | "url", "title"?, "language"?, "mode"?} or multipart `file` (+ `mode`, `language`)
    -> 201 (new) or 200 (same content, same id)."""
    svc = services()
    if request.mimetype == "multipart/form-data" or request.files:
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("Send the file as a multipart form field named 'file'.")
        doc, created = ingest.from_upload(
            svc.documents, upload.read(), settings=svc.settings, filename=upload.filename,
            mode=request.form.get("mode"), language=request.form.get("language"),
            title=request.form.get("title"),
        )
    else:
        data = _json_body()
        if "text" in data:
            doc, created = ingest.from_text(
                svc.documents, data["text"], max_chars=svc.settings.max_text_chars,
                title=data.get("title"), language=data.get("language"),
            )
        elif "url" in data:
            doc, created = ingest.from_url(
                svc.documents, data["url"], settings=svc.settings, mode=data.get("mode"),
                language=data.get("language"), title=data.get("title"),
            )
        else:
            raise BadRequest("Send {\"text\": \"...\"} with the text to read, or {\"url\": \"...\"} with a web address.")
    resp = jsonify(_document_json(doc))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = url_for("api.get_document", doc_id=doc.id)
    return resp


@bp.get("/api/documents/<doc_id>")
def get_document(doc_id: str) -> Any:
    return jsonify(_document_json(services().documents.get(doc_id)))


def _sentence(doc_id: str, n: int) -> tuple[Document, Sentence]:
    """The document and its sentence n (one read of the stored document), or a 404."""
    doc = services().documents.get(doc_id)
    if not 0 <= n < len(doc.sentences):
        raise NotFound(
            f"Document {doc_id} has {len(doc.sentences)} sentences (0 to {len(doc.sentences) - 1}); "
            f"there is no sentence {n}."
        )
    return doc, doc.sentences[n]


def speakable(text: str, lang: str = "en") -> SpokenText:
    """The text an engine is sent: the language's rules and the operator's pronunciation list."""
    return spoken_text(text, lang=lang,
                       pronunciations=load_pronunciations(services().settings.pronunciations))


def _spoken(doc: Document, sentence: Sentence) -> SpokenText:
    """The spoken text of a sentence, in its block's (or the document's) language."""
    block = doc.blocks[sentence.block] if 0 <= sentence.block < len(doc.blocks) else None
    return speakable(sentence.text, (block.lang if block else None) or doc.language or "en")


def _format_arg() -> str:
    return request.args.get("format") or services().settings.default_format


def _audio_response(result: CachedAudio | Spoken, hit: bool = False) -> Any:
    """Audio with its cache headers: whole from the cache, or streamed as the engine sends it."""
    spoken = result if isinstance(result, Spoken) else Spoken(
        mime=result.mime, hit=hit, voice="", key="", entry=result)
    if spoken.stream is not None:
        # A miss streamed from the engine: no length or ETag yet, the same bytes as the cache will hold.
        resp = Response(spoken.stream, mimetype=spoken.mime, direct_passthrough=True)
    else:
        assert spoken.entry is not None
        resp = Response(spoken.entry.audio, mimetype=spoken.mime)
        resp.headers["X-Reader-Duration"] = f"{spoken.entry.duration:.3f}"
    resp.headers["X-Reader-Cache"] = "hit" if spoken.hit else "miss"
    if spoken.voice:
        resp.headers["X-Reader-Voice"] = spoken.voice
    if spoken.fallback:
        # Another voice than the URL names: the browser must not keep it under that URL.
        resp.headers["X-Reader-Fallback"] = spoken.fallback
        resp.headers["Cache-Control"] = "no-store"
        return resp
    resp.headers["Cache-Control"] = f"public, max-age={AUDIO_MAX_AGE}, immutable"
    if spoken.entry is None:
        return resp
    resp.set_etag(spoken.entry.etag)
    return resp.make_conditional(request, accept_ranges=True)


def _instructions_arg() -> str | None:
    return request.args.get("instructions") or None


MAX_PREFETCH = 5


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/speech")
def sentence_speech(doc_id: str, n: int) -> Any:
    """Audio of one sentence; `prefetch=N` also synthesises the next N ahead (cloud voices)."""
    doc, sentence = _sentence(doc_id, n)
    svc = services()
    voice, fmt, style = request.args.get("voice"), _format_arg(), _instructions_arg()
    # HEAD drops the body: synthesise whole (and cache) rather than stream into nothing.
    spoken = svc.speech.open(_spoken(doc, sentence).text, voice, fmt, instructions=style,
                             client=request.remote_addr, stream=request.method != "HEAD")
    ahead = request.args.get("prefetch", type=int) or 0
    if ahead > 0 and not spoken.fallback:
        texts = [_spoken(doc, s).text for s in doc.sentences[n + 1: n + 1 + min(ahead, MAX_PREFETCH)]]
        svc.speech.warm(texts, voice, fmt, instructions=style, client=request.remote_addr)
    return _audio_response(spoken)


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/timings")
def sentence_timings(doc_id: str, n: int) -> Any:
    """Word timings as offsets into the sentence text, where the engine gives them."""
    doc, sentence = _sentence(doc_id, n)
    spoken = _spoken(doc, sentence)
    voice = request.args.get("voice")
    result, timings = services().speech.timings(
        spoken.text, voice, _format_arg(), instructions=_instructions_arg(), client=request.remote_addr)
    assert result.entry is not None
    words: list[dict[str, Any]] = []
    for start, end, t0, t1 in timings:
        s, e = spoken.to_source(start, end)
        if words and (words[-1]["start"], words[-1]["end"]) == (s, e):
            # Several spoken words for one written token ("$3,497"): one highlight for all.
            words[-1]["t1"] = round(t1, 3)
            continue
        words.append({"start": s, "end": e, "t0": round(t0, 3), "t1": round(t1, 3)})
    resp = jsonify({"duration": round(result.entry.duration, 3), "words": words,
                    "voice": voice or services().speech.default_voice()})
    resp.headers["X-Reader-Cache"] = "hit" if result.hit else "miss"
    if result.fallback:
        resp.headers["X-Reader-Fallback"] = result.fallback
        resp.headers["X-Reader-Voice"] = result.voice
        resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/api/voices")
def voices() -> Any:
    speech = services().speech
    default = speech.default_voice()
    return jsonify({
        "default": default,
        "voices": [
            # "remote": the text goes to a cloud service and the voice is AI-generated: say so.
            {"id": v.id, "engine": v.engine, "name": v.name, "label": v.label,
             "language": v.language, "gender": v.gender, "default": v.id == default,
             "remote": speech.is_remote(v.engine)}
            for v in speech.voices()
        ],
        "formats": list(audio.FORMATS),
        "styles": speech.styles(),
        "free_styles": speech.free_styles(),
    })


@bp.post("/api/speech")
def speech() -> Any:
    """JSON {"text", "voice"?, "format"?, "instructions"?} -> audio, for short free text."""
    svc = services()
    svc.speech_limit.hit(request.remote_addr)
    data = _json_body()
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("Send {\"text\": \"...\"} with some text to speak.")
    if len(text) > svc.settings.max_speech_chars:
        raise TooLarge(
            f"POST /api/speech takes at most {svc.settings.max_speech_chars:,} characters; "
            "create a document for longer text."
        )
    for name in ("voice", "format", "instructions"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRequest(f"'{name}' must be a string.")
    spoken = svc.speech.open(
        speakable(text).text,
        data.get("voice"),
        data.get("format") or svc.settings.default_format,
        instructions=data.get("instructions") or None, client=request.remote_addr,
    )
    return _audio_response(spoken)


def transcribe_upload(language: str | None) -> Transcript:
    """The multipart `file` (+ `prompt`) of this request, transcribed; the audio is never stored."""
    svc = services()
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("Send the recording as a multipart form field named 'file'.")
    prompt = request.form.get("prompt") or None
    if prompt is not None and len(prompt) > 1000:
        raise BadRequest("'prompt' is limited to 1,000 characters.")
    return dictate(svc.transcriber, upload.read(), upload.filename, language=language, prompt=prompt,
                   max_seconds=svc.settings.max_audio_seconds, metrics=svc.metrics)


@bp.post("/api/transcriptions")
def transcriptions() -> Any:
    """Multipart `file` (+ `language`, `prompt`) -> {"text"}. The audio is never stored."""
    language = request.form.get("language") or None
    if language is not None:
        language = ingest.check_language(language).split("-")[0].lower()
    result = transcribe_upload(language)
    return jsonify({"text": result.text, "language": result.language,
                    "duration": round(result.duration, 3)})


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/spoken")
def sentence_spoken(doc_id: str, n: int) -> Any:
    """What the engine is sent for a sentence, word by word, so operators can check it."""
    doc, sentence = _sentence(doc_id, n)
    block = doc.blocks[sentence.block] if 0 <= sentence.block < len(doc.blocks) else None
    lang = (block.lang if block else None) or doc.language or "en"
    spoken = _spoken(doc, sentence)
    words = [
        {"spoken": [s, e], "source": [a, b], "text": spoken.text[s:e], "source_text": sentence.text[a:b]}
        for s, e, a, b in spoken.words()
    ]
    return jsonify({"text": sentence.text, "spoken": spoken.text, "language": lang, "words": words})
