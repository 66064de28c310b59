"""EPUB and Word (DOCX) files into blocks, through the same HTML walk as web pages.

EPUB 2 and 3 (read here with zipfile and lxml: ebooklib, the usual library, is AGPL, which
would put every Reader server under the AGPL's network clause): chapters in spine order, each
starting with its heading (from the table of contents when the chapter's own text has none),
footnotes, endnotes and page-break markers left out, each chapter's `lang` kept. DOCX
(mammoth, to semantic HTML): headings, lists, tables read row by row with their header
("Name: Ada; Age: 36"), footnotes and comments out.

Both are zip files: the archive is checked before anything is parsed (its entries, their
total size and compression ratio, so a zip bomb is refused), and a protected EPUB, a zip that
is neither, or a damaged file is a clear 4xx problem.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, replace

from lxml import etree, html

from ..errors import Unprocessable, UnsupportedMedia
from .html import html_document
from .model import Block

MAX_UNPACKED = 200 * 1024 * 1024  # bytes an archive may unpack to
MAX_RATIO = 100  # unpacked / packed; beyond it, a zip bomb
_NOTES = ("footnote", "endnote", "rearnote", "note", "footnotes", "endnotes", "rearnotes", "noteref", "pagebreak",
          "page-list")
_EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@dataclass(frozen=True)
class Book:
    blocks: list[Block]
    title: str | None
    language: str | None
    skipped: tuple[str, ...] = ()
    images: tuple[str, ...] = ()


def kind_of_zip(data: bytes) -> str | None:
    """"epub" or "docx" for a zip that is one, None for other zips (and for what is not a zip)."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == b"application/epub+zip":
                return "epub"
            if "word/document.xml" in names:
                return "docx"
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return None
    return None


def _check_archive(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unprocessable(f"This {what} file is damaged and cannot be opened.") from exc
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(len(data), 1) + 1024 * 1024:
        archive.close()
        raise Unprocessable(f"This {what} file unpacks to far more than it holds; it is refused.")
    return archive


def epub_book(data: bytes) -> Book:
    """The chapters of an EPUB (2 or 3) as blocks, read with zipfile and lxml: the package file
    for metadata and the spine, the navigation document (or the NCX) for chapter titles."""
    with _check_archive(data, "EPUB") as archive:
        names = set(archive.namelist())
        if "META-INF/encryption.xml" in names:
            raise Unprocessable("This EPUB is protected (DRM or obfuscated files); Reader cannot open it. "
                                "A DRM-free copy can be read.")
        try:
            package = _Package.read(archive)
            chapters = [(href, archive.read(href)) for href in package.chapters if href in names]
        except (KeyError, etree.XMLSyntaxError, ValueError) as exc:
            raise Unprocessable("This EPUB is damaged and cannot be opened.") from exc
    blocks: list[Block] = []
    notes = 0
    images: list[str] = []
    for href, content in chapters:
        tree, removed = _without_notes(content)
        notes += removed
        if tree is None:
            continue
        chapter_lang = tree.get("lang") or tree.get("xml:lang")
        page = html_document(etree.tostring(tree, encoding="utf-8"), mode="page", metadata=False)
        found = page.blocks
        images += page.images
        heading = package.titles.get(href)
        if heading and not (found and found[0].kind == "heading"):
            found = [Block(index=0, kind="heading", text=heading, level=2), *found]
        for block in found:
            lang = block.lang or (chapter_lang if chapter_lang and chapter_lang != package.language else None)
            blocks.append(replace(block, index=len(blocks), lang=lang))
    if not blocks:
        raise Unprocessable("This EPUB holds no text to read.")
    skipped: tuple[str, ...] = (f"{notes} footnotes and page markers",) if notes else ()
    if images:
        skipped += (f"{len(images)} images" if len(images) > 1 else "1 image",)
    return Book(blocks, package.title, package.language, skipped, tuple(images))


_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_XHTML = "{http://www.w3.org/1999/xhtml}"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class _Package:
    title: str | None
    language: str | None
    chapters: list[str]  # archive paths of the spine's documents, in reading order (nav left out)
    titles: dict[str, str]  # archive path -> chapter title from the table of contents

    @classmethod
    def read(cls, archive: zipfile.ZipFile) -> _Package:
        container = etree.fromstring(archive.read("META-INF/container.xml"), _SAFE_XML)
        rootfile = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
        if rootfile is None or not rootfile.get("full-path"):
            raise ValueError("no package file")
        opf_path = str(rootfile.get("full-path"))
        opf = etree.fromstring(archive.read(opf_path), _SAFE_XML)
        base = posixpath.dirname(opf_path)

        def path(href: str) -> str:
            return posixpath.normpath(posixpath.join(base, href.split("#")[0]))

        manifest = {}
        nav = ncx = None
        for item in opf.iter(f"{_OPF}item"):
            ident, href = item.get("id"), item.get("href")
            if not ident or not href:
                continue
            manifest[ident] = (path(href), item.get("media-type") or "")
            if "nav" in (item.get("properties") or "").split():
                nav = path(href)
            if item.get("media-type") == "application/x-dtbncx+xml":
                ncx = path(href)
        spine = opf.find(f"{_OPF}spine")
        chapters = []
        for ref in spine.iter(f"{_OPF}itemref") if spine is not None else ():
            found = manifest.get(ref.get("idref") or "")
            if found and "html" in found[1] and found[0] != nav:
                chapters.append(found[0])
        titles: dict[str, str] = {}
        if nav and nav in archive.namelist():
            doc = etree.fromstring(archive.read(nav), _SAFE_XML)
            for link in doc.iter(f"{_XHTML}a"):
                text = " ".join("".join(link.itertext()).split())
                if link.get("href") and text:
                    titles.setdefault(posixpath.normpath(posixpath.join(posixpath.dirname(nav), link.get("href", "")
                                                                        .split("#")[0])), text)
        elif ncx and ncx in archive.namelist():
            doc = etree.fromstring(archive.read(ncx), _SAFE_XML)
            for point in doc.iter(f"{_NCX}navPoint"):
                label = point.find(f"{_NCX}navLabel/{_NCX}text")
                content = point.find(f"{_NCX}content")
                if label is not None and content is not None and label.text and content.get("src"):
                    titles.setdefault(posixpath.normpath(posixpath.join(posixpath.dirname(ncx), content.get("src", "")
                                                                        .split("#")[0])), label.text.strip())
        return cls(title=_text(opf.find(f".//{_DC}title")), language=_text(opf.find(f".//{_DC}language")),
                   chapters=chapters, titles=titles)


def _text(el: etree._Element | None) -> str | None:
    return " ".join("".join(el.itertext()).split()) or None if el is not None else None


def _without_notes(content: bytes) -> tuple[etree._Element | None, int]:
    """An XHTML chapter without its footnotes, endnotes, note references and page markers."""
    try:
        tree = html.fromstring(content)
    except (etree.ParserError, ValueError):
        return None, 0
    removed = 0
    for el in list(tree.iter()):
        if not isinstance(el.tag, str):
            continue
        types = set((el.get(_EPUB_TYPE) or el.get("epub:type") or "").split())
        role = el.get("role") or ""
        if types & set(_NOTES) or role in ("doc-footnote", "doc-endnote", "doc-endnotes", "doc-noteref",
                                           "doc-pagebreak", "doc-pagelist"):
            parent = el.getparent()
            if parent is not None:
                _drop_keep_tail(el)
                removed += 1
    return tree, removed


def _drop_keep_tail(el: etree._Element) -> None:
    """Remove an element but keep the text after it (a note reference sits inside a sentence)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail or ""
    previous = el.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(el)


def docx_book(data: bytes) -> Book:
    """A Word document as blocks: headings, paragraphs, lists, tables row by row."""
    import mammoth

    with _check_archive(data, "Word"):
        pass
    try:
        result = mammoth.convert_to_html(io.BytesIO(data))
    except Exception as exc:  # mammoth raises KeyError, ValueError, XML errors... for a broken file
        raise Unprocessable("This Word file is damaged and cannot be opened.") from exc
    try:
        tree = html.fromstring(f"<html><body>{result.value}</body></html>")
    except (etree.ParserError, ValueError) as exc:
        raise Unprocessable("This Word file holds no text to read.") from exc
    notes = 0
    for el in list(tree.iter()):
        if not isinstance(el.tag, str):
            continue
        ident = el.get("id") or ""
        if ident.startswith(("footnote-", "endnote-", "comment-")) and el.tag == "li":
            _drop_keep_tail(el)
            notes += 1
        elif _note_reference(el):
            _drop_keep_tail(el)
    for lst in list(tree.iter("ol")):
        if len(lst) == 0:
            _drop_keep_tail(lst)
    _tables_as_rows(tree)
    page = html_document(etree.tostring(tree, encoding="utf-8"), mode="page", metadata=False)
    if not page.blocks:
        raise Unprocessable("This Word file holds no text to read.")
    skipped = tuple(x for x in ((f"{notes} footnotes" if notes else ""),) if x)
    title = next((b.text for b in page.blocks if b.kind == "heading"), None)
    skipped += page.skipped
    return Book(list(page.blocks), title, None, skipped, page.images)


def _note_reference(el: etree._Element) -> bool:
    """A footnote or comment mark in the text: <sup><a href="#footnote-1">[1]</a></sup>."""
    link = el.find("a") if el.tag == "sup" else None
    return link is not None and (link.get("href") or "").startswith(("#footnote-", "#endnote-", "#comment-"))


def _tables_as_rows(tree: etree._Element) -> int:
    """Each table becomes one paragraph per row, its cells named by the header row: "Name: Ada; Age: 36"."""
    count = 0
    for table in list(tree.iter("table")):
        rows = [[" ".join(cell.text_content().split()) for cell in row if cell.tag in ("td", "th")]
                for row in table.iter("tr")]
        rows = [r for r in rows if any(r)]
        if not rows:
            _drop_keep_tail(table)
            continue
        header, body = rows[0], rows[1:]
        replacement = etree.Element("div")
        if not body:
            body, header = rows, []
        for row in body:
            para = etree.SubElement(replacement, "p")
            parts = []
            for n, cell in enumerate(row):
                if not cell:
                    continue
                name = header[n] if n < len(header) and header[n] else ""
                parts.append(f"{name}: {cell}" if name else cell)
            para.text = "; ".join(parts) + "."
        replacement.tail = table.tail
        parent = table.getparent()
        if parent is not None:
            parent.replace(table, replacement)
            count += 1
    return count


def refuse_other_zip() -> UnsupportedMedia:
    return UnsupportedMedia("This is a zip archive, but not an EPUB or a Word (.docx) file, so it cannot be "
                            "read aloud.")
