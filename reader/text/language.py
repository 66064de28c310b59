"""Which language a text is in: py3langid's bundled model (97 languages, no download), and the
rules for when to believe a page's own `lang` attribute.

A declared language is kept when the text agrees with it (and keeps its region: "en-GB"), or
when the text is too short to tell. A text that clearly is another language overrides the
declaration: a German post whose template says `lang="en"` is German. Blocks in another
language than their document get their own tag, so that each is read by a voice of its
language (and marked up for screen readers with `lang`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

MIN_LETTERS = 25  # below this, a text is too short to tell
SURE = 0.95  # probability above which the text overrides a declared language
LIKELY = 0.5  # probability above which a text that declares nothing is taken to be in a language
SAMPLE = 5000  # characters of a document looked at for its language

_IDENTIFIER: list[Any] = []
_LOCK = threading.Lock()


def _identifier() -> Any:
    with _LOCK:
        if not _IDENTIFIER:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _IDENTIFIER.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
        return _IDENTIFIER[0]


def warm() -> None:
    """Load the model ahead of the first text (it takes about a second), in the background."""
    threading.Thread(target=_identifier, name="reader-langid-load", daemon=True).start()


def primary(tag: str | None) -> str:
    return (tag or "").split("-")[0].lower()


def identify(text: str) -> tuple[str, float] | None:
    """(language, probability) of `text`, or None when it is too short to tell."""
    if _letters(text[:SAMPLE]) < MIN_LETTERS:
        return None
    lang, prob = _identifier().classify(text[:SAMPLE])
    return str(lang), float(prob)


def _letters(text: str) -> int:
    """Letters, where a CJK or Hangul character (a syllable or a word) counts as three."""
    return sum((3 if ord(ch) >= 0x2E80 else 1) for ch in text if ch.isalpha())


def decide(declared: str | None, text: str) -> str | None:
    """The language to use for `text` that says it is `declared` (None: it says nothing)."""
    found = identify(text)
    if found is None:
        return declared
    lang, prob = found
    if not declared:
        return lang if prob >= LIKELY else None  # nothing said: the best guess beats assuming English
    if primary(declared) == lang:
        return declared
    if prob >= SURE:
        return lang
    return declared


def apply(blocks: Sequence[Any], declared: str | None, *, trusted: bool = False) -> tuple[str, list[Any]]:
    """The document's language and its blocks, each tagged where it differs from the document.
    `trusted`: the reader chose `declared` themselves, so the document keeps it. Otherwise the
    document is in the language most of its letters are in (each block identified on its own),
    and a declaration stands unless the text mostly says otherwise."""
    if trusted and declared:
        language = declared
    else:
        language = _majority(blocks, declared)
    tagged = []
    for block in blocks:
        own = decide(block.lang or language, block.text)
        lang = own if own and primary(own) != primary(language) else None
        tagged.append(block if lang == block.lang else dataclasses.replace(block, lang=lang))
    return language, tagged


def _majority(blocks: Sequence[Any], declared: str | None) -> str:
    weight: dict[str, int] = {}
    for block in blocks:
        found = identify(block.text)
        if found is not None and found[1] >= LIKELY:
            weight[found[0]] = weight.get(found[0], 0) + sum(ch.isalpha() for ch in block.text)
    if not weight:
        return decide(declared, " ".join(b.text for b in blocks)[:SAMPLE]) or declared or "en"
    total = sum(weight.values())
    majority = max(weight, key=lambda k: weight[k])
    if not declared:
        return majority
    if primary(declared) == majority or weight.get(primary(declared), 0) >= 0.2 * total:
        return declared  # the page is (partly, at least) what it says
    return majority
