"""Text recognition for scanned PDFs and images: Tesseract (Debian's `tesseract-ocr` and its
language packs) through OCRmyPDF, which adds a text layer to the pages that have none and
leaves the others alone, so the result goes through the same PDF layout pipeline (columns,
headers, headings) as any PDF.

It is slow (about a second a page on two cores), so a request may OCR at most
READER_OCR_MAX_PAGES pages, and it runs in a heavy-work slot like synthesis. The language of
recognition is the reader's choice (the upload's `language`) when a pack is installed for it,
then READER_OCR_LANGUAGES; when the reader gave none, the language of what was read is
identified, and the pages are read again with that language's pack where it is installed.
"""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import Callable, Sequence

from ..errors import TooLarge, Unprocessable

LOGGER = logging.getLogger(__name__)

# ISO 639-1 -> Tesseract's codes, for the languages whose packs Debian names this way.
TESSERACT = {"en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita", "pt": "por", "nl": "nld",
             "sv": "swe", "da": "dan", "nb": "nor", "no": "nor", "fi": "fin", "pl": "pol", "cs": "ces",
             "ru": "rus", "uk": "ukr", "el": "ell", "tr": "tur", "ar": "ara", "he": "heb", "hi": "hin",
             "ja": "jpn", "zh": "chi_sim", "ko": "kor", "ca": "cat", "hu": "hun", "ro": "ron"}
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")

Ocr = Callable[[bytes, Sequence[int]], bytes]


class LongScan(Exception):
    """More pages to recognise than one request may: the caller makes it an import job."""

    def __init__(self, data: bytes, pages: Sequence[int]) -> None:
        super().__init__(f"{len(pages)} pages to recognise")
        self.data = data
        self.pages = list(pages)


def available() -> bool:
    """Tesseract and OCRmyPDF are both there."""
    if shutil.which("tesseract") is None:
        return False
    try:
        import ocrmypdf  # noqa: F401
    except ImportError:
        return False
    return True


def installed_languages() -> set[str]:
    import subprocess

    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.strip() for line in out.splitlines()[1:] if line.strip()}


def is_image(data: bytes) -> bool:
    return data.startswith(_IMAGES)


def image_to_pdf(data: bytes) -> bytes:
    """A PNG, JPEG or TIFF as a PDF of its pages (img2pdf, lossless), for OCR."""
    import img2pdf

    try:
        return bytes(img2pdf.convert(data, rotation=img2pdf.Rotation.ifvalid))
    except Exception as exc:  # img2pdf raises its own errors and PIL's for damaged images
        raise Unprocessable("This image is damaged or in a form that cannot be read.") from exc


def recogniser(languages: Sequence[str], max_pages: int) -> Ocr:
    """A function that OCRs the given pages (1-based) of a PDF and returns the new PDF."""

    def ocr(data: bytes, pages: Sequence[int]) -> bytes:
        import ocrmypdf

        if len(pages) > max_pages:
            raise TooLarge(f"This PDF has {len(pages)} scanned pages; text recognition takes at most {max_pages} "
                           "at a time. Split it, or ask the operator to raise READER_OCR_MAX_PAGES.")
        out = io.BytesIO()
        try:
            # force_ocr: the pages asked for are read as images even when they hold text, which is
            # what a page whose text is not language needs; the other pages pass through as they are.
            ocrmypdf.ocr(io.BytesIO(data), out, language=list(languages), force_ocr=True, output_type="pdf",
                         progress_bar=False, jobs=1, optimize=0, pages=",".join(str(p) for p in pages))
        except ocrmypdf.exceptions.EncryptedPdfError as exc:
            raise Unprocessable("This PDF is protected by a password. Remove the password and upload it again.") \
                from exc
        except (ocrmypdf.exceptions.InputFileError, ocrmypdf.exceptions.UnsupportedImageFormatError) as exc:
            raise Unprocessable("This scan could not be read for text recognition.") from exc
        except ocrmypdf.exceptions.ExitCodeException as exc:
            LOGGER.warning("text recognition failed (%s)", type(exc).__name__)
            raise Unprocessable("Text recognition failed on this scan.") from exc
        return out.getvalue()

    return ocr


def detected_language(pdf: bytes, pages: Sequence[int], installed: set[str], used: Sequence[str]) -> str | None:
    """The Tesseract pack of the language the recognised pages are in, when it is installed and
    was not among `used`; else None."""
    from pypdf import PdfReader

    from ..text.language import identify

    reader = PdfReader(io.BytesIO(pdf), strict=False)
    text = " ".join((reader.pages[n - 1].extract_text() or "") for n in pages[:5] if 0 < n <= len(reader.pages))
    found = identify(text)
    code = TESSERACT.get(found[0]) if found else None
    return code if code and code in installed and code not in used else None


def languages_for(choice: str | None, configured: Sequence[str], installed: set[str]) -> list[str]:
    """Tesseract languages: the reader's choice first (when its pack is installed), then the setting's."""
    found: list[str] = []
    wanted = TESSERACT.get((choice or "").split("-")[0].lower())
    for code in ([wanted] if wanted else []) + list(configured):
        if code in installed and code not in found:
            found.append(code)
    return found or ["eng"]
