"""CORS for what other sites may use: dictate.js (with the modules it imports and its style
sheet) and the speech and transcription APIs, for the origins in READER_CORS_ORIGINS ("*"
for any)."""

from __future__ import annotations

from flask import Flask, Response, request

from ..services import services

# Static files: a cross-origin <script type="module"> (and what it imports) is fetched in
# CORS mode. /static/dictate.js, dictate-*.js, dictate.css.
STATIC_PREFIX = "/static/dictate"
API_PATHS = frozenset({"/api/transcriptions", "/api/transcriptions/live", "/api/speech"})
PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a preflight answer


def _normal(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def init_app(app: Flask) -> None:
    allowed = {_normal(o) for o in services(app).settings.cors_origins}

    @app.after_request
    def cors(resp: Response) -> Response:
        path = request.path
        if not path.startswith(STATIC_PREFIX) and path not in API_PATHS:
            return resp
        resp.vary.add("Origin")  # the answer depends on who asks: caches must keep them apart
        origin = request.headers.get("Origin")
        if not origin or not allowed or ("*" not in allowed and _normal(origin) not in allowed):
            return resp
        resp.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        if request.method == "OPTIONS":
            resp.headers["Access-Control-Allow-Methods"] = "POST" if path in API_PATHS else "GET"
            resp.headers["Access-Control-Allow-Headers"] = "Content-Type"
            resp.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
            # Chrome's Private Network Access: a public site calling a Reader on an intranet.
            if request.headers.get("Access-Control-Request-Private-Network") == "true":
                resp.headers["Access-Control-Allow-Private-Network"] = "true"
        return resp
