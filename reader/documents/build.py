"""Blocks -> Document: segment each block into sentences and derive the id and title."""

from __future__ import annotations

from ..text.segment import segment, split_for_synthesis
from .model import Block, Document, Sentence, document_id

TITLE_CHARS = 80
# A "sentence" longer than this (a table flattened into one line, a run without punctuation) is
# read, highlighted and cached in clause-sized parts: one request's work stays small.
MAX_SENTENCE_CHARS = 600


def build_document(
    blocks: list[Block],
    *,
    source: str,
    language: str = "en",
    title: str | None = None,
    skipped: tuple[str, ...] = (),
    url: str | None = None,
    images: tuple[str, ...] = (),
    site: str | None = None,
    author: str | None = None,
    published: str | None = None,
) -> Document:
    """Segment blocks into sentences with offsets into each block's text."""
    sentences: list[Sentence] = []
    for block in blocks:
        for start, end in _sentences(block.text, block.lang or language):
            sentences.append(
                Sentence(index=len(sentences), block=block.index, start=start, end=end,
                         text=block.text[start:end])
            )
    return Document(
        id=document_id(blocks, language=language),
        title=title or _title(blocks),
        language=language,
        source=source,
        blocks=tuple(blocks),
        sentences=tuple(sentences),
        skipped=skipped,
        url=url,
        images=images,
        site=site,
        author=author,
        published=published,
    )


def _sentences(text: str, lang: str = "en") -> list[tuple[int, int]]:
    """Sentence spans of `text`, none longer than MAX_SENTENCE_CHARS."""
    spans: list[tuple[int, int]] = []
    for start, end in segment(text, lang):
        if end - start <= MAX_SENTENCE_CHARS:
            spans.append((start, end))
            continue
        spans.extend((start + s, start + e) for s, e in split_for_synthesis(text[start:end], MAX_SENTENCE_CHARS))
    return spans


def _title(blocks: list[Block]) -> str:
    for block in blocks:
        if block.kind == "heading":
            return _shorten(block.text)
    return _shorten(blocks[0].text) if blocks else "Untitled"


def _shorten(text: str) -> str:
    if len(text) <= TITLE_CHARS:
        return text
    cut = text.rfind(" ", 0, TITLE_CHARS - 1)
    return text[: cut if cut > 20 else TITLE_CHARS - 1].rstrip(" ,;:") + "…"
