"""English words for numbers, years, ordinals, roman numerals, money, units, dates and times."""

from __future__ import annotations

import re

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    " fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**15, "quadrillion"), (10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}
MONTHS = (
    "January February March April May June July August September October November December"
).split()
# Written month forms, with and without the abbreviation's period, to the month's number.
MONTH_NUMBERS = {m.lower(): i for i, m in enumerate(MONTHS, 1)}
MONTH_NUMBERS.update(
    {a: i for i, a in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
)
MONTH_NUMBERS["sept"] = 9

# symbol -> (singular, plural, minor unit singular, minor unit plural)
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
SCALE_WORDS = {
    "k": "thousand", "thousand": "thousand", "m": "million", "mn": "million", "million": "million",
    "b": "billion", "bn": "billion", "billion": "billion", "tn": "trillion", "trillion": "trillion",
}

# unit as written -> (singular, plural); matched case-sensitively ("mm" is not "Mm").
UNITS = {
    "km": ("kilometre", "kilometres"), "m": ("metre", "metres"), "cm": ("centimetre", "centimetres"),
    "mm": ("millimetre", "millimetres"), "µm": ("micrometre", "micrometres"), "nm": ("nanometre", "nanometres"),
    "mi": ("mile", "miles"), "ft": ("foot", "feet"), "yd": ("yard", "yards"), "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"), "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"), "t": ("tonne", "tonnes"), "l": ("litre", "litres"), "L": ("litre", "litres"),
    "ml": ("millilitre", "millilitres"), "mL": ("millilitre", "millilitres"),
    "mph": ("mile per hour", "miles per hour"), "km/h": ("kilometre per hour", "kilometres per hour"),
    "kph": ("kilometre per hour", "kilometres per hour"), "m/s": ("metre per second", "metres per second"),
    "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"), "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"), "sec": ("second", "seconds"), "min": ("minute", "minutes"),
    "h": ("hour", "hours"), "hr": ("hour", "hours"), "hrs": ("hour", "hours"), "yrs": ("year", "years"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"), "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"),
    "MW": ("megawatt", "megawatts"), "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "V": ("volt", "volts"), "mAh": ("milliamp hour", "milliamp hours"), "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"),
    "ha": ("hectare", "hectares"), "km²": ("square kilometre", "square kilometres"),
    "m²": ("square metre", "square metres"), "sq ft": ("square foot", "square feet"),
    "%": ("percent", "percent"),
    "tbsp": ("tablespoon", "tablespoons"), "Tbsp": ("tablespoon", "tablespoons"),
    "tsp": ("teaspoon", "teaspoons"), "fl oz": ("fluid ounce", "fluid ounces"), "gal": ("gallon", "gallons"),
    "in": ("inch", "inches"), "m³": ("cubic metre", "cubic metres"), "cm³": ("cubic centimetre", "cubic centimetres"),
    "m/s²": ("metre per second squared", "metres per second squared"), "ft²": ("square foot", "square feet"),
    "cm²": ("square centimetre", "square centimetres"), "µs": ("microsecond", "microseconds"),
    "ns": ("nanosecond", "nanoseconds"), "mA": ("milliamp", "milliamps"), "psi": ("psi", "psi"),
    "kPa": ("kilopascal", "kilopascals"), "hPa": ("hectopascal", "hectopascals"), "dB": ("decibel", "decibels"),
    "Mbps": ("megabit per second", "megabits per second"), "Gbps": ("gigabit per second", "gigabits per second"),
    "mi/h": ("mile per hour", "miles per hour"),
}
# Letters that are units only glued to the number ("5s", "24h"): "5 s" or "2 l" is too often
# something else. "m" is the reverse: "5m people" is millions in British news, "5 m" is metres.
UNITS_GLUED_ONLY = frozenset({"s", "h", "t", "l"})
UNITS_SPACED_ONLY = frozenset({"m"})


def cardinal(n: int) -> str:
    """3497 -> "three thousand four hundred ninety-seven" (American style, no "and")."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {cardinal(rest)}" if rest else "")
    for value, name in _SCALES:
        if n >= value:
            high, rest = divmod(n, value)
            return f"{cardinal(high)} {name}" + (f" {cardinal(rest)}" if rest else "")
    raise AssertionError(n)  # pragma: no cover - the scales cover every n >= 1000


def ordinal(n: int) -> str:
    """21 -> "twenty-first"; 103 -> "one hundred third"."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-") if "-" in words.rsplit(" ", 1)[-1] else words.rpartition(" ")
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def year(n: int) -> str:
    """1999 -> "nineteen ninety-nine", 2005 -> "two thousand five", 1905 -> "nineteen oh five"."""
    if not 1000 <= n <= 9999 or 2000 <= n <= 2009 or n % 1000 == 0:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{cardinal(high)} hundred"
    return f"{cardinal(high)} {'oh ' if low < 10 else ''}{cardinal(low)}"


def plural(words: str) -> str:
    """"nineteen ninety" -> "nineteen nineties" (decades), "six" -> "sixes"."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    return words + ("es" if words.endswith(("x", "s")) else "s")


def digits(text: str) -> str:
    """"007" -> "zero zero seven": one word per digit."""
    return " ".join(_ONES[int(c)] for c in text if c.isdigit())


def number(text: str) -> str:
    """A written number ("3,497", "1.5", "-4", "0.25") -> words."""
    sign = ""
    if text[:1] in "-−":
        sign, text = "minus ", text[1:]
    whole, _, frac = text.replace(",", "").partition(".")
    if len(whole) > 1 and whole.startswith("0") and not frac:
        return sign + digits(whole)  # a code or an identifier, not a quantity
    if len(whole) > 18:
        return sign + digits(whole)
    words = cardinal(int(whole or "0"))
    if frac:
        words += " point " + digits(frac)
    return sign + words


def is_one(text: str) -> bool:
    """Whether a written amount takes the singular ("1", "1.0" but not "1.5")."""
    whole, _, frac = text.replace(",", "").partition(".")
    return whole.lstrip("-") == "1" and not frac.strip("0")


def money(symbol: str, amount: str, scale: str = "") -> str:
    """("$", "5.50") -> "five dollars and fifty cents"; ("£", "3", "m") -> "three million pounds"."""
    one, many, minor_one, minor_many = CURRENCIES[symbol]
    whole, _, frac = amount.replace(",", "").partition(".")
    if scale:
        return f"{number(amount)} {SCALE_WORDS[scale.lower()]} {many}"
    if frac and (len(frac) != 2 or not minor_one):
        return f"{number(amount)} {many}"
    units = int(whole or "0")
    cents = int(frac or "0")
    parts = []
    if units or not cents:
        parts.append(f"{cardinal(units)} {one if units == 1 else many}")
    if cents:
        parts.append(f"{cardinal(cents)} {minor_one if cents == 1 else minor_many}")
    return " and ".join(parts)


def clock(hour: int, minute: int, second: int | None = None, *, twelve_hour: bool = False) -> str:
    """(14, 5) -> "fourteen oh five"; (3, 0) -> "three o'clock"; (3, 0, twelve_hour) -> "three"."""
    if minute == 0 and second is None:
        if twelve_hour:
            return cardinal(hour)
        return cardinal(hour) + (" hundred" if hour >= 13 or hour == 0 else " o'clock")
    words = f"{cardinal(hour)} {'oh ' if minute < 10 else ''}{cardinal(minute)}"
    if second is not None:
        words += f" and {cardinal(second)} second{'' if second == 1 else 's'}"
    return words


def date(year_: int | None, month: int, day: int | None) -> str:
    """(2024, 3, 12) -> "March twelfth, twenty twenty-four"."""
    words = MONTHS[month - 1]
    if day is not None:
        words += " " + ordinal(day)
    if year_ is not None:
        words += ("," if day is not None else "") + " " + year(year_)
    return words


_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman(text: str) -> int | None:
    """"XIV" -> 14; None unless `text` is a well-formed upper-case roman numeral."""
    if not text or not _ROMAN.fullmatch(text):
        return None
    total = 0
    for i, char in enumerate(text):
        value = _ROMAN_VALUES[char]
        total += -value if i + 1 < len(text) and _ROMAN_VALUES[text[i + 1]] > value else value
    return total


_FRACTIONS = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def fraction(numerator: int, denominator: int) -> str:
    """(3, 4) -> "three quarters"; (2, 3) -> "two thirds"."""
    one, many = _FRACTIONS.get(denominator) or (ordinal(denominator), plural(ordinal(denominator)))
    return f"{cardinal(numerator)} {one if numerator == 1 else many}"


def mixed(whole: int, numerator: int, denominator: int) -> str:
    """(2, 1, 2) -> "two and a half"; (1, 1, 8) -> "one and an eighth"; (3, 3, 4) -> "three and three quarters"."""
    part = fraction(numerator, denominator)
    if numerator == 1:
        rest = part.split(" ", 1)[1]
        part = ("an " if rest[0] in "aeio" else "a ") + rest
    return f"{cardinal(whole)} and {part}" if whole else part


# Roman numerals are numbers only after these words. Regnal names take ordinals
# ("Louis the fourteenth"); these nouns take cardinals ("World War two", "Chapter four").
REGNAL_NAMES = frozenset(
    "Henry Louis George Edward Elizabeth Charles James William Richard John Mary Philip Peter"
    " Catherine Napoleon Pius Leo Gregory Benedict Paul Frederick Alexander Ivan Nicholas"
    " Innocent Clement Boniface Urban Alfonso Ferdinand Carlos Juan Felipe Gustav Gustavus"
    " Olaf Harald Christian Frederik Wilhelm Otto Rudolf Leopold Francis Joseph Umberto"
    " Pedro Manuel Ludwig Friedrich Karl Edmund David Robert Stephen Anne Harold"
    " Ramesses Ramses Amenhotep Thutmose Ptolemy Antiochus Cleopatra Darius Xerxes Cyrus"
    " Selim Mehmed Murad Suleiman Constantine Justinian Theodosius Rama Kamehameha".split()
)
COUNTED_NOUNS = frozenset(
    "Chapter Part Volume Vol. Book Act Scene Section Article Appendix Phase Level Title Type"
    " Class Stage Grade Round Episode Season Tier Schedule War Bowl Mark Mk Apollo Gemini"
    " Council Amendment Division Corps Army Fleet Series Psalm Canto Clause Rule Figure Plate".split()
)
# "I" after a name is the pronoun ("told George I was late") unless a title precedes the name
# or the numeral closes the phrase ("George I of Greece", "Elizabeth I.").
_RULER_TITLES = frozenset(
    "King Queen Emperor Empress Pope Tsar Czar Tsarina Kaiser Pharaoh Prince Princess Sultan Shah"
    " Saint St. Duke Grand Holy Roman".split()
)
_AFTER_REGNAL_I = frozenset({"", ".", ",", ";", ":", "of", "and", "'s", "’s", ")"})


def roman_words(text: str, prev: str, before: str, after: str, *, name_like: bool) -> str | None:
    """How to read the numeral `text` between words `before prev _ after`; None: not a number."""
    value = roman(text)
    if value is None or not prev:
        return None
    small = set(text) <= set("IVX")  # C, D, L, M alone are initials far more often than numbers
    if prev in COUNTED_NOUNS or prev.capitalize() in COUNTED_NOUNS:
        return cardinal(value)
    if prev in REGNAL_NAMES and small and (text != "I" or after in _AFTER_REGNAL_I or before in _RULER_TITLES):
        return "the " + ordinal(value)
    if len(text) >= 2 and small and name_like:
        return cardinal(value)  # "Rocky II", "Final Fantasy VII"
    return None  # the pronoun "I", "CD", "MIX", a mix of words
