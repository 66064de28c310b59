"""Benchmark reader.documents.pdf.pdf_blocks against bare pypdf extract_text() on the same PDF.

Run from the project root: ``python bench/pdf.py [--file PATH] [--repeat N]``.
The default file is the 15-page three-column Federal Register document of the eval data.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "eval" / "extraction" / "pdf" / "federal-register-2020-17221.pdf"

sys.path.insert(0, str(ROOT))  # so the script runs from a plain checkout too

from reader.documents.pdf import pdf_blocks  # noqa: E402


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """Fastest wall-clock time of `repeat` runs, in seconds."""
    times = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    """Time both extractions on the same bytes and print pages/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT, help="PDF to extract")
    parser.add_argument("--repeat", type=int, default=3, help="runs per extractor; best is kept")
    args = parser.parse_args(argv)
    if not args.file.exists():
        raise SystemExit(f"PDF not found: {args.file}")
    import pypdf

    data = args.file.read_bytes()
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    try:
        import fontTools  # noqa: F401

        fonts = "with fontTools"
    except ImportError:
        fonts = "without fontTools (pip install fonttools: pypdf is faster with it)"
    print(f"{args.file.name}: {pages} pages, {len(data):,} bytes; pypdf {pypdf.__version__} {fonts}")

    def bare() -> object:
        # Parsing is part of the work for both, so each run starts from the bytes.
        return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]

    rows = [
        ("pdf_blocks", best_of(args.repeat, lambda: pdf_blocks(data))),
        ("pypdf extract_text", best_of(args.repeat, bare)),
    ]
    for name, seconds in rows:
        print(f"{name:<20} {seconds:8.3f} s {pages / seconds:8.1f} pages/s")
    ours, theirs = rows[0][1], rows[1][1]
    print(f"pdf_blocks / extract_text time: {ours / theirs:.2f}x (best of {max(1, args.repeat)} runs each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
