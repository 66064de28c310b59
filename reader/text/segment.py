"""Fast rule-based English sentence segmentation with exact character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["segment", "split_for_synthesis"]

# Titles precede a name, so a capitalised word after them never starts a sentence.
_TITLES = frozenset(
    "mr mrs ms mx dr drs prof profs rev fr gen gens sen sens rep reps gov govs capt lt col sgt"
    " maj cmdr adm hon pres supt insp messrs mme mlle".split()
)
# Abbreviations that end a sentence only when a typical sentence opener follows.
_ABBREVIATIONS = frozenset(
    "co corp inc ltd llc plc bros jr sr esq phd ph.d md dds al appt apt assn asst ave"
    " blvd bldg dept dist div est esp incl misc govt univ intl natl min max hr hrs mo mos yr yrs"
    " wk wks st mt ft rd hwy pkwy ln sq mtn jan feb mar apr jun jul aug sep sept oct nov dec"
    " tue tues thu thur thurs fri ala ariz ark calif colo conn fla kan mich minn mont neb nev"
    " okla tenn tex wis wyo orig tsp tbsp oz lb lbs pt qt gal doz pkg pkgs fl yd yds mi cu".split()
)
# Abbreviations only before a number ("No. 5", "Fig. 3"); otherwise they are ordinary words.
_NUMERIC = frozenset(
    "no nos nr n° nº vol vols pp pg ch chap sec sect art fig figs eq eqs ref refs par para tel"
    " ext op rs".split()
)
# Never the last word of a sentence unless the text ends there.
_NEVER_END = frozenset("e.g i.e eg ie cf viz vs approx ca".split())
_AMPM = frozenset(("a.m", "p.m"))
_KNOWN = _TITLES | _ABBREVIATIONS | _NUMERIC | _NEVER_END
# After an abbreviation, these capitalised words signal a new sentence (as Pragmatic Segmenter).
_STARTERS = frozenset(
    "A An The This That These Those It Its He She They We I You His Her Their Our My Your There"
    " Here What When Where Who Whom Whose Why How Which However But And Or So Yet Then Thus"
    " Therefore Hence Meanwhile Moreover Furthermore Also Still Instead Otherwise Nevertheless"
    " Indeed In On At For If As After Before Since While Although Though Because Once Unless"
    " Did Does Do Is Are Was Were Can Could Will Would Should Shall Might Must Has Have Had Being"
    " More Most Many Much Some Such Each Every Both All Any No Not None Nothing Now Today"
    " Yesterday Tomorrow Tonight Millions Thousands Hundreds Billions Please Let"
    " Mr Mrs Ms Dr".split()
)


@dataclass(frozen=True)
class _Words:
    """The words the rules consult: English's, or a neutral set for every other language."""

    titles: frozenset[str]
    abbreviations: frozenset[str]
    numeric: frozenset[str]
    never_end: frozenset[str]
    starters: frozenset[str]

    @property
    def known(self) -> frozenset[str]:
        return self.titles | self.abbreviations | self.numeric | self.never_end


ENGLISH = _Words(_TITLES, _ABBREVIATIONS, _NUMERIC, _NEVER_END, _STARTERS)
# Other languages: no English abbreviations or sentence openers, only what is international
# (their own titles and abbreviations are joined afterwards, per language).
NEUTRAL = _Words(frozenset("dr drs prof profs st".split()), frozenset(), _NUMERIC, frozenset("cf vs ca".split()),
                 frozenset())

_BULLETS = "•⁃◦▪‣"
_NL = r"(?:\r\n|[\r\n\x85\u2028])"
_LABEL = r"\d{1,3}|[A-Za-z]|[ivxIVX]{2,5}"
_TERMINATORS = ".!?…‼⁇⁈⁉．。｡！？"
# Every sentence boundary starts at one of these characters; a one-class regex finds them
# at C speed, and only they are looked at in Python.
_HOT = re.compile(rf"[{_TERMINATORS}\r\n\x85\u2028\u2029\x0b\x0c\"“”){_BULLETS}]")
# A citation or note mark after the terminator belongs to the sentence it ends: "[1]",
# "[1 - 3]", "[4, 7]", "[2–4]", "[a]", "[citation needed]", "[note 2]".
_CITE = r"\[(?:\d{1,3}(?:\s*[-–,]\s*\d{1,3})*|[a-z]|[a-z][a-z ]{2,24}(?: \d{1,3})?)\]"
_TERM = re.compile(
    rf"(?P<run>\.(?:[ \t\u00a0]\.){{2,}}|[{_TERMINATORS}]+)(?:[\"'”’»)\]]|{_CITE})*"
)
_PARA = re.compile(rf"{_NL}(?:[^\S\r\n\x85\u2028\u2029]*{_NL})+|[\u2029\x0b\x0c]")
_MARKER = re.compile(rf"[{_BULLETS}]?(?:\((?P<pl>{_LABEL})\)|(?P<dl>{_LABEL})(?P<dp>\.\)|\)|\.))")
# A double quotation that closes within this many characters, in its paragraph, stays whole.
_QUOTE_AHEAD = re.compile(r'["”]|\n\s*\n')
_QUOTE_SPAN = 200
_BROKEN_OFF = re.compile(r'(?<=[-–—])["”]\s+["“]?[A-Z]')
_STRONG = re.compile(r"[!?‼⁇⁈⁉．。｡！？]")
_CJK_STOP = re.compile(r"[．。｡！？]")
_ANY_TERM = re.compile(r"[.!?…．。｡！？]")
_NEXT = re.compile(r"\s*(?P<open>[\"'“‘«(\[{¿¡]*)(?P<word>[^\W\d_]*)")
_CONTENT = re.compile(rf"[^\s{_BULLETS}]")
_INITIAL_AHEAD = re.compile(r"\s+[A-Za-z]\.(?:\s|\Z)")
_MULTI = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]\Z")
_FRONTED = re.compile(
    r"\s*(?:At|By|Before|After|Until|Till|Since|From|Around|About|Past|Starting)"
    r"(?:\s+\S+){1,2}\s+\Z"
)
# A lower-case list label ("b. next", "w) item") starts a sentence despite its case.
_LOWER_LABEL = re.compile(r"[a-z](?:\.|\.?\))\s")
# Footnote numbers glued to the period: "consultation.11 Take", "(type 2).10 This".
_FOOTNOTE = re.compile(r"\d{1,3}(?:[,–-]\d{1,3})*(?=\s+[\"'“‘(]*[A-Z])")
_NUMBER_LABEL = re.compile(r"\d{1,3}(?:\.?\)|\.\s)")
_DASH_NEXT = re.compile(r"[-–—]+\s*(\S)")
_LONG_WORD = re.compile(r"(?<![^\s\"'“‘(])[a-z]{6,}\Z")
_NOSPACE_NEXT = re.compile(r"[A-Z][a-z]")
_DOMAINISH = re.compile(r"[@/]|\.[^\W_]")
_RESTARTS = frozenset(("1", "a", "i"))
_OPENERS = "\"'“‘«([{"
_ROMAN = {r: v for v, r in enumerate("i ii iii iv v vi vii viii ix x xi xii xiii xiv".split(), 1)}


def _label_values(label: str) -> frozenset[tuple[str, int]]:
    """Every reading of a list label: number, letter, Roman numeral (each kind by case)."""
    if label.isdigit():
        return frozenset({("n", int(label))})
    vals: set[tuple[str, int]] = set()
    low = label.lower()
    if len(label) == 1:
        vals.add(("a" if label.islower() else "A", ord(low) - 96))
    if low in _ROMAN:
        vals.add(("r" if label.islower() else "R", _ROMAN[low]))
    return frozenset(vals)


def _token_start(text: str, i: int) -> int:
    """Start of the non-space token ending at i; capped so long tokens stay O(1)."""
    lo = max(0, i - 64)
    s = i
    while s > lo and not text[s - 1].isspace():
        s -= 1
    return s


def _nospace_split(text: str, i: int, k: int) -> bool:
    """Whether "word.Word" with no space is two sentences rather than a URL, e-mail or name."""
    prev = text[i - 1] if i else ""
    if not (prev.islower() or prev.isdigit()) or not _NOSPACE_NEXT.match(text, k):
        return False
    before = text[_token_start(text, i) : i]
    after = text[k : k + 64].split(None, 1)[0]  # text[k] is not white space
    if len(before) < 2 or any(ch in before for ch in "@/.:_"):
        return False
    return not _DOMAINISH.search(after)


def _period_ends(text: str, s: int, i: int, c: str, word: str, sent_start: int, words: _Words = ENGLISH) -> bool:
    """Whether a lone '.' after text[s:i], followed by the character c, ends a sentence."""
    token = text[s:i].lstrip(_OPENERS)
    low = token.lower()
    if not token:
        return True
    if low in words.never_end or low in words.titles:
        return False
    single = len(token) == 1 and token.isalpha()
    multi = _MULTI.match(token) is not None
    if c.isdigit() or c in "$€£¥#":
        # "p. 55", "No. 5", "Dec. 31" continue; "in 1990. 1991 was" does not.
        return not (single or multi or low in words.numeric or low in words.abbreviations)
    if not c.isupper():
        return True
    starter = word in words.starters
    if low in _AMPM:
        # "6 P.M. Mr. Smith left" splits, "at 5 p.m. ET" and a fronted "At 5 a.m. Mr. X" do not.
        opens = starter or (word[:1].isupper() and not word.isupper())
        return opens and not (s - sent_start < 40 and _FRONTED.match(text, sent_start, s))
    if low == "etc":
        return True
    if single or multi or low in words.abbreviations:
        return starter
    return True


_NUMBER_BEFORE = re.compile(r"\d\s*\Z")
_NAME_BANG = re.compile(r"\w[,;:]?\s+[A-Z][\w'&-]*\Z")


def _ends_before_lower(text: str, s: int, i: int, words: _Words) -> bool:
    """Whether a '.' after text[s:i], followed by a lower-case word, ends a sentence."""
    token = text[s:i].lstrip(_OPENERS)
    low = token.lower()
    if not token or low in words.known and low not in words.numeric or low in _AMPM or low == "etc":
        return False  # "approx. five", "at 3 a.m. and", "pears, etc. and"
    if len(token) == 1 and token.isalpha() or _MULTI.match(token):
        return False  # initials and dotted abbreviations: "J. r", "e.g. the", "U.S. officials"
    if low in words.numeric and text.startswith(" of ", i + 1):
        return False  # "the no. of cases"
    if low == "in" and _NUMBER_BEFORE.search(text, max(0, s - 12), s):
        return False  # "a 12 in. pipe"
    return not token.endswith(("-", "/"))


def _term_cut(text: str, i: int, j: int, k: int, sent_start: int, words: _Words = ENGLISH) -> int:
    """Cut position for the terminators text[i:j] with closers up to k, or -1 for none."""
    n = len(text)
    if k >= n:
        return n
    run = text[i:j]
    strong = _STRONG.search(run) is not None
    if not text[k].isspace():
        return _glued_cut(text, i, j, k, run, strong, words)
    m = _NEXT.match(text, k)
    assert m is not None  # the pattern can match the empty string
    o = m.end("open")
    if o >= n:
        return n
    c = text[o]
    nxt = m.group("word")
    if c.islower() and nxt[1:] != nxt[1:].lower():
        c = nxt[1]  # "iPadOS 13 made": a brand name, not a lower-case continuation
    if c.islower():
        return _lower_cut(text, i, j, k, o, run, strong, sent_start, words)
    return _upper_cut(text, i, j, k, o, c, nxt, run, strong, sent_start, words)


def _glued_cut(text: str, i: int, j: int, k: int, run: str, strong: bool, words: _Words) -> int:
    """The terminators are followed by no space ("end.Next", "note.3", "。次")."""
    if strong:
        return k if _CJK_STOP.search(run) and not text[k].islower() else -1
    if run != "." or k != j:
        return -1
    if text[k].isdigit() and (text[max(0, i - 3) : i].isalpha() or text[i - 1 : i] == ")"):
        f = _FOOTNOTE.match(text, k)
        if f and text[_token_start(text, i) : i].lower().lstrip(_OPENERS) not in words.numeric:
            return f.end()
    return k if _nospace_split(text, i, k) else -1


def _lower_cut(text: str, i: int, j: int, k: int, o: int, run: str, strong: bool, sent_start: int,
               words: _Words) -> int:
    """The next word (at o) starts in lower case."""
    if o == k + 1 and _LOWER_LABEL.match(text, o):
        return k
    same_line = "\n" not in text[k:o] and "\r" not in text[k:o]
    # Informal text starts sentences in lower case ("thanks! worked for me", "it broke
    # again lol. anyone else?"): a lone "!", "?" or "." ends one unless a quotation closes
    # after it ('"Stop!" he said') or the period belongs to an abbreviation or initial.
    if same_line and k == j and " " not in run:
        if strong and "…" not in run and "." not in run:
            # "She works at Yahoo! in accounting": a name with "!" inside a sentence
            named = run == "!" and _NAME_BANG.search(text, max(sent_start, i - 64), i)
            return -1 if named else k
        if run == "." and _ends_before_lower(text, max(_token_start(text, i), sent_start), i, words):
            return k
    if same_line:
        return -1
    # A line that ends a sentence before a lower-case line ("city.\nfeatures") unless
    # the period belongs to an abbreviation wrapped onto the next line ("e.g.\nthe").
    if strong or run != "." and " " not in run:
        return k
    s = max(_token_start(text, i), sent_start)
    return k if run == "." and _period_ends(text, s, i, "A", "", sent_start, words) else -1


def _upper_cut(text: str, i: int, j: int, k: int, o: int, c: str, nxt: str, run: str, strong: bool,
               sent_start: int, words: _Words) -> int:
    """The next character (c, at o) is no lower-case letter: a capital, a digit, a mark."""
    if c in "-–—":
        d = _DASH_NEXT.match(text, o)
        c = d.group(1) if d else ","  # "-- voila! -- you" goes on, "see? - Posted" does not
    if c in ",;:)]}/&%+=" or c.islower():
        return -1  # "6 P.M. / 7 P.M.": these never open a sentence
    if strong:
        # "firma? 13:28" reads on; "you? 1.) The first item" starts a list item.
        return -1 if c.isdigit() and not _NUMBER_LABEL.match(text, o) else k
    if i and text[i - 1] == "[":
        return -1  # "[...]" marks an omission inside a quotation
    if " " in run or "\t" in run or "\u00a0" in run:
        # Spaced ellipsis: three dots never end a sentence, four do; "word. . . . Next" ends
        # after the word's own period and the next sentence opens with ". . .".
        if run.count(".") < 4 or not c.isupper():
            return -1
        return i + 1 if i and not text[i - 1].isspace() else k
    if run != ".":
        return k if c.isupper() else -1
    if k > j:
        return k  # a closing quote or bracket after the period ends the sentence
    s = max(_token_start(text, i), sent_start)  # "Tuesday.Mr." was cut after "Tuesday."
    return k if _period_ends(text, s, i, c, nxt, sent_start, words) else -1


class _Scanner:
    """One left-to-right pass over the text; each method handles one kind of event."""

    def __init__(self, text: str, words: _Words = ENGLISH) -> None:
        self.text = text
        self.words = words
        self.cuts: list[int] = []
        self.sent_start = 0  # where the current sentence began (the last cut)
        self.skip = 0  # characters before this were consumed by an earlier event
        self.block_start, self.block_end, self.block_has_term = 0, -1, False
        self.list_style, self.list_pos = "", -(10**9)  # the last list label seen
        self.list_values: frozenset[tuple[str, int]] = frozenset()
        self.nocut_at = -1  # end of the last terminator that was judged not to end a sentence
        self.quote_open = -1  # where the double quotation we are inside opened, or -1

    def run(self) -> list[int]:
        """Cut positions, in order."""
        text = self.text
        for hot in _HOT.finditer(text):
            pos = hot.start()
            if pos < self.skip:
                continue
            ch = text[pos]
            if ch in _BULLETS:
                if pos == 0 or text[pos - 1].isspace():
                    self.cut(pos)
            elif ch in '"“”':
                self.quote(pos, ch)
            elif ch == ")":
                self.label(pos)
            elif ch == ".":
                if not self.label(pos):
                    self.terminator(pos)
            elif ch in _TERMINATORS:
                self.terminator(pos)
            else:
                self.line_break(pos)
        return self.cuts

    def cut(self, pos: int) -> None:
        """Start a new sentence at pos unless nothing but white space precedes it."""
        if pos > self.sent_start:
            if _CONTENT.search(self.text, self.sent_start, pos):
                self.cuts.append(pos)
            self.sent_start = pos  # also past bare white space, so it is never searched twice

    def line_break(self, pos: int) -> None:
        """A blank line always ends a sentence; a single line break only ends a line item."""
        text = self.text
        para = _PARA.match(text, pos)
        if para:
            self.cut(pos)
            self.skip = self.block_start = para.end()
            self.quote_open = -1
            return
        self.skip = pos + 2 if text.startswith("\r\n", pos) else pos + 1
        if pos >= self.block_end:
            nxt = _PARA.search(text, pos)
            self.block_end = nxt.start() if nxt else len(text)
            # A paragraph without any terminator is a list of lines ("features\ncontact").
            found = _ANY_TERM.search(text, self.block_start, self.block_end)
            self.block_has_term = found is not None
        if not self.block_has_term or not _newline_is_soft(text, pos, self.skip, self.nocut_at):
            self.cut(pos)

    def quote(self, pos: int, ch: str) -> None:
        """Track whether we are inside a double quotation."""
        text = self.text
        before = text[pos - 1] if pos else " "
        opens = self.quote_open < 0 and (before.isspace() or before in "([{—–-")
        if self.quote_open >= 0 and _BROKEN_OFF.match(text, pos):
            self.cut(pos + 1)  # '"If you please, sir--" The Rabbit started' broke off
        self.quote_open = pos if ch == "“" or ch == '"' and opens else -1

    def label(self, pos: int) -> bool:
        """Handle a list label ending at pos ("2.", "b)", "(iv)", "1.)"); False if none."""
        text = self.text
        end = pos + 2 if text.startswith(".)", pos) else pos + 1
        if end < len(text) and not text[end].isspace():
            return False
        start = _token_start(text, end)
        m = _MARKER.fullmatch(text, start, end) if end - start <= 8 else None
        if not m:
            return False
        paren = m.group("pl")
        name = paren or m.group("dl")
        style = "()" if paren else m.group("dp")
        begin = m.start("pl") - 1 if paren else m.start("dl")
        values = _label_values(name)
        at_start = _CONTENT.search(text, self.sent_start, begin) is None
        # The next label of the running list, or a new list ("1.", "a)") right after one.
        follows = (
            style == self.list_style
            and begin - self.list_pos < 1000
            and (name in _RESTARTS or any((v[0], v[1] - 1) in self.list_values for v in values))
        )
        if style == "." and not name.isdigit() and _INITIAL_AHEAD.match(text, end):
            return False  # "A. B. Smith" is a run of initials, not a list
        if not (at_start or follows):
            return False
        self.cut(begin)
        self.list_style, self.list_values, self.list_pos = style, values, begin
        self.skip = end
        return True

    def terminator(self, pos: int) -> None:
        """Decide whether the run of terminators at pos ends the sentence."""
        text = self.text
        term = _TERM.match(text, pos)
        assert term is not None  # pos holds a terminator
        j, k = term.end("run"), term.end()
        self.skip = k
        at = _term_cut(text, pos, j, k, self.sent_start, self.words)
        if self.quote_open >= 0:
            if '"' in text[j:k] or "”" in text[j:k]:
                self.quote_open = -1
            elif at >= 0:
                # '"Hush! Hush!" said the Rabbit.' reads as one sentence.
                q = _QUOTE_AHEAD.search(text, k, self.quote_open + _QUOTE_SPAN)
                at = -1 if q and q.group() in '"”' else at
        if at >= 0:
            self.cut(at)
        else:
            self.nocut_at = k


def segment(text: str, lang: str = "en") -> list[tuple[int, int]]:
    """Sentence spans (start, end) into `text`; text[start:end] is the sentence, stripped of surrounding whitespace.

    The rules hold for every language (terminators, quotations, lists, initials, numbers, CJK
    stops). English adds its abbreviations and sentence openers; other languages get only
    international ones, and German, French, Spanish, Italian, Portuguese and Dutch their own
    titles and abbreviations and ordinal numbers written with a dot ("am 1. Januar")."""
    language = lang.split("-")[0].lower()
    spans = _spans(text, _Scanner(text, ENGLISH if language == "en" else NEUTRAL).run())
    if language != "en" and len(spans) > 1:
        spans = _rejoin(text, spans, language)
    return spans


# Per language: words after which a period never ends a sentence (titles before a name, and
# abbreviations that stand inside one), lower case, without their final period. A "?" marks
# one that may also end a sentence ("usw.", "etc."): listed, so that it is known, but not joined.
_NEVER_END_IN = {
    "de": frozenset("hr hrn fr frl dr prof dipl ing nr str bzw vgl ca z.b d.h u.a o.ä s.o s.u usw.? evtl ggf inkl "
                    "max min mio mrd tsd abs bd jh geb gest sog u.ä v.a z.t zzgl".split()),
    "fr": frozenset("m mm mme mmes mlle mlles dr pr me mgr st ste p pp env av bd cf fig chap vol éd art no n° nº "
                    "c.-à-d p.ex".split()),
    "es": frozenset("sr sres sra sras srta dr dra d dña ud uds lic ing prof pág págs núm aprox av avda c/ p.ej "
                    "ee.uu etc.? cap fig vol art".split()),
    "it": frozenset("sig sigg sig.ra sig.na dott dott.ssa prof prof.ssa ing avv arch geom rag on pag pagg n nr "
                    "ecc.? fig cap art es p.es".split()),
    "pt": frozenset("sr srs sra sras srta dr dra drs prof profa eng pág págs n nº art cap fig vol av p.ex "
                    "etc.? ex".split()),
    "nl": frozenset("dhr mevr mw dr drs ir ing prof mr bijv blz nr o.a d.w.z m.a.w ca jl vlg zgn evt etc.? "
                    "art fig".split()),
}
# Languages that write ordinal numbers with a dot ("der 2. Weltkrieg"), with the words that
# are read as ordinals after them (months) and before them (articles, prepositions).
_ORDINAL_DOT = {
    "de": (frozenset("januar februar märz april mai juni juli august september oktober november dezember jänner "
                     "jahrhundert jh klasse stock etage platz runde".split()),
           frozenset("am im der die das dem den des zum zur vom bis ab seit ihr ihre sein seine jeder jede "
                     "jedes bei".split())),
    "nl": (frozenset(), frozenset()),
}
_LAST_WORD = re.compile(r"(\S+)\.[\"'”’»)\]]*\s*$")
_FIRST_WORD = re.compile(r"[\"'“‘«(\[¿¡]*(\w[\w.-]*)")


def _rejoin(text: str, spans: list[tuple[int, int]], language: str) -> list[tuple[int, int]]:
    """Join sentences that were cut after a title, an abbreviation or an ordinal of `language`."""
    never = {w for w in _NEVER_END_IN.get(language, frozenset()) if not w.endswith("?")}  # "usw." may end one
    months, before = _ORDINAL_DOT.get(language, (frozenset(), frozenset()))
    out = [spans[0]]
    for start, end in spans[1:]:
        prev_start, prev_end = out[-1]
        previous = text[prev_start:prev_end]
        last = _LAST_WORD.search(previous)
        first = _FIRST_WORD.match(text, start)
        join = False
        if last and previous.endswith("."):
            word = last.group(1).lower().lstrip("([\"'“‘«")
            if word in never:
                join = True
            elif word.isdigit() and len(word) <= 3 and language in _ORDINAL_DOT and first:
                words = previous[: last.start(1)].split()
                join = first.group(1).lower() in months or bool(words and words[-1].lower() in before)
        if join:
            out[-1] = (prev_start, end)
        else:
            out.append((start, end))
    return out


def _newline_is_soft(text: str, p: int, q: int, nocut_at: int) -> bool:
    """Whether a single line break at text[p:q] only wraps a sentence that goes on."""
    e = q
    while e < len(text) and text[e] in " \t":
        e += 1
    if e >= len(text):
        return True
    nc = text[e]
    b = p
    while b > 0 and p - b < 64 and text[b - 1] in " \t":
        b -= 1
    if nc.islower() or (nc == "(" and b < p) or b == nocut_at:
        return True
    # Punctuation cannot open a sentence, so it closes the previous line; an ellipsis can.
    return nc in ",;:!?)" or nc == "." and not text.startswith(("..", ". ."), e)


def _spans(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    """Turn cut positions into whitespace-stripped, non-empty spans."""
    spans: list[tuple[int, int]] = []
    a = 0
    for b in [*cuts, len(text)]:
        piece = text[a:b]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left:
            spans.append((a + left, a + right))
        a = b
    return spans


_CLAUSE_BREAKS = (
    re.compile(r"[;:](?=\s)|[—–―]"),
    re.compile(r",(?=\s)"),
    re.compile(r"(?<=\S)\s"),
)


def split_for_synthesis(text: str, limit: int = 4096) -> list[tuple[int, int]]:
    """Split one long sentence into spans of at most `limit` characters at clause boundaries."""
    if limit < 1:
        raise ValueError("limit must be positive")
    spans: list[tuple[int, int]] = []
    n = len(text)
    s = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    while s < end:
        if end - s <= limit:
            spans.append((s, end))
            break
        hi = s + limit  # the chunk is text[s:cut] with cut <= hi
        chosen = fallback = -1
        for rank, pattern in enumerate(_CLAUSE_BREAKS):
            last = -1
            for b in pattern.finditer(text, s + 1, min(n, hi + 1)):
                at = b.start() if rank == 2 else b.end()
                if at <= hi:
                    last = at
            # Take the strongest kind of break in the chunk's second half, so chunks stay long.
            if last >= s + limit // 2:
                chosen = last
                break
            fallback = max(fallback, last)
        cut = chosen if chosen > s else fallback if fallback > s else hi
        piece = text[s:cut]
        spans.append((s, s + len(piece.rstrip())))
        s = cut
        while s < end and text[s].isspace():
            s += 1
    return spans
