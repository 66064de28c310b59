"""PDF extraction on the real PDFs of shared/eval/extraction/pdf, plus a few small generated ones."""

from __future__ import annotations

import difflib
import functools
import io
import json
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, NameObject, NumberObject

from reader.documents.model import Block
from reader.documents.pdf import pdf_blocks
from reader.errors import NoTextLayer, Unprocessable, UnsupportedMedia

PDF_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "extraction" / "pdf"
# The real PDFs of ../shared/eval: the tests that read them are marked `eval` (make eval).


def fixtures() -> dict[str, Any]:
    return {f["file"]: f for f in json.loads((PDF_DIR / "pdf_fixtures.json").read_text("utf-8"))}

Result = tuple[list[Block], tuple[str, ...], str | None]


@functools.cache
def extract(name: str) -> Result:
    """Each real PDF is extracted once per test run."""
    return pdf_blocks((PDF_DIR / name).read_bytes())


def text_of(name: str) -> str:
    return "\n".join(b.text for b in extract(name)[0])


def words(text: str) -> list[str]:
    # NFKC: the pypdf-made reference keeps ligature characters, our text does not.
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())


def flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def without_line_numbers(text: str) -> str:
    """The transcript reference keeps the margin line numbers 1-25 and the page number."""
    lines = (re.sub(r"^\s*\d{1,2}(?=\s)", "", line) for line in text.splitlines())
    return "\n".join(line for line in lines if line.strip() != "1")


# Measured ratios: 1.000 for all five; the thresholds leave a little room, no more.
@pytest.mark.parametrize(
    ("name", "reference", "threshold"),
    [
        ("multicolumn.pdf", "multicolumn.expected.txt", 0.98),
        ("minimal-document.pdf", "minimal-document.expected.txt", 0.99),
        ("pdflatex-4-pages.pdf", "pdflatex-4-pages.expected.txt", 0.99),
        ("crazyones.pdf", "crazyones.pypdf-expected.txt", 0.98),
        ("scotus-transcript-p1.pdf", "scotus-transcript-p1.pdfplumber-layout.txt", 0.97),
    ],
)
@pytest.mark.eval
def test_text_matches_reference_word_for_word(name: str, reference: str, threshold: float) -> None:
    expected = (PDF_DIR / reference).read_text("utf-8")
    if name.startswith("scotus"):
        expected = without_line_numbers(expected)
    matcher = difflib.SequenceMatcher(None, words(text_of(name)), words(expected), autojunk=False)
    assert matcher.ratio() >= threshold


@pytest.mark.eval
def test_paragraphs_come_out_whole_across_columns_and_pages() -> None:
    blocks = {flat(b.text) for b in extract("multicolumn.pdf")[0]}
    paragraphs = [b["text"] for b in fixtures()["multicolumn.pdf"]["blocks"] if b["type"] == "paragraph"]
    assert len(paragraphs) == 11
    assert [p for p in paragraphs if flat(p) not in blocks] == []
    # One paragraph over four pages stays one block, starting on page 1.
    (only,) = extract("pdflatex-4-pages.pdf")[0]
    assert flat(only.text) == flat((PDF_DIR / "pdflatex-4-pages.expected.txt").read_text("utf-8"))
    assert only.page == 1
    (minimal,) = extract("minimal-document.pdf")[0]
    assert minimal.text == flat((PDF_DIR / "minimal-document.expected.txt").read_text("utf-8"))


@pytest.mark.eval
def test_two_column_reading_order() -> None:
    text = flat(text_of("multicolumn.pdf"))
    # Column 1 of page 1 ends with "Donec nonummy", column 2 starts with "pellentesque ante."
    assert "Donec nonummy pellentesque ante. Phasellus" in text
    # Page 1 ends with "Nam feugiat", page 2 starts with "lacus vel est."
    assert "Nam feugiat lacus vel est. Curabitur consectetuer." in text
    assert text.index("Abstract") < text.index("Lorem ipsum dolor") < text.index("Table 1")


@pytest.mark.eval
def test_three_column_reading_order() -> None:
    text = flat(text_of("federal-register-2020-17221.pdf"))
    snippet = fixtures()["federal-register-2020-17221.pdf"]["snippets_in_reading_order"][0]["text"]
    # The reference keeps the column's line breaks; "737–" + "9" is one en-dashed number.
    expected = flat(snippet.replace("\u2013\n", "\u2013"))
    assert expected in text
    # Column 2 to column 3 on page 1, and page 1 to page 2 ("Soekarno-" / "Hatta").
    assert "reference a specific portion of the proposal, explain the reason" in text
    assert "takeoff from Soekarno-Hatta International Airport in Jakarta" in text
    # Column 1 of page 2 ends above its footnotes; the sentence goes on in column 2.
    assert "airspeed disagree alert, and altitude disagree alert, and may affect" in text


@pytest.mark.eval
def test_running_headers_footers_and_page_numbers_are_gone() -> None:
    blocks, notes, _ = extract("federal-register-2020-17221.pdf")
    text = "\n".join(b.text for b in blocks)
    for furniture in ("VerDate", "Frm 000", "Sfmt", "Federal Register / Vol. 85", "47698", "47712"):
        assert furniture not in text
    assert "running headers and footers on 15 pages" in notes
    blocks, notes, _ = extract("multicolumn.pdf")
    assert not [b for b in blocks if re.fullmatch(r"\d+", b.text)]
    assert "page numbers on 3 pages" in notes
    blocks, notes, _ = extract("scotus-transcript-p1.pdf")
    assert "line numbers on 1 page" in notes
    assert not [b for b in blocks if re.search(r"\b(?:2 3 4|23 24)\b", b.text)]
    assert "IN THE SUPREME COURT OF THE UNITED STATES" in blocks[1].text


@pytest.mark.eval
def test_hyphenated_line_ends_are_joined() -> None:
    minimal = text_of("minimal-document.pdf")
    assert "takimata" in minimal and "taki-" not in minimal
    multicolumn = text_of("multicolumn.pdf")
    for word in ("adipiscing", "consectetuer", "tristique", "rhoncus", "convallis", "Maecenas", "Praesent"):
        assert word in multicolumn
    assert not re.search(r"\w- \w", multicolumn)
    register = text_of("federal-register-2020-17221.pdf")
    # Real hyphens survive a line break: a prefix, a capital, a word the text writes so.
    for word in ("non-normal", "Soekarno-Hatta", "FAA-approved", "per work-hour"):
        assert word in register
    # A spaced dash at a line end is punctuation, not a broken word.
    assert "Kjift \u2013 not at all" in text_of("pdflatex-4-pages.pdf")


@pytest.mark.eval
def test_ligatures_are_plain_letters() -> None:
    assert "misfits" in text_of("crazyones.pdf") and "differently" in text_of("crazyones.pdf")
    assert not re.search("[\ufb00-\ufb06]", text_of("multicolumn.pdf"))


@pytest.mark.eval
def test_footnotes_markers_dropped_and_notes_moved_to_the_end() -> None:
    blocks, notes, _ = extract("federal-register-2020-17221.pdf")
    text = "\n".join(b.text for b in blocks)
    # Set small by the text matrix ("reports⁷ of") or glued after punctuation ("alert,⁵"):
    # one marker for each of the 15 notes.
    assert "summarized in reports of the Ethiopian" in text and "would also limit the magnitude" in text
    assert "alert,5" not in text and "alert,9" not in text
    assert "15 footnote markers" in notes
    assert "15 footnotes moved to the end" in notes
    first_note = next(i for i, b in enumerate(blocks) if b.text.startswith("1 Preliminary KNKT"))
    signature = next(i for i, b in enumerate(blocks) if b.text.startswith("Issued on August 3, 2020"))
    assert first_note > signature
    assert blocks[first_note].page == 2


@pytest.mark.eval
def test_headings_titles_and_pages() -> None:
    blocks, _, title = extract("multicolumn.pdf")
    assert title == "Two-Column Document with Lorem Ipsum"
    assert (blocks[0].kind, blocks[0].level) == ("heading", 1)
    assert any(b.kind == "heading" and b.text == "Abstract" for b in blocks)
    pages = [b.page or 0 for b in blocks]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == 3
    assert [b.index for b in blocks] == list(range(len(blocks)))
    assert extract("crazyones.pdf")[2] == "The Crazy Ones"
    assert extract("scotus-transcript-p1.pdf")[2] is None  # metadata title "10811.exe" says nothing


@pytest.mark.eval
@pytest.mark.parametrize("name", ["c02-22-huckfinn-scan.pdf", "linn-scan.pdf"])
def test_scans_without_text_layer(name: str) -> None:
    with pytest.raises(NoTextLayer, match="scanned.*OCR"):
        pdf_blocks((PDF_DIR / name).read_bytes())


@pytest.mark.eval
@pytest.mark.parametrize("name", ["multicolumn.pdf", "crazyones.pdf", "federal-register-2020-17221.pdf"])
def test_truncated_pdf_is_unprocessable(name: str) -> None:
    data = (PDF_DIR / name).read_bytes()
    with pytest.raises(Unprocessable) as caught:
        pdf_blocks(data[: len(data) // 2])
    assert caught.value.status == 422 and not isinstance(caught.value, NoTextLayer)


def test_junk_is_unsupported_or_unprocessable() -> None:
    junk = random.Random(7).randbytes(4096)
    for data in (junk, b"", b"Hello, world"):
        with pytest.raises(UnsupportedMedia):
            pdf_blocks(data)
    with pytest.raises(Unprocessable):
        pdf_blocks(b"%PDF-1.7\n" + junk)


@pytest.mark.eval
@pytest.mark.parametrize(("password", "opens"), [("", True), ("secret", False)])
def test_encrypted_pdf(password: str, opens: bool) -> None:
    writer = PdfWriter(clone_from=PdfReader(PDF_DIR / "minimal-document.pdf"))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    data = io.BytesIO()
    writer.write(data)
    if opens:
        assert pdf_blocks(data.getvalue())[0][0].text.startswith("Lorem ipsum dolor sit amet")
    else:
        with pytest.raises(Unprocessable, match="password"):
            pdf_blocks(data.getvalue())


# Small PDFs drawn with Helvetica: each line is (x, y, [(text, size), ...]).
Runs = list[tuple[str, float]]
DrawnLine = tuple[float, float, Runs]


def make_pdf(pages: list[list[DrawnLine]], title: str | None = None, *, turned: bool = False) -> bytes:
    """A PDF whose text sits exactly where the test says; codes 128/129 draw the fi/fl ligatures."""
    writer = PdfWriter()
    encoding = DictionaryObject({
        NameObject("/BaseEncoding"): NameObject("/WinAnsiEncoding"),
        NameObject("/Differences"): ArrayObject([NumberObject(128), NameObject("/fi"), NameObject("/fl")]),
    })
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): encoding,
    })
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        ops = [b"BT"]
        for x, y, runs in lines:
            ops.append(f"{'0 1 -1 0' if turned else '1 0 0 1'} {x} {y} Tm".encode())
            for text, size in runs:
                codes = {"\ufb01": b"\x80", "\ufb02": b"\x81"}
                raw = b"".join(codes.get(ch) or ch.encode("cp1252") for ch in text)
                raw = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
                ops.append(f"/F1 {size} Tf (".encode() + raw + b") Tj")
        ops.append(b"ET")
        stream = ContentStream(None, writer)
        stream.set_data(b"\n".join(ops))
        page.replace_contents(stream)
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_generated_three_columns_are_read_by_position_not_stream_order() -> None:
    columns = [
        ["The first column starts the story and", "its last line ends in the middle of a"],
        ["sentence that the second column ends.", "The second column then starts another"],
        ["sentence, which the third column ends.", "And that is the whole story, told."],
    ]
    lines: list[DrawnLine] = [
        (72.0 + 170 * c, 700.0 - 12 * i, [(text, 10.0)])
        for c, col in enumerate(columns)
        for i, text in enumerate(col)
    ]
    # Drawn third column first, then the first, then the second.
    drawn = sorted(lines, key=lambda ln: {412.0: 0, 72.0: 1, 242.0: 2}[ln[0]])
    blocks, _, _ = pdf_blocks(make_pdf([drawn]))
    assert [b.text for b in blocks] == [" ".join(" ".join(col) for col in columns)]


def test_generated_furniture_headings_markers_and_odd_characters() -> None:
    pages: list[list[DrawnLine]] = []
    for n in range(1, 5):
        footer = {1: f"Page {n} of 4", 2: f"- {n} -", 3: "iii", 4: str(n)}[n]
        pages.append([
            (72, 760, [(f"Annual report {n} \u2014 draft", 9.0)]),
            *([(72, 700, [("A \ufb01rst heading", 18.0)])] if n == 1 else []),
            (72, 660, [(f"Page {n} tells the reader a good deal of infor-", 10.0)]),
            (72, 648, [("mation that is set out here as the well-", 10.0)]),
            (72, 636, [("known facts, as the little note says", 10.0), ("12", 6.0), (" \u00a0in", 10.0)]),
            (72, 624, [("\ufb02ow.", 10.0)]),
            (72, 40, [(footer, 9.0)]),
        ])
    blocks, notes, title = pdf_blocks(make_pdf(pages))
    assert title == "A first heading"
    assert (blocks[0].kind, blocks[0].level, blocks[0].page) == ("heading", 1, 1)
    expected = (
        "tells the reader a good deal of information that is set out here as the well-known facts,"
        " as the little note says in flow."
    )
    assert [b.text for b in blocks[1:]] == [f"Page {n} {expected}" for n in range(1, 5)]
    assert [b.page for b in blocks[1:]] == [1, 2, 3, 4]
    assert not [b for b in blocks if "draft" in b.text or "of 4" in b.text or b.text in ("iii", "4")]
    assert set(notes) == {
        "running headers and footers on 4 pages",
        "page numbers on 4 pages",
        "4 footnote markers",
    }
    assert pdf_blocks(make_pdf(pages, title="The real title"))[2] == "The real title"


def test_generated_page_drawn_turned_is_read_in_drawing_order() -> None:
    texts = ["Sideways text", "still reads."]
    lines: list[DrawnLine] = [(100.0 + 14 * i, 72.0, [(text, 10.0)]) for i, text in enumerate(texts)]
    blocks, _, _ = pdf_blocks(make_pdf([lines], turned=True))
    assert " ".join(b.text for b in blocks) == "Sideways text still reads."


def test_generated_chapter_running_heads_with_page_numbers_are_furniture() -> None:
    # Eight pages: needed repeats are 3, so the two-page chapter's head is caught by its
    # page number counting up with the pages.
    pages: list[list[DrawnLine]] = []
    for n in range(8):
        head = f"Chapter 1: Start {n + 11}" if n < 6 else f"Chapter 2: End {n + 11}"
        text = f"Body text of page {n + 1}, line {{}}, reads on and on here."
        body = [(72.0, 700.0 - 12 * i, [(text.format(i + 1), 10.0)]) for i in range(4)]
        pages.append([(72.0, 760.0, [(head, 9.0)]), *body])
    blocks, notes, _ = pdf_blocks(make_pdf(pages))
    assert not [b for b in blocks if "Chapter" in b.text]
    assert "running headers and footers on 8 pages" in notes


def _generated() -> bytes:
    return make_pdf([[(72, 700, [("A generated page with enough words on it to read aloud.", 11.0)]),
                      (72, 680, [("And a second line that carries the paragraph on.", 11.0)])]])


def test_generated_truncated_pdf_is_unprocessable() -> None:
    data = _generated()
    assert "generated page" in "\n".join(b.text for b in pdf_blocks(data)[0])
    with pytest.raises((Unprocessable, UnsupportedMedia)):
        pdf_blocks(data[: len(data) // 2])


@pytest.mark.parametrize(("password", "opens"), [("", True), ("secret", False)])
def test_generated_encrypted_pdf(password: str, opens: bool) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_generated())))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    buf = io.BytesIO()
    writer.write(buf)
    if opens:
        assert "generated page" in "\n".join(b.text for b in pdf_blocks(buf.getvalue())[0])
    else:
        with pytest.raises(Unprocessable, match="password"):
            pdf_blocks(buf.getvalue())
