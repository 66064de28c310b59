"""PDF classes that were read wrongly (issue: what is read aloud must be right): text that is not
language (fonts without a Unicode mapping), figure text and repeated marks, titles, tables and
forms. Each PDF is drawn here, so the text sits exactly where the test says."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from reader.documents.pdf import garbled_share, implausible_letters, pdf_blocks, plausible_title
from reader.errors import NoTextLayer
from tests.test_documents_api import upload

OTHER = [
    "The hills are old and worn, and the rain that falls on them runs",
    "off quickly in winter, filling the streams that feed the rivers.",
]
BODY = [
    "Rivers carry water from the hills to the sea, and the towns along",
    "them grew up where the water could be crossed or used for mills.",
    "Most of the old mills are gone now, but their weirs remain and",
    "shape the river to this day, holding back pools where fish rest.",
]


def _font(differences: list[Any] | None = None) -> DictionaryObject:
    encoding: DictionaryObject = DictionaryObject({NameObject("/BaseEncoding"): NameObject("/WinAnsiEncoding")})
    if differences:
        encoding[NameObject("/Differences")] = ArrayObject(differences)
    return DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): encoding,
    })


# A font whose codes for A-Z are glyph names with no Unicode meaning ("/g16"), and one whose
# codes are private-use characters.
GLYPHS = _font([NumberObject(65), *[NameObject(f"/g{n}") for n in range(16, 42)]])
PRIVATE = _font([NumberObject(65), *[NameObject(f"/uniE0{n:02X}") for n in range(1, 27)]])


def draw(text: str, x: float, y: float, size: float = 10.0, font: str = "F1") -> bytes:
    raw = text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return f"BT /{font} {size} Tf 1 0 0 1 {x} {y} Tm (".encode() + raw + b") Tj ET"


def body_at(y: float, x: float = 72.0, lines: list[str] = BODY) -> list[bytes]:
    return [draw(text, x, y - 12 * i) for i, text in enumerate(lines)]


def make(pages: list[list[bytes]], *, title: str | None = None, image_at: dict[int, tuple[float, ...]] | None = None,
         fields: list[dict[str, Any]] | None = None) -> bytes:
    writer = PdfWriter()
    for number, ops in enumerate(pages, start=1):
        page = writer.add_blank_page(612, 792)
        resources = DictionaryObject({NameObject("/Font"): DictionaryObject({
            NameObject("/F1"): _font(), NameObject("/FG"): GLYPHS, NameObject("/FP"): PRIVATE})})
        if image_at and number in image_at:
            image = DecodedStreamObject()
            image.set_data(b"\x80" * 4)
            image.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                          NameObject("/Width"): NumberObject(2), NameObject("/Height"): NumberObject(2),
                          NameObject("/ColorSpace"): NameObject("/DeviceGray"),
                          NameObject("/BitsPerComponent"): NumberObject(8)})
            resources[NameObject("/XObject")] = DictionaryObject({NameObject("/Im1"): writer._add_object(image)})
            x, y, w, h = image_at[number]
            ops = [f"q {w} 0 0 {h} {x} {y} cm /Im1 Do Q".encode(), *ops]
        page[NameObject("/Resources")] = resources
        stream = ContentStream(None, writer)
        stream.set_data(b"\n".join(ops))
        page.replace_contents(stream)
    if fields:
        refs = ArrayObject()
        for spec in fields:
            field = DictionaryObject({NameObject(k): v for k, v in spec.items()})
            field[NameObject("/Type")] = NameObject("/Annot")
            field[NameObject("/Subtype")] = NameObject("/Widget")
            field[NameObject("/Rect")] = ArrayObject([NumberObject(v) for v in (300, 500, 400, 520)])
            ref = writer._add_object(field)
            refs.append(ref)
            writer.pages[0][NameObject("/Annots")] = writer.pages[0].get("/Annots", ArrayObject()) + [ref]
        writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
            {NameObject("/Fields"): refs, NameObject("/NeedAppearances"): BooleanObject(True)})
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def texts(data: bytes) -> tuple[list[str], tuple[str, ...], str | None]:
    blocks, notes, title = pdf_blocks(data)
    return [b.text for b in blocks], notes, title


# -- text that is not language ------------------------------------------------------------------


@pytest.mark.parametrize("font", ["FG", "FP"])
def test_a_page_in_a_font_without_unicode_is_left_out_and_named(font: str) -> None:
    junk = [draw("ABCDEFG HIJKLM NOPQRS TUVW XYZ ABCDE FGHIJ", 72, 700 - 12 * i, font=font) for i in range(6)]
    data = make([body_at(700), junk, body_at(700, lines=OTHER)])
    got, notes, _ = texts(data)
    assert " ".join(got) == " ".join(BODY + OTHER)  # page 3 runs on from page 1
    assert not any("/g" in t or any("\ue000" <= c <= "\uf8ff" for c in t) for t in got)
    assert any("1 page whose text cannot be read" in n and n.endswith(": 2") for n in notes), notes


def test_a_glyph_run_inside_good_text_is_dropped_line_by_line() -> None:
    page = [*body_at(700), draw("ABCDEFGHIJ KLMNOP", 72, 600, font="FG")]
    got, _, _ = texts(make([page]))
    assert got == [" ".join(BODY)]


def test_a_pdf_that_is_all_unmapped_text_is_refused_clearly() -> None:
    junk = [draw("ABCDEFG HIJKLM NOPQRS TUVW XYZ", 72, 700 - 12 * i, font="FG") for i in range(6)]
    with pytest.raises(NoTextLayer, match="no usable character mapping"):
        pdf_blocks(make([junk, junk]))


def test_shifted_letters_are_not_language() -> None:
    plain = " ".join(BODY) * 2
    shifted = "".join(chr((ord(c) - 97 + 3) % 26 + 97) if "a" <= c <= "z" else c for c in plain.lower())
    assert implausible_letters(shifted) and not implausible_letters(plain)
    page = [draw(shifted[i:i + 70], 72, 700 - 12 * (i // 70)) for i in range(0, len(shifted), 70)]
    got, notes, _ = texts(make([body_at(700), page]))
    assert got == [" ".join(BODY)]
    assert any("cannot be read" in n for n in notes)


@pytest.mark.parametrize(("text", "share"), [
    ("/g16/g3/g28 /g5/g9", 1.0), ("(cid:12)(cid:7)", 1.0), ("see https://example.org/a/b", 0.0),
    ("Plain words here.", 0.0), ("\ue001\ue002 ok", 0.5),
])
def test_garbled_share(text: str, share: float) -> None:
    assert garbled_share(text) == pytest.approx(share, abs=0.01)


def test_unreadable_pages_are_recognised_when_ocr_is_there() -> None:
    asked: list[list[int]] = []

    def ocr(data: bytes, pages: Any) -> bytes:
        asked.append(list(pages))
        return make([body_at(700), body_at(700, lines=["Recognised text of the second page, read at last."]),
                     body_at(700, lines=OTHER)])

    junk = [draw("ABCDEFG HIJKLM NOPQRS TUVW XYZ", 72, 700 - 12 * i, font="FG") for i in range(6)]
    blocks, notes, _ = pdf_blocks(make([body_at(700), junk, body_at(700, lines=OTHER)]), ocr)
    assert asked == [[2]]
    assert "Recognised text of the second page, read at last." in " ".join(b.text for b in blocks)
    assert any("text recognition" in n for n in notes)


# -- figures and furniture ----------------------------------------------------------------------


def test_text_drawn_over_a_figure_is_not_read() -> None:
    page = [*body_at(700), draw("Axis label 1", 120, 500), draw("Axis label 2", 120, 470),
            *body_at(380, lines=BODY[:2])]
    got, notes, _ = texts(make([page], image_at={1: (100, 450, 300, 120)}))
    assert not any("Axis label" in t for t in got)
    assert any("figures" in n for n in notes)
    assert "Rivers carry water" in " ".join(got)


def test_small_labels_clustered_beside_the_text_are_figure_text() -> None:
    labels = [draw(label, 80 + 60 * (i % 4), 500 - 14 * (i // 4), size=7) for i, label in
              enumerate(["0", "10", "20", "30", "Rain (mm)", "Month", "Jan", "Feb"])]
    got, notes, _ = texts(make([[*body_at(700), *labels]]))
    assert got == [" ".join(BODY)]
    assert any("figures" in n for n in notes)


@pytest.mark.parametrize("marks", [
    [draw(str(n), 20, 700 - 40 * n) for n in range(1, 6)],  # a printer's ruler in the margin
    [draw("3", 560, 600), draw("7", 560, 300), draw("+", 560, 450)],  # a few ruler digits, a crop mark
    [draw("Proof 2", 500, 420, size=7)],  # a slug mid-page
])
def test_marks_repeated_at_the_same_place_on_every_page_are_dropped(marks: list[bytes]) -> None:
    ruler = marks
    bars = [draw("==========", 72, 740), draw("* * *", 300, 400)]
    words = ["alpha", "beta", "gamma", "delta"]
    pages = [[*ruler, *bars, *body_at(700), draw(f"And the {words[p]} page ends here.", 72, 640)] for p in range(4)]
    got, _, _ = texts(make(pages))
    joined = " ".join(got)
    assert "==" not in joined and "* * *" not in joined
    assert not any(ch.isdigit() for ch in joined) and "Proof" not in joined
    for word in words:
        assert f"And the {word} page ends here." in joined


# -- titles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("metadata", [None, "untitled", "paper_final_v2", "Microsoft Word - draft.docx", "T"])
def test_title_is_the_largest_text_on_page_one_never_a_drop_cap(metadata: str | None) -> None:
    page = [draw("Rivers of the", 72, 740, size=24), draw("Northern Hills", 72, 712, size=24),
            draw("T", 72, 640, size=40), draw("he rivers of the north are short and fast.", 100, 660),
            *body_at(620)]
    got, _, title = texts(make([page], title=metadata))
    assert title == "Rivers of the Northern Hills"
    assert any(t.startswith("The rivers of the north are short and fast.") for t in got), got


def test_a_plausible_metadata_title_wins() -> None:
    page = [draw("Rivers", 72, 740, size=24), *body_at(700)]
    assert texts(make([page], title="Rivers of the Northern Hills, 2024 edition"))[2] == \
        "Rivers of the Northern Hills, 2024 edition"


@pytest.mark.parametrize(("title", "ok"), [
    ("The Crazy Ones", True), ("T", False), ("untitled", False), ("10811.exe", False), ("doc_2024_v3", False),
    ("ms-2023-114.pdf", False), ("Annual Report", True), ("Q3", False), ("arXiv:2101.00001", True),
])
def test_plausible_title(title: str, ok: bool) -> None:
    assert plausible_title(title) is ok


# -- tables and forms ---------------------------------------------------------------------------


def test_a_table_is_read_row_by_row_with_its_header() -> None:
    table = [draw("Name", 72, 560), draw("Age", 200, 560), draw("Town", 300, 560),
             draw("Ada", 72, 546), draw("36", 200, 546), draw("London", 300, 546),
             draw("Grace", 72, 532), draw("85", 200, 532), draw("Arlington", 300, 532)]
    got, notes, _ = texts(make([[*body_at(700), *table]]))
    assert "Name: Ada; Age: 36; Town: London" in got
    assert "Name: Grace; Age: 85; Town: Arlington" in got
    assert not any(t.startswith("Name Age") for t in got)
    assert "1 table read row by row with their headers" in notes


def test_a_form_is_read_as_labels_and_values(client: Any) -> None:
    fields = [
        {"/FT": NameObject("/Tx"), "/T": TextStringObject("full_name"), "/TU": TextStringObject("Full name"),
         "/V": TextStringObject("Ada Lovelace")},
        {"/FT": NameObject("/Tx"), "/T": TextStringObject("phone"), "/V": TextStringObject("")},
        {"/FT": NameObject("/Btn"), "/T": TextStringObject("agree"), "/TU": TextStringObject("I agree"),
         "/V": NameObject("/Yes")},
    ]
    data = make([body_at(700)], fields=fields)
    got, notes, _ = texts(data)
    assert got[-4:] == ["Form fields", "Full name: Ada Lovelace", "phone: empty", "I agree: checked"]
    assert "3 form fields read as label and value, at the end" in notes
    made = upload(client, data, "form.pdf").get_json()
    assert "Full name: Ada Lovelace" in [s["text"] for s in made["sentences"]]
