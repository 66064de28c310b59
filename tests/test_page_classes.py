"""Classes of web-page faults that lost or garbled what is read (issue: what is read aloud must
be right): markup inside a paragraph, broken markup, junk bytes, invisible characters, and what
is left out being said (code, images, tables, links kept), the source shown above the text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from reader.documents.html import html_document, link_target
from tests.test_documents_api import upload

FILLER = " ".join(
    f"<p>Paragraph {n} of the article goes on about rivers and the animals that live near them, "
    f"long enough for an extractor to count it as the main text of the page.</p>" for n in range(6)
)


def page(inner: str, head: str = "", tail: str = "") -> str:
    return (f"<!doctype html><html lang='en'><head><title>Rivers</title>{head}</head><body>"
            f"<nav><a href='/'>Home</a> <a href='/a'>About</a></nav><main><h1>Rivers</h1>{inner}{FILLER}</main>"
            f"<footer>Copyright 2024 {tail}</footer></body></html>")


def texts(html: str, **kw: Any) -> list[str]:
    return [b.text for b in html_document(html, **kw).blocks]


WHOLE = "Given a set of points in the plane, the hull is the smallest convex set that holds them all. It is unique."


@pytest.mark.parametrize("markup", [
    '<i class="fa fa-star"></i>',  # an icon font
    "<span></span>",
    "<b></b><em></em>",
    '<span><span style="display:none">hidden</span></span>',  # emptied by hidden-element removal
    '<a href="#cite"><sup aria-hidden="true">1</sup></a>',
    '<span class="x"> </span>',
    "<strong><i></i></strong>",
    '<span class="icon" aria-hidden="true"></span><img src="i.svg" alt="">',
])
@pytest.mark.parametrize("mode", ["article", "page"])
def test_empty_markup_inside_a_paragraph_loses_nothing(markup: str, mode: str) -> None:
    body = f"<p>Given a set of {markup}points in the plane, the hull is the smallest {markup} convex set " \
           f"that holds them all. It is {markup}unique.</p>"
    got = texts(page(body), mode=mode)
    assert WHOLE in got, got[:3]


@pytest.mark.parametrize("broken", [
    "<p hidden>A paragraph left open and hidden",  # a browser closes it at <main>
    "<p class='lede'>A paragraph left open",
    "<svg viewBox='0 0 10 10'><text>icon",  # a drawing left open: a browser leaves it at <p>
    "<math><mi>x</mi>",
])
def test_markup_left_open_does_not_swallow_what_a_browser_shows(broken: str) -> None:
    html = page(f"<p>{WHOLE}</p>").replace("<main>", broken + "<main>")
    for mode in ("article", "page"):
        got = texts(html, mode=mode)
        assert WHOLE in got and "Paragraph 5" in " ".join(got), (mode, got[:3])
        assert not any("hidden" in t for t in got)


@pytest.mark.parametrize("head", [
    "<noscript><div class='warning'>Please turn on JavaScript</noscript>",
    "<noscript><div><p>Enable scripts <img src='x.gif'></noscript>",
    "<template><div><p>A row to be cloned</template>",
])
@pytest.mark.parametrize("where", ["head", "body"])
def test_unclosed_markup_in_noscript_or_template_does_not_swallow_the_page(head: str, where: str) -> None:
    html = page(f"<p>{WHOLE}</p>", head=head if where == "head" else "")
    if where == "body":
        html = html.replace("<body>", "<body>" + head)
    for mode in ("article", "page"):
        got = texts(html, mode=mode)
        assert WHOLE in got and "Paragraph 5" in " ".join(got), (mode, got[:3])
        assert not any("JavaScript" in t or "cloned" in t for t in got)


def test_a_stray_control_byte_does_not_refuse_a_page(client: Any) -> None:
    data = page(f"<p>{WHOLE}</p>").encode()
    data = data[:200] + b"\x01" + data[200:400] + b"\x1b" + data[400:]
    resp = upload(client, data, "page.html")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert not any(re.search("[\x00-\x1f]", b["text"]) for b in doc["blocks"])
    assert WHOLE in [b["text"] for b in doc["blocks"]]
    # the same page without a name or type is still sniffed as a page
    resp = upload(client, data, "download")
    assert resp.status_code in (200, 201) and resp.get_json()["id"] == doc["id"]


def test_binary_junk_is_still_refused(client: Any) -> None:
    import random

    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(20000))
    resp = upload(client, b"<html>" + junk, "junk.html")
    assert resp.status_code == 415 and resp.content_type == "application/problem+json"


@pytest.mark.parametrize("raw, spoken", [
    ("hy\u00adphen\u00ad\u00adation", "hyphenation"),
    ("zero\u200bwidth", "zerowidth"),
    ("left\u200eto\u200fright", "lefttoright"),
    ("em\u202abed\u202cded", "embedded"),
    ("iso\u2066late\u2069", "isolate"),
    ("word\u2060joiner", "wordjoiner"),
    ("in\u2062visible", "invisible"),
    ("bom\ufeffhere", "bomhere"),
    ("next\u0085line", "nextline"),
    ("mongolian\u180evowel", "mongolianvowel"),
])
def test_invisible_characters_never_reach_the_voice(client: Any, raw: str, spoken: str) -> None:
    if raw != "next\u0085line":  # in HTML, a decoded U+0085 is a line break (it is in browsers too)
        doc = html_document(page(f"<p>The word {raw} is here. {WHOLE}</p>"))
        assert f"The word {spoken} is here." in doc.blocks[1].text
    made = client.post("/api/documents", json={"text": f"The word {raw} is here."}).get_json()
    assert made["sentences"][0]["text"] == f"The word {spoken} is here."


def test_links_are_kept_as_safe_absolute_links() -> None:
    body = (f"<p>Read <a href='/wiki/Hull'>the  hull article</a>, <a href='javascript:alert(1)'>this</a>, "
            f"<a href='data:text/html,x'>that</a>, <a href='#top'>the top</a> and "
            f"<a href='mailto:ada@example.org'>write to Ada</a>. {WHOLE}</p>")
    doc = html_document(page(body), url="https://example.org/rivers/")
    block = next(b for b in doc.blocks if b.text.startswith("Read"))
    got = [(block.text[a:b], href) for a, b, href in block.links]
    assert got == [("the hull article", "https://example.org/wiki/Hull"),
                   ("write to Ada", "mailto:ada@example.org")]
    # without the page's address only absolute links stay
    doc = html_document(page(body))
    block = next(b for b in doc.blocks if b.text.startswith("Read"))
    assert [href for _, _, href in block.links] == ["mailto:ada@example.org"]


@pytest.mark.parametrize("href, base, expected", [
    ("https://a.example/x", None, "https://a.example/x"),
    ("/x?y=1", "https://a.example/p/", "https://a.example/x?y=1"),
    ("x", None, None),
    ("javascript:alert(1)", "https://a.example/", None),
    ("JaVaScRiPt:alert(1)", None, None),
    ("vbscript:x", None, None),
    ("data:text/html;base64,PHNjcmlwdD4=", None, None),
    ("#section", "https://a.example/", None),
    ("https://a.example/\"><script>", None, None),
    ("http:///nohost", None, None),
    ("ftp://a.example/f", None, None),
])
def test_link_targets(href: str, base: str | None, expected: str | None) -> None:
    assert link_target(href, base) == expected


def test_links_render_as_links_escaped_and_do_not_break_sentences(client: Any) -> None:
    body = (f"<p>See <a href='https://example.org/a?b=1&amp;c=2'>the first &lt;part&gt;. And the "
            f"second</a> part here. {WHOLE}</p>")
    resp = upload(client, page(body).encode(), "page.html")
    doc = resp.get_json()
    block = next(b for b in doc["blocks"] if b["text"].startswith("See"))
    assert block["links"] == [[4, 36, "https://example.org/a?b=1&c=2"]]
    html = client.get(f"/read/{doc['id']}").get_data(as_text=True)
    # a link across two sentences becomes one link in each, inside the sentences' spans
    assert ('<span class="sentence" data-index="1">See <a href="https://example.org/a?b=1&amp;c=2" '
            'rel="noreferrer">the first &lt;part&gt;.</a></span>') in html
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noreferrer">And the second</a> part here.' in html
    assert "<part>" not in html


def test_images_code_and_tables_left_out_are_listed(client: Any) -> None:
    body = ("<p>Rivers carry water to the sea, as everybody knows from school and from maps.</p>"
            "<p><img src='a.jpg' alt='An otter on a rock in the river'> <img src='b.png'> "
            "<img src='t.gif' width='1' height='1'> <img src='c.png' alt=''></p>"
            "<pre><code>flow = area * speed</code></pre>"
            f"<p>{WHOLE}</p>")
    html = page(body, tail="<img src='logo.png' alt='Rivers Inc. logo'>")
    doc = html_document(html)
    assert doc.images == ("An otter on a rock in the river",)  # not the logo in the footer
    assert "2 images, 1 without a description" in doc.skipped and "1 code block" in doc.skipped
    assert not any("otter" in b.text or "flow =" in b.text for b in doc.blocks)
    made = upload(client, html.encode(), "page.html").get_json()
    assert made["images"] == ["An otter on a rock in the river"]
    reader = client.get(f"/read/{made['id']}").get_data(as_text=True)
    assert 'data-text="An otter on a rock in the river"' in reader and "What the images show" in reader
    assert "1 code block" in reader


def test_the_source_is_shown_above_the_text(client: Any) -> None:
    head = ("<meta name='author' content='Ada Lovelace'><meta property='og:site_name' content='River News'>"
            "<meta property='article:published_time' content='2024-03-05T10:00:00Z'>")
    doc = html_document(page(f"<p>{WHOLE}</p>", head=head), url="https://news.example/rivers")
    assert (doc.site, doc.author, doc.published) == ("River News", "Ada Lovelace", "2024-03-05")
    made = upload(client, page(f"<p>{WHOLE}</p>", head=head).encode(), "page.html").get_json()
    assert made["author"] == "Ada Lovelace"
    reader = client.get(f"/read/{made['id']}").get_data(as_text=True)
    source = reader[reader.index('id="doc-source"'):]
    source = source[:source.index("</p>")]
    assert "River News" in source and "Ada Lovelace" in source and '<time datetime="2024-03-05">5 March 2024</time>' in source
    assert reader.index('id="doc-source"') < reader.index('id="document"')
