"""Text recognition of scanned pages: seconds per page and character accuracy, on pages rendered
here from text we know (two fonts, two resolutions, a slight tilt and speckle, as a scanner
gives), against reading the same text from a real text layer in the same run.

    python bench/ocr.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from scans import scanned_page, text_layer_pdf  # noqa: E402

TEXT = (
    "Reading aloud helps people who cannot see the page, people who tire of small print, and people "
    "for whom letters move. A scanned letter from a council, a form from a clinic, an old book from a "
    "library: these are the papers that arrive as pictures of text. In 1998 the library kept 4,250 such "
    "volumes; by 2021 it had scanned 3,100 of them, at a cost of about 12 pounds a book. The rest wait "
    "on shelves in the basement, where the light is poor and the air is dry."
)


def page(text: str, font_name: str, dpi: int, tilt: float, seed: int) -> bytes:
    return scanned_page(text, dpi=dpi, font=font_name, size=32, leading=52, tilt=tilt, speckle=4000, seed=seed)


def main() -> None:
    import jiwer

    from reader.documents import ocr
    from reader.documents.pdf import pdf_blocks

    if not ocr.available():
        raise SystemExit("Tesseract and ocrmypdf are needed (apt-get install tesseract-ocr)")
    recognise = ocr.recogniser(["eng"], 100)
    layered = text_layer_pdf(TEXT)
    started = time.perf_counter()
    for _ in range(5):
        blocks, _, _ = pdf_blocks(layered)
    layer = (time.perf_counter() - started) / 5
    print(f"text layer (baseline): {layer * 1000:.0f} ms a page, accuracy "
          f"{1 - jiwer.cer(TEXT, ' '.join(b.text for b in blocks)):.4f}")
    rows = []
    for font in ("DejaVuSerif.ttf", "DejaVuSans.ttf"):
        for dpi in (200, 150):
            for tilt in (0.0, 0.8):
                data = page(TEXT, font, dpi, tilt, seed=dpi)
                started = time.perf_counter()
                blocks, _, _ = pdf_blocks(data, recognise)
                seconds = time.perf_counter() - started
                accuracy = 1 - jiwer.cer(TEXT, " ".join(b.text for b in blocks))
                rows.append((seconds, accuracy))
                print(f"{font:18} {dpi} dpi, tilt {tilt:.1f} deg: {seconds:5.2f} s a page "
                      f"({seconds / layer:5.0f}x the text layer), character accuracy {accuracy:.4f}")
    print(f"OCR overall: {sum(r[0] for r in rows) / len(rows):.2f} s a page, accuracy "
          f"{min(r[1] for r in rows):.4f} (worst) to {max(r[1] for r in rows):.4f} (best)")


if __name__ == "__main__":
    main()
