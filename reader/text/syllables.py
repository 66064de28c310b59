"""Syllable breaks for readers who want them shown (pyphen's hyphenation patterns)."""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"[^\W\d_]{4,}")


@functools.lru_cache(maxsize=32)
def _dictionary(lang: str) -> object | None:
    import pyphen

    name = pyphen.language_fallback(lang.replace("-", "_"))
    return pyphen.Pyphen(lang=name) if name else None


def breaks(text: str, lang: str) -> list[int]:
    """Offsets into `text` where a syllable break falls inside a word (none for languages
    without patterns)."""
    dic = _dictionary(lang or "en")
    if dic is None:
        return []
    out: list[int] = []
    for m in _WORD.finditer(text):
        out.extend(m.start() + p for p in dic.positions(m.group()))  # type: ignore[attr-defined]
    return out
