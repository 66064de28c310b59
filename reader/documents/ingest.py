"""Turn what a user sends into a stored Document."""

from __future__ import annotations

import re

from ..errors import BadRequest, EmptyText, TooLarge
from .build import build_document
from .model import Document
from .store import DocumentStore
from .text import text_blocks

_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def check_language(language: str | None, default: str = "en") -> str:
    """A BCP 47-shaped language tag, or a 400."""
    if language is None or language == "":
        return default
    if not isinstance(language, str) or not _LANG.match(language):
        raise BadRequest(f"{language!r} is not a language tag such as 'en' or 'en-GB'.")
    return language


def from_text(
    store: DocumentStore,
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
    if title is not None and not isinstance(title, str):
        raise BadRequest("'title' must be a string.")
    lang = check_language(language)
    blocks = text_blocks(text)
    if not blocks:
        raise EmptyText("The text is empty: paste some text to read.")
    doc = build_document(blocks, source="text", language=lang, title=(title or "").strip() or None)
    return doc, store.put(doc)
