"""EPUB and Word files, built here (EPUB by hand, 2 and 3; Word with python-docx): chapters and headings in reading
order, footnotes and page markers out, tables row by row, each chapter's language; bad files
are clear 4xx problems and nothing is stored."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

CHAPTER = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head><title>{title}</title></head><body>{body}</body></html>"""
STORM = ("<p>The storm came in from the west before dark.<a epub:type=\"noteref\" href=\"#n1\">1</a> "
         "The keeper lit the lamp.</p><span epub:type=\"pagebreak\" id=\"p2\" title=\"2\">2</span>"
         "<p>All night the light turned over the water.</p>"
         "<aside epub:type=\"footnote\" id=\"n1\"><p>A footnote that is not read aloud.</p></aside>")
MORNING = ("<section lang=\"fr\"><h2>Le Matin</h2><p>Le matin, la mer était calme et le ciel était clair. "
           "Le gardien a dormi jusqu'à midi.</p></section>")


def _epub(*, encrypted: bool = False, version: int = 3) -> bytes:
    """A small EPUB written by hand: the OPF, a navigation document (EPUB 3) or an NCX (EPUB 2),
    two chapters and the table of contents page in the spine."""
    nav_item = ('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
                if version == 3 else '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="{version}.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">reader-test-book</dc:identifier><dc:title>The Lighthouse Keeper</dc:title>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>{nav_item}
    <item id="one" href="text/one.xhtml" media-type="application/xhtml+xml"/>
    <item id="two" href="text/two.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine{' toc="ncx"' if version == 2 else ''}>{'<itemref idref="nav"/>' if version == 3 else ''}
    <itemref idref="one"/><itemref idref="two"/></spine>
</package>"""
    nav = CHAPTER.format(title="Contents", body='<nav epub:type="toc"><h1>Contents</h1><ol>'
                         '<li><a href="text/one.xhtml">The Storm</a></li>'
                         '<li><a href="text/two.xhtml#top">Le Matin</a></li></ol></nav>')
    ncx = ("<?xml version=\"1.0\"?><ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\"><navMap>"
           "<navPoint id=\"a\"><navLabel><text>The Storm</text></navLabel><content src=\"text/one.xhtml\"/></navPoint>"
           "<navPoint id=\"b\"><navLabel><text>Le Matin</text></navLabel><content src=\"text/two.xhtml\"/></navPoint>"
           "</navMap></ncx>")
    files = {"mimetype": "application/epub+zip",
             "META-INF/container.xml": ('<?xml version="1.0"?><container version="1.0" '
                                        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                                        '<rootfile full-path="OEBPS/content.opf" '
                                        'media-type="application/oebps-package+xml"/></rootfiles></container>'),
             "OEBPS/content.opf": opf,
             "OEBPS/text/one.xhtml": CHAPTER.format(title="The Storm", body=STORM),
             "OEBPS/text/two.xhtml": CHAPTER.format(title="Le Matin", body=MORNING)}
    files["OEBPS/nav.xhtml" if version == 3 else "OEBPS/toc.ncx"] = nav if version == 3 else ncx
    if encrypted:
        files["META-INF/encryption.xml"] = "<encryption/>"
    return _zip(files)


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly Report", level=1)
    paragraph = document.add_paragraph("Sales rose in the spring, as the team expected.")
    document.add_heading("Team", level=2)
    document.add_paragraph("Ada leads the work.", style="List Bullet")
    document.add_paragraph("Grace checks the numbers.", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for row, (name, age) in zip(table.rows, [("Name", "Age"), ("Ada", "36"), ("Grace", "45")], strict=True):
        row.cells[0].text, row.cells[1].text = name, age
    del paragraph
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _upload(client: Any, data: bytes, name: str) -> Any:
    return client.post("/api/documents", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("version", [3, 2])
def test_an_epub_opens_with_its_chapters(client: Any, version: int) -> None:
    resp = _upload(client, _epub(version=version), "book.epub")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert doc["title"] == "The Lighthouse Keeper"
    blocks = [(b["kind"], b["text"], b.get("lang")) for b in doc["blocks"]]
    headings = [text for kind, text, _ in blocks if kind == "heading"]
    assert headings == ["The Storm", "Le Matin"]  # the first from the table of contents
    text = " ".join(t for _, t, _ in blocks)
    assert "The storm came in from the west before dark. The keeper lit the lamp." in text
    assert "footnote" not in text and " 2 " not in f" {text} "  # notes, note marks and page markers out
    assert text.index("The storm came") < text.index("All night") < text.index("Le matin")  # the spine's order
    french = [lang for _, t, lang in blocks if t.lower().startswith("le matin")]
    assert french == ["fr", "fr"]  # the chapter's own language, its short heading too
    assert any("footnotes" in s for s in doc["skipped"])


def test_a_docx_opens_with_headings_lists_and_tables_row_by_row(client: Any) -> None:
    resp = _upload(client, _docx(), "report.docx")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    blocks = [(b["kind"], b["text"]) for b in doc["blocks"]]
    assert ("heading", "Quarterly Report") in blocks and ("heading", "Team") in blocks
    assert doc["title"] == "Quarterly Report"
    assert ("list_item", "Ada leads the work.") in blocks
    assert ("paragraph", "Name: Ada; Age: 36.") in blocks and ("paragraph", "Name: Grace; Age: 45.") in blocks


@pytest.mark.parametrize(("make", "name", "status", "says"), [
    (lambda: _epub(encrypted=True), "locked.epub", 422, "protected"),
    (lambda: _zip({"word/other.xml": "<x/>", "readme.txt": "hello"}), "renamed.docx", 415, "zip archive"),
    (lambda: _epub()[:400], "cut.epub", 415, "zip archive"),
    (lambda: _zip({"mimetype": "application/epub+zip", "META-INF/container.xml": "<broken"}), "bad.epub", 422,
     "damaged"),
    (lambda: _bomb(), "bomb.docx", 422, "unpacks"),
])
def test_bad_books_are_clear_problems_and_nothing_is_stored(client: Any, settings: Any, make: Any, name: str,
                                                             status: int, says: str) -> None:
    resp = _upload(client, make(), name)
    assert resp.status_code == status, resp.get_json()
    assert resp.mimetype == "application/problem+json" and says in resp.get_json()["detail"]
    assert not list((Path(settings.data_dir) / "documents").glob("??/*.json"))


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():  # "mimetype" first and stored, as EPUB wants
            archive.writestr(path, text, compress_type=zipfile.ZIP_STORED if path == "mimetype" else None)
    return buf.getvalue()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/padding.xml", "0" * (50 * 1024 * 1024))  # 50 MB of zeros: a few KB packed
    return buf.getvalue()


def test_markdown_keeps_its_structure_and_loses_its_marks(client: Any) -> None:
    text = ("# Notes\n\nA paragraph with **bold**, _emphasis_ and `code`, and [a link](https://example.org/a).\n\n"
            "## Steps\n\n- first step\n- second step\n\nThen 5 * 3 is fifteen, and snake_case stays.\n")
    resp = _upload(client, text.encode(), "notes.md")
    assert resp.status_code == 201
    blocks = [(b["kind"], b.get("level"), b["text"]) for b in resp.get_json()["blocks"]]
    assert blocks == [("heading", 1, "Notes"),
                      ("paragraph", None, "A paragraph with bold, emphasis and code, and a link."),
                      ("heading", 2, "Steps"), ("list_item", None, "first step"), ("list_item", None, "second step"),
                      ("paragraph", None, "Then 5 * 3 is fifteen, and snake_case stays.")]
