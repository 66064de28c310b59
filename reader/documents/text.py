"""Pasted text (and Markdown-ish plain text) into blocks: headings, paragraphs, list items."""

from __future__ import annotations

import re
import unicodedata

from .model import Block

_BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n+")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022\u2013]|\d{1,3}[.)])[ \t]+(.*)$")
_LABEL = re.compile(r"[ \t]*(?:(?P<bullet>[-*+\u2022\u2013])|(?P<n>\d{1,3})(?P<sep>[.)]))[ \t]")
_TERMINATOR = re.compile(r"[.!?…。！？]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Characters that say nothing when spoken and split words for the voice: soft hyphens,
# zero-width and joiner characters, direction marks and embeddings, invisible operators,
# the BOM, interlinear annotation marks and control characters other than newline and tab.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
                        "\ufeff\ufff9-\ufffb\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalise(text: str) -> str:
    """NFC, unified newlines, no invisible characters."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _INVISIBLE.sub("", text)


# Markdown's inline marks, which a voice would read out: **strong**, __strong__, *em*, _em_,
# `code`, [link text](address) and ![alt text](image). Only paired marks around text go, so
# "5 * 3" and snake_case stay as written.
_MARKS = (
    (re.compile(r"!?\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))+\)"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
)


def _clean_line(line: str) -> str:
    for pattern, keep in _MARKS:
        line = pattern.sub(keep, line)
    return _SPACES.sub(" ", line).strip()


def _inline_list(line: str) -> bool:
    """Whether a line holds a whole list ("1. The first 2. The second", "• one • two"): its
    labels are part of the text, to be cut into items with it, not one item's marker."""
    m = _LABEL.match(line)
    if m is None:
        return False
    rest = line[m.end():]
    if m.group("bullet"):
        return f" {m.group('bullet')} " in rest
    return f" {int(m.group('n')) + 1}{m.group('sep')} " in rest


def text_blocks(text: str, *, lang: str | None = None) -> list[Block]:
    """Split text into blocks at blank lines; `# Heading` and `- item` lines keep their kind.

    Lines of one paragraph are joined with a space, since a pasted paragraph's line
    breaks are usually the source's wrapping, not the author's.
    """
    blocks: list[Block] = []

    def add(kind: str, content: str, level: int | None = None) -> None:
        content = _clean_line(content)
        if content:
            blocks.append(Block(index=len(blocks), kind=kind, text=content, level=level, lang=lang))

    for chunk in _BLANK_LINE.split(normalise(text)):
        lines = [ln for ln in chunk.split("\n") if ln.strip()]
        paragraph: list[str] = []

        def flush(paragraph: list[str] = paragraph) -> None:
            if paragraph:
                add("paragraph", " ".join(paragraph))
                paragraph.clear()

        if len(lines) > 1 and not any(_TERMINATOR.search(ln) for ln in lines) \
                and not any(_LIST_ITEM.match(ln) or _HEADING.match(ln.strip()) for ln in lines):
            for line in lines:  # lines without a full stop anywhere: a list of lines, not prose
                add("paragraph", line)
            continue
        for line in lines:
            heading = _HEADING.match(line.strip())
            item = None if _inline_list(line) else _LIST_ITEM.match(line)
            if heading:
                flush()
                add("heading", heading.group(2), level=len(heading.group(1)))
            elif item:
                flush()
                add("list_item", item.group(1))
            elif blocks and blocks[-1].kind == "list_item" and not paragraph and line[:1] in " \t":
                # An indented continuation of the list item above.
                last = blocks.pop()
                add("list_item", last.text + " " + line)
            else:
                paragraph.append(line)
        flush()
    return blocks
