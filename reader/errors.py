"""The exception tree. Every ReaderError becomes an application/problem+json response."""

from __future__ import annotations

from typing import Any


class ReaderError(Exception):
    """Base of every error a client can be told about."""

    status = 500
    title = "Something went wrong"
    slug = "internal"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class BadRequest(ReaderError):
    status, title, slug = 400, "Bad request", "bad-request"


class EmptyText(BadRequest):
    title, slug = "No text to read", "empty-text"


class UnknownVoice(BadRequest):
    title, slug = "Unknown voice", "unknown-voice"


class UnknownFormat(BadRequest):
    title, slug = "Unknown audio format", "unknown-format"


class NotFound(ReaderError):
    status, title, slug = 404, "Not found", "not-found"


class TooLarge(ReaderError):
    status, title, slug = 413, "Too large", "too-large"


class UnsupportedMedia(ReaderError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media"


class Unprocessable(ReaderError):
    status, title, slug = 422, "Cannot process this input", "unprocessable"


class NoSpeech(Unprocessable):
    title, slug = "No speech found", "no-speech"


class NoTextLayer(Unprocessable):
    title, slug = "No text layer", "no-text-layer"


class BlockedAddress(ReaderError):
    status, title, slug = 403, "Address not allowed", "blocked-address"


class EngineError(ReaderError):
    status, title, slug = 503, "Speech engine unavailable", "engine-error"


class UpstreamError(ReaderError):
    status, title, slug = 502, "Upstream service failed", "upstream-error"


class UpstreamTimeout(ReaderError):
    status, title, slug = 504, "Upstream service timed out", "upstream-timeout"
