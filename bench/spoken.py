"""Spoken-text normalisation speed on real sentences, against segmenting the same text.

    python bench/spoken.py

Sentences come from the ground truth of ../shared/eval/extraction/articles. The baseline,
measured in the same run, is segment() over the same sentences (a single regex pass each).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reader.text.segment import segment  # noqa: E402
from reader.text.speech_text import spoken_text  # noqa: E402

ARTICLES = ROOT.parent / "shared" / "eval" / "extraction" / "articles" / "ground-truth.json"


def main() -> None:
    sentences: list[str] = []
    for article in json.loads(ARTICLES.read_text(encoding="utf-8")).values():
        for paragraph in article["articleBody"].split("\n"):
            sentences.extend(paragraph[s:e] for s, e in segment(paragraph))
    sentences = sentences[:5000]
    timings = {}
    for name, work in (("segment", segment), ("spoken_text", spoken_text)):
        work(sentences[0])
        started = time.perf_counter()
        for sentence in sentences:
            work(sentence)
        timings[name] = (time.perf_counter() - started) / len(sentences)
    print(f"{len(sentences)} sentences: spoken_text {timings['spoken_text'] * 1e6:.0f} µs per sentence, "
          f"segment {timings['segment'] * 1e6:.0f} µs (ratio {timings['spoken_text'] / timings['segment']:.1f}x)")


if __name__ == "__main__":
    main()
