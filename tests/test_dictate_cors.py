"""CORS for dictate.js and the speech APIs: only for READER_CORS_ORIGINS, with preflight."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

SITE = "https://forms.example.org"
PATHS = ["/static/dictate.js", "/static/dictate-text.js", "/static/dictate-record.js", "/static/dictate.css"]


@pytest.fixture
def cors_client(make_app: Callable[..., Any]) -> Any:
    return make_app(cors_origins=(SITE, "https://other.example.net/")).test_client()


def get(client: Any, path: str, origin: str | None = None) -> Any:
    """GET, with the body read and the file closed (static files are streamed)."""
    with client.get(path, headers={"Origin": origin} if origin else {}) as resp:
        resp.get_data()
        return resp


@pytest.mark.parametrize("path", PATHS)
def test_allowed_origin_may_load_the_script(cors_client: Any, path: str) -> None:
    resp = get(cors_client, path, SITE)
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in resp.headers["Vary"]
    if path.endswith(".js"):
        assert resp.mimetype == "text/javascript"  # a module script must be served as JS


def test_origins_are_compared_without_case_or_trailing_slash(cors_client: Any) -> None:
    resp = get(cors_client, "/static/dictate.js", "https://OTHER.example.net")
    assert resp.headers["Access-Control-Allow-Origin"] == "https://OTHER.example.net"


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://forms.example.org", None])
def test_other_origins_get_no_cors_headers(cors_client: Any, origin: str | None) -> None:
    resp = get(cors_client, "/static/dictate.js", origin)
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert "Origin" in resp.headers["Vary"]  # a shared cache must not hand it to an allowed site


@pytest.mark.parametrize("path", ["/api/transcriptions", "/api/transcriptions/live", "/api/speech"])
def test_preflight_for_the_apis(cors_client: Any, path: str) -> None:
    resp = cors_client.options(path, headers={
        "Origin": SITE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
        "Access-Control-Request-Private-Network": "true",
    })
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == SITE
    assert resp.headers["Access-Control-Allow-Methods"] == "POST"
    assert resp.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert int(resp.headers["Access-Control-Max-Age"]) > 0
    assert resp.headers["Access-Control-Allow-Private-Network"] == "true"


def test_errors_carry_cors_headers_so_the_page_can_read_them(cors_client: Any) -> None:
    resp = cors_client.post("/api/transcriptions", data={}, headers={"Origin": SITE})
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert resp.headers["Access-Control-Allow-Origin"] == SITE


def test_speech_answers_an_allowed_origin(cors_client: Any) -> None:
    resp = cors_client.post("/api/speech", json={"text": "Hello.", "voice": "espeak:en-us"},
                            headers={"Origin": SITE})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize("path", ["/", "/api/voices", "/static/reader.js", "/dictate"])
def test_the_rest_of_the_site_is_not_opened_up(cors_client: Any, path: str) -> None:
    resp = get(cors_client, path, SITE)
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_no_origins_configured_means_no_cors(make_app: Callable[..., Any]) -> None:
    resp = get(make_app().test_client(), "/static/dictate.js", SITE)
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_any_origin_with_a_star(make_app: Callable[..., Any]) -> None:
    client = make_app(cors_origins=("*",)).test_client()
    resp = get(client, "/static/dictate.js", "https://anyone.example")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_dictate_page_renders_the_answers(make_app: Callable[..., Any]) -> None:
    """The demo form posts to itself and only echoes back (nothing is stored)."""
    client = make_app().test_client()
    page = client.get("/dictate")
    assert page.status_code == 200
    assert b"data-dictate-all" in page.data and b"dictate.js" in page.data
    resp = client.post("/dictate", data={"name": "Ada <b>Lovelace</b>", "message": "Hi\nthere"})
    assert resp.status_code == 200
    assert b"Answers received" in resp.data
    assert b"Ada &lt;b&gt;Lovelace&lt;/b&gt;" in resp.data  # escaped, as every template is
