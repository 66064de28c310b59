"""Every error a client can be told about, in one tree.

Each class has an HTTP `status`, a short `title` and a unique `slug`; `reader/web/boundary.py`
renders them as application/problem+json (or OpenAI's error object under /v1). Third-party
errors are translated where they enter (`raise UpstreamError(...) from exc`).

    ReaderError                      500 internal
    ├── BadRequest                   400 bad-request
    │   ├── EmptyText                400 empty-text
    │   ├── UnknownVoice             400 unknown-voice
    │   ├── UnknownFormat            400 unknown-format
    │   └── MalformedBody            400 malformed-body
    ├── NotFound                     404 not-found
    ├── TooLarge                     413 too-large
    ├── UnsupportedMedia             415 unsupported-media
    ├── Unprocessable                422 unprocessable
    │   ├── NoSpeech                 422 no-speech
    │   ├── NoTextLayer              422 no-text-layer
    │   └── Unreachable              422 unreachable
    │       ├── FetchTimeout         422 fetch-timeout
    │       ├── UpstreamStatus       422 upstream-status
    │       └── TooManyRedirects     422 too-many-redirects
    ├── BlockedAddress               403 blocked-address
    ├── Conflict                     409 conflict        (a narration that is not finished yet)
    ├── StorageFull                  507 storage-full    (the disk budget for exports is spent)
    ├── Busy                         503 busy            (heavy work: this worker is full)
    │   ├── ClientBusy               429 client-busy     (heavy work: this client has enough running)
    │   └── StoreUnavailable         503 store-unavailable (the shared store, Redis, does not answer)
    ├── EngineError                  503 engine-error
    └── CloudError                   502 cloud-error     (a cloud voice or transcriber failed)
        ├── CloudNotConfigured       502 cloud-configuration
        ├── CloudRejected            422 cloud-rejected
        ├── CloudTimeout             504 cloud-timeout
        ├── CloudBusy                503 cloud-busy
        └── RateLimited              429 rate-limited
            └── OverBudget           429 over-budget
"""

from __future__ import annotations

import math
from typing import Any


class ReaderError(Exception):
    """Base of every error a client can be told about."""

    status = 500
    title = "Something went wrong"
    slug = "internal"
    retry_after: float | None = None  # seconds; sent as Retry-After when set

    def __init__(self, detail: str | None = None, *, retry_after: float | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if retry_after is not None:
            self.retry_after = retry_after
            extra.setdefault("retry_after", math.ceil(retry_after))
        self.extra = extra


class BadRequest(ReaderError):
    status, title, slug = 400, "Bad request", "bad-request"


class EmptyText(BadRequest):
    title, slug = "No text to read", "empty-text"


class UnknownVoice(BadRequest):
    title, slug = "Unknown voice", "unknown-voice"


class UnknownFormat(BadRequest):
    title, slug = "Unknown audio format", "unknown-format"


class MalformedBody(BadRequest):
    """A body that cannot be parsed: not JSON, nested too deeply, or with invalid characters."""

    title, slug = "Malformed request body", "malformed-body"


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


class Unreachable(Unprocessable):
    title, slug = "Cannot load this web address", "unreachable"


class FetchTimeout(Unreachable):
    title, slug = "The web page took too long", "fetch-timeout"


class UpstreamStatus(Unreachable):
    title, slug = "The web page could not be loaded", "upstream-status"


class TooManyRedirects(Unreachable):
    title, slug = "Too many redirects", "too-many-redirects"


class BlockedAddress(ReaderError):
    status, title, slug = 403, "Address not allowed", "blocked-address"


class Conflict(ReaderError):
    status, title, slug = 409, "Not ready", "conflict"


class StorageFull(ReaderError):
    status, title, slug = 507, "Storage budget spent", "storage-full"


class Busy(ReaderError):
    """This worker runs as much heavy work (synthesis, transcription) as it can take."""

    status, title, slug = 503, "Server busy", "busy"


class ClientBusy(Busy):
    """This client already has as much heavy work running as one client may."""

    status, title, slug = 429, "Too many requests at once", "client-busy"


class StoreUnavailable(Busy):
    """The shared store (Redis) does not answer; what needs it waits until it is back."""

    status, title, slug = 503, "Shared store unavailable", "store-unavailable"


class EngineError(ReaderError):
    status, title, slug = 503, "Speech engine unavailable", "engine-error"


class CloudError(ReaderError):
    """A cloud voice or transcriber failed; `reason` is a short slug for X-Reader-Fallback."""

    status, title, slug = 502, "Voice service failed", "cloud-error"
    reason = "unavailable"


class CloudNotConfigured(CloudError):
    title, slug, reason = "Voice service not set up correctly", "cloud-configuration", "not-configured"


class CloudRejected(CloudError):
    status, title, slug, reason = 422, "Voice service refused the request", "cloud-rejected", "rejected"


class CloudTimeout(CloudError):
    status, title, slug, reason = 504, "Voice service timed out", "cloud-timeout", "timeout"


class CloudBusy(CloudError):
    status, title, slug, reason = 503, "Voice service busy", "cloud-busy", "busy"


class RateLimited(CloudError):
    """429 with a Retry-After the client can honour."""

    status, title, slug, reason = 429, "Too many requests", "rate-limited", "rate-limited"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail, retry_after=retry_after)


class OverBudget(RateLimited):
    title, slug, reason = "Daily allowance used", "over-budget", "budget"


def all_errors() -> list[type[ReaderError]]:
    """ReaderError and every subclass, depth first."""
    found: list[type[ReaderError]] = []

    def walk(cls: type[ReaderError]) -> None:
        found.append(cls)
        for sub in cls.__subclasses__():
            walk(sub)

    walk(ReaderError)
    return found
