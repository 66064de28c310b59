"""The text an engine speaks for a sentence, with a map back to the sentence's characters.

Normalisation runs per sentence on every request, so it is one precompiled regex
alternation scanned once over the sentence; each match is handed to a small function that
returns the spoken pieces, each tied to the exact source span it replaces. Characters that
are not replaced map to themselves, so highlighting and "read from here" stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from . import numbers as num
from . import spoken_forms
from .pronounce import EMPTY, Pronunciations, load_pronunciations

__all__ = ["SpokenText", "spoken_text", "Pronunciations", "load_pronunciations"]


@dataclass(frozen=True)
class SpokenText:
    """`text` is sent to the engine; `text[i]` comes from `sentence[source[i]:ends[i]]`."""

    text: str
    source: tuple[int, ...]
    ends: tuple[int, ...] = ()  # empty: every character is its own source character

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the spoken text back to a span of the sentence."""
        if not self.source:
            return (0, 0)
        start = min(max(start, 0), len(self.source) - 1)
        last = min(max(end - 1, start), len(self.source) - 1)
        stop = self.ends[last] if self.ends else self.source[last] + 1
        return self.source[start], stop

    def words(self) -> list[tuple[int, int, int, int]]:
        """(spoken start, spoken end, source start, source end) of each spoken word."""
        return [(m.start(), m.end(), *self.to_source(m.start(), m.end())) for m in _WORD.finditer(self.text)]


_WORD = re.compile(r"\S+")
# A spoken word replacing a symbol or number stays glued only to these ("(five)", "pre-1990").
_NO_SPACE_AFTER = frozenset(" ([{“‘-–—/#$€£¥₹@_")
Piece = tuple[str, int, int]  # what to say, and the source span it replaces


class _Builder:
    """Accumulates spoken characters, each with the source span it stands for."""

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.glue = False  # after a replaced piece: a following letter or digit needs a space

    def _put(self, char: str, start: int, end: int) -> None:
        if char.isspace():
            if self.chars and self.chars[-1] != " ":
                self.chars.append(" ")
                self.starts.append(start)
                self.ends.append(end)
            self.glue = False
            return
        if self.glue and (char.isalnum() or char == "_") and self.chars and self.chars[-1] != " ":
            self._put(" ", start, end)
        self.glue = False
        self.chars.append(char)
        self.starts.append(start)
        self.ends.append(end)

    def verbatim(self, start: int, end: int) -> None:
        for i in range(start, end):
            self._put(self.sentence[i], i, i + 1)

    def replace(self, say: str, start: int, end: int) -> None:
        if not say:
            return
        if self.chars and self.chars[-1] not in _NO_SPACE_AFTER and say[0].isalnum():
            self._put(" ", start, end)
        for char in say:
            self._put(char, start, end)
        self.glue = True

    def result(self) -> SpokenText:
        while self.chars and self.chars[-1] == " ":
            self.chars.pop(), self.starts.pop(), self.ends.pop()
        return SpokenText("".join(self.chars), tuple(self.starts), tuple(self.ends))


def spoken_text(sentence: str, *, lang: str = "en", pronunciations: Pronunciations | None = None) -> SpokenText:
    """The sentence as an engine should hear it: pronunciation list first, then English rules."""
    out = _Builder(sentence)
    _DAY_FIRST.set(_day_first(lang))
    # English has its own rules; German, French, Spanish, Italian, Portuguese and Dutch say their
    # numbers, money and dates in words of the language; other voices read digits themselves.
    between: Callable[[_Builder, int, int], None]
    if lang.lower().startswith("en"):
        between = _rules
    elif lang.split("-")[0].lower() in spoken_forms.LANGUAGES:
        between = _language_rules(lang)
    else:
        between = _Builder.verbatim
    pos = 0
    for start, end, say in (pronunciations or EMPTY).matches(sentence):
        between(out, pos, start)
        out.replace(say, start, end)
        pos = end
    between(out, pos, len(sentence))
    return out.result()


# Slash dates are month first in American English (and in "en" alone, as CLDR's "en" is), day
# first everywhere else English is written.
_DAY_FIRST: ContextVar[bool] = ContextVar("day_first", default=False)
_MONTH_FIRST_REGIONS = frozenset({"us", "ph", "fm", "mh", "pw", "as", "gu", "mp", "pr", "um", "vi"})


def _day_first(lang: str) -> bool:
    parts = lang.replace("_", "-").lower().split("-")
    return len(parts) > 1 and parts[0] == "en" and parts[-1] not in _MONTH_FIRST_REGIONS and len(parts[-1]) == 2


def _language_rules(lang: str) -> Callable[[_Builder, int, int], None]:
    def apply(out: _Builder, pos: int, endpos: int) -> None:
        cursor = pos
        for say, start, end in spoken_forms.spoken_pieces(out.sentence, lang, pos, endpos):
            out.verbatim(cursor, start)
            out.replace(say, start, end)
            cursor = end
        out.verbatim(cursor, endpos)

    return apply


def _rules(out: _Builder, pos: int, endpos: int) -> None:
    """Apply the English rules to sentence[pos:endpos], writing into `out`."""
    sentence = out.sentence
    for m in _RULES.finditer(sentence, pos, endpos):
        out.verbatim(pos, m.start())
        pieces = _HANDLERS[m.lastgroup or ""](m)
        cursor = m.start()
        for say, start, end in pieces or ():
            out.verbatim(cursor, start)
            out.replace(say, start, end)
            cursor = end
        out.verbatim(cursor, m.end())
        pos = m.end()
    out.verbatim(pos, endpos)


# -- context helpers ------------------------------------------------------------------------

_NEXT_WORD = re.compile(r"\s*([\"“'‘(]?)(\S*)")
_PREV_WORD = re.compile(r"(?:(\S+)\s+)?(\S+)\s+\Z")
_SENTENCE_END = re.compile(r"[\s\"”’')\]]*\Z")


def _next_word(m: re.Match[str]) -> str:
    found = _NEXT_WORD.match(m.string, m.end())
    return found.group(2) if found else ""


def _prev_word(m: re.Match[str], back: int = 1) -> str:
    """The word before the match (back=2: the one before that)."""
    found = _PREV_WORD.search(m.string, max(0, m.start() - 60), m.start())
    return (found.group(3 - back) or "") if found else ""


def _ends_sentence(m: re.Match[str]) -> bool:
    """Whether only closing punctuation follows: the period it ate also ended the sentence."""
    return m.group().endswith(".") and _SENTENCE_END.match(m.string, m.end()) is not None


def _int(text: str) -> int:
    return int("".join(c for c in text if c.isdigit()))


def _capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper() and not word.isupper()


# -- handlers: a match -> spoken pieces (None: leave it as written) -------------------------

Handler = Callable[[re.Match[str]], "list[Piece] | None"]

_SPELL = {".": "dot", "/": "slash", "-": "dash", "_": "underscore", "@": "at", "~": "tilde",
          ":": "colon", "+": "plus", "=": "equals", "&": "and", "%": "percent", "#": "hash"}
_SPELL_SPLIT = re.compile(r"([./\-_@~:+=&%#])")


def _spell(text: str) -> str:
    """"john.smith@example.com" -> "john dot smith at example dot com"."""
    parts = (_SPELL.get(p, p) for p in _SPELL_SPLIT.split(text))
    return " ".join(p for p in parts if p)


def _url(m: re.Match[str]) -> list[Piece]:
    # The scheme, "www.", query and fragment carry nothing a listener needs.
    body = _URL_NOISE.sub("", m.group()).split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return [(_spell(body), m.start(), m.end())]


_URL_NOISE = re.compile(r"^(?:[a-z]+://)?(?:www\.)?", re.I)


def _email(m: re.Match[str]) -> list[Piece]:
    return [(_spell(m.group()), m.start(), m.end())]


def _money(m: re.Match[str]) -> list[Piece]:
    scale = m.group("scale1") or m.group("scale2") or ""
    return [(num.money(m.group("cur"), m.group("amt"), scale), m.start(), m.end())]


def _day_date(m: re.Match[str]) -> list[Piece]:
    y, mo, d = int(m.group("iy")), int(m.group("im")), int(m.group("id"))
    return [(num.date(y, mo, d), m.start(), m.end())]


def _slash_date(m: re.Match[str]) -> list[Piece]:
    a, b, y = int(m.group("sa")), int(m.group("sb")), m.group("sy")
    full_year = int(y) if len(y) == 4 else 2000 + int(y) if int(y) < 50 else 1900 + int(y)
    day_first = _DAY_FIRST.get()
    if 1 <= a <= 12 < b <= 31:
        month, day = a, b
    elif 1 <= b <= 12 < a <= 31:
        month, day = b, a
    elif 1 <= a <= 12 and 1 <= b <= 12:  # 03/04/2024: March or April by the document's locale
        month, day = (b, a) if day_first else (a, b)
    else:
        parts = [num.number(m.group("sa")), num.number(m.group("sb")), num.year(full_year)]
        return [(" slash ".join(parts), m.start(), m.end())]
    if day_first:
        return [(f"the {num.ordinal(day)} of {num.MONTHS[month - 1]} {num.year(full_year)}", m.start(), m.end())]
    return [(num.date(full_year, month, day), m.start(), m.end())]


def _month_date(m: re.Match[str]) -> list[Piece]:
    month = num.MONTH_NUMBERS[m.group("mon").rstrip(".").lower()]
    pieces = [(num.MONTHS[month - 1], m.start("mon"), m.end("mon"))]
    pieces.append((num.ordinal(_int(m.group("mday"))), m.start("mday"), m.end("mday")))
    if m.group("myear"):
        pieces.append((num.year(int(m.group("myear"))), m.start("myear"), m.end("myear")))
    return pieces


def _day_month(m: re.Match[str]) -> list[Piece]:
    month = num.MONTH_NUMBERS[m.group("dmon").rstrip(".").lower()]
    pieces = [(f"the {num.ordinal(_int(m.group('dday')))} of", m.start("dday"), m.end("dday"))]
    pieces.append((num.MONTHS[month - 1], m.start("dmon"), m.end("dmon")))
    if m.group("dyear"):
        pieces.append((num.year(int(m.group("dyear"))), m.start("dyear"), m.end("dyear")))
    return pieces


def _ampm(m: re.Match[str], group: str) -> list[Piece]:
    if not m.group(group):
        return []
    letters = " ".join(c for c in m.group(group).lower() if c.isalpha())
    return [(letters + ("." if _ends_sentence(m) else ""), m.start(group), m.end(group))]


def _time(m: re.Match[str]) -> list[Piece]:
    if not m.group("ts") and not m.group("tap") and _score_context(m):
        return [(f"{num.cardinal(int(m.group('th')))} to {num.cardinal(int(m.group('tm')))}", m.start(), m.end())]
    second = int(m.group("ts")) if m.group("ts") else None
    said = num.clock(int(m.group("th")), int(m.group("tm")), second, twelve_hour=bool(m.group("tap")))
    return [(said, m.start("th"), m.end("ts") if second is not None else m.end("tm")), *_ampm(m, "tap")]


def _hour(m: re.Match[str]) -> list[Piece]:
    return [(num.cardinal(int(m.group("hh"))), m.start("hh"), m.end("hh")), *_ampm(m, "hap")]


def _decade(m: re.Match[str]) -> list[Piece]:
    century = m.group("dc")
    said = num.plural(num.year(int(century)) if century else num.cardinal(int(m.group("ds") or m.group("dd"))))
    return [(said, m.start(), m.end())]


def _ordinal(m: re.Match[str]) -> list[Piece]:
    return [(num.ordinal(_int(m.group("on"))), m.start(), m.end())]


def _phone(m: re.Match[str]) -> list[Piece]:
    if m.group("local") and not _local_phone(m):
        a, b = m.group("la"), m.group("lb")  # "pages 100-1000": a range after all
        return [(num.number(a), m.start("la"), m.end("la")), ("to", m.end("la"), m.start("lb")),
                (num.number(b), m.start("lb"), m.end("lb"))]
    groups = re.findall(r"\+?\d+", m.group())
    said = ", ".join(("plus " if g.startswith("+") else "") + num.digits(g) for g in groups)
    return [(said, m.start(), m.end())]


_PHONE_WORDS = frozenset("call dial phone tel tel. telephone fax text mobile cell number contact ring "
                         "reach on at or hotline helpline".split())


def _local_phone(m: re.Match[str]) -> bool:
    """"555-0123" is a phone number; "100-1000" is a range unless a phone is talked about."""
    a, b = m.group("la"), m.group("lb")
    if b.startswith("0") or a == "555" or int(a) > int(b):
        return True
    words = m.string[max(0, m.start() - 40):m.start()].lower().replace(":", " ").split()
    return bool(set(words[-3:]) & _PHONE_WORDS)


def _version(m: re.Match[str]) -> list[Piece]:
    parts = m.group().split(".")
    joiner = " dot " if len(parts) == 4 else " point "  # four parts: an IP address
    return [(joiner.join(num.cardinal(int(p)) if len(p) < 16 else num.digits(p) for p in parts), m.start(), m.end())]


def _fraction(m: re.Match[str]) -> list[Piece]:
    a, b = int(m.group("fa")), int(m.group("fb"))
    if (a, b) == (24, 7):
        said = "twenty-four seven"
    elif 0 < a < b <= 10:
        said = num.fraction(a, b)
    else:
        said = f"{num.cardinal(a)} {num.cardinal(b)}"  # "50/50", "9/11"
    return [(said, m.start(), m.end())]


_VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
           "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8), "⅞": (7, 8)}


def _mixed(m: re.Match[str]) -> list[Piece] | None:
    """"2 1/2", "2½", "¾": a whole number and a fraction, and the unit after them."""
    whole = int(m.group("mw") or m.group("mw2") or 0)
    if m.group("mv"):
        a, b = _VULGAR[m.group("mv")]
    else:
        a, b = int(m.group("ma")), int(m.group("mb"))
        if not 0 < a < b <= 16:
            return None
    pieces = [(num.mixed(whole, a, b), m.start(), m.end("mfrac"))]
    unit = m.group("munit")
    if unit and not (unit in num.UNITS_GLUED_ONLY and m.group("musp")):
        singular, plural = num.UNITS[unit]
        pieces.append((plural if whole or a > 1 else singular, m.start("munit"), m.end("munit")))
    return pieces


# Element symbols, to know a formula ("H2O", "C6H12O6") from a model name ("MP3", "A4").
_ELEMENTS = frozenset(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr "
    "Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W "
    "Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr".split())
_FORMULA_PART = re.compile(r"([A-Z][a-z]?)(\d{0,2})")


def _formula(m: re.Match[str]) -> list[Piece] | None:
    """"H2O" -> "H two O", "CO2" -> "C O two": each element, then how many."""
    parts = _FORMULA_PART.findall(m.group())
    if len(parts) < 2 or any(sym not in _ELEMENTS for sym, _ in parts) or not any(n for _, n in parts):
        return None
    said = " ".join(sym + (f" {num.cardinal(int(n))}" if n else "") for sym, n in parts)
    return [(said, m.start(), m.end())]


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _power_words(exponent: str) -> str:
    exponent = exponent.replace("−", "-")
    if exponent == "2":
        return "squared"
    if exponent == "3":
        return "cubed"
    said = num.number(exponent) if exponent.lstrip("-").isdigit() else exponent
    return f"to the power of {said}"


def _power(m: re.Match[str]) -> list[Piece]:
    """"x^2" -> "x squared", "10^-3" -> "ten to the power of minus three", "x²", "10⁶"."""
    base = m.group("pbase") or ""
    exponent = m.group("pexp") or (m.group("psup") or "").translate(_SUPERSCRIPT)
    said_base = num.number(base) if base[:1].isdigit() else base
    return [(f"{said_base} {_power_words(exponent)}".strip(), m.start(), m.end())]


_CAMEL = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _hashtag(m: re.Match[str]) -> list[Piece]:
    """"#ThrowbackThursday" -> "hashtag Throwback Thursday", "#COVID19" -> "hashtag COVID nineteen",
    "#blacklivesmatter" -> "hashtag black lives matter" (a word list splits lower-case runs)."""
    tag = m.group("tag")
    if tag[:1].islower() and any(c.isupper() for c in tag[1:2]):
        head, tag = tag[0], tag[1:]  # "iPhone15": the small letter is part of the name
        words = [head + (_CAMEL.findall(tag) or [""])[0], *_CAMEL.findall(tag)[1:]]
    else:
        words = _CAMEL.findall(tag)
    said: list[str] = []
    for word in words:
        if word.isdigit():
            said.append(num.year(int(word)) if len(word) == 4 and 1100 <= int(word) <= 2099 else num.number(word))
        elif word.islower() and len(word) >= 7:
            said.extend(_segment_words(word))
        else:
            said.append(word)
    return [("hashtag " + " ".join(said), m.start(), m.end())]


def _segment_words(run: str) -> list[str]:
    """A run of lower-case letters split into English words (wordsegment's unigram counts)."""
    import wordsegment

    if not wordsegment.UNIGRAMS:
        wordsegment.load()
    words: list[str] = wordsegment.segment(run)
    return words if "".join(words) == run else [run]


def _quarter(m: re.Match[str]) -> list[Piece]:
    """"Q3" -> "Q three", "H1" -> "H one", "FY2024" -> "F Y twenty twenty-four"."""
    if m.group("fy"):
        digits = m.group("fy")
        said = num.year(int(digits)) if len(digits) == 4 else num.cardinal(int(digits))
        return [("F Y " + said, m.start(), m.end())]
    letter, n = (m.group("qq"), m.group("qn")) if m.group("qq") else (m.group("qq2"), m.group("qn2"))
    return [(f"{letter} {num.cardinal(int(n))}", m.start(), m.end())]


def _vversion(m: re.Match[str]) -> list[Piece]:
    """"v2.1" -> "version two point one"."""
    parts = m.group("vv").split(".")
    return [("version " + " point ".join(num.cardinal(int(p)) for p in parts), m.start(), m.end())]


_SCORE_WORDS = frozenset("won win wins beat beats beaten defeated lost lose loses drew draw drawn score scored "
                         "scores final lead led leads trail trailed trailing victory defeat result tied "
                         "ratio odds".split())


def _score_context(m: re.Match[str]) -> bool:
    before = m.string[max(0, m.start() - 40):m.start()].lower().split()
    after = m.string[m.end():m.end() + 20].lower().split()
    words = {w.strip(".,;:!?()\"'") for w in before[-3:] + after[:1]}
    return bool(words & _SCORE_WORDS)


def _ratio(m: re.Match[str]) -> list[Piece]:
    """"won 2:1", "a 3:2 ratio" -> "two to one"."""
    return [(f"{num.cardinal(int(m.group('ra')))} to {num.cardinal(int(m.group('rb')))}", m.start(), m.end())]


def _number(m: re.Match[str]) -> list[Piece]:
    text, unit = m.group("n"), m.group("unit")
    sign = m.group("neg") or ""
    if unit and (unit in num.UNITS_GLUED_ONLY and m.group("usp") and not _unit_ends_clause(m)
                 or unit in num.UNITS_SPACED_ONLY and not m.group("usp")
                 or unit == "in" and not _inches(m)):
        unit = None
    prev = _prev_word(m).lower().rstrip(":,")
    if not unit and not sign and len(text) == 4 and text.isdigit() and 1100 <= int(text) <= 2099:
        said = num.year(int(text))  # a bare four-digit number in prose is nearly always a year
    elif not unit and not sign and prev in ("call", "dial") and text.isdigit() and len(text) <= 4:
        said = num.digits(text)  # "call 911", "dial 112"
    elif not unit and not sign and "." in text and "," not in text and _numbered_like(prev, _prev_word(m)):
        said = " point ".join(num.cardinal(int(p)) for p in text.split("."))  # "version 2.10", "Section 3.12"
    else:
        said = num.number(sign + text)
    pieces = [(said, m.start(), m.end("n"))]
    if unit:
        singular, plural = num.UNITS[unit]
        pieces.append((singular if num.is_one(text) and not sign else plural, m.start("unit"), m.end("unit")))
    return pieces


_NUMBERED_WORDS = frozenset("version release update build section chapter figure fig fig. table step part "
                             "rule article clause appendix sec sec. ch ch. v".split())


def _numbered_like(prev: str, written: str) -> bool:
    """Whether a number with a point after this word is a label ("Section 3.12", "Python 3.12"),
    read part by part, rather than a decimal ("costs 3.12")."""
    if prev in _NUMBERED_WORDS:
        return True
    return any(c.isupper() for c in written) and written not in _FUNCTION_WORDS and written.isalpha() \
        and not written.isupper()


def _unit_ends_clause(m: re.Match[str]) -> bool:
    """"a delay of 30 s." / "30 s," - a spaced one-letter unit where nothing follows it."""
    rest = m.string[m.end():m.end() + 2]
    return not rest or rest[0] in ".,;:)" or rest.isspace()


def _inches(m: re.Match[str]) -> bool:
    """"in" after a number is inches only where it cannot be the word: "6 ft 2 in", "12in",
    "12 in." at the end, "12 in x 8 in"."""
    if not m.group("usp"):
        return True
    before = m.string[max(0, m.start() - 12):m.start()]
    after = m.string[m.end():m.end() + 4]
    return bool(re.search(r"(?:ft|feet|foot|')\s*\Z", before)) or not after.strip() \
        or after[:1] in ".,;:)" or bool(re.match(r"\s?[x×]\s?\d", after))


def _dash(m: re.Match[str]) -> list[Piece] | None:
    # A range joins two numbers; "i5-9300H" and "787-9" style model names are left alone.
    left = _LEFT_NUMBER.search(m.string, max(0, m.start() - 24), m.start())
    right = _RIGHT_NUMBER.match(m.string, m.end())
    if left is None or left.group(1) or right is None or right.group(1):
        return None
    return [("to", m.start(), m.end())]


_LEFT_NUMBER = re.compile(r"([A-Za-z_]?)[\d,.]+\Z")
_RIGHT_NUMBER = re.compile(r"[$€£]?[\d,.]*\d([A-Z]|-\d)?")


# Capitalised words that are not names: "In IV therapy" is an acronym, not "in four".
_FUNCTION_WORDS = frozenset(
    "A An The And Or But Of In On At To For With By From As Is Was Are Were If So Than Then"
    " Its It This That These Those Our Their His Her My Your No Not Via Per".split()
)


def _roman(m: re.Match[str]) -> list[Piece] | None:
    text, prev = m.group(), _prev_word(m).rstrip(",")
    if len(text) == 1 and m.string[m.end():m.end() + 1] == "." and _SENTENCE_END.match(m.string, m.end() + 1) is None:
        return None  # an initial: "John I. Smith"
    name_like = _capitalised(prev) and prev not in _FUNCTION_WORDS
    said = num.roman_words(text, prev, _prev_word(m, 2), _next_word(m), name_like=name_like)
    return [(said, m.start(), m.end())] if said else None


_TITLE_ABBR = {"Dr": "Doctor", "St": "Saint"}
_PLACE_ABBR = {"Dr": "Drive", "St": "Street"}
_BEFORE_NUMBER = {
    "No": "number", "no": "number", "Nos": "numbers", "nos": "numbers", "Vol": "volume",
    "vol": "volume", "pp": "pages", "p": "page", "Ch": "chapter", "ch": "chapter", "Fig": "figure",
    "fig": "figure", "Figs": "figures", "Eq": "equation", "Sec": "section", "Art": "article",
    "para": "paragraph", "Ref": "reference", "Op": "opus", "Tel": "telephone", "Ext": "extension",
}
_ALWAYS = {
    "e.g.": "for example", "E.g.": "For example", "i.e.": "that is", "I.e.": "That is",
    "etc.": "et cetera", "vs.": "versus", "vs": "versus", "et al.": "and others",
    "approx.": "approximately", "cf.": "compare", "viz.": "namely", "Mr.": "Mister", "Mr": "Mister",
    "Mrs.": "Missus", "Mrs": "Missus", "Ms.": "Miz", "Ms": "Miz", "Prof.": "Professor",
    "Sen.": "Senator", "Rep.": "Representative", "Gov.": "Governor", "Gen.": "General",
    "Capt.": "Captain", "Lt.": "Lieutenant", "Col.": "Colonel", "Sgt.": "Sergeant",
    "Rev.": "Reverend", "Jr.": "Junior", "Sr.": "Senior", "Ave.": "Avenue", "Rd.": "Road",
    "Blvd.": "Boulevard", "Mt.": "Mount", "Ft.": "Fort", "Corp.": "Corporation",
    "Inc.": "Incorporated", "Ltd.": "Limited", "Bros.": "Brothers", "Dept.": "Department",
    "Univ.": "University", "Tue.": "Tuesday", "Tues.": "Tuesday", "Thu.": "Thursday",
    "Thur.": "Thursday", "Thurs.": "Thursday", "Fri.": "Friday",
    **{f"{a.capitalize()}.": num.MONTHS[num.MONTH_NUMBERS[a] - 1]
       for a in "jan feb mar apr jun jul aug sep sept oct nov dec".split()},
}


def _abbreviation(m: re.Match[str]) -> list[Piece] | None:
    text = m.group()
    stem = text.rstrip(".")
    said = _ALWAYS.get(text)
    if said is None and stem in _BEFORE_NUMBER:
        nxt = _next_word(m)
        if not nxt[:1].isdigit() and not (stem in ("Vol", "vol") and num.roman(nxt.rstrip(".,;:")) is not None):
            return None  # "No." alone is the word no
        said = _BEFORE_NUMBER[stem]
        if stem[0].isupper() and not m.string[:m.start()].strip():
            said = said.capitalize()  # "Vol. 3 is out." opens the sentence
    elif said is None and stem in _TITLE_ABBR:
        nxt, prev = _next_word(m), _prev_word(m)
        place = (_capitalised(prev) or prev[:1].isdigit()) and prev not in _FUNCTION_WORDS
        said = _PLACE_ABBR[stem] if place and not _capitalised(nxt) else _TITLE_ABBR[stem]
    if said is None:
        return None
    return [(said + ("." if _ends_sentence(m) else ""), m.start(), m.end())]


def _symbol(m: re.Match[str]) -> list[Piece] | None:
    char = m.group()
    if char == "/":
        before = _PREV_SLASH.search(m.string, max(0, m.start() - 20), m.start())
        after = _NEXT_SLASH.match(m.string, m.end())
        left, right = (before.group() if before else ""), (after.group() if after else "")
        said = " " if left.isupper() or right.isupper() or {left, right} & {"and", "or"} else " or "
        return [(said, m.start(), m.end())]
    if char == "#":
        return [("number" if m.string[m.end():m.end() + 1].isdigit() else "hashtag", m.start(), m.end())]
    return [(_SYMBOLS[char], m.start(), m.end())]


_PREV_SLASH = re.compile(r"[A-Za-z]+\Z")
_NEXT_SLASH = re.compile(r"[A-Za-z]+")
_SYMBOLS = {"&": "and", "+": "plus", "=": "equals", "±": "plus or minus", "×": "times", "÷": "divided by",
            "§": "section", "~": "about", "≈": "approximately", "<": "less than", ">": "more than",
            "≤": "at most", "≥": "at least", "%": "percent", "@": "at"}


# -- the one regex --------------------------------------------------------------------------

def _alternation(words: Iterable[str]) -> str:
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))  # longest first


_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December" \
         r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_YEAR = r"(?:1[1-9]\d\d|20\d\d)"
_AMPM = r"[AaPp]\.?[Mm]\b\.?"
_INT = r"\d{1,3}(?:,\d{3})+|\d+"
_UNITS = _alternation(num.UNITS)
_ABBRS = _alternation(set(_ALWAYS) | {f"{k}." for k in _BEFORE_NUMBER} | {f"{k}." for k in _TITLE_ABBR}
                      | set(_TITLE_ABBR))
_TLD = r"(?:com|org|net|edu|gov|io|co|uk|de|fr|ai|app|dev|info|biz|us|ca|au|eu|me|tv|ly|gl|ie|nz|in)"
_URL_END = r"[^\s<>\"'“”‘’.,;:!?)\]}]"

# Repeats are bounded (e-mail and domain lengths) so a pasted 10,000-character token stays linear.
_PATTERNS: list[tuple[str, Handler, str]] = [
    ("email", _email, r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"),
    ("url", _url, rf"\b(?:(?:https?|ftp)://|www\.)(?:[^\s<>\"'“”‘’]*{_URL_END})?"
                  rf"|\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.){{1,8}}{_TLD}\b(?![.@-]\w)(?:/(?:[^\s<>\"]*{_URL_END})?)?"),
    ("money", _money, rf"(?P<cur>[$€£¥₹])\s?(?P<amt>(?:{_INT})(?:\.\d+)?)"
                      r"(?:(?P<scale1>[kKmMbB]n?|tn)\b|\s?(?P<scale2>thousand|million|billion|trillion)\b)?"),
    ("iso", _day_date, rf"\b(?P<iy>{_YEAR})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01])\b"),
    ("slash", _slash_date, r"(?<![\w/])(?P<sa>\d{1,2})/(?P<sb>\d{1,2})/(?P<sy>\d{4}|\d{2})(?![\w/])"),
    ("mdate", _month_date, rf"\b(?P<mon>{_MONTH})\s+(?P<mday>{_DAY}(?:st|nd|rd|th)?)\b(?![,.:]?\d)"
                           rf"(?:,?\s+(?P<myear>{_YEAR})\b(?![,.]\d))?"),
    ("dmonth", _day_month, rf"\b(?P<dday>{_DAY}(?:st|nd|rd|th)?)\s+(?P<dmon>{_MONTH})(?!\w)"
                           rf"(?:\s+(?P<dyear>{_YEAR})\b(?![,.]\d))?"),
    ("time", _time, rf"\b(?P<th>[01]?\d|2[0-3]):(?P<tm>[0-5]\d)(?::(?P<ts>[0-5]\d))?\b(?:\s?(?P<tap>{_AMPM}))?"),
    ("hour", _hour, r"\b(?P<hh>1[0-2]|0?[1-9])\s?(?P<hap>[AaPp]\.[Mm]\.|[AaPp][Mm]\b)"),
    ("decade", _decade, r"(?:\b(?P<dc>1[1-9]\d0|20\d0)|(?<!\w)['’](?P<ds>\d0)|\b(?P<dd>[2-9]0))['’]?s\b"),
    ("ordinal", _ordinal, rf"\b(?P<on>{_INT})(?:st|nd|rd|th)\b"),
    ("phone", _phone, r"(?<![\w.,-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}\b"
                      r"|(?<![\w.,-])1-\d{3}-\d{3}-\d{4}\b"
                      r"|(?<![\w.,-])\+\d{1,3}(?:[\s.-]\d{1,4}){2,5}\b(?![.,]\d)"
                      r"|(?<![\w.,-])0\d{2,4}(?:\s\d{3,4}){1,2}\b(?![.,]?\d)"
                      r"|(?P<local>(?<![\w.,/-])(?P<la>\d{3})-(?P<lb>\d{4})\b(?![-/.]\d))"),
    ("mixed", _mixed, rf"(?<![\w.,/])(?P<mfrac>(?P<mw>\d{{1,3}})\s(?P<ma>\d{{1,2}})/(?P<mb>\d{{1,2}})"
                      rf"|(?P<mw2>\d{{1,3}})?(?P<mv>[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞]))(?![\w/])"
                      rf"(?:(?P<musp>\s?)(?P<munit>{_UNITS})(?![\w²]))?"),
    ("formula", _formula, r"\b(?=[A-Z][A-Za-z]*\d)(?:[A-Z][a-z]?\d{0,2}){2,8}\b"),
    ("power", _power, r"(?P<pbase>(?<![\w.])(?:\d+(?:\.\d+)?|[A-Za-z]))(?:\^(?P<pexp>[-−]?\d+|[A-Za-z]\w{0,2})"
                      r"|(?P<psup>⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))(?!\w)"),
    ("hashtag", _hashtag, r"(?<![\w&])#(?P<tag>[A-Za-z][A-Za-z0-9]{1,60})\b"),
    ("quarter", _quarter, r"\b(?:(?P<qq>Q)(?P<qn>[1-4])|(?P<qq2>H)(?P<qn2>[12])(?=\s(?:19|20)\d\d))\b"
                          r"|\bFY\s?(?P<fy>\d{4}|\d{2})\b"),
    ("vversion", _vversion, r"\b[vV](?P<vv>\d{1,4}(?:\.\d{1,4}){0,3})\b(?![.,]\d)"),
    ("ratio", _ratio, r"(?<![\w:.])(?P<ra>\d{1,2}):(?P<rb>\d)(?![\w:])"),
    ("version", _version, r"(?<![\w.,])\d+(?:\.\d+){2,}(?!\w|[.,]\d)"),
    ("fraction", _fraction, r"(?<![\w/.,])(?P<fa>\d{1,2})/(?P<fb>\d{1,2})(?![\w/])"),
    ("number", _number, rf"(?P<neg>(?<![\w.,\-−–/])[-−])?(?<![\w.,])(?P<n>(?:{_INT})(?:\.\d+)?)(?![.,]?\d)"
                        rf"(?:(?P<usp>\s?)(?P<unit>{_UNITS})(?![\w²]))?(?!\w)"),
    ("dash", _dash, r"(?<=\d)(?:[-–—]|\s[–—]\s)(?=[$€£]?\d)"),
    ("roman", _roman, r"\b[IVXLCDM]+\b(?![-.]\w|['’](?:m|ll|ve|d|re)\b)"),
    ("abbr", _abbreviation, rf"(?<![\w.])(?:{_ABBRS})(?![\w])(?!\.\w)"),
    ("symbol", _symbol, r"[&+=±×÷§≈≤≥]|~(?=\d)|[<>](?=\s?\d)|(?<=[A-Za-z])/(?=[A-Za-z])|#(?=\w)"
                        r"|(?<![\w@])@(?=\w)|(?<!\d)(?<!\d\s)%"),
]
# No rule starts inside a word, so the guard skips those positions before trying 19 branches.
_RULES = re.compile(r"(?:(?<!\w)|(?!\w))(?:" + "|".join(f"(?P<{name}>{body})" for name, _, body in _PATTERNS) + ")")
_HANDLERS: dict[str, Handler] = {name: handler for name, handler, _ in _PATTERNS}
