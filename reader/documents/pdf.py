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
from .pdf_layout import SENTENCE_END as _SENTENCE_END_PDF
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
# Text that is not language: runs of glyph names ("/g16/g3/g28") or CID numbers, which pypdf
# writes for fonts without a Unicode mapping, and private-use or replacement characters.
_GLYPH_NAMES = re.compile(r"(?:/[A-Za-z]{0,6}\d{1,5}){2,}|\(cid:\d+\)")
_PRIVATE = re.compile("[\ue000-\uf8ff\ufffd\U000f0000-\U0010ffff]")
_VOWELS = frozenset("aeiouyàáâäãåæèéêëìíîïòóôöõøœùúûüýÿ")
_LATIN = re.compile(r"[a-zà-ÿœ]")
_WORDLIKE = re.compile(r"[^\W_]")
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
    reader = _open(data)
    pages, markers, notes = _read_pages(reader)
    unreadable = _drop_garbled(pages)
    empty = [number for number, lines in enumerate(pages, start=1) if not lines]
    if empty and ocr is not None:
        try:
            recognised, more, title = _extract(ocr(data, empty))
        except NoTextLayer:
            raise NoTextLayer("No text could be recognised on this scan: it may be blank, a picture, or too "
                              "faint or small to read.") from None
        said = f"{_plural(len(empty), 'page')} read by text recognition (OCR): names and numbers may be misread"
        return recognised, (said, *more), title
    notes += _unread_pages(pages, empty, unreadable)
    notes += _remove_furniture(pages)
    all_lines = [ln for lines in pages for ln in lines]
    sizes: Counter[float] = Counter()
    for ln in all_lines:
        sizes[round(ln.size, 1)] += len(ln.text)
    body = sizes.most_common(1)[0][0]  # the size most of the text is set in
    notes += _tables_and_figures(pages, body)
    regions, footnotes = _regions(pages, body)
    endnotes = paragraphs(footnotes, body) if footnotes else []
    if endnotes:
        notes.append(f"{_plural(len(endnotes), 'footnote')} moved to the end")
    vocabulary = Counter(w.lower() for ln in all_lines for w in re.findall(r"[\w-]+", ln.text))
    blocks, found = _paragraph_blocks(paragraphs(regions, body) + endnotes, vocabulary)
    markers += found
    form = _form_fields(reader)
    if form:
        blocks.append(Block(index=len(blocks), kind="heading", text="Form fields", level=2))
        for text in form:
            blocks.append(Block(index=len(blocks), kind="paragraph", text=text))
        notes.append(f"{_plural(len(form), 'form field')} read as label and value, at the end")
    if markers:
        notes.append(_plural(markers, "footnote marker"))
    if not blocks:
        raise NoTextLayer(f"This PDF has no readable text: {_SCANNED}")
    return blocks, tuple(notes), _title(reader, blocks, pages[0] if pages else [], body)


def _open(data: bytes) -> Any:
    """The PDF, opened (an empty password tried), or why it cannot be."""
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
    return reader


def _unread_pages(pages: list[list[Line]], empty: list[int], unreadable: list[int]) -> list[str]:
    """The notes on pages without text; NoTextLayer when no page has any."""
    if not any(pages):
        if unreadable:
            raise NoTextLayer("The text of this PDF cannot be read: its fonts have no usable character mapping, "
                              "and text recognition (OCR), which would read its pages as images, is not available "
                              "on this server.")
        raise NoTextLayer(f"This PDF has no text layer: {_SCANNED}")
    notes = []
    blank = [n for n in empty if n not in unreadable]
    if blank and len(empty) < len(pages):
        notes.append(f"{_plural(len(blank), 'page')} without text (scanned, or blank) not read: " + _page_list(blank))
    if unreadable:
        notes.append(f"{_plural(len(unreadable), 'page')} whose text cannot be read (fonts without a usable "
                     f"character mapping; text recognition would read them): " + _page_list(unreadable))
    return notes


def _tables_and_figures(pages: list[list[Line]], body: float) -> list[str]:
    """Drop caps joined, tables read row by row, text inside figures taken out: what was done."""
    notes = []
    tables = figures = 0
    figure_pages: list[int] = []
    for lines in pages:
        _join_drop_caps(lines, body)
        tables += _read_tables(lines)
        found = _figure_text(lines, body)
        if found:
            figures += found
            figure_pages.append(lines[0].page)
            lines[:] = [ln for ln in lines if not ln.figure]
    if tables:
        notes.append(f"{_plural(tables, 'table')} read row by row with their headers")
    if figures:
        notes.append(f"text inside figures not read (pages {_page_list(figure_pages)})")
    return notes


def _regions(pages: list[list[Line]], body: float) -> tuple[list[list[Line]], list[list[Line]]]:
    """The regions of every page in reading order, and the footnotes taken from them."""
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
    return regions, footnotes


def _paragraph_blocks(paras: list[Any], vocabulary: Counter[str]) -> tuple[list[Block], int]:
    """The blocks of the paragraphs, lines joined and footnote markers taken out (and counted)."""
    blocks: list[Block] = []
    markers = 0
    for para in paras:
        text, found = _strip_markers(_join(para.lines, vocabulary))
        markers += found
        kind = para.kind
        if kind == "paragraph" and _BULLET.match(text):
            kind, text = "list_item", _BULLET.sub("", text)
        if text:
            page = para.lines[0].page
            blocks.append(Block(index=len(blocks), kind=kind, text=text, level=para.level, page=page))
    return blocks, markers


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


def _page_list(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:12]) + (" ..." if len(numbers) > 12 else "")


def garbled_share(text: str) -> float:
    """The share of `text` (spaces aside) that is glyph names, CID numbers or private-use
    characters: what a font without a Unicode mapping leaves."""
    chars = len(text) - text.count(" ")
    if chars <= 0:
        return 0.0
    bad = sum(len(m) for m in _GLYPH_NAMES.findall(text)) + len(_PRIVATE.findall(text))
    return bad / chars


def implausible_letters(text: str) -> bool:
    """Latin letters with far too few or too many vowels to be any language written in them
    (a font whose codes map to the wrong letters: "Wkh txlfn eurzq ira")."""
    letters = _LATIN.findall(text.lower())
    if len(letters) < 200:
        return False
    share = sum(c in _VOWELS for c in letters) / len(letters)
    return not 0.22 <= share <= 0.62


def _drop_garbled(pages: list[list[Line]]) -> list[int]:
    """Clear the pages whose text is not language and return their numbers; on other pages,
    drop the lines that are mostly glyph names (a symbol font's run inside good text)."""
    unreadable: list[int] = []
    for number, lines in enumerate(pages, start=1):
        if not lines:
            continue
        text = " ".join(ln.text for ln in lines)
        if garbled_share(text) >= 0.3 or implausible_letters(text):
            unreadable.append(number)
            lines.clear()
        else:
            # a line without a letter or digit (a rule, a decorative bar, "* * *") says nothing
            lines[:] = [ln for ln in lines if garbled_share(ln.text) < 0.5 and _WORDLIKE.search(ln.text)]
    return unreadable


def _join_drop_caps(lines: list[Line], body: float) -> None:
    """A large initial letter (a drop cap) goes back onto the line it begins."""
    for cap in [ln for ln in lines if len(ln.text) == 1 and ln.text.isalpha() and ln.size >= 1.6 * body]:
        beside = [ln for ln in lines if ln is not cap and cap.x0 < ln.x0 <= cap.x0 + cap.size
                  and cap.y - 0.3 * cap.size <= ln.y <= cap.top]
        if beside:
            first = max(beside, key=lambda ln: ln.y)
            first.text = cap.text + first.text
            first.cells = [(first.x0, first.text)]
            lines.remove(cap)


def _read_tables(lines: list[Line]) -> int:
    """Rows of tables (lines of two or more cells whose columns line up with a header row) as
    text read row by row: "Name: Ada; Age: 36". Returns the number of tables."""
    rows = sorted(lines, key=lambda ln: -ln.y)
    tables = 0
    i = 0
    while i < len(rows):
        head = rows[i]
        if len(head.cells) < 2:
            i += 1
            continue
        starts = [x for x, _ in head.cells]
        tol = 1.5 * head.size
        body: list[Line] = []
        for row in rows[i + 1:]:
            if len(row.cells) < 2 or len(row.cells) > len(starts) or \
                    any(min(abs(x - s) for s in starts) > tol for x, _ in row.cells):
                break
            body.append(row)
        if len(body) < 2:
            i += 1
            continue
        names = [text.rstrip(":") for _, text in head.cells]
        for row in body:
            said = []
            for x, text in row.cells:
                column = min(range(len(starts)), key=lambda c: abs(starts[c] - x))
                said.append(f"{names[column]}: {text}")
            row.text = "; ".join(said)
            row.leader = True  # a block of its own
        head.text, head.leader = "", True
        tables += 1
        i += 1 + len(body)
    lines[:] = [ln for ln in lines if ln.text]
    return tables


def _figure_text(lines: list[Line], body: float) -> int:
    """Mark the lines drawn inside a figure: over a placed image, or a cluster of short labels
    in small type (axis ticks, legends) that does not read as text. Returns how many."""
    found = 0
    for ln in lines:
        if ln.figure:
            found += 1
    labels = [ln for ln in lines if not ln.leader and not ln.figure and ln.size <= 0.9 * body
              and len(ln.text) <= 24 and not _SENTENCE_END_PDF.search(ln.text)]
    cells = sum(max(1, len(ln.cells)) for ln in labels)
    if cells >= 4 and len(labels) >= 0.25 * len(lines):
        rest = [ln for ln in lines if ln not in labels]
        if rest and any(len(ln.text) > 40 for ln in rest):  # labels beside real text
            for ln in labels:
                ln.figure = True
            found += len(labels)
    return found


def _form_fields(reader: Any) -> list[str]:
    """A fillable form's fields as "Label: value" (the value is not part of the page's text)."""
    try:
        fields = reader.get_fields() or {}
    except Exception:  # a broken form is still a document
        return []
    said: list[str] = []
    for name, field in list(fields.items())[:500]:
        kind = field.get("/FT")
        if kind not in ("/Tx", "/Btn", "/Ch"):
            continue
        label = _clean(str(field.get("/TU") or name or "")).replace("_", " ").strip()
        value = field.get("/V")
        if kind == "/Btn":
            shown = "not checked" if value in (None, "/Off", "") else "checked"
        elif isinstance(value, list):
            shown = ", ".join(_clean(str(v)) for v in value) or "empty"
        else:
            shown = _clean(str(value)) if value not in (None, "") else "empty"
        if label:
            said.append(f"{label}: {shown}"[:1000])
    return said


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _remove_furniture(pages: list[list[Line]]) -> list[str]:
    """Drop margin line numbers, running headers and footers and page numbers; say what went."""
    numbered = _drop_line_numbers(pages)
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
    marked = _drop_placed_marks(pages, needed)
    running = numbered_pages = 0
    for lines, (top, bottom, outer) in zip(pages, edges):
        page_numbers = {id(ln) for ln in outer if _PAGE_NUMBER.fullmatch(ln.text)}
        repeated = {id(ln) for zone, group in (("top", top), ("bottom", bottom)) for ln in group
                    if (zone, _mask(ln.text)) in furniture} - page_numbers
        running += bool(repeated)
        numbered_pages += bool(page_numbers)
        lines[:] = [ln for ln in lines if id(ln) not in repeated | page_numbers]
    said = (("running headers and footers", running), ("page numbers", numbered_pages), ("line numbers", numbered),
            ("marks repeated at the same place", marked))
    return [f"{what} on {_plural(count, 'page')}" for what, count in said if count]


def _drop_line_numbers(pages: list[list[Line]]) -> int:
    """Numbers in a margin band beside all the text are line numbers (transcripts, drafts):
    dropped; returns on how many pages."""
    numbered = 0
    for lines in pages:
        numbers = [ln for ln in lines if re.fullmatch(r"\d{1,3}", ln.text)]
        others = [ln for ln in lines if not re.fullmatch(r"\d{1,3}", ln.text)]
        if len(numbers) < 5 or not others:
            continue
        left, right = min(o.x0 for o in others), max(o.x1 for o in others)
        margin = {id(n) for n in numbers if n.x1 < left or n.x0 > right}
        if len(margin) >= 5:
            numbered += 1
            lines[:] = [ln for ln in lines if id(ln) not in margin]
    return numbered


def _drop_placed_marks(pages: list[list[Line]], needed: int) -> int:
    """Marks anywhere on the page that repeat at the same place on most pages (printers' ruler
    digits, crop-mark labels, a slug in the margin): dropped; returns on how many pages."""
    placed: Counter[tuple[str, int, int]] = Counter()
    alone = [{id(ln) for ln in lines if len(ln.text) <= 16 and _stands_alone(ln, lines)} for lines in pages]
    for lines, ids in zip(pages, alone):
        placed.update({(_mask(ln.text), round(ln.x0 / 4), round(ln.y / 4)) for ln in lines if id(ln) in ids})
    marks = {key for key, count in placed.items() if count >= max(3, needed)}
    marked = 0
    if marks:
        for lines, ids in zip(pages, alone):
            kept = [ln for ln in lines if id(ln) not in ids
                    or (_mask(ln.text), round(ln.x0 / 4), round(ln.y / 4)) not in marks]
            marked += len(kept) < len(lines)
            lines[:] = kept
    return marked


def _stands_alone(line: Line, lines: list[Line]) -> bool:
    """Whether no other line sits just above or below this one, overlapping it: a mark, not
    the last words of a paragraph."""
    for other in lines:
        if other is not line and abs(other.y - line.y) < 1.6 * max(line.size, other.size) \
                and other.x0 < line.x1 and line.x0 < other.x1:
            return False
    return True


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


_IDENTIFIER = re.compile(r"^[\w.\-]+$")


def plausible_title(title: str) -> bool:
    """A metadata title worth showing: words, not a file name, a tool's default or an id."""
    letters = sum(c.isalpha() for c in title)
    if letters < 4 or _MEANINGLESS_TITLE.search(title):
        return False
    return not (_IDENTIFIER.match(title) and (any(c.isdigit() or c == "_" for c in title) or len(title) > 24))


def _title(reader: Any, blocks: list[Block], first_page: list[Line], body: float) -> str | None:
    """The metadata title when it is plausible, else the largest text on page 1 (its lines
    joined), else the first top-level heading; never a fragment such as a drop cap."""
    try:
        raw = reader.metadata.title if reader.metadata else None
    except Exception:  # a broken Info dictionary is no reason to lose the document
        raw = None
    title = _clean(str(raw)) if raw else ""
    if plausible_title(title):
        return title
    sizes = sorted({round(ln.size, 1) for ln in first_page if sum(c.isalpha() for c in ln.text) >= 2}, reverse=True)
    for size in [size for size in sizes[:3] if size >= 1.15 * body]:  # set larger than the text
        biggest = [ln for ln in sorted(first_page, key=lambda ln: -ln.y) if round(ln.size, 1) == size]
        # consecutive lines of that size, from the top one down
        run = [biggest[0]]
        for ln in biggest[1:]:
            if run[-1].y - ln.y > 2.2 * size:
                break
            run.append(ln)
        text = " ".join(ln.text for ln in run)
        if sum(c.isalpha() for c in text) >= 4 and len(text) <= 250:
            return text
    levels = [b.level for b in blocks if b.kind == "heading" and b.level is not None]
    candidates = [b.text for b in blocks if b.kind == "heading" and sum(c.isalpha() for c in b.text) >= 4]
    if not levels or not candidates:
        return None
    return next((b.text for b in blocks if b.kind == "heading" and b.level == min(levels)
                 and sum(c.isalpha() for c in b.text) >= 4), candidates[0])
