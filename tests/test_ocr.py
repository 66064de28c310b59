"""Scanned pages read by text recognition (real Tesseract through OCRmyPDF): pages rendered here
from text we know, wrapped as PDFs and images, read back and compared character by character."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import jiwer
import pytest
from scans import scanned_page, text_layer_pdf

STORY = ("The lighthouse stood on the rocks at the edge of the bay. Every night the keeper climbed the stairs "
         "and lit the lamp, and every morning he wrote the weather in his book. In the winter of 1898 the storms "
         "came early, and the supply boat could not land for three weeks. He lived on bread, tea and the fish he "
         "caught from the rocks.")
NOTES = ("On the second page the keeper counts his stores. There were forty candles, six sacks of flour and a "
         "barrel of oil left when the boat came back in March.")


@pytest.fixture(autouse=True)
def _tesseract() -> None:
    if shutil.which("tesseract") is None:
        pytest.fail("Tesseract is needed: make test installs Debian's tesseract-ocr")


def _scan(text: str, fmt: str = "PDF") -> bytes:
    """A page of `text` as a scanner would give it: an image (200 dpi), no text layer."""
    return scanned_page(text, fmt=fmt)


def _text_pdf(text: str) -> bytes:
    """A page with a real text layer (matplotlib's PDF backend)."""
    return text_layer_pdf(text, width=70)


def _join(*pdfs: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in pdfs:
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _upload(client: Any, data: bytes, name: str) -> Any:
    return client.post("/api/documents", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _text(doc: dict[str, Any]) -> str:
    return " ".join(b["text"] for b in doc["blocks"])


def test_a_scanned_pdf_is_read_back_with_98_percent_of_its_characters(client: Any) -> None:
    resp = _upload(client, _scan(STORY), "scan.pdf")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    accuracy = 1 - jiwer.cer(STORY, _text(doc))
    print(f"character accuracy of the scanned page: {accuracy:.4f}")
    assert accuracy >= 0.98
    assert any("text recognition" in note for note in doc["skipped"])  # the reader is told


def test_only_pages_without_text_are_recognised(client: Any) -> None:
    resp = _upload(client, _join(_text_pdf(NOTES), _scan(STORY)), "mixed.pdf")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    text = _text(doc)
    assert "forty candles" in text and "supply boat" in text
    assert text.index("forty candles") < text.index("supply boat")  # the page order stays
    assert any(note.startswith("1 page read by text recognition") for note in doc["skipped"])


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_a_photo_of_a_page_is_read(client: Any, fmt: str) -> None:
    resp = _upload(client, _scan(STORY, fmt), f"page.{fmt.lower()}")
    assert resp.status_code == 201, resp.get_json()
    assert 1 - jiwer.cer(STORY, _text(resp.get_json())) >= 0.97


def test_scans_without_text_recognition_are_refused_clearly(make_app: Any) -> None:
    client = make_app(ocr=False).test_client()
    resp = _upload(client, _scan(STORY), "scan.pdf")
    assert resp.status_code == 422 and "text recognition (OCR) is not available" in resp.get_json()["detail"]
    resp = _upload(client, _scan(STORY, "PNG"), "page.png")
    assert resp.status_code == 415 and "image" in resp.get_json()["detail"]


def test_text_recognition_is_bounded_and_bad_images_are_problems(make_app: Any, settings: Any) -> None:
    client = make_app(ocr_max_pages=1).test_client()
    resp = _upload(client, _join(_scan(STORY), _scan(NOTES)), "two.pdf")
    assert resp.status_code == 413 and "READER_OCR_MAX_PAGES" in resp.get_json()["detail"]
    resp = _upload(client, _scan(""), "blank.pdf")  # a page with no text at all
    assert resp.status_code == 422 and "No text could be recognised" in resp.get_json()["detail"]
    resp = _upload(client, b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "broken.png")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert not list((Path(settings.data_dir) / "documents").glob("??/*.json"))  # nothing stored


FRENCH = ("Le gardien du phare allumait la lampe chaque soir. Pendant l'hiver, les tempêtes étaient si fortes "
          "que le bateau de ravitaillement ne pouvait pas accoster. Il écrivait le temps qu'il faisait dans son "
          "cahier, à côté des prévisions de la météo.")


def test_the_language_of_a_scan_is_identified_and_read_with_its_own_pack(client: Any) -> None:
    from reader.documents.ocr import installed_languages

    if "fra" not in installed_languages():
        pytest.fail("Tesseract's French pack is needed: make test installs tesseract-ocr-fra")
    resp = _upload(client, _scan(FRENCH), "lettre.pdf")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    accuracy = 1 - jiwer.cer(FRENCH, _text(doc))
    print(f"character accuracy of the French scan: {accuracy:.4f}")
    # English alone reads 98.3 % of it ("tempêtes", "à côté" lose their accents): the French pack was used.
    assert doc["language"] == "fr" and accuracy >= 0.995


def test_a_long_scan_is_read_in_the_background_with_its_progress(tmp_path: Path) -> None:
    """Four scanned pages, two allowed while the upload waits: a 202, a worker reads them two at a
    time (its progress seen on the way), then the document opens; the HTML path follows it too."""
    import json
    import time
    import urllib.request

    from conftest import start_server, stop_server

    pages = [f"Page {n}. " + STORY for n in range(1, 5)]
    scan = _join(*[_scan(p) for p in pages])
    data = tmp_path / "data"
    data.mkdir()
    base, proc = start_server(data, workers=1, env={"READER_OCR_INLINE_PAGES": "2", "READER_TTS": "espeak",
                                                    "READER_EXTRA_TTS": ""})
    try:
        boundary = "readerscanboundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"book.pdf\"\r\n"
                "Content-Type: application/pdf\r\n\r\n").encode() + scan + f"\r\n--{boundary}--\r\n".encode()
        req = urllib.request.Request(base + "/api/documents", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 202
            job = json.load(resp)
        assert job["status"] == "queued" and job["total"] == 4
        seen = set()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with urllib.request.urlopen(base + job["url"], timeout=30) as resp:
                state = json.load(resp)
            seen.add(state["done"])
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
        assert state["status"] == "done", state
        assert len(seen - {0, 4}) >= 1, seen  # progress on the way, not just the end
        with urllib.request.urlopen(f"{base}/api/documents/{state['document']}", timeout=30) as resp:
            doc = json.load(resp)
        text = " ".join(b["text"] for b in doc["blocks"])
        assert 1 - jiwer.cer(" ".join(pages), text) >= 0.98
        assert any(note.startswith("4 pages read by text recognition") for note in doc["skipped"])
        with urllib.request.urlopen(base + f"/imports/{state['id']}", timeout=30) as resp:  # done: the reader
            assert resp.url.endswith(f"/read/{state['document']}")
        assert not list((data / "imports").glob("*/scan.pdf"))  # the scan itself is not kept
    finally:
        stop_server(proc)


def test_the_page_of_a_scan_being_read(client: Any) -> None:
    from reader.services import services

    with client.application.app_context():
        job = services().imports.create(b"%PDF-1.4", [1, 2, 3, 4], {"title": None, "language": None})
        services().imports.update(job.id, status="running", done=2)
    page = client.get(f"/imports/{job.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="2"' in html and 'max="4"' in html and "2 of 4 pages read" in html
    assert "import.js" in html and "<script>" not in html  # no inline script
    assert client.get("/imports/" + "0" * 24).status_code == 404
