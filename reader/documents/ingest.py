"""Turn what a user sends (text, a web address, a file) into a stored Document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadRequest, EmptyText, TooLarge, Unprocessable, UnsupportedMedia
from ..text import language as languages
from .build import build_document
from .model import Block, Document
from .ocr import Ocr
from .store import Documents
from .text import text_blocks

_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
# WHATWG MIME sniffing: the tags that make a resource HTML when it starts with them.
_MARKUP = re.compile(
    rb"^(?:\s|<!--.*?-->)*<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style"
    rb"|title|b|br|p|meta|link|article|section|main|header|nav|ul|ol|h[2-6]|span|img|form)[\s/>]",
    re.I | re.S,
)
_XHTML = re.compile(rb"^\s*<\?xml[^>]*>\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html)", re.I | re.S)
# Bytes no text file holds (WHATWG "binary data bytes"): NUL and most C0 controls.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HTML_NAMES = (".html", ".htm", ".xhtml", ".shtml")
_TEXT_NAMES = (".txt", ".text", ".md", ".markdown", ".mdown", ".mkd", ".rst")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Extracted:
    """Blocks and what is known about them, before segmentation."""

    blocks: list[Block]
    title: str | None = None
    language: str | None = None
    skipped: tuple[str, ...] = field(default_factory=tuple)
    images: tuple[str, ...] = ()
    site: str | None = None
    author: str | None = None
    published: str | None = None


def check_language(language: str | None, default: str = "en") -> str:
    """A BCP 47-shaped language tag, or a 400."""
    if language is None or language == "":
        return default
    if not isinstance(language, str) or not _LANG.match(language):
        raise BadRequest(f"{language!r} is not a language tag such as 'en' or 'en-GB'.")
    return language


def check_mode(mode: object) -> str:
    """"article" (main content, the default) or "page" (everything visible), or a 400."""
    if mode is None or mode == "":
        return "article"
    if mode not in ("article", "page"):
        raise BadRequest("'mode' must be \"article\" (the main text) or \"page\" (the whole page).")
    return str(mode)


def sniff(data: bytes, hint: str | None = None) -> str | None:
    """"pdf", "html" or "text" from the bytes themselves; None for anything else.

    `hint` ("html" or "text", from a file name or a Content-Type) only settles what the
    bytes leave open: HTML source saved as .txt is read as text, a page without a
    leading tag served as HTML is read as HTML. It never makes binary data text.
    """
    head = data[:1024]
    # A PDF may have junk before its header (readers look in the first 1024 bytes), but
    # a text that only mentions "%PDF-" must not become one.
    if head.lstrip().startswith(b"%PDF-") or b"%PDF-" in head and _BINARY.search(data, 0, 65536):
        return "pdf"
    if head.startswith(_UTF16_BOMS):
        head = head.decode("utf-16", errors="replace").encode("utf-8")
    elif _is_binary(data):
        return None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if hint != "text" and (_MARKUP.match(head) or _XHTML.match(head)):
        return "html"
    if head.lstrip().startswith(b"<?xml"):
        return None  # feeds and other XML are not documents to read
    return "html" if hint == "html" else "text"


def _is_binary(data: bytes) -> bool:
    """Binary data, not text with a stray control byte: a NUL near the start, or control bytes
    that are more than 1 in 200 of the first 64 KB (a text editor's junk byte is one or two)."""
    if b"\x00" in data[:1024]:
        return True
    sample = data[:65536]
    return len(_BINARY.findall(sample)) > max(2, len(sample) // 200)


def _name_hint(filename: str | None) -> str | None:
    name = (filename or "").lower()
    if name.endswith(_HTML_NAMES):
        return "html"
    return "text" if name.endswith(_TEXT_NAMES) else None


def extract(data: bytes, *, hint: str | None = None, charset: str | None = None,
            mode: str = "article", max_text_chars: int, ocr: Ocr | None = None,
            url: str | None = None) -> Extracted:
    """Bytes of a page, PDF, book, image or text file -> blocks, by what the bytes are. `ocr`
    recognises scanned pages and images (without it they are refused, as before)."""
    from .html import decode, html_document

    if not data.strip():
        raise EmptyText("The file is empty: there is nothing to read.")
    if data.startswith(b"PK\x03\x04"):  # a zip: an EPUB, a Word file, or neither
        from . import books

        zipped = books.kind_of_zip(data)
        if zipped is None:
            raise books.refuse_other_zip()
        book = books.epub_book(data) if zipped == "epub" else books.docx_book(data)
        if sum(len(b.text) for b in book.blocks) > max_text_chars:
            raise TooLarge(f"The book has more than {max_text_chars:,} characters of text, the limit.")
        return Extracted(book.blocks, book.title, book.language, book.skipped, book.images)
    from . import ocr as text_recognition

    if text_recognition.is_image(data):
        if ocr is None:
            raise UnsupportedMedia("This is an image; text recognition (OCR) is not available on this server.")
        data = text_recognition.image_to_pdf(data)
    kind = sniff(data, hint)
    if kind == "pdf":
        from .pdf import pdf_blocks  # heavy (pypdf): imported when a PDF arrives

        blocks, skipped, title = pdf_blocks(data, ocr)
        return Extracted(blocks, title, None, skipped)
    if kind == "html":
        page = html_document(data, mode=mode, http_charset=charset, url=url)
        if not page.blocks:
            raise Unprocessable("No readable text was found on this page.")
        return Extracted(page.blocks, page.title, page.language, page.skipped, page.images,
                         page.site, page.author, page.published)
    if kind == "text":
        text = decode(data, charset, markup=False)
        if len(text) > max_text_chars:
            raise TooLarge(f"The text has {len(text):,} characters; the limit is {max_text_chars:,}.")
        blocks = text_blocks(text)
        if not blocks:
            raise EmptyText("The file holds no text to read.")
        return Extracted(blocks)
    raise UnsupportedMedia("This is not a web page, PDF, EPUB, Word, image or text file, so it cannot be read "
                           "aloud.")


def check_title(title: object) -> str | None:
    """A title the user gave (None or blank: let the document's own title stand), or a 400."""
    if title is None:
        return None
    if not isinstance(title, str):
        raise BadRequest("'title' must be a string.")
    return title.strip() or None


def store_extracted(store: Documents, found: Extracted, *, source: str, language: str | None,
                    url: str | None = None, title: object = None) -> tuple[Document, bool]:
    """What was extracted, as a stored document (its languages identified, its sentences cut)."""
    return _store(store, found, source=source, language=language, url=url, title=title)


def _store(store: Documents, found: Extracted, *, source: str, language: str | None,
           url: str | None = None, title: object = None) -> tuple[Document, bool]:
    check_language(language)
    lang, blocks = languages.apply(found.blocks, language or found.language, trusted=bool(language))
    doc = build_document(blocks, source=source, language=lang,
                         title=check_title(title) or found.title, skipped=found.skipped, url=url,
                         images=found.images, site=found.site, author=found.author, published=found.published)
    return _put(store, doc)


def _put(store: Documents, doc: Document) -> tuple[Document, bool]:
    """Store `doc`; the same content again answers with what is stored (its title included)."""
    if store.put(doc):
        return doc, True
    return store.get(doc.id), False


def from_url(store: Documents, url: object, *, settings: Any, mode: object = None,
             language: str | None = None, fetcher: Any = None, title: object = None,
             ocr: Ocr | None = None) -> tuple[Document, bool]:
    """A web address -> stored document; returns (document, created)."""
    from .fetch import Fetcher

    mode = check_mode(mode)
    check_language(language)
    check_title(title)  # refuse a bad title before any request leaves
    page = (fetcher or Fetcher.from_settings(settings)).fetch(url)
    # The server's Content-Type is only a hint: text/plain that starts with <html> is a page.
    hint = "html" if page.content_type in _HTML_TYPES else None
    found = extract(page.data, hint=hint, charset=page.charset,
                    mode=mode, max_text_chars=settings.max_text_chars, ocr=ocr, url=page.url)
    return _store(store, found, source="url", language=language, url=page.url, title=title)


def from_upload(store: Documents, data: bytes, *, settings: Any, filename: str | None = None,
                mode: object = None, language: str | None = None,
                title: object = None, ocr: Ocr | None = None) -> tuple[Document, bool]:
    """An uploaded file -> stored document; returns (document, created)."""
    mode = check_mode(mode)
    check_language(language)
    check_title(title)
    if len(data) > settings.max_upload_bytes:
        raise TooLarge(f"The file is larger than the limit of {settings.max_upload_mb} MB.")
    found = extract(data, hint=_name_hint(filename), mode=mode, max_text_chars=settings.max_text_chars, ocr=ocr)
    return _store(store, found, source="file", language=language, title=title)


def from_text(
    store: Documents,
    text: object,
    *,
    max_chars: int,
    title: str | None = None,
    language: str | None = None,
) -> tuple[Document, bool]:
    """Pasted text -> stored document; returns (document, created)."""
    if not isinstance(text, str):
        raise BadRequest("'text' must be a string.")
    if len(text) > max_chars:
        raise TooLarge(
            f"The text has {len(text):,} characters; the limit is {max_chars:,}. "
            "Split it into parts, or ask the operator to raise READER_MAX_TEXT_CHARS."
        )
    title = check_title(title)
    check_language(language)
    blocks = text_blocks(text)
    if not blocks:
        raise EmptyText("The text is empty: paste some text to read.")
    lang, blocks = languages.apply(blocks, language or None, trusted=bool(language))
    doc = build_document(blocks, source="text", language=lang, title=title)
    return _put(store, doc)
