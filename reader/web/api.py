"""The JSON API: documents, voices, sentence audio and timings, speech, transcriptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from .. import audio
from ..documents import ingest
from ..documents.model import Document, Sentence
from ..documents.ocr import LongScan
from ..errors import BadRequest, NotFound, TooLarge
from ..services import services
from ..speech.base import SpeechRequest
from .body import json_object
from .responses import audio_response
from .uploads import reading_voices, recording, start_import, text_recognition, transcribe_upload

bp = Blueprint("api", __name__)


def _document_json(doc: Document) -> dict[str, Any]:
    data = doc.to_json()
    data["url"] = doc.url
    # Which voice reads each language of the text, for the voice asked for (?voice=) or the default.
    data["voices"] = reading_voices(doc, request.args.get("voice"))
    return data


@bp.get("/api/imports/<iid>")
def get_import(iid: str) -> Any:
    """A long scan being read: pages done of the total; the document once it is there."""
    return jsonify(services().imports.get(iid).public())


@bp.post("/api/documents")
def create_document() -> Any:
    """JSON {"text" | "url", "title"?, "language"?, "mode"?} or multipart `file` (+ `mode`, `language`)
    -> 201 (new) or 200 (same content, same id)."""
    svc = services()
    if request.mimetype == "multipart/form-data" or request.files:
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("Send the file as a multipart form field named 'file'.")
        language, title = request.form.get("language"), request.form.get("title")
        try:
            doc, created = ingest.from_upload(
                svc.documents, upload.read(), settings=svc.settings, filename=upload.filename,
                mode=request.form.get("mode"), language=language, title=title, ocr=text_recognition(language),
            )
        except LongScan as scan:  # read in the background: 202 and where to follow it
            job = start_import(scan, title=title, language=language)
            resp = jsonify(job.public())
            resp.status_code = 202
            resp.headers["Location"] = job.public()["url"]
            return resp
    else:
        data = json_object()
        if "text" in data:
            doc, created = ingest.from_text(
                svc.documents, data["text"], max_chars=svc.settings.max_text_chars,
                title=data.get("title"), language=data.get("language"),
            )
        elif "url" in data:
            doc, created = ingest.from_url(
                svc.documents, data["url"], settings=svc.settings, mode=data.get("mode"),
                language=data.get("language"), title=data.get("title"),
                ocr=text_recognition(data.get("language") if isinstance(data.get("language"), str) else None),
            )
        else:
            raise BadRequest('Send {"text": "..."} with the text to read, or {"url": "..."} with a web address.')
    resp = jsonify(_document_json(doc))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = url_for("api.get_document", doc_id=doc.id)
    return resp


@bp.get("/api/documents/<doc_id>")
def get_document(doc_id: str) -> Any:
    return jsonify(_document_json(services().documents.get(doc_id)))


@bp.delete("/api/documents/<doc_id>")
def delete_document(doc_id: str) -> Any:
    """Forget a document: its text, its narrations and the audio no other document shares.
    Again: 204 all the same; an id that never existed: 404."""
    from ..retention import forget_document

    svc = services()
    forget_document(svc.documents, svc.jobs, svc.speech.cache, doc_id)
    return Response(status=204)


def _sentence(doc_id: str, n: int) -> tuple[Document, Sentence, str]:
    """The document, its sentence n (one read of the stored document) and the sentence's language."""
    doc = services().documents.get(doc_id)
    if not 0 <= n < len(doc.sentences):
        raise NotFound(
            f"Document {doc_id} has {len(doc.sentences)} sentences (0 to {len(doc.sentences) - 1}); "
            f"there is no sentence {n}."
        )
    sentence = doc.sentences[n]
    block = doc.blocks[sentence.block] if 0 <= sentence.block < len(doc.blocks) else None
    return doc, sentence, (block.lang if block else None) or doc.language or "en"


def _sentence_request(doc_id: str, n: int, **options: Any) -> SpeechRequest:
    doc, _, _ = _sentence(doc_id, n)
    svc = services()
    return svc.speech.sentence_request(doc, n, voice=request.args.get("voice"),
                                       format=request.args.get("format") or svc.settings.default_format,
                                       instructions=request.args.get("instructions") or None,
                                       client=request.remote_addr, **options)


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/speech")
def sentence_speech(doc_id: str, n: int) -> Any:
    """Audio of one sentence (its word timings are made eagerly: the page will ask for them)."""
    # HEAD drops the body: synthesise whole (and cache) rather than stream into nothing.
    req = _sentence_request(doc_id, n, stream=request.method != "HEAD", timings=True)
    return audio_response(services().speech.speak(req))


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/timings")
def sentence_timings(doc_id: str, n: int) -> Any:
    """Word timings as offsets into the sentence text: the engine's own, the aligner's, or at
    once a first estimate ("estimated": true) that ?refined=1 replaces once the aligner has run."""
    speech = services().speech
    req = _sentence_request(doc_id, n)
    result, timings, estimated = speech.timings(req, wait=request.args.get("refined") == "1")
    assert result.entry is not None
    words = [{"start": s, "end": e, "t0": round(t0, 3), "t1": round(t1, 3)} for s, e, t0, t1 in timings]
    resp = jsonify({"duration": round(result.entry.duration, 3), "words": words, "voice": result.voice,
                    "estimated": estimated})
    if estimated:
        resp.headers["Cache-Control"] = "no-store"  # better timings follow
    resp.headers["X-Reader-Cache"] = "hit" if result.hit else "miss"
    if result.fallback:
        resp.headers["X-Reader-Fallback"] = result.fallback
        resp.headers["X-Reader-Voice"] = result.voice
        resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/api/documents/<doc_id>/syllables")
def syllables(doc_id: str) -> Any:
    """Where syllables break inside each sentence's words (pyphen's hyphenation points), as
    offsets into the sentence text: {"sentences": {"0": [3, 9], ...}}. Words of languages
    pyphen has no patterns for are left whole."""
    from ..text.syllables import breaks

    doc = services().documents.get(doc_id)
    langs = {b.index: b.lang or doc.language for b in doc.blocks}
    found = {str(s.index): cuts for s in doc.sentences if (cuts := breaks(s.text, langs.get(s.block, doc.language)))}
    resp = jsonify({"sentences": found})
    resp.headers["Cache-Control"] = "private, max-age=86400"  # a document's text never changes
    return resp


@bp.get("/api/documents/<doc_id>/sentences/<int(signed=True):n>/spoken")
def sentence_spoken(doc_id: str, n: int) -> Any:
    """What the engine is sent for a sentence, word by word, so operators can check it."""
    _, sentence, language = _sentence(doc_id, n)
    spoken = services().speech.spoken(sentence.text, language)
    words = [
        {"spoken": [s, e], "source": [a, b], "text": spoken.text[s:e], "source_text": sentence.text[a:b]}
        for s, e, a, b in spoken.words()
    ]
    return jsonify({"text": sentence.text, "spoken": spoken.text, "language": language, "words": words})


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


def _optional_string(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string.")
    return value or None


@bp.post("/api/speech")
def speech() -> Any:
    """JSON {"text", "voice"?, "format"?, "instructions"?} -> audio, for short free text."""
    svc = services()
    svc.speech_limit.hit(request.remote_addr)
    data = json_object()
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("Send {\"text\": \"...\"} with some text to speak.")
    if len(text) > svc.settings.max_speech_chars:
        raise TooLarge(
            f"POST /api/speech takes at most {svc.settings.max_speech_chars:,} characters; "
            "create a document for longer text."
        )
    voice = _optional_string(data, "voice")
    if voice is None:  # no voice asked for: one that speaks the text's language
        from ..text.language import decide

        voice = svc.speech.voice_for(None, decide(None, text))
    req = SpeechRequest(text=text, voice=voice,
                        format=_optional_string(data, "format") or svc.settings.default_format,
                        instructions=_optional_string(data, "instructions"), client=request.remote_addr)
    return audio_response(svc.speech.speak(req))


@bp.post("/api/transcriptions")
def transcriptions() -> Any:
    """Multipart `file` (+ `language`, `prompt`) -> {"text"}. The audio is never stored."""
    language = request.form.get("language") or None
    if language is not None:
        language = ingest.check_language(language).split("-")[0].lower()
    result = transcribe_upload(language)
    return jsonify({"text": result.text, "language": result.language,
                    "duration": round(result.duration, 3)})


@bp.post("/api/transcriptions/live")
def live_transcription() -> Any:
    """One pass of live dictation. Multipart `file` (the recording so far), `partial` ("1" while
    recording: a quick pass from `offset` seconds on; "0" on stop: the whole recording, as
    /api/transcriptions), `language`, `prompt`, `field` (the kind of form field: what the
    final pass is biased towards). Answers application/x-ndjson, a JSON event per
    line as the text is decoded: {"type": "delta", "text"}..., then {"type": "done", "text",
    "words": [{"text", "start", "end"}], "offset", "duration"} (+ "next_after" on a partial pass:
    seconds to wait before the next, or null for no more). Refusals come before the first event,
    as problem+json; a failure after it is an {"type": "error"} event."""
    import json

    from ..speech.dictation import FIELD_KINDS, hotwords_for, live_dictation

    svc = services()
    form = request.form
    language = form.get("language") or None
    if language is not None:
        language = ingest.check_language(language).split("-")[0].lower()
    partial = form.get("partial", "0") not in ("", "0", "false")
    try:
        offset = float(form.get("offset") or 0.0)
    except ValueError:
        raise BadRequest("'offset' is a number of seconds.") from None
    if not 0.0 <= offset <= svc.settings.max_audio_seconds:
        raise BadRequest(f"'offset' is between 0 and {svc.settings.max_audio_seconds:g} seconds.")
    upload, prompt = recording()
    field = form.get("field") or None
    if field is not None and field not in FIELD_KINDS:
        raise BadRequest(f"'field' is one of {', '.join(sorted(FIELD_KINDS))}.")
    english = (language or "en") == "en"
    # A cloud engine bills every pass: they come at most every READER_CLOUD_LIVE_INTERVAL seconds.
    next_after: float | None = 0.0
    if svc.transcriber.capabilities.remote:
        interval = svc.settings.cloud_live_interval
        next_after = interval if interval > 0 else None
    passes = live_dictation(svc.transcriber, upload.read(), upload.filename, language=language, prompt=prompt,
                            max_seconds=svc.settings.max_audio_seconds, partial=partial, offset=offset,
                            hotwords=hotwords_for(field) if english else None, client=request.remote_addr,
                            metrics=svc.metrics, heavy=svc.heavy, next_after=next_after)

    class Lines:
        """The events as lines; closing it (the client left) stops the pass and frees its slot."""

        def __iter__(self) -> Iterator[bytes]:
            for event in passes:
                yield (json.dumps(event, ensure_ascii=False) + "\n").encode()

        def close(self) -> None:
            passes.close()

    resp = Response(Lines(), mimetype="application/x-ndjson")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"  # a proxy passes each line on as it comes
    return resp


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: this process answers (nothing else is asked)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: Redis (when used) and the reading engines answer; a 503 problem when not, so
    that a balancer sends readers elsewhere meanwhile."""
    from .boundary import problem

    svc = services()
    engines = svc.speech.engine_status()
    redis = "not used" if svc.redis is None else ("ok" if svc.redis.ping() else "unavailable")
    cache = "degraded" if svc.speech.cache.degraded else "ok"  # served without it: not a reason to stop
    body = {"redis": redis, "engines": engines, "audio_cache": cache}
    wrong = []
    if redis == "unavailable":
        wrong.append("Redis does not answer")
    default = svc.speech.default_engine
    if engines.get(default) != "ok":
        wrong.append(f"the default reading engine ({default}) is {engines.get(default)}")
    if wrong:
        resp = problem(503, "Not ready", "; ".join(wrong).capitalize() + ".", "not-ready", **body)
        resp.headers["Retry-After"] = "5"
        return resp
    return jsonify({"status": "ready", **body})
