"""OpenAI-compatible /v1 audio endpoints on Reader's own engines and cache, so any OpenAI client can use them."""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request, stream_with_context

from ..errors import BadRequest
from ..services import services
from ..speech.base import SpeechRequest, Transcript, TranscriptSegment
from ..speech.service import Spoken
from .body import json_object
from .boundary import openai_error
from .responses import audio_response
from .security import bearer_ok
from .uploads import transcribe_upload

LOGGER = logging.getLogger(__name__)
bp = Blueprint("openai_api", __name__, url_prefix="/v1")

MAX_INPUT = 4096  # OpenAI's own limit for /audio/speech
# Voices every OpenAI client knows; where the engine has none of that name, its default speaks.
OPENAI_VOICES = frozenset("alloy ash ballad coral echo fable onyx nova sage shimmer verse marin cedar".split())


@bp.before_request
def _authorise() -> Response | None:
    """With READER_API_TOKEN set, every /v1 call must bring it as a bearer token."""
    if bearer_ok(services().settings.api_token):
        return None
    return openai_error(401, "Incorrect or missing API key: send READER_API_TOKEN as "
                             "'Authorization: Bearer <token>'.", "invalid_api_key")


def _string(data: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = data.get(name, default)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string.")
    return value


def _voice_id(model: str | None, voice: Any) -> str:
    """A Reader voice id from OpenAI's (model, voice): "engine:name", or a name on the model's engine."""
    speech = services().speech
    if isinstance(voice, dict):  # newer SDKs send custom voices as {"id": ...}
        voice = voice.get("id")
    if not isinstance(voice, str) or not voice:
        raise BadRequest("'voice' is required: a voice id from GET /api/voices, or an OpenAI voice name.")
    engine = model if model in speech.synthesizers else speech.default_engine
    if ":" in voice and voice.partition(":")[0] in speech.synthesizers:
        return voice
    synth = speech.synthesizers[engine]
    if any(v.name == voice for v in synth.voices()):
        return f"{engine}:{voice}"
    if voice in OPENAI_VOICES:
        return f"{engine}:{synth.default_voice()}"
    return f"{engine}:{voice}"  # resolve() then names the voices on offer


@bp.post("/audio/speech")
def speech() -> Any:
    """OpenAI's speech request (JSON) -> audio, streamed on a miss where the engine can."""
    svc = services()
    data = json_object()
    text = _string(data, "input")
    if not text or not text.strip():
        raise BadRequest("'input' is required: the text to speak.")
    if len(text) > MAX_INPUT:  # as OpenAI answers: a 400, not a 413
        raise BadRequest(f"'input' is {len(text):,} characters long; the most is {MAX_INPUT:,}.")
    fmt = _string(data, "response_format") or "mp3"
    stream_format = _string(data, "stream_format") or "audio"
    if stream_format not in ("audio", "sse"):
        raise BadRequest("'stream_format' must be 'audio' or 'sse'.")
    speed = data.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
        raise BadRequest("'speed' must be a number from 0.25 to 4.0.")
    voice = _voice_id(_string(data, "model"), data.get("voice"))
    instructions = _applicable(voice, _string(data, "instructions"))
    req = SpeechRequest(text=text, voice=voice, format=fmt, instructions=instructions, speed=float(speed),
                        client=request.remote_addr)
    spoken = svc.speech.speak(req)
    if stream_format == "sse":
        return _speech_events(spoken, text)
    return audio_response(spoken, conditional=False)


SSE_CHUNK = 16 * 1024


def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event)}\n\n"


def _speech_events(spoken: Spoken, text: str) -> Response:
    """Audio as Server-Sent Events, as OpenAI and Azure send them: speech.audio.delta events with
    base64 audio as it comes, then speech.audio.done with the usage."""
    def events() -> Iterator[str]:
        if spoken.stream is not None:
            chunks: Iterable[bytes] = spoken.stream
        else:
            assert spoken.entry is not None
            data = spoken.entry.audio
            chunks = (data[i:i + SSE_CHUNK] for i in range(0, len(data), SSE_CHUNK))
        for chunk in chunks:
            yield _sse({"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()})
        words = len(text.split())  # offline voices count no tokens: words stand in for them
        yield _sse({"type": "speech.audio.done",
                    "usage": {"input_tokens": words, "output_tokens": 0, "total_tokens": words}})

    resp = Response(stream_with_context(events()), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Reader-Voice"] = spoken.voice
    resp.headers["X-Reader-Cache"] = "hit" if spoken.hit else "miss"
    return resp


def _applicable(voice_id: str, instructions: str | None) -> str | None:
    """The instructions the voice can apply; others are left out, never an error (Home Assistant
    always sends some, the string "None" when there are none)."""
    if not instructions or instructions.strip().lower() in ("none", "null"):
        return None
    synth, _ = services().speech.resolve(voice_id)
    try:
        return instructions if synth.capabilities.style_text(instructions) is not None else None
    except ValueError:
        LOGGER.info("instructions left out: the voice cannot apply them")
        return None


TRANSCRIPT_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


@bp.post("/audio/transcriptions")
def transcriptions() -> Any:
    """OpenAI's multipart transcription request -> json, text, srt, vtt or verbose_json."""
    fmt = request.form.get("response_format") or "json"
    if fmt not in TRANSCRIPT_FORMATS:
        raise BadRequest(f"response_format {fmt!r} is not supported: use {', '.join(TRANSCRIPT_FORMATS)}.")
    language = (request.form.get("language") or "").split("-")[0].lower() or None
    if language is not None and not (language.isalpha() and 2 <= len(language) <= 3):
        raise BadRequest("'language' must be an ISO-639-1 code such as 'en'.")
    try:
        temperature = float(request.form.get("temperature") or 0.0)
    except ValueError:
        raise BadRequest("'temperature' must be a number from 0 to 1.") from None
    if not 0.0 <= temperature <= 1.0:
        raise BadRequest("'temperature' must be a number from 0 to 1.")
    form = request.form
    granularities = set(form.getlist("timestamp_granularities[]") or form.getlist("timestamp_granularities"))
    if granularities - {"word", "segment"}:
        raise BadRequest("'timestamp_granularities' takes 'word' and 'segment'.")
    words = "word" in granularities and fmt == "verbose_json"
    stream = (request.form.get("stream") or "false").lower() == "true"
    if stream and fmt not in ("json", "text"):
        raise BadRequest("'stream' works with response_format json or text.")
    result = transcribe_upload(language, words=words, temperature=temperature)
    if stream:
        return _transcript_events(result)
    if fmt == "text":
        return Response(result.text + "\n", mimetype="text/plain")
    if fmt in ("srt", "vtt"):
        return _captions(result, fmt)
    usage = {"type": "duration", "seconds": math.ceil(result.duration)}
    if fmt == "json":
        return jsonify({"text": result.text, "usage": usage})
    body: dict[str, Any] = {
        "task": "transcribe", "language": _language_name(result.language or language or ""),
        "duration": round(result.duration, 3), "text": result.text, "usage": usage,
        "segments": [{"id": k, "seek": 0, "start": round(s.t0, 3), "end": round(s.t1, 3), "text": s.text,
                      "tokens": [], "temperature": temperature, "avg_logprob": 0.0, "compression_ratio": 0.0,
                      "no_speech_prob": 0.0} for k, s in enumerate(_segments(result))],
    }
    if words:
        body["words"] = [{"word": w.text, "start": round(w.t0, 3), "end": round(w.t1, 3)} for w in result.words]
    return jsonify(body)


def _transcript_events(result: Transcript) -> Response:
    """The transcript as Server-Sent Events: transcript.text.delta per phrase, then transcript.text.done."""
    def events() -> Iterator[str]:
        pieces = [s.text for s in result.segments] or [result.text]
        for k, piece in enumerate(pieces):
            yield _sse({"type": "transcript.text.delta", "delta": piece + (" " if k + 1 < len(pieces) else "")})
        yield _sse({"type": "transcript.text.done", "text": result.text,
                    "usage": {"type": "duration", "seconds": math.ceil(result.duration)}})

    resp = Response(stream_with_context(events()), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/audio/translations")
def translations() -> Any:
    """Speech in another language to English text, where the model can (a multilingual Whisper)."""
    svc = services()
    caps = svc.transcriber.capabilities
    if caps.remote or caps.languages == ("en",):
        raise BadRequest("Translation needs a multilingual Whisper model on this server "
                         "(READER_WHISPER_MULTILINGUAL); the one configured understands English only.")
    fmt = request.form.get("response_format") or "json"
    if fmt not in ("json", "text"):
        raise BadRequest("response_format must be json or text for translations.")
    result = transcribe_upload(None, task="translate")
    if fmt == "text":
        return Response(result.text + "\n", mimetype="text/plain")
    return jsonify({"text": result.text})


def _segments(result: Transcript) -> tuple[TranscriptSegment, ...]:
    """The engine's segments, or the whole text as one (cloud engines give none)."""
    return result.segments or (TranscriptSegment(result.text, 0.0, round(result.duration, 3)),)


def _captions(result: Transcript, fmt: str) -> Response:
    from ..narration.captions import Cue, srt, webvtt

    cues = [Cue(s.t0, s.t1, s.text) for s in _segments(result)]
    if fmt == "srt":
        return Response(srt(cues), mimetype="text/plain")
    return Response(webvtt(cues), mimetype="text/vtt")


_LANGUAGE_NAMES = {"en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian",
                   "pt": "portuguese", "nl": "dutch"}


def _language_name(code: str) -> str:
    """verbose_json names the language in words, as OpenAI does ("english")."""
    return _LANGUAGE_NAMES.get(code, code)


@bp.get("/audio/voices")
def audio_voices() -> Any:
    """The voices on offer (Open WebUI asks for these), with the OpenAI names each engine answers to."""
    speech = services().speech
    return jsonify({"voices": [{"id": v.id, "name": v.label, "language": v.language,
                                "instructions": bool(speech.synthesizers[v.engine].capabilities.styles
                                                     or speech.synthesizers[v.engine].capabilities.free_styles)}
                               for v in speech.voices()]})


@bp.get("/audio/models")
def audio_models() -> Any:
    """The reading engines as speech models (Open WebUI asks for these)."""
    return jsonify({"models": [{"id": name} for name in services().speech.synthesizers]})


@bp.get("/models/<model_id>")
def model(model_id: str) -> Any:
    for item in _model_list():
        if item["id"] == model_id:
            return jsonify(item)
    return openai_error(404, f"The model '{model_id}' does not exist.", "model_not_found", "model")


def _model_list() -> list[dict[str, Any]]:
    svc = services()
    names = [*svc.speech.synthesizers, svc.transcriber.name]
    return [{"id": name, "object": "model", "created": 0, "owned_by": "reader"} for name in dict.fromkeys(names)]


@bp.get("/models")
def models() -> Any:
    """Reader's engines as models: a reading engine's name picks its voices in /v1/audio/speech."""
    return jsonify({"object": "list", "data": _model_list()})


def init_app(app: Flask) -> None:
    """Register /v1 (its errors take OpenAI's shape in the error boundary)."""
    app.register_blueprint(bp)
