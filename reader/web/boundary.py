"""The one error boundary: every handler is registered here, and the route chooses the shape.

/api, /healthz, /readyz and /metrics answer application/problem+json (`type`, `title`,
`status`, `detail`); /v1 answers OpenAI's `{"error": {"message", "type", "param", "code"}}`;
pages answer the HTML error page. A 5xx never carries a traceback, and a ReaderError's
`retry_after` becomes a Retry-After header.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import ReaderError

LOGGER = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
                 404: "invalid_request_error", 405: "invalid_request_error", 413: "invalid_request_error",
                 415: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error"}
_JSON_PATHS = ("/healthz", "/readyz", "/metrics")


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    """The one JSON error shape: type, title, status, detail (+ extras)."""
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM_JSON
    return resp


def openai_error(status: int, message: str, code: str, param: str | None = None) -> Response:
    """The error shape the openai SDKs parse."""
    resp = jsonify({"error": {"message": message, "type": _OPENAI_TYPES.get(status, "server_error"),
                              "param": param, "code": code}})
    resp.status_code = status
    return resp


def _render(status: int, title: str, detail: str, slug: str, extra: dict[str, Any]) -> Any:
    path = request.path
    if path.startswith("/v1/"):
        return openai_error(status, detail, slug.replace("-", "_"))
    if path.startswith("/api/") or path in _JSON_PATHS:
        return problem(status, title, detail, slug, **extra)
    return render_template("error.html", title=title, detail=detail, status=status), status


def init_app(app: Flask) -> None:
    """Register the handlers for Reader's errors, HTTP errors and anything unexpected."""

    @app.errorhandler(ReaderError)
    def reader_error(exc: ReaderError) -> Any:
        resp = app.make_response(_render(exc.status, exc.title, exc.detail, exc.slug, exc.extra))
        if exc.retry_after:
            resp.headers["Retry-After"] = str(max(math.ceil(exc.retry_after), 1))
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        detail = exc.description or exc.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            detail = f"The request is larger than the limit of {limit // (1024 * 1024)} MB."
        resp = app.make_response(_render(status, exc.name, detail, exc.name.lower().replace(" ", "-"), {}))
        valid = getattr(exc, "valid_methods", None)
        if status == 405 and valid:
            resp.headers["Allow"] = ", ".join(valid)
        return resp

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        # The type only: messages can carry document text or transcripts.
        LOGGER.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.path,
                     exc_info=app.debug)
        return _render(500, "Internal server error", "Something went wrong on the server. Please try again.",
                       "internal", {})
