"""HTML extraction: structure kept as blocks, boilerplate left out and reported, charsets, languages."""

from __future__ import annotations

import importlib.util
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

from reader.documents.html import decode, html_document
from reader.documents.model import Block

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT.parent / "shared" / "eval" / "extraction" / "articles"

FILLER = ("Reading aloud helps people who find long screens tiring, and a clean text makes the "
          "listening easier for everyone who uses it every day.")

PAGE = f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Otters of the river – Nature Site</title></head>
<body>
<header><a href="/">Nature Site</a></header>
<nav aria-label="Main"><ul><li><a href="/birds">Birds section</a></li><li><a href="/fish">Fish section</a></li></ul></nav>
<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your visit. Accept all cookies?</p></div>
<main><article>
<h1>Otters of the river</h1>
<p>Otters returned to the river this spring after an absence of forty years. {FILLER}</p>
<h2>Where they live</h2>
<p>They build their dens in the banks, under the roots of old trees near the water. {FILLER}</p>
<ul><li>Under tree roots by the bank</li><li>In piles of rock near the weir</li></ul>
<blockquote><p>We saw three of them playing at dawn, just below the old mill.</p></blockquote>
<h3>What they eat</h3>
<p>Mostly fish, but also frogs and crayfish when the fish are scarce. {FILLER}</p>
<p lang="fr">La loutre d'Europe est un mammifère semi-aquatique qui vit près des rivières.</p>
<table>
<tr><th>Food</th><th>Share</th></tr>
<tr><td>Fish</td><td>80 percent</td></tr>
<tr><td>Frogs</td><td>15 percent</td></tr>
</table>
<figure><img src="otter.jpg" alt="An otter on a rock"><figcaption>An otter resting below the weir.</figcaption></figure>
<figure><img src="den.jpg" alt="The entrance of a den among tree roots"></figure>
<pre><code>count = otters.filter(river="Test").count()</code></pre>
<p>The survey continues next year, with volunteers counting along the whole river. {FILLER}</p>
</article>
<div class="share-buttons"><a href="#">Share on social media</a></div>
<section id="comments" class="comments"><h2>Comments</h2>
<div class="comment"><p>Lovely article, thanks! I saw one too last week near the bridge.</p></div></section>
</main>
<footer><p>Copyright 2024 Nature Site. All rights reserved. Privacy policy.</p></footer>
</body></html>"""


def texts(blocks: list[Block]) -> list[str]:
    return [b.text for b in blocks]


def joined(blocks: list[Block]) -> str:
    return "\n".join(texts(blocks))


@pytest.fixture(scope="module")
def article() -> Any:
    return html_document(PAGE.encode("utf-8"))


def test_boilerplate_is_left_out(article: Any) -> None:
    text = joined(article.blocks)
    assert "Otters returned to the river" in text
    for junk in ("Birds section", "cookies", "Share on social", "Lovely article", "Copyright", "Nature Site"):
        assert junk not in text, junk


def test_skipped_parts_are_reported(article: Any) -> None:
    assert set(article.skipped) >= {"navigation", "cookie notice", "comments", "share buttons", "1 code block"}
    assert all(isinstance(s, str) and s for s in article.skipped)


def test_title_and_language(article: Any) -> None:
    assert article.title == "Otters of the river"
    assert article.language == "en-GB"


def test_headings_keep_their_levels(article: Any) -> None:
    headings = [(b.text, b.level) for b in article.blocks if b.kind == "heading"]
    assert headings == [("Otters of the river", 1), ("Where they live", 2), ("What they eat", 3)]


def test_lists_quotes_tables_and_captions(article: Any) -> None:
    kinds = {b.text: b.kind for b in article.blocks}
    assert kinds["Under tree roots by the bank"] == "list_item"
    assert kinds["In piles of rock near the weir"] == "list_item"
    assert kinds["We saw three of them playing at dawn, just below the old mill."] == "quote"
    cells = [b.text for b in article.blocks if b.kind == "cell"]
    assert cells == ["Food", "Share", "Fish", "80 percent", "Frogs", "15 percent"]  # row by row
    captions = [b.text for b in article.blocks if b.kind == "caption"]
    # A caption is read; images are not, their descriptions are listed for reading on request.
    assert captions == ["An otter resting below the weir."]
    assert "The entrance of a den among tree roots" in article.images


def test_order_is_reading_order(article: Any) -> None:
    text = texts(article.blocks)
    assert text.index("Where they live") < text.index("Under tree roots by the bank") < text.index("What they eat")
    assert text[-1].startswith("The survey continues")
    assert [b.index for b in article.blocks] == list(range(len(article.blocks)))


def test_block_language_where_it_differs(article: Any) -> None:
    french = [b for b in article.blocks if b.text.startswith("La loutre")]
    assert len(french) == 1 and french[0].lang == "fr"
    assert all(b.lang is None for b in article.blocks if b is not french[0])


def test_blocks_are_plain_text() -> None:
    page = html_document(
        f"<html><body><article><h1>Plain</h1><p>Use <b>bold</b> and &lt;script&gt;alert(1)&lt;/script&gt; "
        f"as <a href='x'>text</a>. {FILLER}</p><p>{FILLER} {FILLER}</p></article></body></html>"
    )
    para = next(b for b in page.blocks if b.text.startswith("Use"))
    assert para.text.startswith("Use bold and <script>alert(1)</script> as text.")  # literal text, escaped on output
    assert all("<b>" not in b.text and "<a" not in b.text for b in page.blocks)


def test_whole_page_mode_reads_everything_visible() -> None:
    page = html_document(PAGE.replace("<main>", "<main><p hidden>Hidden text</p><div aria-hidden='true'>"
                                      "Decoration</div><p style='display: none'>Invisible</p>"
                                      "<script>var tracking = 1;</script><template><p>Later</p></template>"),
                         mode="page")
    text = joined(page.blocks)
    for visible in ("Birds section", "cookies", "Lovely article", "Copyright", "Otters returned"):
        assert visible in text, visible
    for hidden in ("Hidden text", "Decoration", "Invisible", "tracking", "Later"):
        assert hidden not in text, hidden
    code = [b for b in page.blocks if b.kind == "preformatted"]
    assert [b.text for b in code] == ['count = otters.filter(river="Test").count()']
    assert page.skipped == ("2 images",)  # the whole page reads its text; images are listed, not read
    assert len(page.images) == 2
    assert ("Birds section", "list_item") in [(b.text, b.kind) for b in page.blocks]


def test_a_short_page_is_read_whole() -> None:
    page = html_document("<html lang='de'><body><p>Kurz und gut.</p></body></html>")
    assert texts(page.blocks) == ["Kurz und gut."]
    assert page.language == "de"


def test_nested_languages_in_page_mode() -> None:
    page = html_document(
        "<html lang='en'><body><p>English here.</p><div lang='de'><p>Deutsch hier.</p>"
        "<p lang='fr'>Français ici.</p></div><p lang='bad language!'>Still English.</p></body></html>",
        mode="page",
    )
    assert [(b.text, b.lang) for b in page.blocks] == [
        ("English here.", None), ("Deutsch hier.", "de"), ("Français ici.", "fr"), ("Still English.", None),
    ]


# -- charsets ---------------------------------------------------------------------------------------


def test_windows_1252_with_meta_charset() -> None:
    body = "<html><head><meta charset='windows-1252'></head><body><p>\u201cCaf\u00e9\u201d \u2013 na\u00efve</p></body></html>"
    page = html_document(body.encode("cp1252"))
    assert texts(page.blocks) == ["\u201cCaf\u00e9\u201d \u2013 na\u00efve"]


def test_latin1_label_means_windows_1252_as_in_browsers() -> None:
    data = b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"></head><body><p>\x93Hi\x94 caf\xe9</p></body></html>'
    assert "\u201cHi\u201d caf\u00e9" in decode(data)


def test_utf8_bom_wins_over_a_wrong_declaration() -> None:
    data = "\ufeff<html><head><meta charset='iso-8859-1'></head><body><p>Grüße, 東京</p></body></html>".encode("utf-8")
    assert texts(html_document(data, http_charset="windows-1252").blocks) == ["Grüße, 東京"]


def test_http_header_charset_wins_over_meta() -> None:
    data = "<html><head><meta charset='utf-8'></head><body><p>Ελληνικά</p></body></html>".encode("iso-8859-7")
    assert texts(html_document(data, http_charset="iso-8859-7").blocks) == ["Ελληνικά"]


def test_undeclared_charset_is_guessed() -> None:
    assert decode("<p>Über größere Flüsse</p>".encode()) == "<p>Über größere Flüsse</p>"
    guessed = decode(("<html><body><p>" + "Les élèves étudient à l'école française. " * 20 + "</p></body></html>").encode("cp1252"))
    assert "élèves étudient à l'école" in guessed
    czech = decode(("<p>" + "Příliš žluťoučký kůň úpěl ďábelské ódy. " * 20 + "</p>").encode("cp1250"))
    assert "Příliš žluťoučký kůň" in czech


# -- the benchmark, on a sample -----------------------------------------------------------------------


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench" / "extraction.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_extraction"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.eval
def test_main_content_on_a_sample_of_real_pages() -> None:
    """Every sixth page of the 181 (30 pages): mean token F1 at least 0.93."""
    bench = _bench()
    pages = bench.load()[::6]
    scores, _ = bench.run(pages, bench.extract)
    precision, recall, f1 = bench.mean_scores(scores)
    assert len(pages) >= 30
    assert f1 >= 0.93, (precision, recall, f1)
    assert statistics.median(s[2] for s in scores) >= 0.95
