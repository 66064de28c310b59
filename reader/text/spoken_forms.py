"""Numbers, money, percentages, units and dates spoken in German, French, Spanish, Italian, Portuguese
and Dutch, with num2words (cardinals, ordinals, years and currency in 50+ languages).

English keeps its own, richer rules (speech_text.py). In these six languages a number is said
in words of the language, whatever the voice (eSpeak NG, Kokoro or a cloud voice would each
read digits their own way): "25,50 €" is "fünfundzwanzig Euro und fünfzig Cent",
"12.03.2024" is "zwölfter März zweitausendvierundzwanzig", "40 %" is "quarante pour cent",
"120 km/h" is "ciento veinte kilómetros por hora".
Other languages are left to the voice, which reads digits in its own language.
"""

from __future__ import annotations

import re

Piece = tuple[str, int, int]

LANGUAGES = frozenset({"de", "fr", "es", "it", "pt", "nl"})
_PERCENT = {"de": "Prozent", "fr": "pour cent", "es": "por ciento", "it": "per cento", "pt": "por cento",
            "nl": "procent"}
_MONTHS = {
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
# Units after a number: (singular, plural) per language.
_UNIT_NAMES = {
    "km/h": {"de": ("Kilometer pro Stunde",) * 2, "fr": ("kilomètre par heure", "kilomètres par heure"),
             "es": ("kilómetro por hora", "kilómetros por hora"), "it": ("chilometro orario", "chilometri orari"),
             "pt": ("quilômetro por hora", "quilômetros por hora"), "nl": ("kilometer per uur",) * 2},
    "°C": {"de": ("Grad Celsius",) * 2, "fr": ("degré Celsius", "degrés Celsius"),
           "es": ("grado Celsius", "grados Celsius"), "it": ("grado Celsius", "gradi Celsius"),
           "pt": ("grau Celsius", "graus Celsius"), "nl": ("graad Celsius", "graden Celsius")},
    "km": {"de": ("Kilometer",) * 2, "fr": ("kilomètre", "kilomètres"), "es": ("kilómetro", "kilómetros"),
           "it": ("chilometro", "chilometri"), "pt": ("quilômetro", "quilômetros"), "nl": ("kilometer",) * 2},
    "cm": {"de": ("Zentimeter",) * 2, "fr": ("centimètre", "centimètres"), "es": ("centímetro", "centímetros"),
           "it": ("centimetro", "centimetri"), "pt": ("centímetro", "centímetros"), "nl": ("centimeter",) * 2},
    "mm": {"de": ("Millimeter",) * 2, "fr": ("millimètre", "millimètres"), "es": ("milímetro", "milímetros"),
           "it": ("millimetro", "millimetri"), "pt": ("milímetro", "milímetros"), "nl": ("millimeter",) * 2},
    "m": {"de": ("Meter",) * 2, "fr": ("mètre", "mètres"), "es": ("metro", "metros"), "it": ("metro", "metri"),
          "pt": ("metro", "metros"), "nl": ("meter",) * 2},
    "kg": {"de": ("Kilogramm",) * 2, "fr": ("kilogramme", "kilogrammes"), "es": ("kilogramo", "kilogramos"),
           "it": ("chilogrammo", "chilogrammi"), "pt": ("quilograma", "quilogramas"), "nl": ("kilogram",) * 2},
    "g": {"de": ("Gramm",) * 2, "fr": ("gramme", "grammes"), "es": ("gramo", "gramos"), "it": ("grammo", "grammi"),
          "pt": ("grama", "gramas"), "nl": ("gram",) * 2},
    "ml": {"de": ("Milliliter",) * 2, "fr": ("millilitre", "millilitres"), "es": ("mililitro", "mililitros"),
           "it": ("millilitro", "millilitri"), "pt": ("mililitro", "mililitros"), "nl": ("milliliter",) * 2},
    "l": {"de": ("Liter",) * 2, "fr": ("litre", "litres"), "es": ("litro", "litros"), "it": ("litro", "litri"),
          "pt": ("litro", "litros"), "nl": ("liter",) * 2},
}
# Longest first, as listed; a one-letter unit only after a space ("5 g", not "5G" or "5g").
_UNIT_LONG = "|".join(re.escape(u) for u in _UNIT_NAMES if len(u) > 1)
_ONE = {"de": "ein", "fr": "un", "es": "un", "it": "un", "pt": "um", "nl": "een"}
_CURRENCIES = {"€": "EUR", "$": "USD", "£": "GBP", "EUR": "EUR", "USD": "USD", "GBP": "GBP", "CHF": "CHF"}
_DECIMAL_COMMA = frozenset({"de", "fr", "es", "it", "pt", "nl"})  # all six write "3,5"

_NUMBER = r"\d{1,3}(?:[.\u202f\u00a0 ]\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_RULES = re.compile(
    rf"(?P<date>\b(?P<d>[0-3]?\d)[./](?P<m>[01]?\d)[./](?P<y>\d{{4}})\b)"
    rf"|(?P<money_after>(?P<ma>{_NUMBER})\s?(?P<ca>€|EUR\b|CHF\b|\$|£))"
    rf"|(?P<money_before>(?P<cb>€|\$|£)\s?(?P<mb>{_NUMBER}))"
    rf"|(?P<percent>(?P<p>{_NUMBER})\s?%)"
    rf"|(?P<unit>(?P<u>{_NUMBER})(?:\s?(?P<un>{_UNIT_LONG})|\s(?P<un1>[mgl]))(?![\w/]))"
    rf"|(?P<number>(?<![\w.,]){_NUMBER}(?![\w]|[.,]\d)(?!\.\s+\w))"
)


def _value(text: str) -> float | int:
    digits = re.sub(r"[.\u202f\u00a0 ]", "", text).replace(",", ".")
    value = float(digits)
    return int(value) if value.is_integer() and "," not in text else value


def _words(value: float | int, lang: str, **kwargs: str) -> str:
    from num2words import num2words

    try:
        return str(num2words(value, lang=lang, **kwargs))
    except (NotImplementedError, OverflowError, ValueError, TypeError):
        return str(num2words(value, lang=lang))


def _date(m: re.Match[str], lang: str) -> list[Piece] | None:
    day, month, year = int(m.group("d")), int(m.group("m")), int(m.group("y"))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    month_name = _MONTHS[lang].split()[month - 1]
    if lang == "de":
        day_words = _words(day, lang, to="ordinal")  # "zwölfter März"
        day_words += "r" if day_words.endswith("e") else ""
    elif lang == "fr" and day == 1:
        day_words = "premier"
    else:
        day_words = _words(day, lang)
    joiner = {"es": " de ", "pt": " de "}.get(lang, " ")
    said = f"{day_words}{joiner}{month_name}{joiner}{_words(year, lang, to='year')}"
    return [(said, m.start(), m.end())]


_NO_CENTS = re.compile(r"(?:,| und| et| con| e) (?:null|zéro|cero|zero|nul) \w+$")


def _money(amount: str, symbol: str, start: int, end: int, lang: str) -> list[Piece]:
    currency = _CURRENCIES.get(symbol, "EUR")
    value = float(_value(amount))  # num2words takes a whole number as cents
    said = _words(value, lang, to="currency", currency=currency)
    return [(_NO_CENTS.sub("", said) if value.is_integer() else said, start, end)]


def spoken_pieces(sentence: str, lang: str, pos: int, endpos: int) -> list[Piece]:
    """What to say instead of the numbers, money, percentages and dates in sentence[pos:endpos]."""
    language = lang.split("-")[0].lower()
    if language not in LANGUAGES:
        return []
    pieces: list[Piece] = []
    for m in _RULES.finditer(sentence, pos, endpos):
        kind = m.lastgroup
        found: list[Piece] | None = None
        if m.group("date"):
            found = _date(m, language)
        elif m.group("money_after"):
            found = _money(m.group("ma"), m.group("ca"), m.start(), m.end(), language)
        elif m.group("money_before"):
            found = _money(m.group("mb"), m.group("cb"), m.start(), m.end(), language)
        elif m.group("unit"):
            value = _value(m.group("u"))
            singular, plural = _UNIT_NAMES[m.group("un") or m.group("un1")][language]
            said = f"{_ONE[language]} {singular}" if value == 1 else f"{_words(value, language)} {plural}"
            found = [(said, m.start(), m.end())]
        elif m.group("percent"):
            found = [(f"{_words(_value(m.group('p')), language)} {_PERCENT[language]}", m.start(), m.end())]
        elif kind == "number":
            found = [(_words(_value(m.group()), language), m.start(), m.end())]
        pieces.extend(found or ())
    return pieces


