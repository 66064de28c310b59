"""Opening documents end to end: web addresses, uploads and the home page forms (no JavaScript)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from test_api import problem_of
from test_fetch import ARTICLE, ROUTES, LocalServer, _pdf, send

PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>The harbour reopens - Harbour news</title></head><body>"
    "<nav><ul><li><a href='/'>Home page link</a></li><li><a href='/more'>More news link</a></li></ul></nav>"
    "<main><article><h1>The harbour reopens</h1>"
    + "".join(f"<p>Paragraph {n}: the harbour reopened on Monday after the storm repairs were finished, "
              "and the first ferries left on time in calm weather.</p>" for n in range(1, 5))
    + "<ul><li>Ferries run every hour</li><li>Parking is free this week</li></ul>"
    "</article></main><footer>Footer text of the site</footer></body></html>"
).encode("utf-8")
MARKDOWN = b"# Shopping list\n\nThings to buy on Saturday.\n\n- Bread\n- Apples\n\n## Later\n\nCall the plumber.\n"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    routes = {**ROUTES, "/news": lambda h: send(h, PAGE)}
    with LocalServer(routes) as srv:
        yield srv


@pytest.fixture
def local_client(make_app: Any) -> Any:
    """A client whose app may fetch from 127.0.0.1, as READER_ALLOW_PRIVATE_URLS=true allows."""
    return make_app(allow_private_urls=True).test_client()


def upload(client: Any, data: bytes, name: str, path: str = "/api/documents", **form: str) -> Any:
    """POST a multipart form; encoded here since the test client spools big bodies to unclosed files."""
    boundary = "reader-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in form.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


# -- JSON {"url"} -------------------------------------------------------------------------------------


def test_url_becomes_a_document(local_client: Any, server: LocalServer) -> None:
    resp = local_client.post("/api/documents", json={"url": server.base + "/news"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    doc = resp.get_json()
    assert doc["source"] == "url" and doc["url"] == server.base + "/news"
    assert doc["title"] == "The harbour reopens" and doc["language"] == "en"
    kinds = [(b["kind"], b["text"]) for b in doc["blocks"]]
    assert ("heading", "The harbour reopens") in kinds
    assert ("list_item", "Ferries run every hour") in kinds
    text = " ".join(b["text"] for b in doc["blocks"])
    assert "Home page link" not in text and "Footer text" not in text
    assert "navigation" in doc["skipped"]
    assert resp.headers["Location"] == f"/api/documents/{doc['id']}"
    again = local_client.post("/api/documents", json={"url": server.base + "/news"})
    assert again.status_code == 200 and again.get_json()["id"] == doc["id"]


def test_whole_page_mode_and_redirects(local_client: Any, server: LocalServer) -> None:
    doc = local_client.post("/api/documents", json={"url": server.base + "/news", "mode": "page"}).get_json()
    text = " ".join(b["text"] for b in doc["blocks"])
    assert "Home page link" in text and "Footer text of the site" in text
    moved = local_client.post("/api/documents", json={"url": server.base + "/hop?n=2"}).get_json()
    assert moved["url"] == server.base + "/article"
    assert any("served from the loopback address" in b["text"] for b in moved["blocks"])


def test_private_address_refused_without_the_setting(client: Any, server: LocalServer) -> None:
    body = problem_of(client.post("/api/documents", json={"url": server.base + "/news"}), 403)
    assert "loopback" in body["detail"]
    assert server.requests == []


@pytest.mark.parametrize("payload,status", [
    ({"url": "ftp://127.0.0.1/file"}, 400),
    ({"url": 42}, 400),
    ({"url": "/news", "mode": "everything"}, 400),
    ({"url": "/missing"}, 422),
    ({"url": "/blob"}, 415),
    ({"url": "/hop?n=6"}, 422),
])
def test_bad_urls_are_clear_problems(local_client: Any, server: LocalServer, payload: dict[str, Any], status: int) -> None:
    if isinstance(payload["url"], str) and payload["url"].startswith("/"):
        payload = {**payload, "url": server.base + payload["url"]}
    problem_of(local_client.post("/api/documents", json=payload), status)


def test_download_limit(make_app: Any, server: LocalServer) -> None:
    client = make_app(allow_private_urls=True, max_download_mb=1).test_client()
    body = problem_of(client.post("/api/documents", json={"url": server.base + "/huge"}), 413)
    assert "1 MB" in body["detail"]


def test_pdf_behind_an_html_content_type(local_client: Any, server: LocalServer) -> None:
    resp = local_client.post("/api/documents", json={"url": server.base + "/pdf-as-html"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert "wrong content type" in " ".join(b["text"] for b in resp.get_json()["blocks"]).lower()


def test_text_still_works(client: Any) -> None:
    resp = client.post("/api/documents", json={"text": "Just a sentence."})
    assert resp.status_code == 201 and resp.get_json()["source"] == "text"
    problem_of(client.post("/api/documents", json={"title": "no text or url"}), 400)


# -- multipart uploads --------------------------------------------------------------------------------


def test_upload_html(client: Any) -> None:
    resp = upload(client, PAGE, "news.html")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    doc = resp.get_json()
    assert doc["source"] == "file" and doc["title"] == "The harbour reopens"
    assert "navigation" in doc["skipped"]
    page = upload(client, PAGE, "news.html", mode="page").get_json()
    assert "Home page link" in " ".join(b["text"] for b in page["blocks"])


def test_upload_text_and_markdown(client: Any) -> None:
    doc = upload(client, "Première ligne.\n\nSeconde ligne, en français.".encode("cp1252"), "note.txt",
                 language="fr").get_json()
    assert [b["text"] for b in doc["blocks"]] == ["Première ligne.", "Seconde ligne, en français."]
    assert doc["language"] == "fr"
    md = upload(client, MARKDOWN, "list.md").get_json()
    assert [(b["kind"], b["text"]) for b in md["blocks"]] == [
        ("heading", "Shopping list"), ("paragraph", "Things to buy on Saturday."),
        ("list_item", "Bread"), ("list_item", "Apples"), ("heading", "Later"), ("paragraph", "Call the plumber."),
    ]
    assert md["title"] == "Shopping list"
    # HTML source saved as .txt is read as the text it is.
    source = upload(client, b"<p>Tags are text here.</p>", "snippet.txt").get_json()
    assert source["blocks"][0]["text"] == "<p>Tags are text here.</p>"


def test_upload_pdf(client: Any) -> None:
    resp = upload(client, _pdf(), "whatever.bin")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["source"] == "file"


def test_bad_uploads(make_app: Any) -> None:
    client = make_app(max_upload_mb=1).test_client()
    problem_of(upload(client, bytes(range(256)) * 40, "junk.txt"), 415)
    # An image is read by text recognition now; a broken one is a clear 422.
    broken = problem_of(upload(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "picture.html"), 422)
    assert "image is damaged" in broken["detail"]
    problem_of(upload(client, b"", "empty.txt"), 400)
    problem_of(upload(client, b"word " * 300_000, "big.txt"), 413)
    problem_of(upload(client, PAGE, "news.html", mode="everything"), 400)
    problem_of(client.post("/api/documents", data={"other": "x"}, content_type="multipart/form-data"), 400)


# -- the home page, without JavaScript ------------------------------------------------------------------


def field(html: str, name: str) -> str:
    match = re.search(rf'<(?:input|textarea)[^>]*\bname="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def test_home_page_has_one_way_in(client: Any) -> None:
    """One form: one field for a web address or a text, a file, and the rest behind a disclosure."""
    html = client.get("/").get_data(as_text=True)
    assert "coming soon" not in html.lower()
    for name in ("text", "file"):
        tag = field(html, name)
        assert "disabled" not in tag
        assert re.search(rf'<label for="{name}">', html)
    assert html.count("<form") == 1 and 'enctype="multipart/form-data"' in html
    assert re.search(r"<details class=\"more-choices\">\s*<summary>More choices</summary>", html)
    assert "<script>" not in html and "style=" not in html


@pytest.mark.parametrize(("value", "address"), [
    ("https://example.org/a b", False), ("https://example.org/article?id=3", True), ("www.example.org", True),
    ("example.org/news/today", True), ("Hello there. This is text.", False), ("word", False),
    ("  https://example.org/x  \n", True), ("e.g. this", False), ("3.14", False),
])
def test_the_one_field_knows_an_address_from_a_text(value: str, address: bool) -> None:
    from reader.web.pages import is_address

    assert is_address(value) is address


def test_an_address_in_the_one_field_opens_the_page(make_app: Any, server: LocalServer) -> None:
    client = make_app(allow_private_urls=True).test_client()
    resp = client.post("/", data={"text": f"  {server.base}/news  ", "mode": "article"})
    assert resp.status_code == 303
    assert "The harbour reopens" in client.get(resp.headers["Location"]).get_data(as_text=True)
    # a file chosen beside a text wins: the user picked it last
    resp = upload(client, MARKDOWN, "list.md", path="/", text="")
    assert resp.status_code == 303


def test_home_page_url_form(make_app: Any, server: LocalServer) -> None:
    client = make_app(allow_private_urls=True).test_client()
    resp = client.post("/", data={"url": server.base + "/news", "mode": "article"})
    assert resp.status_code == 303 and re.search(r"/read/[0-9a-f]{24}$", resp.headers["Location"])
    reader = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "The harbour reopens" in reader and "navigation" in reader


def test_home_page_file_form(client: Any) -> None:
    resp = upload(client, MARKDOWN, "list.md", path="/", mode="article")
    assert resp.status_code == 303
    assert "Shopping list" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_home_page_errors_keep_the_input(client: Any, server: LocalServer) -> None:
    address = server.base + "/news?a=1&b=2"
    resp = client.post("/", data={"text": address, "mode": "page"})
    assert resp.status_code == 403
    html = resp.get_data(as_text=True)
    tag = field(html, "text")
    assert address.replace("&", "&amp;") + "</textarea>" in html
    assert 'aria-invalid="true"' in tag and "text-error" in tag
    assert re.search(r'id="text-error" role="alert">.*loopback', html)
    assert re.search(r'<option value="page" selected>', html) and '<details class="more-choices" open>' in html
    assert 'aria-invalid' not in field(html, "file")

    junk = upload(client, bytes(range(256)) * 40, "junk.pdf", path="/")
    assert junk.status_code == 415
    html = junk.get_data(as_text=True)
    assert 'aria-invalid="true"' in field(html, "file") and 'id="file-error" role="alert"' in html

    empty = client.post("/", data={"text": "  "})
    assert empty.status_code == 400 and 'id="text-error"' in empty.get_data(as_text=True)
    legacy = client.post("/", data={"url": "  "})  # the old address form still gets its answer
    assert legacy.status_code == 400 and 'id="text-error"' in legacy.get_data(as_text=True)


def test_home_page_upload_over_the_limit(make_app: Any) -> None:
    client = make_app(max_upload_mb=1).test_client()
    resp = upload(client, b"word " * 300_000, "big.txt", path="/")
    assert resp.status_code == 413
    html = resp.get_data(as_text=True)
    assert 'id="file-error" role="alert"' in html and "1 MB" in html


def test_pasted_text_error_still_shown_on_the_text_field(client: Any) -> None:
    resp = client.post("/", data={"text": "   "})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'aria-invalid="true"' in field(html, "text") and 'id="text-error"' in html


def test_loopback_server_data_is_served(server: LocalServer) -> None:
    """The fixture itself: the article route answers (so failures above are about Reader)."""
    import urllib.request

    with urllib.request.urlopen(server.base + "/article", timeout=5) as resp:
        assert resp.read() == ARTICLE


def test_a_given_title_wins_for_urls_and_uploads(local_client: Any, server: LocalServer) -> None:
    doc = local_client.post("/api/documents", json={"url": server.base + "/news", "title": "  Harbour news "}).get_json()
    assert doc["title"] == "Harbour news"
    upload_doc = upload(local_client, b"Just a plain note. Nothing more.", "note.txt", title="My note").get_json()
    assert upload_doc["title"] == "My note"
    untitled = upload(local_client, b"Another plain note.", "other.txt", title="   ").get_json()
    assert untitled["title"] == "Another plain note."
    problem_of(local_client.post("/api/documents", json={"url": server.base + "/news", "title": 42}), 400)
