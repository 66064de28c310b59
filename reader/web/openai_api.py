"""OpenAI-compatible /v1 audio endpoints on Reader's own engines and cache, so any OpenAI client can use them."""

from __future__ import annotations

import hmac
import logging
import math
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from .. import services
from ..errors import BadRequest, TooLarge
from ..speech.base import SpeechRequest
from .api import transcribe_upload
from .body import json_object
from .boundary import openai_error
from .responses import audio_response

LOGGER = logging.getLogger(__name__)
bp = Blueprint("openai_api", __name__, url_prefix="/v1")

MAX_INPUT = 4096  # OpenAI's own limit for /audio/speech
# Voices every OpenAI client knows; where the engine has none of that name, its default speaks.
OPENAI_VOICES = frozenset("alloy ash ballad coral echo fable onyx nova sage shimmer verse marin cedar".split())


@bp.before_request
def _authorise() -> Response | None:
    """With READER_API_TOKEN set, every /v1 call must bring it as a bearer token."""
    token = services().settings.api_token
    if not token:
        return None
    given = request.headers.get("Authorization", "")
    if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
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
    if len(text) > max(MAX_INPUT, svc.settings.max_speech_chars):
        raise TooLarge(f"'input' takes at most {max(MAX_INPUT, svc.settings.max_speech_chars):,} characters.")
    fmt = _string(data, "response_format") or "mp3"
    if (_string(data, "stream_format") or "audio") != "audio":
        raise BadRequest("Only stream_format 'audio' is supported.")
    speed = data.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
        raise BadRequest("'speed' must be a number from 0.25 to 4.0.")
    voice = _voice_id(_string(data, "model"), data.get("voice"))
    req = SpeechRequest(text=text, voice=voice, format=fmt, instructions=_string(data, "instructions"),
                        speed=float(speed), client=request.remote_addr)
    return audio_response(svc.speech.speak(req), conditional=False)


@bp.post("/audio/transcriptions")
def transcriptions() -> Any:
    """OpenAI's multipart transcription request -> json, text or verbose_json."""
    fmt = request.form.get("response_format") or "json"
    if fmt not in ("json", "text", "verbose_json"):
        raise BadRequest(f"response_format {fmt!r} is not supported: use json, text or verbose_json.")
    language = (request.form.get("language") or "").split("-")[0].lower() or None
    if language is not None and not (language.isalpha() and 2 <= len(language) <= 3):
        raise BadRequest("'language' must be an ISO-639-1 code such as 'en'.")
    result = transcribe_upload(language)
    if fmt == "text":
        return Response(result.text + "\n", mimetype="text/plain")
    usage = {"type": "duration", "seconds": math.ceil(result.duration)}
    if fmt == "json":
        return jsonify({"text": result.text, "usage": usage})
    return jsonify({"task": "transcribe", "language": result.language or language or "",
                    "duration": round(result.duration, 3), "text": result.text,
                    "words": [{"word": w.text, "start": w.t0, "end": w.t1} for w in result.words],
                    "segments": [], "usage": usage})


@bp.get("/models")
def models() -> Any:
    """Reader's engines as models: a reading engine's name picks its voices in /v1/audio/speech."""
    svc = services()
    names = [*svc.speech.synthesizers, svc.transcriber.name]
    return jsonify({"object": "list", "data": [
        {"id": name, "object": "model", "created": 0, "owned_by": "reader"} for name in dict.fromkeys(names)
    ]})


def init_app(app: Flask) -> None:
    """Register /v1 (its errors take OpenAI's shape in the error boundary)."""
    app.register_blueprint(bp)
