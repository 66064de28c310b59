"""The one audio response, shared by /api and /v1: whole from the cache, or streamed on a miss."""

from __future__ import annotations

from flask import Response, request
from werkzeug.wrappers import Response as BaseResponse

from ..speech.service import Spoken

# Audio whose bytes can never change under its URL: a year, and never revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
# Audio a voice may make a little differently after the cache lets it go (neural noise, eSpeak's
# state): browsers and proxies keep it, but revalidate it by its ETag (the sha256 of the bytes).
REVALIDATE = "public, no-cache"


def audio_response(spoken: Spoken, *, conditional: bool = True) -> BaseResponse:
    """Audio with its headers: cache state, voice, fallback, ETag from the bytes; Range and 304."""
    if spoken.stream is not None:
        # A miss streamed from the engine: no length or ETag yet, the same bytes as the cache will hold.
        resp = Response(spoken.stream, mimetype=spoken.mime, direct_passthrough=True)
    else:
        assert spoken.entry is not None
        resp = Response(spoken.entry.audio, mimetype=spoken.mime)
        resp.headers["X-Reader-Duration"] = f"{spoken.entry.duration:.3f}"
    resp.headers["X-Reader-Cache"] = "hit" if spoken.hit else "miss"
    resp.headers["X-Reader-Voice"] = spoken.voice
    if spoken.fallback:
        # Another voice than the URL names: no cache may keep it under that URL.
        resp.headers["X-Reader-Fallback"] = spoken.fallback
        resp.headers["Cache-Control"] = "no-store"
        return resp
    if not conditional:
        return resp
    resp.headers["Cache-Control"] = IMMUTABLE if spoken.deterministic else REVALIDATE
    if spoken.entry is None:
        return resp
    resp.set_etag(spoken.entry.etag)
    return resp.make_conditional(request, accept_ranges=True)
