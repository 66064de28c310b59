"""Document, Block and Sentence: the immutable result of extraction and segmentation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Block:
    """A unit of structure: a heading, a paragraph, a list item... with its own text."""

    index: int
    kind: str
    text: str
    level: int | None = None  # heading level 1-6
    lang: str | None = None
    page: int | None = None  # 1-based PDF page where the block starts
    # Links in the text: (start, end, absolute http(s)/mailto address), offsets into `text`
    links: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True)
class Sentence:
    """A sentence: `start`/`end` are character offsets into its block's text."""

    index: int
    block: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    language: str
    source: str  # "text", "url", "file"
    blocks: tuple[Block, ...]
    sentences: tuple[Sentence, ...]
    skipped: tuple[str, ...] = field(default_factory=tuple)
    url: str | None = None
    images: tuple[str, ...] = ()  # descriptions of the images not read, in order
    site: str | None = None  # where it was published, by whom, when (ISO date)
    author: str | None = None
    published: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocks"] = [asdict(b) for b in self.blocks]
        data["sentences"] = [asdict(s) for s in self.sentences]
        data["skipped"] = list(self.skipped)
        data["images"] = list(self.images)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        return cls(
            id=data["id"],
            title=data["title"],
            language=data["language"],
            source=data["source"],
            blocks=tuple(Block(**{**b, "links": tuple(tuple(x) for x in b.get("links", ()))})
                         for b in data["blocks"]),
            sentences=tuple(Sentence(**s) for s in data["sentences"]),
            skipped=tuple(data.get("skipped", ())),
            url=data.get("url"),
            images=tuple(data.get("images", ())),
            site=data.get("site"),
            author=data.get("author"),
            published=data.get("published"),
        )


def document_id(blocks: list[Block] | tuple[Block, ...], *, language: str) -> str:
    """A content-derived id: the same blocks give the same id."""
    payload = json.dumps(
        [language, [(b.kind, b.level, b.lang, b.text) for b in blocks]],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
