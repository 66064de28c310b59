"""Sentence segmentation scored against sentences a person marked: boundary precision, recall and
F1 over a set of texts (each the gold sentences joined by spaces)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def boundaries(sentences: Sequence[str], text: str) -> set[int]:
    """Where each sentence but the last ends in `text` (a sentence not found as it is, because a
    segmenter changed its text, gives no boundary)."""
    out, pos = set(), 0
    for sentence in sentences[:-1]:
        at = text.find(sentence.strip(), pos)
        if at < 0:
            continue
        pos = at + len(sentence.strip())
        out.add(pos)
    return out


def boundary_f1(items: Sequence[Sequence[str]], split: Callable[[str], Sequence[str]]) -> float:
    """F1 of the boundaries `split` finds in each item's text, against the item's own."""
    tp = fp = fn = 0
    for sentences in items:
        text = " ".join(sentences)
        gold, got = boundaries(sentences, text), boundaries(split(text), text)
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)
