"""PDF page geometry: pypdf text fragments -> lines -> columns in reading order -> paragraphs."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any

# Em widths of a typical proportional font, to estimate where a line ends: pypdf's visitor
# reports where a run of text starts, never where it ends.
_NARROW = frozenset(" ,.:;!|'`ijltfrI()[]/-\u2019\u2018")
_WIDE = frozenset("mwMW@%")
_WIDTH_SHRINK = 0.9  # estimates run long on justified text; a gutter must still show
_SUPERSCRIPTS = str.maketrans("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
_NUMBER = re.compile(r"\d{1,3}")
_MARKER = re.compile(r"[0-9\u00b9\u00b2\u00b3\u2070\u2074-\u2079*\u2020\u2021]{1,3}")
UNIT_BEFORE = re.compile(r"(?:\b[kcmd]?m|\bft|\bin|\bmi|\byd)$")  # km², m³: powers, not notes
SENTENCE_END = _SENTENCE_END = re.compile(r"[.!?:;][\"'\u201d\u2019)\]]*$")
_BOLD = ("Bold", "Black", "Heavy", "Semibold", "Demi")
_BULLET = re.compile("[\u2022\u25e6\u25aa\u25cf\u2023\u2219\u25a0]\\s")
_ITEM = re.compile(r"(?:[\u2022\u25e6\u25aa\u25cf\u2023\u2219\u25a0\u2013-]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")


@dataclass
class Line:
    """A run of text on one baseline: position in PDF points (y upwards), font size, weight."""

    text: str
    x0: float
    y: float
    size: float
    bold: bool
    x1: float = 0.0  # estimated right end
    page: int = 0
    leader: bool = False  # had dot leaders: a contents or table entry, a block of its own
    # (x, text) of each cell where the line's runs stand apart (a table row); one cell otherwise
    cells: list[tuple[float, str]] = field(default_factory=list)
    figure: bool = False  # drawn over a placed image: figure text, not the reading flow

    @property
    def top(self) -> float:
        """Top of the glyph box (approximate ascent)."""
        return self.y + 0.75 * self.size

    @property
    def bottom(self) -> float:
        """Bottom of the glyph box (approximate descent)."""
        return self.y - 0.25 * self.size


@dataclass
class _Builder:
    """Collects visitor fragments into lines; counts footnote markers dropped on the way."""

    lines: list[Line] = field(default_factory=list)
    markers: int = 0
    _parts: list[tuple[str, float, float, float, bool]] = field(default_factory=list)
    _font_size: float = 0.0
    _shown: tuple[str, float, float] = ("", 0.0, 0.0)  # last text shown: raw text, size, y
    _pending: list[list[Any]] = field(default_factory=list)  # [word before, number, word after, tries]
    images: list[tuple[float, float, float, float]] = field(default_factory=list)  # placed pictures

    def operator(self, op: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        """Watch text-showing operators for note numbers set small in the same font.

        pypdf merges such a number into the text of its line when only the text matrix
        shrinks it, so its size never reaches the text visitor: note it here, drop it there.
        """
        if op == b"Do":
            # An image is the unit square scaled by the current matrix; a form is mostly not
            # (its own box), and a placement under 30 points is an icon or a rule.
            x0, y0, w, h = cm[4], cm[5], cm[0], cm[3]
            if abs(w) >= 30 and abs(h) >= 30 and abs(cm[1]) < 1e-6 and abs(cm[2]) < 1e-6:
                self.images.append((min(x0, x0 + w), min(y0, y0 + h), max(x0, x0 + w), max(y0, y0 + h)))
            return
        if op == b"Tf" and len(operands) > 1 and isinstance(operands[1], (int, float)):
            self._font_size = float(operands[1])
        if op not in (b"Tj", b"TJ", b"'", b'"') or not operands:
            return
        items = operands[-1] if isinstance(operands[-1], list) else [operands[-1]]  # TJ: strings, kerning
        # Only letters and digits are compared; for those a byte is a character in simple fonts.
        raw = "".join(i.decode("latin-1") if isinstance(i, bytes) else i
                      for i in items if isinstance(i, (str, bytes)))
        m = _multiply(tm, cm)
        size = abs(self._font_size) * (m[2] ** 2 + m[3] ** 2) ** 0.5
        if self._pending and self._pending[-1][2] is None:
            after = re.match(r"\s*([A-Za-z]{1,12})", raw)
            self._pending[-1][2] = after.group(1) if after else ""
        text, prev_size, prev_y = self._shown
        before = re.search(r"[A-Za-z]{2,}[.,;:)]?$", text)
        # Smaller than the text it follows, not lowered (a subscript), glued to a word.
        small = size <= 0.8 * prev_size and m[5] >= prev_y - 0.1 * prev_size
        if before and small and _NUMBER.fullmatch(raw.strip()):
            self._pending.append([before.group(0), raw.strip(), None, 2])
        self._shown = (raw, size, m[5])

    def _drop_pending(self, text: str) -> str:
        """Remove the note numbers `operator` saw from the text pypdf made of them."""
        kept = []
        for before, number, after, tries in self._pending:
            ahead = rf"(?=\s*(?:{re.escape(after)}\b|$))" if after else r"(?=\s|$)"
            power = number in ("2", "3") and UNIT_BEFORE.search(before)
            pattern = rf"(?<={re.escape(before)})\s?{number}{ahead}"
            text, found = re.subn(pattern, number.translate(_SUPERSCRIPTS) if power else "", text, count=1)
            if found and not power:
                self.markers += 1
            if not found and tries > 1:
                kept.append([before, number, after, tries - 1])
        self._pending = kept
        return text

    def add(self, text: str, matrix: list[float], font: Any, size: float) -> None:
        """Take one fragment; a newline in it closes the current line."""
        if self._pending:
            text = self._drop_pending(text)
        scale = (matrix[2] ** 2 + matrix[3] ** 2) ** 0.5 or 1.0
        x, y, eff = matrix[4], matrix[5], abs(size * scale)
        name = str(font.get("/BaseFont", "")) if hasattr(font, "get") else ""
        bold = any(word in name for word in _BOLD)
        for i, piece in enumerate(text.split("\n")):
            if i:
                self.close()
            if piece and not self._marker(piece, y, eff):
                if piece.strip() and self._elsewhere(x, y, eff):
                    self.close()
                self._parts.append((piece, x, y, eff, bold))

    def _elsewhere(self, x: float, y: float, size: float) -> bool:
        """Whether text at (x, y) cannot continue the current line, though pypdf kept it there."""
        first = next((p for p in self._parts if p[0].strip()), None)
        if first is None:
            return False
        end = first[1] + estimate_width("".join(p[0] for p in self._parts), first[3]) / _WIDTH_SHRINK
        return (
            abs(y - first[2]) > 0.8 * max(size, 1.0)  # another baseline
            # Far to the right in another size: a masthead beside a title, not one line. A jump
            # in the same size is left alone: table cells look like that, and belong together.
            or (x > end + 3 * size and abs(size - first[3]) > 0.4 * first[3])
            or x < first[1] - 2 * size  # back to the left: another column or cell
        )

    def _marker(self, piece: str, y: float, size: float) -> bool:
        """A small or raised number glued to a word is a footnote reference: drop it."""
        so_far = "".join(p[0] for p in self._parts)
        if not so_far.strip() or so_far[-1].isspace() or not _MARKER.fullmatch(piece.strip()):
            return False
        base = max((p for p in self._parts if p[0].strip()), key=lambda p: len(p[0]))
        raised = y > base[2] + 0.25 * base[3]
        lowered = y < base[2] - 0.1 * base[3]  # a subscript: CO₂
        if abs(y - base[2]) > 0.8 * base[3] or lowered or not (size <= 0.8 * base[3] or raised):
            return False
        if piece.strip() in ("2", "3") and UNIT_BEFORE.search(so_far):
            last = self._parts[-1]
            self._parts[-1] = (last[0] + piece.strip().translate(_SUPERSCRIPTS),) + last[1:]
            return True
        self.markers += 1
        return True

    def close(self) -> None:
        """End the current line."""
        parts, self._parts = self._parts, []
        text = " ".join("".join(p[0] for p in parts).split())
        if not text:
            return
        first = next(p for p in parts if p[0].strip())
        weights = [(len(p[0].strip()), p[3], p[4]) for p in parts]
        # The largest size of any real run: small capitals ("FOR FURTHER INFORMATION") sit
        # in body lines, and a line's size decides headings and paragraph breaks.
        size = max((s for w, s, _ in weights if w >= 3), default=max(weights, key=lambda w: w[0])[1])
        bold = all(b for w, _, b in weights if w)
        x1 = first[1] + estimate_width(text, size)
        for part in parts:
            x1 = max(x1, part[1] + estimate_width(part[0], part[3]))
        self.lines.append(Line(text=text, x0=first[1], y=first[2], size=size, bold=bold, x1=x1,
                               cells=_cells(parts)))


def _cells(parts: list[tuple[str, float, float, float, bool]]) -> list[tuple[float, str]]:
    """The runs of a line grouped into cells: a new cell where a run starts well after the
    previous one's (estimated) end, as table columns do."""
    cells: list[list[Any]] = []
    end = -1e9
    for text, x, _y, size, _bold in parts:
        if not text.strip():
            continue
        if not cells or x > end + 1.2 * size:
            cells.append([x, text])
        else:
            cells[-1][1] += text
        end = max(end, x + estimate_width(text, size))
    return [(float(x), " ".join(t.split())) for x, t in cells]


def estimate_width(text: str, size: float) -> float:
    """Rough rendered width of text in points, shrunk a little so gutters stay open."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.28
        elif ch in _WIDE:
            em += 0.8
        elif ch.isupper():
            em += 0.68
        else:
            em += 0.5
    return em * size * _WIDTH_SHRINK


def page_lines(page: Any) -> tuple[list[Line], int]:
    """Text lines of a page and the number of footnote markers dropped from them."""
    builder = _Builder()

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text:
            builder.add(text, _multiply(tm, cm), font, float(size or 0.0))

    # Upright text only: rotated margin stamps are not part of the reading flow.
    page.extract_text(visitor_text=visit, visitor_operand_before=builder.operator, orientations=(0,))
    builder.close()
    try:
        box = page.mediabox
        area = abs(float(box.width) * float(box.height)) or 1.0
    except Exception:  # no usable page size: every picture counts
        area = float("inf")
    # A picture covering half the page or more is a scan or a background, whose text layer
    # (OCR's) is the page's text; smaller pictures are figures.
    figures = [r for r in builder.images if (r[2] - r[0]) * (r[3] - r[1]) < 0.5 * area]
    for line in builder.lines:
        middle = (line.x0 + line.x1) / 2
        line.figure = any(a <= middle <= c and b <= line.y <= d for a, b, c, d in figures)
    if builder.lines:
        return builder.lines, builder.markers
    # No upright text at all (a page drawn turned): keep pypdf's stream order, one column.
    text = page.extract_text(orientations=(90, 180, 270))
    rows = [" ".join(row.split()) for row in text.split("\n")]
    lines = [Line(text=row, x0=0.0, y=-12.0 * i, size=10.0, bold=False, x1=1.0) for i, row in enumerate(rows)]
    return [ln for ln in lines if ln.text], 0


def _multiply(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def reading_order(lines: list[Line]) -> list[list[Line]]:
    """Lines of one page as regions (columns, bands) in reading order, each top to bottom.

    A recursive XY-cut. Wide horizontal gaps are cut first, and a narrower one where the
    column layout changes across it (a title above columns, a full-width table below them);
    then a vertical gutter; a region with neither is read top to bottom.
    """
    if len(lines) <= 1:
        return [lines] if lines else []
    size = statistics.median(ln.size for ln in lines)
    gaps = _horizontal_gaps(lines)
    wide = sorted(y for gap, y in gaps if gap >= 2 * size)
    if wide:  # every wide gap at once: bands, not one recursion per gap
        bands, rest = [], lines
        for y in reversed(wide):
            bands.append([ln for ln in rest if ln.y > y])
            rest = [ln for ln in rest if ln.y <= y]
        return [region for band in bands + [rest] for region in reading_order(band)]
    for gap, y in gaps[:8]:
        if gap < 0.4 * size:
            break
        top = [ln for ln in lines if ln.y > y]
        bottom = [ln for ln in lines if ln.y <= y]
        if _layout_changes(top, bottom):
            return reading_order(top) + reading_order(bottom)
    cut = _vertical_cut(lines)
    if cut is not None:
        left = [ln for ln in lines if ln.x0 < cut]
        return reading_order(left) + reading_order([ln for ln in lines if ln.x0 >= cut])
    return [sorted(lines, key=lambda ln: (-ln.y, ln.x0))]


def _layout_changes(top: list[Line], bottom: list[Line]) -> bool:
    """Whether one side is in columns and the other is not: text runs across the gutter,
    or a few lines (a centred title under the columns) start where no column does."""
    for part, other in ((top, bottom), (bottom, top)):
        cut = _vertical_cut(part)
        if cut is None:
            continue
        if any(ln.x0 < cut - ln.size and ln.x1 > cut for ln in other):
            return True
        starts = {ln.x0 for ln in part}
        if len(other) <= 3 and all(min(abs(ln.x0 - x) for x in starts) > 2 * ln.size for ln in other):
            return True
    return False


def _horizontal_gaps(lines: list[Line]) -> list[tuple[float, float]]:
    """(height, y) of empty bands across the whole region, widest first."""
    spans = sorted(((ln.bottom, ln.top, ln.y) for ln in lines), key=lambda s: -s[1])
    gaps: list[tuple[float, float]] = []
    low, low_y = spans[0][0], spans[0][2]
    for bottom, top, y in spans[1:]:
        if top < low:
            gaps.append((low - top, (low_y + y) / 2))
        if bottom < low:
            low, low_y = bottom, y
    return sorted(gaps, reverse=True)


def _vertical_cut(lines: list[Line]) -> float | None:
    """x where the first gutter no line crosses ends, with text on both sides; else None."""
    if len(lines) < 2:
        return None
    ordered = sorted(lines, key=lambda ln: ln.x0)
    reach = ordered[0].x1
    min_gap = 0.25 * statistics.median(ln.size for ln in lines)
    for i, line in enumerate(ordered[1:], start=1):
        if line.x0 > reach + min_gap and _substantial(ordered[:i]) and _substantial(ordered[i:]):
            return line.x0
        reach = max(reach, line.x1)
    return None


def _substantial(lines: list[Line]) -> bool:
    # A lone short line beside a column (a label, a stray number) does not make a column.
    return len(lines) >= 2 or len(lines[0].text) >= 20


@dataclass
class Paragraph:
    """Lines that read as one block: kind "heading" (with a level) or "paragraph"."""

    kind: str
    lines: list[Line] = field(default_factory=list)
    level: int | None = None


@dataclass
class _Stats:
    """What the paragraph rules need to know about one region (column) of lines."""

    left: float  # where most lines start
    typical: float  # characters on a full line; 0 when unknown
    leading: float
    size: float


def paragraphs(regions: list[list[Line]], body: float) -> list[Paragraph]:
    """Group lines into headings and paragraphs, across column and page breaks."""
    heading_sizes = sorted({round(ln.size * 2) / 2 for r in regions for ln in r if ln.size >= 1.18 * body},
                           reverse=True)
    by_size: dict[float, list[Line]] = {}
    for ln in (ln for r in regions for ln in r):
        by_size.setdefault(round(ln.size, 1), []).append(ln)
    typical_by_size = {size: _typical(lines) for size, lines in by_size.items()}
    paras: list[Paragraph] = []
    prev: tuple[Line, _Stats] | None = None
    for region in regions:
        stats = _stats(region, typical_by_size)
        for i, line in enumerate(region):
            heading = line.size >= 1.18 * body and len(line.text) <= 200 and not line.leader
            if prev is None or _starts_block(prev[0], line, prev[1], stats, i == 0):
                level = min(6, heading_sizes.index(round(line.size * 2) / 2) + 1) if heading else None
                paras.append(Paragraph("heading" if heading else "paragraph", level=level))
            paras[-1].lines.append(line)
            prev = (line, stats)
    lines = [ln for r in regions for ln in r]
    if sum(len(ln.text) for ln in lines if ln.bold) < 0.3 * sum(len(ln.text) for ln in lines):
        # Short all-bold paragraphs in a text set mostly in regular weight are headings too.
        for para in paras:
            words = sum(len(ln.text.split()) for ln in para.lines)
            bold = all(ln.bold and not ln.leader for ln in para.lines)
            if (para.kind == "paragraph" and bold and len(para.lines) <= 3 and words <= 15
                    and not para.lines[-1].text.endswith((",", ";"))):
                para.kind, para.level = "heading", min(6, len(heading_sizes) + 1)
    return paras


def _typical(lines: list[Line]) -> float:
    """Characters on a full line: most lines of a paragraph are full, the last one is not."""
    lengths = sorted(len(ln.text) for ln in lines)
    return float(lengths[int(0.8 * (len(lengths) - 1))]) if len(lengths) >= 3 else 0.0


def _stats(region: list[Line], typical_by_size: dict[float, float]) -> _Stats:
    size = statistics.median(ln.size for ln in region)
    same = [ln for ln in region if abs(ln.size - size) <= 0.15 * size] or region
    steps = [a.y - b.y for a, b in zip(same, same[1:]) if 0 < a.y - b.y < 3 * size]
    leading = statistics.median(steps) if len(steps) >= 2 else 1.2 * size
    # A short region (a column stub) says little about line length: ask the whole document.
    typical = _typical(same) if len(same) >= 5 else typical_by_size.get(round(size, 1), 0.0)
    counts: dict[int, int] = {}
    for ln in same:
        counts[round(ln.x0)] = counts.get(round(ln.x0), 0) + 1
    left = float(max(counts, key=lambda x: (counts[x], -x))) if len(same) >= 3 else min(ln.x0 for ln in same)
    return _Stats(left=left, typical=typical, leading=leading, size=size)


def _starts_block(prev: Line, line: Line, prev_stats: _Stats, stats: _Stats, new_region: bool) -> bool:
    """Whether `line` begins a new paragraph or heading rather than continuing `prev`."""
    if abs(line.size - prev.size) > 0.15 * max(line.size, prev.size) or line.bold != prev.bold:
        return True
    if _BULLET.match(line.text) or prev.leader or line.leader:
        return True
    tol = 0.6 * line.size
    indented = line.x0 > stats.left + tol
    short = prev_stats.typical > 0 and len(prev.text) < 0.75 * prev_stats.typical
    if new_region:
        # A paragraph runs on from the foot of one column to the top of the next one, unless
        # the next starts indented or the last line ended a sentence well short of the edge.
        moved_down = line.page == prev.page and line.y < prev.y
        ended = short and bool(_SENTENCE_END.search(prev.text))
        return indented or ended or moved_down or prev_stats.typical == 0
    leading = stats.leading if abs(line.size - stats.size) <= 0.15 * stats.size else 1.25 * line.size
    gap = prev.y - line.y
    if gap > 1.15 * leading or gap < 0:
        return True
    # First-line indents and hanging indents both start a paragraph off the usual left edge;
    # a run of lines off it together is an indented passage, not a paragraph per line.
    if indented and prev.x0 <= stats.left + tol and not (_ITEM.match(prev.text) and line.x0 > prev.x0):
        return True
    if line.x0 < stats.left - tol <= prev.x0:
        return True
    return short and bool(_SENTENCE_END.search(prev.text))
