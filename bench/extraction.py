"""Score reader.documents.html against the stored baselines on the article-extraction benchmark.

Run from the project root: ``python bench/extraction.py [--limit N] [--no-live]``.
Bag-of-words token precision, recall and F1 per page, averaged (the scorer of
shared/docs/baselines.md), and median milliseconds per page. Plain trafilatura (text
output) is run in the same process as the reference for both score and speed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT.parent / "shared" / "eval" / "extraction" / "articles"
STORED = {"trafilatura": "stored trafilatura 2.0.0", "readability_js": "stored readability.js 0.6.0",
          "html-text": "stored html-text"}

sys.path.insert(0, str(ROOT))  # so the script runs from a plain checkout too

from reader.documents.html import html_document  # noqa: E402

_WORD = re.compile(r"\w+")


def score(predicted: str, truth: str) -> tuple[float, float, float]:
    """Token precision, recall and F1 of one page; an empty output scores 0."""
    got, want = Counter(_WORD.findall(predicted.lower())), Counter(_WORD.findall(truth.lower()))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def load(limit: int | None = None) -> list[tuple[str, bytes, str]]:
    """(page id, gzipped-off HTML bytes, ground-truth text) for every page, in id order."""
    truth = json.loads((ARTICLES / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        with gzip.open(ARTICLES / "html" / f"{key}.html.gz") as fh:
            pages.append((key, fh.read(), truth[key]["articleBody"]))
    return pages


def extract(data: bytes, mode: str = "article") -> str:
    """Our extractor's output as the benchmark sees it: the blocks' text, one per line."""
    try:
        return "\n".join(b.text for b in html_document(data, mode=mode).blocks)
    except Exception:
        return ""


def run(pages: list[tuple[str, bytes, str]], fn: Callable[[bytes], str]) -> tuple[list[tuple[float, float, float]], list[float]]:
    """Scores and milliseconds of `fn` over every page."""
    scores, times = [], []
    for _, data, truth in pages:
        started = time.perf_counter()
        text = fn(data)
        times.append((time.perf_counter() - started) * 1000)
        scores.append(score(text, truth))
    return scores, times


def mean_scores(scores: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Mean precision, recall and F1 over pages."""
    return tuple(statistics.fmean(s[i] for s in scores) for i in range(3))  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    """Print P/R/F1 and ms/page for ours, live trafilatura and the stored outputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--no-live", action="store_true", help="skip the live trafilatura run")
    parser.add_argument("--worst", type=int, default=0, help="list the N pages we score worst on")
    args = parser.parse_args(argv)
    if not ARTICLES.exists():
        print(f"evaluation data not found: {ARTICLES}", file=sys.stderr)
        return 2
    pages = load(args.limit)
    rows: list[tuple[str, tuple[float, float, float], str]] = []

    ours, times = run(pages, extract)
    rows.append(("reader.documents.html (article)", mean_scores(ours), f"{statistics.median(times):.0f}"))
    whole, whole_times = run(pages, lambda data: extract(data, "page"))
    rows.append(("reader.documents.html (whole page)", mean_scores(whole), f"{statistics.median(whole_times):.0f}"))
    live_times: list[float] = []
    if not args.no_live:
        import trafilatura

        # Ours runs trafilatura without comments and favouring precision: the like-for-like row.
        for label, precise in (("no comments", False), ("no comments, favor_precision", True)):
            def plain(data: bytes, precise: bool = precise) -> str:
                return trafilatura.extract(data, include_comments=False, favor_precision=precise) or ""

            live, times_live = run(pages, plain)
            live_times = times_live
            rows.append((f"trafilatura {trafilatura.__version__}, {label} (live)", mean_scores(live),
                         f"{statistics.median(times_live):.0f}"))
    for name, label in STORED.items():
        stored = json.loads((ARTICLES / "baseline_outputs" / f"{name}.json").read_text(encoding="utf-8"))
        stored = stored.get("output", stored)
        scores = [score(stored.get(key, {}).get("articleBody", "") or "", truth) for key, _, truth in pages]
        rows.append((label, mean_scores(scores), "–"))

    print(f"{len(pages)} pages from {ARTICLES}")
    print(f"| {'extractor':<54} | {'P':>5} | {'R':>5} | {'F1':>5} | median ms/page |")
    print(f"|{'-' * 56}|{'-' * 7}|{'-' * 7}|{'-' * 7}|{'-' * 16}|")
    for name, (p, r, f1), ms in rows:
        print(f"| {name:<54} | {p:.3f} | {r:.3f} | {f1:.3f} | {ms:>14} |")
    if live_times:
        ratio = statistics.median(times) / statistics.median(live_times)
        print(f"time per page, ours / trafilatura favor_precision: {ratio:.2f}x (same run)")
    for (key, _, _), s in sorted(zip(pages, ours), key=lambda x: x[1][2])[: args.worst]:
        print(f"  {key[:16]}  P={s[0]:.3f} R={s[1]:.3f} F1={s[2]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
