"""PDF text layer into blocks: reading order, whole words and paragraphs, no page furniture.

pypdf's text visitor gives runs of text with their start position and font size. Lines
are built from them (pdf_layout), running headers, footers, page and line numbers are
dropped, each page is cut into columns by the gaps between lines (a recursive XY-cut, so
one, two or three columns read in order whatever order the file draws them in), footnotes
at the foot of a column move to the end, and lines are joined into paragraphs and
headings with words broken at line ends made whole again.
"""

from __future__ import annotations

import io
import logging
import math
import re
import statistics
from collections import Counter
from typing import Any

from ..errors import NoTextLayer, ReaderError, Unprocessable, UnsupportedMedia
from .model import Block
from .ocr import LongScan, Ocr
from .pdf_layout import UNIT_BEFORE, Line, page_lines, paragraphs, reading_order
from .text import normalise

LOGGER = logging.getLogger(__name__)

_ODD_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})
_LEADERS = re.compile(r"(?:\s\.{2,})+(?=\s|$)|(?:\s?\.){4,}")  # dot leaders of tables and contents
_PAGE_NUMBER = re.compile(
    r"(?:page\s*|p\.\s*)?\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?|[-\u2013\u2014]\s*\d{1,5}\s*[-\u2013\u2014]"
    r"|(?=[ivxlc]{2})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})|[ivx]",  # roman numbers up to 99
    re.IGNORECASE,
)
# A number glued to a word by punctuation ("alert,9", "word.12", "said’’3") is a note reference.
_GLUED_MARKER = re.compile(r"([a-z]{2}[.,;:\u201d\u2019\"')\]]{1,3})(\d{1,3})(?=[\s)\]]|$)")
_SUPERSCRIPT_MARKER = re.compile(r"(?<=[\w.,;:\u201d\u2019\"')])[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+")
_ABBREVIATIONS = frozenset("fig figs no nos eq eqs vol vols p pp ch sec ref refs art tab para".split())
_FOOTNOTE_START = re.compile(r"(?:\d{1,3}|[*\u2020\u2021])\s")
_OPEN_URL = re.compile(r"(?:https?://|www\.)\S*[/.@_-]$|\S@$")
_BULLET = re.compile(r"^[\u2022\u25e6\u25aa\u25cf\u2023\u2219\u00b7\u25a0\u2013-]\s+")
# A hyphen after these at a line end is usually part of the word ("self-", "well-known").
_KEEP_HYPHEN_PREFIXES = frozenset(
    "self well non anti co cross ex half high low long multi post pre pro quasi semi short so "
    "sub super ultra un vice full all".split())
_MEANINGLESS_TITLE = re.compile(
    r"^(?:untitled|microsoft word|document\d*|title|slide \d+)\b|\.(?:docx?|pdf|exe|tex|dvi|indd|qxd|rtf|odt)$",
    re.IGNORECASE)
_SCANNED = "it looks like a scanned document, and text recognition (OCR) is not available on this server."


def pdf_blocks(data: bytes, ocr: Ocr | None = None) -> tuple[list[Block], tuple[str, ...], str | None]:
    """PDF bytes -> (blocks with page numbers, skipped notes, title or None). With `ocr`, pages
    without a text layer are recognised first (and said so in the notes)."""
    if b"%PDF-" not in data[:1024]:
        raise UnsupportedMedia("This file is not a PDF.")
    try:
        return _extract(data, ocr)
    except (ReaderError, LongScan):
        raise
    except Exception as exc:  # pypdf raises many kinds on broken files; none may become a 500
        LOGGER.info("unreadable PDF: %s", type(exc).__name__)
        raise Unprocessable("This PDF is damaged or incomplete and cannot be read.") from exc


def _extract(data: bytes, ocr: Ocr | None = None) -> tuple[list[Block], tuple[str, ...], str | None]:
    from pypdf import PdfReader  # imported here so `import reader` stays fast
    from pypdf.errors import DependencyError

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except DependencyError as exc:
            raise Unprocessable("This PDF uses encryption this server cannot open.") from exc
        if not opened:
            raise Unprocessable("This PDF is protected by a password. Remove the password and upload it again.")
    if len(reader.pages) == 0:
        raise Unprocessable("This PDF has no pages.")
    pages, markers, notes = _read_pages(reader)
    empty = [number for number, lines in enumerate(pages, start=1) if not lines]
    if empty and ocr is not None:
        try:
            recognised, more, title = _extract(ocr(data, empty))
        except NoTextLayer:
            raise NoTextLayer("No text could be recognised on this scan: it may be blank, a picture, or too "
                              "faint or small to read.") from None
        said = f"{_plural(len(empty), 'page')} read by text recognition (OCR): names and numbers may be misread"
        return recognised, (said, *more), title
    if not any(pages):
        raise NoTextLayer(f"This PDF has no text layer: {_SCANNED}")
    if empty and len(empty) < len(pages):
        notes.append(f"{_plural(len(empty), 'page')} without text (scanned, or blank) not read: "
                     + ", ".join(str(n) for n in empty[:12]) + (" ..." if len(empty) > 12 else ""))
    notes += _remove_furniture(pages)
    all_lines = [ln for lines in pages for ln in lines]
    sizes: Counter[float] = Counter()
    for ln in all_lines:
        sizes[round(ln.size, 1)] += len(ln.text)
    body = sizes.most_common(1)[0][0]  # the size most of the text is set in
    regions: list[list[Line]] = []
    footnotes: list[list[Line]] = []
    for lines in pages:
        floor = min((ln.y for ln in lines), default=0.0)
        on_page = 0
        for region in reading_order(lines):
            main, notes_part = _split_footnotes(region, body, floor, continued=on_page > 0)
            regions += [main] if main else []
            footnotes += [notes_part] if notes_part else []
            on_page += len(notes_part)
    endnotes = paragraphs(footnotes, body) if footnotes else []
    if endnotes:
        notes.append(f"{_plural(len(endnotes), 'footnote')} moved to the end")
    vocabulary = Counter(w.lower() for ln in all_lines for w in re.findall(r"[\w-]+", ln.text))
    blocks: list[Block] = []
    for para in paragraphs(regions, body) + endnotes:
        text, found = _strip_markers(_join(para.lines, vocabulary))
        markers += found
        kind = para.kind
        if kind == "paragraph" and _BULLET.match(text):
            kind, text = "list_item", _BULLET.sub("", text)
        if text:
            page = para.lines[0].page
            blocks.append(Block(index=len(blocks), kind=kind, text=text, level=para.level, page=page))
    if markers:
        notes.append(_plural(markers, "footnote marker"))
    if not blocks:
        raise NoTextLayer(f"This PDF has no readable text: {_SCANNED}")
    return blocks, tuple(notes), _title(reader, blocks)


def _read_pages(reader: Any) -> tuple[list[list[Line]], int, list[str]]:
    """Lines of every page; a page pypdf cannot read is skipped and named, unless all are."""
    pages: list[list[Line]] = []
    markers = 0
    failed: list[int] = []
    error: Exception | None = None
    for number, page in enumerate(reader.pages, start=1):
        try:
            lines, found = page_lines(page)
        except Exception as exc:  # one bad content stream should not cost the whole document
            failed.append(number)
            error = exc
            pages.append([])
            continue
        markers += found
        for line in lines:
            line.page = number
            line.leader = bool(_LEADERS.search(line.text))
            line.text = _clean(line.text)
        pages.append([ln for ln in lines if ln.text])
    if error is not None and len(failed) == len(pages):
        raise error
    pages_word = "page" if len(failed) == 1 else "pages"
    notes = [f"unreadable {pages_word} {', '.join(map(str, failed))}"] if failed else []
    return pages, markers, notes


def _clean(text: str) -> str:
    text = _ODD_SPACES.sub(" ", normalise(text).translate(_LIGATURES)).strip()
    # A soft hyphen at a line end is where the word was broken; anywhere else it is invisible.
    text = text[:-1].replace("\u00ad", "") + ("-" if text.endswith("\u00ad") else text[-1:])
    return " ".join(_LEADERS.sub(" ", text).split())


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _remove_furniture(pages: list[list[Line]]) -> list[str]:
    """Drop margin line numbers, running headers and footers and page numbers; say what went."""
    numbered = 0
    for lines in pages:
        numbers = [ln for ln in lines if re.fullmatch(r"\d{1,3}", ln.text)]
        others = [ln for ln in lines if not re.fullmatch(r"\d{1,3}", ln.text)]
        if len(numbers) < 5 or not others:
            continue
        # Numbers in a margin band beside all the text are line numbers (transcripts, drafts).
        left, right = min(o.x0 for o in others), max(o.x1 for o in others)
        margin = {id(n) for n in numbers if n.x1 < left or n.x0 > right}
        if len(margin) >= 5:
            numbered += 1
            lines[:] = [ln for ln in lines if id(ln) not in margin]
    edges = [_edges(lines) for lines in pages]
    seen: dict[tuple[str, str], list[tuple[int, list[int]]]] = {}
    for index, (top, bottom, _) in enumerate(edges):
        for zone, group in (("top", top), ("bottom", bottom)):
            for key in {_mask(ln.text) for ln in group}:
                seen.setdefault((zone, key), []).append((index, []))
            for ln in group:
                seen[(zone, _mask(ln.text))][-1][1][:] = [int(n) for n in re.findall(r"\d+", ln.text)]
    # Furniture: the same line, digits aside, on enough pages (odd and even pages may differ),
    # or on a few pages with a number that counts up with them (a chapter's running head).
    needed = max(2, math.ceil(0.3 * len(pages)))
    furniture = {key for key, found in seen.items() if len(found) >= needed or _counts_pages(found)}
    running = numbered_pages = 0
    for lines, (top, bottom, outer) in zip(pages, edges):
        page_numbers = {id(ln) for ln in outer if _PAGE_NUMBER.fullmatch(ln.text)}
        repeated = {id(ln) for zone, group in (("top", top), ("bottom", bottom)) for ln in group
                    if (zone, _mask(ln.text)) in furniture} - page_numbers
        running += bool(repeated)
        numbered_pages += bool(page_numbers)
        lines[:] = [ln for ln in lines if id(ln) not in repeated | page_numbers]
    notes = []
    if running:
        notes.append(f"running headers and footers on {_plural(running, 'page')}")
    if numbered_pages:
        notes.append(f"page numbers on {_plural(numbered_pages, 'page')}")
    if numbered:
        notes.append(f"line numbers on {_plural(numbered, 'page')}")
    return notes


def _counts_pages(found: list[tuple[int, list[int]]]) -> bool:
    """Whether some number in these lines minus their page index is the same on two pages."""
    offsets = Counter((i, n - index) for index, numbers in found for i, n in enumerate(numbers))
    return len(found) >= 2 and any(count >= 2 for count in offsets.values())


def _mask(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _edges(lines: list[Line]) -> tuple[list[Line], list[Line], list[Line]]:
    """Lines set apart at the top and at the bottom of a page, and lone lines of the outer rows."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda ln: -ln.y):
        if rows and rows[-1][0].y - ln.y <= 0.5 * ln.size:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    steps = [a[0].y - b[0].y for a, b in zip(rows, rows[1:])]
    # Capped: on a page that is mostly a picture, two rows can be a page apart.
    spacing = min(statistics.median(steps), 2 * statistics.median(ln.size for ln in lines)) if steps else 0.0

    def apart(ordered: list[list[Line]], gaps: list[float]) -> list[Line]:
        # Up to three rows, then a gap wider than the page's line spacing: a header or footer.
        for i, gap in enumerate(gaps[:3]):
            if gap > 1.3 * spacing:
                return [ln for row in ordered[: i + 1] for ln in row]
        return []

    # A page number shares its row with little else; a number in a table row is a cell.
    outer = [ln for row in (rows[:2] + rows[-2:] if len(rows) > 2 else rows) if len(row) <= 3 for ln in row]
    return apart(rows, steps), apart(rows[::-1], steps[::-1]), outer


def _split_footnotes(
    region: list[Line], body: float, floor: float, *, continued: bool
) -> tuple[list[Line], list[Line]]:
    """Small print at the foot of a column, from a note number (or a note running on from
    the previous column) down to the foot of the page, taken apart from the text."""
    for i, line in enumerate(region):
        if line.size <= 0.85 * body and (continued or _FOOTNOTE_START.match(line.text)):
            rest = region[i:]
            if all(ln.size <= 0.85 * body for ln in rest) and rest[-1].y <= floor + 3 * body:
                # pypdf may report a note's first line at the size and height of its raised
                # number; put it back on the notes' size and (about) their baseline.
                size = statistics.median(ln.size for ln in rest)
                for ln in rest:
                    if ln.size < 0.8 * size:
                        ln.size, ln.y = size, ln.y - 0.25 * size
                return region[:i], rest
            break
    return region, []


def _join(lines: list[Line], vocabulary: Counter[str]) -> str:
    """Lines of one paragraph as one string; words broken at line ends made whole again."""
    text = lines[0].text
    for line in lines[1:]:
        text = _join_pair(text, line.text, vocabulary)
    return text


def _join_pair(left: str, right: str, vocabulary: Counter[str]) -> str:
    if re.search(r"\w[\u2013\u2014]$", left) or _OPEN_URL.search(left):
        return left + right  # "737–" + "9"; "https://" + "www.example.gov"; not "Kjift –" + "not"
    if not left.endswith("-") or left.endswith("--"):
        return f"{left} {right}"
    head = re.search(r"([\w-]*)-$", left)
    tail = re.match(r"\w+", right)
    if not head or not tail or not head.group(1):
        return left + right
    first, second = head.group(1), tail.group(0)
    last_part = first.rsplit("-", 1)[-1]
    # Typesetters hyphenate at line ends, so the hyphen goes unless the word is a compound:
    # the text writes it with a hyphen elsewhere, a capital or digit follows ("Soekarno-Hatta",
    # "non-English"), it joins an acronym ("FAA-approved"), or its first part is a prefix
    # that takes a hyphen ("well-known") and the text never writes the word closed up.
    keep = (
        not second[0].islower()
        or not last_part.isalpha()
        or last_part.isupper()
        or vocabulary[f"{first}-{second}".lower()] > 0
        or ("-" in first and vocabulary[(first + second).lower()] == 0)
        or (last_part.lower() in _KEEP_HYPHEN_PREFIXES and vocabulary[(last_part + second).lower()] == 0)
    )
    return left + right if keep else left[:-1] + right


def _strip_markers(text: str) -> tuple[str, int]:
    """Remove note references glued to words; keep "Fig.3" and powers such as km²."""
    count = 0

    def glued(match: re.Match[str]) -> str:
        nonlocal count
        word = re.search(r"(\w+)\W*$", match.string[: match.end(1)])
        if word and word.group(1).lower() in _ABBREVIATIONS:
            return match.group(0)
        count += 1
        return match.group(1)

    def superscript(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) in ("\u00b2", "\u00b3") and UNIT_BEFORE.search(match.string[: match.start()]):
            return match.group(0)
        count += 1
        return ""

    text = _GLUED_MARKER.sub(glued, text)
    return _SUPERSCRIPT_MARKER.sub(superscript, text), count


def _title(reader: Any, blocks: list[Block]) -> str | None:
    """Metadata title if it says something, else the first top-level heading."""
    try:
        raw = reader.metadata.title if reader.metadata else None
    except Exception:  # a broken Info dictionary is no reason to lose the document
        raw = None
    title = _clean(str(raw)) if raw else ""
    if len(title) >= 3 and re.search(r"[^\W\d_]{2}", title) and not _MEANINGLESS_TITLE.search(title):
        return title
    levels = [b.level for b in blocks if b.kind == "heading" and b.level is not None]
    if not levels:
        return None
    return next(b.text for b in blocks if b.kind == "heading" and b.level == min(levels))
