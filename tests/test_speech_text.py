"""Speech normalisation: what engines are told to say, and the map back to the sentence."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED

from reader.text import numbers
from reader.text.pronounce import Pronunciations, load_pronunciations
from reader.text.segment import segment
from reader.text.speech_text import SpokenText, spoken_text

ARTICLES = SHARED / "eval" / "extraction" / "articles" / "ground-truth.json"

CASES = [
    # numbers
    ("It has 3,497 pages.", "It has three thousand four hundred ninety-seven pages."),
    ("It grew 1.5 times.", "It grew one point five times."),
    ("It fell to -4 today.", "It fell to minus four today."),
    ("It is 0.25 wide.", "It is zero point two five wide."),
    ("Agent 007 waits.", "Agent zero zero seven waits."),
    ("She came 1st.", "She came first."),
    ("The 21st century.", "The twenty-first century."),
    ("It was his 103rd game.", "It was his one hundred third game."),
    ("The 1,000th visitor.", "The one thousandth visitor."),
    # currency
    ("It costs $5.50 now.", "It costs five dollars and fifty cents now."),
    ("It costs $1 now.", "It costs one dollar now."),
    ("It costs $0.75 now.", "It costs seventy-five cents now."),
    ("Tickets are €20 each.", "Tickets are twenty euros each."),
    ("The club paid £3m for him.", "The club paid three million pounds for him."),
    ("They raised $2.5 billion.", "They raised two point five billion dollars."),
    ("The deal is worth $44,000.", "The deal is worth forty-four thousand dollars."),
    ("It costs $3,497 today.", "It costs three thousand four hundred ninety-seven dollars today."),
    # percentages
    ("Prices rose 50%.", "Prices rose fifty percent."),
    ("Prices rose 1.5 % overall.", "Prices rose one point five percent overall."),
    ("Unemployment is 4 percent.", "Unemployment is four percent."),
    # years and decades
    ("He was born in 1999.", "He was born in nineteen ninety-nine."),
    ("See you in 2024.", "See you in twenty twenty-four."),
    ("It opened in 2005.", "It opened in two thousand five."),
    ("It opened in 1905.", "It opened in nineteen oh five."),
    ("It opened in 1900.", "It opened in nineteen hundred."),
    ("The 1990s were loud.", "The nineteen nineties were loud."),
    ("Back in the '80s we danced.", "Back in the eighties we danced."),
    ("She is in her 20s.", "She is in her twenties."),
    # ranges
    ("It lasts 10-20 minutes.", "It lasts ten to twenty minutes."),
    ("It lasts 10–20 minutes.", "It lasts ten to twenty minutes."),
    ("Read pages 3-5 tonight.", "Read pages three to five tonight."),
    ("From 1996-98 it grew.", "From nineteen ninety-six to ninety-eight it grew."),
    ("Model i5-9300H is fast.", "Model i5-9300H is fast."),
    # units
    ("It is 5 km away.", "It is five kilometres away."),
    ("Add 3kg of flour.", "Add three kilograms of flour."),
    ("It was 20 °C outside.", "It was twenty degrees Celsius outside."),
    ("It was 20°C outside.", "It was twenty degrees Celsius outside."),
    ("Drive at 60 mph.", "Drive at sixty miles per hour."),
    ("He is 5 ft tall.", "He is five feet tall."),
    ("It weighs 1 kg.", "It weighs one kilogram."),
    ("Run 100 m there.", "Run one hundred metres there."),
    ("It is 1.5 km long.", "It is one point five kilometres long."),
    # dates
    ("The date is 2024-03-12.", "The date is March twelfth, twenty twenty-four."),
    ("The form says 25/12/2024.", "The form says December twenty-fifth, twenty twenty-four."),
    ("The form says 12/03/2024.", "The form says December third, twenty twenty-four."),  # "en": month first
    ("It happened on Oct. 5.", "It happened on October fifth."),
    ("It happened on October 5, 2024.", "It happened on October fifth, twenty twenty-four."),
    ("It happened on 5 October 2024.", "It happened on the fifth of October twenty twenty-four."),
    ("It happened on Nov. 18th.", "It happened on November eighteenth."),
    ("We met in Sept. last year.", "We met in September last year."),
    # times
    ("Meet me at 3:30 p.m.", "Meet me at three thirty p m."),
    ("Meet me at 14:05 today.", "Meet me at fourteen oh five today."),
    ("Meet me at 9:00 sharp.", "Meet me at nine o'clock sharp."),
    ("Meet me at 5 pm today.", "Meet me at five p m today."),
    ("Meet me at 3:00 p.m. today.", "Meet me at three p m today."),
    # abbreviations
    ("Dr. Smith is here.", "Doctor Smith is here."),
    ("Ask for Dr Watson.", "Ask for Doctor Watson."),
    ("He lives on Elm Dr.", "He lives on Elm Drive."),
    ("Go to No. 5 now.", "Go to number five now."),
    ("No. I will not.", "No. I will not."),
    ("Fruit, e.g. apples.", "Fruit, for example apples."),
    ("Fruit, i.e. apples.", "Fruit, that is apples."),
    ("Apples, pears, etc.", "Apples, pears, et cetera."),
    ("Cats vs. dogs.", "Cats versus dogs."),
    ("Mr. and Mrs. Jones met St. Peter on Main St.", "Mister and Missus Jones met Saint Peter on Main Street."),
    ("Prof. Jones and Gen. Lee.", "Professor Jones and General Lee."),
    ("It is approx. 5 kg.", "It is approximately five kilograms."),
    ("Vol. 3 is out.", "Volume three is out."),
    ("Acme Inc.", "Acme Incorporated."),
    # roman numerals
    ("World War II ended.", "World War two ended."),
    ("World War I ended.", "World War one ended."),
    ("Read Chapter IV first.", "Read Chapter four first."),
    ("Louis XIV was king.", "Louis the fourteenth was king."),
    ("Henry VIII's wives.", "Henry the eighth's wives."),
    ("Queen Elizabeth I died.", "Queen Elizabeth the first died."),
    ("Super Bowl LVII was close.", "Super Bowl fifty-seven was close."),
    ("Rocky II is a film.", "Rocky two is a film."),
    ("I think I can.", "I think I can."),
    ("I told George I was late.", "I told George I was late."),
    ("Malcolm X and Arthur C. Clarke.", "Malcolm X and Arthur C. Clarke."),
    ("A mix of CD and DVD.", "A mix of CD and DVD."),
    # URLs and e-mail
    ("Visit https://www.example.com/docs today.", "Visit example dot com slash docs today."),
    ("Visit example.org/about today.", "Visit example dot org slash about today."),
    ("Write to john.smith@example.com today.", "Write to john dot smith at example dot com today."),
    # symbols
    ("R&D is costly.", "R and D is costly."),
    ("Bring pens and/or paper.", "Bring pens and or paper."),
    ("Each he/she must sign.", "Each he or she must sign."),
    ("Learn C++ today.", "Learn C plus plus today."),
    ("We know 2+2=4 well.", "We know two plus two equals four well."),
    ("He was #1 again.", "He was number one again."),
    ("Thank @MattBevin for it.", "Thank at MattBevin for it."),
    # the rest
    ("Call 555-123-4567 now.", "Call five five five, one two three, four five six seven now."),
    ("Use version 3.10.2 or later.", "Use version three point ten point two or later."),
    ("Add 1/2 cup of milk.", "Add one half cup of milk."),
    ("Open 24/7 all year.", "Open twenty-four seven all year."),
    ("  Hello   big\n\tworld.  ", "Hello big world."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_spoken_forms(written: str, spoken: str) -> None:
    assert spoken_text(written).text == spoken


def test_other_languages_say_numbers_in_their_own_words() -> None:
    # German has rules of its own (num2words); a language without them keeps its digits for the voice.
    assert spoken_text("Es kostet 3,50 €.", lang="de").text == "Es kostet drei Euro und fünfzig Cent."
    assert spoken_text("Det kostar 25 kronor.", lang="sv").text == "Det kostar 25 kronor."
    assert spoken_text("It costs $5.", lang="en-GB").text == "It costs five dollars."


def test_number_words() -> None:
    assert numbers.cardinal(1_000_001) == "one million one"
    assert numbers.ordinal(12) == "twelfth" and numbers.ordinal(40) == "fortieth"
    assert numbers.year(2010) == "twenty ten" and numbers.year(2000) == "two thousand"
    assert numbers.roman("MCMXCIX") == 1999 and numbers.roman("IIII") is None
    assert numbers.money("£", "0.01") == "one penny"


def _span(spoken: SpokenText, sentence: str, word: str) -> str:
    start = spoken.text.index(word)
    s, e = spoken.to_source(start, start + len(word))
    return sentence[s:e]


def test_each_spoken_piece_maps_to_its_whole_source_token() -> None:
    sentence = "It cost $3,497 on Oct. 5 at 3:30 p.m., said Dr. Smith."
    spoken = spoken_text(sentence)
    assert spoken.text == (
        "It cost three thousand four hundred ninety-seven dollars on October fifth at three thirty p m, "
        "said Doctor Smith."
    )
    for word in ("three", "ninety", "seven", "dollars"):
        assert _span(spoken, sentence, word) == "$3,497"
    assert _span(spoken, sentence, "October") == "Oct."
    assert _span(spoken, sentence, "fifth") == "5"
    assert _span(spoken, sentence, "thirty") == "3:30"
    assert _span(spoken, sentence, "p m") == "p.m."
    assert _span(spoken, sentence, "Doctor") == "Dr."
    assert _span(spoken, sentence, "Smith.") == "Smith."
    words = [(w[2], w[3]) for w in spoken.words()]
    assert words[2] == words[3] == (8, 14)  # "three", "thousand" -> "$3,497"


def _real_sentences(limit: int) -> list[str]:
    articles = json.loads(ARTICLES.read_text(encoding="utf-8"))
    out: list[str] = []
    for article in articles.values():
        for paragraph in article["articleBody"].split("\n"):
            out.extend(paragraph[s:e] for s, e in segment(paragraph))
            if len(out) >= limit:
                return out[:limit]
    return out


@pytest.fixture(scope="module")
def real_sentences() -> list[str]:
    return _real_sentences(1000)


def _same_run(x: str, y: str) -> bool:
    return (x.isdigit() and y.isdigit()) or (x.isalpha() and y.isalpha())


@pytest.mark.eval
def test_map_invariants_on_real_sentences(real_sentences: list[str]) -> None:
    changed = 0
    for sentence in real_sentences:
        spoken = spoken_text(sentence)
        assert len(spoken.source) == len(spoken.ends) == len(spoken.text)
        assert spoken.text == spoken.text.strip() and "  " not in spoken.text
        previous = (0, 0)
        for s, e, a, b in spoken.words():
            assert 0 <= a < b <= len(sentence), (sentence, spoken.text[s:e])
            assert (a, b) >= previous, (sentence, spoken.text[s:e])  # in reading order
            previous = (a, b)
            if sentence[a:b] == spoken.text[s:e]:
                continue
            changed += 1
            # A replaced word maps to whole source tokens, never into the middle of a number or
            # a word ("4ms" is two tokens: "four" -> "4", "milliseconds" -> "ms").
            assert a == 0 or not _same_run(sentence[a - 1], sentence[a]), sentence[a - 5 : b + 5]
            assert b == len(sentence) or not _same_run(sentence[b - 1], sentence[b]), sentence[a - 5 : b + 5]
    assert changed > 500  # the sample does exercise the rules


# -- the pronunciation list -------------------------------------------------------------------

LIST = {"Nginx": "engine x", "SQL": "sequel", "Dr. Who": "Doctor Who", "gif": {"say": "jif", "ignore_case": True}}
TOML = '''Nginx = "engine x"
SQL = "sequel"
"Dr. Who" = "Doctor Who"
gif = { say = "jif", ignore_case = true }
'''


@pytest.fixture(params=["json", "toml"])
def pronunciations(request: pytest.FixtureRequest, tmp_path: Path) -> Pronunciations:
    path = tmp_path / f"say.{request.param}"
    path.write_text(json.dumps(LIST) if request.param == "json" else TOML, encoding="utf-8")
    return load_pronunciations(str(path))


def test_pronunciations_are_whole_words_before_the_rules(pronunciations: Pronunciations) -> None:
    sentence = "Dr. Who runs Nginx and SQL on SQLite for $5, NGINX too; a GIF or gif."
    spoken = spoken_text(sentence, pronunciations=pronunciations)
    assert spoken.text == (
        "Doctor Who runs engine x and sequel on SQLite for five dollars, NGINX too; a jif or jif."
    )
    assert _span(spoken, sentence, "x") == "Nginx"
    assert _span(spoken, sentence, "Who") == "Dr. Who"
    # Other languages get the list too, and their own rules, not the English ones.
    assert spoken_text("Nginx kostet 5 €.", lang="de", pronunciations=pronunciations).text == \
        "engine x kostet fünf Euro."
    assert spoken_text("Dr.\n Who", pronunciations=pronunciations).text == "Doctor Who"


def test_pronunciation_file_is_cached_until_it_changes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "say.json"
    path.write_text('{"SQL": "sequel"}', encoding="utf-8")
    first = load_pronunciations(str(path))
    assert load_pronunciations(str(path)) is first
    path.write_text('{"SQL": "ess cue ell"}', encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    second = load_pronunciations(str(path))
    assert spoken_text("SQL", pronunciations=second).text == "ess cue ell"
    path.write_text('{"SQL": ', encoding="utf-8")  # a half-saved edit while the server runs
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    with caplog.at_level(logging.WARNING):
        assert load_pronunciations(str(path)) is second
    assert str(path) in caplog.text
    assert load_pronunciations("") is load_pronunciations("")
    assert len(load_pronunciations("")) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", '{"SQL": "sequel",}', "is not valid JSON"),
        ("bad.toml", 'SQL = "sequel', "is not valid TOML"),
        ("list.json", '["SQL"]', "expected a table"),
        ("number.json", '{"SQL": 5}', "must say a string"),
        ("option.json", '{"SQL": {"say": "sequel", "case": "any"}}', "unknown: ['case']"),
        ("flag.json", '{"SQL": {"say": "sequel", "ignore_case": "yes"}}', "must be true or false"),
        ("empty.json", '{" ": "nothing"}', "empty written form"),
        ("list.yaml", "SQL: sequel", "name it .json or .toml"),
    ],
)
def test_malformed_pronunciation_file(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="Pronunciation list") as info:
        load_pronunciations(str(path))
    assert str(path) in str(info.value) and message in str(info.value)


def test_missing_pronunciation_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read it"):
        load_pronunciations(str(tmp_path / "missing.json"))


# -- the /spoken endpoint and a real engine ----------------------------------------------------

def test_spoken_endpoint(client: Any) -> None:
    resp = client.post("/api/documents", json={"text": "It cost $3,497 on Oct. 5. Dr. Smith paid."})
    doc = resp.get_json()
    resp = client.get(f"/api/documents/{doc['id']}/sentences/0/spoken")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["text"] == "It cost $3,497 on Oct. 5."
    assert data["spoken"] == "It cost three thousand four hundred ninety-seven dollars on October fifth."
    by_word = {w["text"]: w for w in data["words"]}
    assert by_word["ninety-seven"]["source_text"] == "$3,497"
    assert by_word["ninety-seven"]["source"] == [8, 14]
    assert by_word["October"]["source_text"] == "Oct."
    s, e = by_word["fifth."]["spoken"]
    assert data["spoken"][s:e] == "fifth."
    missing = client.get(f"/api/documents/{doc['id']}/sentences/9/spoken")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


def test_spoken_endpoint_uses_the_pronunciation_list(make_app: Any, tmp_path: Path) -> None:
    path = tmp_path / "say.toml"
    path.write_text('"Dr. Smith" = "Doctor Smyth"\n', encoding="utf-8")
    client = make_app(pronunciations=str(path)).test_client()
    doc = client.post("/api/documents", json={"text": "Dr. Smith paid $5."}).get_json()
    data = client.get(f"/api/documents/{doc['id']}/sentences/0/spoken").get_json()
    assert data["spoken"] == "Doctor Smyth paid five dollars."
    assert data["words"][1] == {"spoken": [7, 12], "source": [0, 9], "text": "Smyth", "source_text": "Dr. Smith"}


def test_espeak_timings_cover_normalised_words(espeak: Any) -> None:
    sentence = "It cost $3,497 on Oct. 5."
    spoken = spoken_text(sentence)
    speech = espeak.synthesize(spoken.text, "en-us")
    spans: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for word in speech.words:
        spans.setdefault(spoken.to_source(word.start, word.end), []).append((word.t0, word.t1))
    money, month = (8, 14), (18, 22)
    assert sentence[slice(*money)] == "$3,497" and sentence[slice(*month)] == "Oct."
    assert len(spans[money]) == 7  # three thousand four hundred ninety seven dollars
    assert spans[month] and spans[(23, 24)]  # "October" -> "Oct.", "fifth" -> "5"
    times = [t for word in speech.words for t in (word.t0, word.t1)]
    assert times == sorted(times) and spans[money][-1][1] - spans[money][0][0] > 1.0


def test_pronunciations_apply_on_every_speech_path(make_app: Any, tmp_path: Path) -> None:
    """/api/speech and /v1/audio/speech send the engine the same spoken text: "Nginx" said
    as "engine x" finds the audio already made for "engine x"."""
    listing = tmp_path / "say.json"
    listing.write_text('{"Nginx": "engine x"}')
    client = make_app(pronunciations=str(listing)).test_client()
    made = client.post("/api/speech", json={"text": "engine x", "voice": "espeak:en-us"})
    assert made.headers["X-Reader-Cache"] == "miss"
    for resp in (
        client.post("/api/speech", json={"text": "Nginx", "voice": "espeak:en-us"}),
        client.post("/v1/audio/speech", json={"model": "espeak", "input": "Nginx", "voice": "en-us",
                                              "response_format": "mp3"}),
    ):
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.headers["X-Reader-Cache"] == "hit"
