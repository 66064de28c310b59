"""Text normalisers for word and character error rates.

English (`english`): what Reader would say is compared, not how it is written. Both sides go
through Reader's own spoken-form rules (so "1961" and "nineteen sixty-one", "$5" and "five
dollars", "Dr." and "doctor" are the same words), then NFKC, case folding, hyphens and slashes
become spaces, punctuation goes (apostrophes inside words stay: "don't" is one word), and the
hesitations um, uh, er, ah, hmm, mm, mhm are dropped. Times are read alike however they are
written ("10.30am", "10:30 a.m."), and runs of single letters are joined ("a m" is "am",
"u s a" is "usa"), since recognisers write initials either way. British and American spellings are not
merged, and contractions are not expanded ("don't" against "do not" is an error): a listener
hears those differences too.

Other languages (`general`): NFKC, case folding, every Unicode punctuation and symbol
character becomes a space, whitespace is collapsed. Numbers are left as written, so "3" against
"trois" counts as an error; for languages written without spaces between words (Chinese,
Japanese, Thai) the character error rate is the one to read.
"""

from __future__ import annotations

import re
import unicodedata

FILLERS = frozenset({"um", "uh", "er", "ah", "hmm", "mm", "mhm", "uhm", "erm"})
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def english(text: str) -> str:
    """An English text as the words a listener hears, for WER."""
    from ..text.speech_text import spoken_text

    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    # Times as recognisers write them: "10.30am", "10:30 a.m.", "6pm" all become "10:30 am", "6 pm".
    text = re.sub(r"(?i)(\d)\s*([ap])\.?\s?m\b\.?", r"\1 \2m", text)
    text = re.sub(r"(?i)\b(\d{1,2})[.:](\d{2})(?=\s[ap]m\b)", r"\1:\2", text)
    text = spoken_text(text, lang="en").text
    text = text.casefold()
    text = re.sub(r"[-\u2010-\u2015/]", " ", text)
    text = re.sub(r"(?<![a-z0-9])'|'(?![a-z0-9])", " ", text)  # quotes, not apostrophes inside words
    text = re.sub(r"[^\w\s']", " ", text)
    words = [w for w in text.split() if w not in FILLERS]
    return " ".join(_join_letters(words))


def _join_letters(words: list[str]) -> list[str]:
    """Runs of two or more single letters are one word: "a m" and "am", "u s" and "us" match."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        if word:
            out.append(word)
    return out


def general(text: str) -> str:
    """Any language: case and punctuation folded away, numbers as written."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text)
    return " ".join(text.split())


def for_language(language: str | None) -> tuple[str, object]:
    """(name, function) of the normaliser for a language code."""
    if (language or "en").lower().split("-")[0] == "en":
        return "english", english
    return "general", general
