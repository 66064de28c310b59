"""One helper renders every error as application/problem+json under /api and /v1."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import ReaderError

LOGGER = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    """The one JSON error shape: type, title, status, detail (+ extras)."""
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM_JSON
    return resp


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/v1/")) or request.path == "/healthz"


def _html(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("error.html", title=title, detail=detail, status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ReaderError)
    def reader_error(exc: ReaderError) -> Any:
        if _wants_json():
            return problem(exc.status, exc.title, exc.detail, exc.slug, **exc.extra)
        return _html(exc.status, exc.title, exc.detail)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        title = exc.name
        detail = exc.description or title
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            detail = f"The request is larger than the limit of {limit // (1024 * 1024)} MB."
        if _wants_json():
            resp = problem(status, title, detail, title.lower().replace(" ", "-"))
            if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
                resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
            return resp
        return _html(status, title, detail)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        # The type only: messages can carry document text or transcripts.
        LOGGER.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.path,
                     exc_info=app.debug)
        detail = "Something went wrong on the server. Please try again."
        if _wants_json():
            return problem(500, "Internal server error", detail, "internal")
        return _html(500, "Internal server error", detail)
