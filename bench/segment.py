"""Benchmark reader.text.segment against pySBD 0.3.4 on one long text built from the eval data.

Run from the project root: ``python bench/segment.py [--chars N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ARTICLES = SHARED / "eval" / "extraction" / "articles" / "ground-truth.json"
SENTENCES = SHARED / "eval" / "sentences"
MIN_CHARS = 200_000

sys.path.insert(0, str(ROOT))  # so the script runs from a plain checkout too

from reader.evaluation.segmentation import boundary_f1  # noqa: E402
from reader.text.segment import segment  # noqa: E402


def build_text(limit: int | None) -> str:
    """Every ground-truth article body, then the golden texts, as paragraphs; at least 200 kB."""
    for path in (ARTICLES, SENTENCES):
        if not path.exists():
            raise SystemExit(f"evaluation data not found: {path}")
    articles: dict[str, dict[str, Any]] = json.loads(ARTICLES.read_text(encoding="utf-8"))
    paragraphs = [articles[key]["articleBody"] for key in sorted(articles)]
    for name in ("golden_en.json", "golden_en_pragmatic_segmenter.json"):
        paragraphs += [rule["text"] for rule in json.loads((SENTENCES / name).read_text("utf-8"))]
    text = "\n\n".join(paragraphs)
    while len(text) < max(MIN_CHARS, limit or 0):
        text += "\n\n" + text  # the eval data shrank: repeat it rather than measure noise
    if limit is not None:
        cut = text.find("\n\n", max(limit, MIN_CHARS))  # end on a whole paragraph
        text = text[:cut] if cut > 0 else text
    return text


def best_of(repeat: int, run: Callable[[], list[Any]]) -> tuple[float, int]:
    """Fastest wall-clock time of `repeat` runs in seconds, and how many sentences came out."""
    times, count = [], 0
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        count = len(run())
        times.append(time.perf_counter() - started)
    return min(times), count


def main(argv: list[str] | None = None) -> int:
    """Time both segmenters on the same text and print chars/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=None, help="truncate the text (>= 200000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per segmenter; best is kept")
    args = parser.parse_args(argv)
    try:
        import pysbd
    except ImportError:
        print("pysbd is not installed: pip install pysbd==0.3.4 (bench-only dependency)", file=sys.stderr)
        return 2

    text = build_text(args.chars)
    print(f"text: {len(text):,} chars, {len(text.encode('utf-8')):,} bytes UTF-8")

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
    rows = [
        ("reader.text.segment", best_of(args.repeat, lambda: segment(text))),
        (f"pySBD {pysbd.__version__}", best_of(args.repeat, lambda: segmenter.segment(text))),
    ]
    for name, (seconds, count) in rows:
        rate = len(text) / seconds
        print(f"{name:<20} {seconds:8.3f} s {rate:14,.0f} chars/s {count:8,} sentences")
    ours, theirs = rows[0][1][0], rows[1][1][0]
    print(f"speed-up: {theirs / ours:.1f}x (best of {max(1, args.repeat)} runs each)")
    print_f1s(segmenter)
    return 0


def print_f1s(pysbd_segmenter: Any) -> None:
    """Boundary F1 on Reader's own informal and edited sets (tests/data/sentences/reader_en.json),
    against pySBD and syntok run here."""
    own = json.loads((ROOT / "tests" / "data" / "sentences" / "reader_en.json").read_text(encoding="utf-8"))

    def syntok_split(text: str) -> list[str]:
        import syntok.segmenter

        return ["".join(t.spacing + t.value for t in s).strip() for p in syntok.segmenter.analyze(text) for s in p]

    splitters: list[tuple[str, Callable[[str], list[str]]]] = [
        ("reader.text.segment", lambda t: [t[a:b] for a, b in segment(t)]),
        ("pySBD 0.3.4", lambda t: [s.strip() for s in pysbd_segmenter.segment(t) if s.strip()]),
    ]
    try:
        import syntok  # noqa: F401

        splitters.append(("syntok", syntok_split))
    except ImportError:
        print("syntok is not installed (pip install syntok==1.4.4): its column is left out")
    print("| segmenter | informal F1 | edited F1 |\n|---|---|---|")
    for name, split in splitters:
        scores = [boundary_f1(own[kind], split) for kind in ("informal", "edited")]
        print(f"| {name} | {scores[0]:.3f} | {scores[1]:.3f} |")
