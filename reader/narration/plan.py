"""What a narration reads, in order: every sentence, the pause after it, and the chapters."""

from __future__ import annotations

from dataclasses import dataclass

from ..documents.model import Document

# Pauses a careful narrator leaves, in seconds.
SENTENCE_PAUSE = 0.30
PARAGRAPH_PAUSE = 0.65
HEADING_PAUSE = 1.10  # before and after a heading
PAGES_PER_CHAPTER = 10  # PDFs without headings: a chapter per this many pages


@dataclass(frozen=True)
class Chapter:
    title: str
    first: int  # index of its first sentence
    last: int  # index of its last sentence


@dataclass(frozen=True)
class Plan:
    pauses: tuple[float, ...]  # silence after each sentence, in seconds
    chapters: tuple[Chapter, ...]


def plan(doc: Document) -> Plan:
    """Pauses after each sentence and the chapters of `doc` (headings, else page ranges, else one)."""
    sentences = doc.sentences
    pauses: list[float] = []
    for k, sentence in enumerate(sentences):
        if k + 1 == len(sentences):
            pauses.append(0.5)
            continue
        here, there = doc.blocks[sentence.block], doc.blocks[sentences[k + 1].block]
        if here.index == there.index:
            pauses.append(SENTENCE_PAUSE)
        elif here.kind == "heading" or there.kind == "heading":
            pauses.append(HEADING_PAUSE)
        else:
            pauses.append(PARAGRAPH_PAUSE)
    return Plan(pauses=tuple(pauses), chapters=tuple(_chapters(doc)))


def _chapters(doc: Document) -> list[Chapter]:
    sentences = doc.sentences
    if not sentences:
        return []
    headings = [b for b in doc.blocks if b.kind == "heading"]
    top = min((b.level or 1 for b in headings), default=None)
    starts: list[tuple[int, str]] = []
    if top is not None:
        # The top level of headings present (and the next one, when there is a single top heading).
        levels = {top}
        if sum(1 for b in headings if (b.level or 1) == top) == 1:
            levels.add(top + 1)
        wanted = {b.index: b.text for b in headings if (b.level or 1) in levels}
        for s in sentences:
            if s.block in wanted and (not starts or sentences[starts[-1][0]].block != s.block):
                starts.append((s.index, wanted[s.block]))
    elif any(b.page for b in doc.blocks):
        return _page_chapters(doc)
    if not starts or starts[0][0] != 0:
        starts.insert(0, (0, doc.title if not starts else "Opening"))
    return _close(starts, len(sentences))


def _page_chapters(doc: Document) -> list[Chapter]:
    """A chapter per PAGES_PER_CHAPTER pages, titled by the pages it covers."""
    pages = []
    last = 1
    for s in doc.sentences:
        last = doc.blocks[s.block].page or last
        pages.append(last)
    starts: list[tuple[int, str]] = []
    first_page = 0
    for k, page in enumerate(pages):
        if not starts or page >= first_page + PAGES_PER_CHAPTER:
            first_page = page
            starts.append((k, ""))
    titled = []
    for n, (first, _) in enumerate(starts):
        end = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(pages) - 1
        a, b = pages[first], pages[end]
        titled.append((first, f"Page {a}" if a == b else f"Pages {a}–{b}"))
    return _close(titled, len(pages))


def _close(starts: list[tuple[int, str]], count: int) -> list[Chapter]:
    chapters = []
    for k, (first, title) in enumerate(starts):
        last = starts[k + 1][0] - 1 if k + 1 < len(starts) else count - 1
        chapters.append(Chapter(title=title.strip() or f"Chapter {k + 1}", first=first, last=last))
    return chapters
