"""Spoken forms a careful narrator would use, by class: phone numbers, slash dates by locale,
mixed fractions, chemical formulas, powers, hashtags, units, quarters, versions and scores.
Each case: what is written, the document's language, and what must be said (a part of the
spoken sentence), or with "!" in front, what must not be said."""

from __future__ import annotations

import pytest

from reader.text.speech_text import spoken_text

CASES: dict[str, list[tuple[str, str, str]]] = {
    "phone": [
        ("Call 555-0123 today.", "en", "five five five, zero one two three"),
        ("Call 555-0123 today.", "en", "!to"),
        ("Ring 555-1234 after six.", "en", "five five five, one two three four"),
        ("Our number is 555-9876.", "en", "five five five, nine eight seven six"),
        ("Dial 1-800-555-0199 now.", "en", "one, eight zero zero, five five five, zero one nine nine"),
        ("Write to (555) 123-4567 instead.", "en", "five five five, one two three, four five six seven"),
        ("Call +44 20 7946 0958 from abroad.", "en", "plus four four, two zero, seven nine four six, zero nine five eight"),
        ("Call +1 555 123 4567 please.", "en", "plus one, five five five, one two three, four five six seven"),
        ("Phone: 020 7946 0958.", "en", "zero two zero, seven nine four six, zero nine five eight"),
        ("Tel. 555-0100.", "en", "Telephone five five five, zero one zero zero"),
        ("Fax 555.123.4567 today.", "en", "five five five, one two three, four five six seven"),
        ("Call +33 1 23 45 67 89 in Paris.", "en", "plus three three, one, two three, four five, six seven, eight nine"),
        ("In an emergency call 911.", "en", "nine one one"),
        ("Dial 112 anywhere in Europe.", "en", "one one two"),
        ("The shop's line is 212-555-0147.", "en", "two one two, five five five, zero one four seven"),
        ("Read pages 100-1000 first.", "en", "one hundred to one thousand"),
        ("Between 1990-1995 it grew.", "en", "nineteen ninety to nineteen ninety-five"),
        ("Teams of 10-12 people.", "en", "ten to twelve"),
        ("Contact 555-2368 for help.", "en", "five five five, two three six eight"),
        ("The helpline 0800 123 4567 is free.", "en", "zero eight zero zero, one two three, four five six seven"),
    ],
    "slash date": [
        ("Due 03/04/2024.", "en", "March fourth, twenty twenty-four"),
        ("Due 03/04/2024.", "en-US", "March fourth, twenty twenty-four"),
        ("Due 03/04/2024.", "en-GB", "the third of April twenty twenty-four"),
        ("Due 03/04/2024.", "en-AU", "the third of April twenty twenty-four"),
        ("Due 03/04/2024.", "en-IN", "the third of April twenty twenty-four"),
        ("Due 03/04/2024.", "en-CA", "the third of April"),
        ("Born 12/25/1990.", "en-GB", "the twenty-fifth of December nineteen ninety"),
        ("Born 25/12/1990.", "en-US", "December twenty-fifth, nineteen ninety"),
        ("Born 25/12/1990.", "en-GB", "the twenty-fifth of December nineteen ninety"),
        ("Paid on 1/2/24.", "en-US", "January second, twenty twenty-four"),
        ("Paid on 1/2/24.", "en-NZ", "the first of February twenty twenty-four"),
        ("Sent 7/4/1976.", "en", "July fourth, nineteen seventy-six"),
        ("Dated 31/01/2023.", "en", "January thirty-first, twenty twenty-three"),
        ("The form says 12/03/2024.", "en-IE", "the twelfth of March twenty twenty-four"),
        ("Le 03/04/2024 à Paris.", "fr", "avril"),
    ],
    "mixed fraction": [
        ("Add 2 1/2 cups of flour.", "en", "two and a half cups"),
        ("Walk 1 1/4 miles.", "en", "one and a quarter miles"),
        ("It took 3 3/4 hours.", "en", "three and three quarters hours"),
        ("Use 1 1/3 cups.", "en", "one and a third cups"),
        ("Cut 5 2/3 inches off.", "en", "five and two thirds inches"),
        ("Add 1 1/8 tsp salt.", "en", "one and an eighth teaspoons"),
        ("A board 10 1/2 ft long.", "en", "ten and a half feet"),
        ("Use 2½ cups.", "en", "two and a half cups"),
        ("Add ¾ cup of milk.", "en", "three quarters cup"),
        ("It weighs 1¼ kg.", "en", "one and a quarter kilograms"),
        ("Add 1/2 cup of milk.", "en", "one half cup"),
        ("Open 24/7 all year.", "en", "twenty-four seven"),
        ("Pour ½ of it away.", "en", "a half of it"),
    ],
    "chemical formula": [
        ("Drink more H2O.", "en", "H two O"),
        ("CO2 levels rose.", "en", "C O two levels"),
        ("Methane is CH4.", "en", "C H four"),
        ("Add H2SO4 slowly.", "en", "H two S O four"),
        ("Glucose is C6H12O6.", "en", "C six H twelve O six"),
        ("Chalk is CaCO3.", "en", "Ca C O three"),
        ("Ammonia, NH3, smells.", "en", "N H three"),
        ("SO2 emissions fell.", "en", "S O two emissions"),
        ("NO2 is toxic.", "en", "N O two"),
        ("Breathe O2 here.", "en", "!O two"),
        ("Salt is NaCl.", "en", "NaCl"),
        ("Print on A4 paper.", "en", "A4"),
        ("Save it as MP3.", "en", "MP3"),
        ("Take vitamin B12 daily.", "en", "B12"),
        ("World War II ended.", "en", "World War two"),
        ("Fe2O3 is rust.", "en", "Fe two O three"),
        ("Baking soda is NaHCO3.", "en", "Na H C O three"),
    ],
    "power": [
        ("Then x^2 grows.", "en", "x squared"),
        ("Then x^3 grows.", "en", "x cubed"),
        ("That is 2^10 bytes.", "en", "two to the power of ten"),
        ("Use e^x here.", "en", "e to the power of x"),
        ("About 10^-3 metres.", "en", "ten to the power of minus three"),
        ("a^2 + b^2 = c^2", "en", "a squared plus b squared equals c squared"),
        ("Then x² grows.", "en", "x squared"),
        ("About 10⁶ cells.", "en", "ten to the power of six"),
        ("Then y³ shrinks.", "en", "y cubed"),
        ("And 3^4 is 81.", "en", "three to the power of four"),
        ("Use 10^9 as a billion.", "en", "ten to the power of nine"),
        ("Take n^k steps.", "en", "n to the power of k"),
    ],
    "hashtag": [
        ("Join #ThrowbackThursday today.", "en", "hashtag Throwback Thursday"),
        ("Use #MeToo here.", "en", "hashtag Me Too"),
        ("News on #COVID19 today.", "en", "hashtag COVID nineteen"),
        ("Tag it #NewYear2024 please.", "en", "hashtag New Year twenty twenty-four"),
        ("Tag it #love please.", "en", "hashtag love"),
        ("Tag #blacklivesmatter now.", "en", "hashtag black lives matter"),
        ("Tag #climatechange now.", "en", "hashtag climate change"),
        ("Try #iPhone15 deals.", "en", "hashtag iPhone fifteen"),
        ("He was #1 again.", "en", "number one"),
        ("See #StarWarsDay soon.", "en", "hashtag Star Wars Day"),
        ("Follow #NASAMoon news.", "en", "hashtag NASA Moon"),
        ("Post with #tbt tonight.", "en", "hashtag tbt"),
    ],
    "unit": [
        ("He is 6 ft 2 in tall.", "en", "six feet two inches tall"),
        ("Add 2 tbsp sugar.", "en", "two tablespoons sugar"),
        ("Add 1 tsp salt.", "en", "one teaspoon salt"),
        ("Drive at 60 km/h.", "en", "sixty kilometres per hour"),
        ("It is 25 °C outside.", "en", "twenty-five degrees Celsius"),
        ("It is 25°C outside.", "en", "twenty-five degrees Celsius"),
        ("It was -5 °C.", "en", "minus five degrees Celsius"),
        ("A fever of 101 °F.", "en", "one hundred one degrees Fahrenheit"),
        ("Go 100 mph.", "en", "one hundred miles per hour"),
        ("It weighs 5 kg.", "en", "five kilograms"),
        ("Pour 500 ml.", "en", "five hundred millilitres"),
        ("Add 2 oz butter.", "en", "two ounces butter"),
        ("A 1 lb bag.", "en", "one pound bag"),
        ("A 12 in. pizza.", "en", "twelve inches"),
        ("A 12in pizza.", "en", "twelve inches"),
        ("It is 12 in x 8 in.", "en", "twelve inches x eight inches"),
        ("Born in 1990 in Leeds.", "en", "nineteen ninety in Leeds"),
        ("Four in 10 people agree.", "en", "ten people"),
        ("Gravity is 9.81 m/s².", "en", "nine point eight one metres per second squared"),
        ("A 3 m³ tank.", "en", "three cubic metres"),
        ("Cut 10 cm off.", "en", "ten centimetres"),
        ("Wait 30 sec.", "en", "thirty seconds"),
        ("Wait 30 s.", "en", "thirty seconds"),
        ("It took 45 min.", "en", "forty-five minutes"),
        ("Fill 2 gal of water.", "en", "two gallons"),
        ("Pump to 32 psi.", "en", "thirty-two psi"),
        ("A 1 TB drive.", "en", "one terabyte"),
        ("A 100 Mbps line.", "en", "one hundred megabits per second"),
        ("Noise of 85 dB.", "en", "eighty-five decibels"),
        ("Add 1.5 L of water.", "en", "one point five litres"),
    ],
    "quarter": [
        ("Q3 results were strong.", "en", "Q three results"),
        ("In Q1 2024 sales rose.", "en", "Q one twenty twenty-four"),
        ("Our Q4 outlook.", "en", "Q four outlook"),
        ("In H1 2024 we grew.", "en", "H one twenty twenty-four"),
        ("The FY2024 budget.", "en", "F Y twenty twenty-four"),
        ("The FY24 budget.", "en", "F Y twenty-four"),
        ("Q2, as expected.", "en", "Q two,"),
        ("Type Q5 in the box.", "en", "Q5"),
    ],
    "version": [
        ("Install v2.1 now.", "en", "version two point one"),
        ("Install v3 now.", "en", "version three"),
        ("Install v1.2.3 now.", "en", "version one point two point three"),
        ("Use version 2.10 of it.", "en", "version two point ten"),
        ("Python 3.12 is out.", "en", "Python three point twelve"),
        ("Python 3.11.7 is out.", "en", "three point eleven point seven"),
        ("See Section 3.12 below.", "en", "Section three point twelve"),
        ("It costs 3.12 dollars.", "en", "three point one two"),
        ("Update to iOS 17.2 today.", "en", "seventeen point two"),
        ("Release 4.0 is stable.", "en", "Release four point zero"),
        ("Install V10 now.", "en", "version ten"),
        ("Read chapter 2.3 again.", "en", "chapter two point three"),
        ("Fixed in v4.2.1.", "en", "version four point two point one"),
    ],
    "score": [
        ("They won 3-2.", "en", "three to two"),
        ("A 21-14 win.", "en", "twenty-one to fourteen"),
        ("They beat them 21:14.", "en", "twenty-one to fourteen"),
        ("It ended in a 2:1 win.", "en", "two to one"),
        ("Lost 0-1 at home.", "en", "zero to one"),
        ("She won 6–4, 6–3.", "en", "six to four, six to three"),
        ("The final score was 4:2.", "en", "four to two"),
        ("We met at 10:30.", "en", "ten thirty"),
        ("A 3:2 ratio.", "en", "three to two"),
        ("They led 14:07 at halftime.", "en", "fourteen to seven"),
        ("A 2-0 victory away.", "en", "two to zero"),
        ("The Lakers beat Boston 102-99.", "en", "one hundred two to ninety-nine"),
    ],
}


def _params() -> list[object]:
    return [pytest.param(written, lang, said, id=f"{kind}-{i}")
            for kind, cases in CASES.items() for i, (written, lang, said) in enumerate(cases)]


def test_the_table_covers_every_class_with_150_cases() -> None:
    assert sum(len(c) for c in CASES.values()) >= 150
    assert all(len(c) >= 8 for c in CASES.values())


@pytest.mark.parametrize(("written", "lang", "said"), _params())
def test_spoken_form(written: str, lang: str, said: str) -> None:
    spoken = spoken_text(written, lang=lang).text
    if said.startswith("!"):
        assert said[1:] not in spoken.split(), spoken
    else:
        assert said in spoken, spoken
