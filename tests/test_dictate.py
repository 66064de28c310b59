"""Dictation in a real browser: dictate.js with a fake microphone that plays a WAV.

Chromium's --use-file-for-fake-audio-capture plays one file (looping) into every
getUserMedia, so each recording needs a browser of its own; they are launched once per
file. The server is a real gunicorn with the real Whisper model, started here with
READER_CORS_ORIGINS so that a page of another origin can use dictate.js too.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import urllib.request
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SPEECH, free_port, speech_manifest, start_server, stop_server, wer
from playwright.sync_api import Browser, Page, sync_playwright
from test_browser import (
    FOUR_SENTENCES,
    check_axe,
    close_checked,
    launch,
    sentence_indexes,
    shoot,
    tab_to,
    wait_for_current,
    wait_for_state,
    watch_page,
)

pytestmark = pytest.mark.browser

CAPTURE_RATE = 48_000  # what Chromium's fake capture device runs at
LEAD, TAIL = 0.5, 3.0  # seconds of silence around the speech: the file loops
HUMAN = "LJ001-0006"  # LJ Speech, public domain: 5.7 s of a person reading
# 9.7 s of the same reader, for the words shown while speaking: on the slowest kernels Whisper
# can pick (CT2_FORCE_CPU_ISA=GENERIC, no SIMD) a pass takes a few seconds, and 5.7 s of speech
# ended before the first one was back.
LONG = "LJ001-0001"
EMAIL_WORDS = "john dot smith at example dot com"
TRANSCRIBE_TIMEOUT = 60_000
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")


class Sites:
    """Two other web sites on loopback (so that Chrome's local-network checks stay out of
    it): `allowed` is listed in READER_CORS_ORIGINS, `other` is not. Both serve `form`."""

    def __init__(self) -> None:
        self.form = ""
        self.servers = []
        for _ in range(2):
            sites = self

            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self) -> None:
                    body = sites.form.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                def log_message(self, *args: Any) -> None:
                    pass

            httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            self.servers.append(httpd)
        # "localhost", not 127.0.0.1: a secure context, where getUserMedia is allowed.
        self.allowed, self.other = (f"http://localhost:{h.server_address[1]}" for h in self.servers)

    def close(self) -> None:
        for httpd in self.servers:
            httpd.shutdown()
            httpd.server_close()


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    s = Sites()
    yield s
    s.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sites: Sites) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("dictate") / "data"
    data_dir.mkdir()
    # English only (READER_WHISPER_MULTILINGUAL=none), as some deployments are: a French field is refused.
    base, proc = start_server(data_dir, workers=2, env={"READER_CORS_ORIGINS": sites.allowed,
                                                        "READER_WHISPER_MULTILINGUAL": "none"})
    try:
        yield base
    finally:
        stop_server(proc)


def write_capture(samples: np.ndarray, path: Path) -> float:
    """A 16-bit mono WAV at the capture rate, with silence around; returns its length."""
    pad = np.zeros(int(LEAD * CAPTURE_RATE), dtype=np.float32)
    tail = np.zeros(int(TAIL * CAPTURE_RATE), dtype=np.float32)
    pcm = np.concatenate([pad, samples.astype(np.float32), tail])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(CAPTURE_RATE)
        w.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
    return LEAD + len(samples) / CAPTURE_RATE


def clear_take(server: str) -> np.ndarray:
    """A voice saying EMAIL_WORDS, at the capture rate: a take the server's Whisper hears right
    after Opus compression. eSpeak NG's take comes first, as it is the same every time; Piper's
    sampling noise makes each of its takes different, and now and then one was heard as "smith
    that example". These tests are about the page and its protocol, so such a take is not used."""
    from reader.audio import decode, encode

    takes = [("espeak:en-us", "")] + [("piper:en_US-joe-medium", e) for e in ("", ".", "!", " .")]
    for voice, ending in takes:  # eSpeak's take is the same every time; each Piper text is a new take
        request = urllib.request.Request(
            server + "/api/speech", data=json.dumps({"text": EMAIL_WORDS + ending, "format": "wav",
                                                     "voice": voice}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as resp:
            samples = decode(resp.read(), rate=CAPTURE_RATE)
        opus = encode((np.clip(samples, -1, 1) * 32767).astype(np.int16), CAPTURE_RATE, "opus")
        boundary = "take"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"take.ogg\"\r\n"
                "Content-Type: audio/ogg\r\n\r\n").encode() + opus + f"\r\n--{boundary}--\r\n".encode()
        check = urllib.request.Request(server + "/api/transcriptions", data=body,
                                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(check, timeout=120) as resp:
            heard = json.loads(resp.read())["text"].lower()
        if re.search(r"\bat\b", heard) and "smith" in heard:
            return samples
    return samples  # the last take: the test then says what was heard


@pytest.fixture(scope="module")
def wavs(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, float]]:
    """name -> (capture file, seconds until the speech ends)."""
    from reader.audio import decode

    folder = tmp_path_factory.mktemp("capture")
    out: dict[str, tuple[Path, float]] = {}
    human = SPEECH / speech_manifest()[HUMAN]["path"]
    out["human"] = folder / "human.wav", write_capture(decode(human.read_bytes(), rate=CAPTURE_RATE), folder / "human.wav")
    long = SPEECH / speech_manifest()[LONG]["path"]
    out["long"] = folder / "long.wav", write_capture(decode(long.read_bytes(), rate=CAPTURE_RATE), folder / "long.wav")
    out["email"] = folder / "email.wav", write_capture(clear_take(server), folder / "email.wav")
    silent = np.zeros(CAPTURE_RATE, dtype=np.float32)
    out["silent"] = folder / "silent.wav", write_capture(silent, folder / "silent.wav")
    return out


@pytest.fixture(scope="module")
def browsers(wavs: dict[str, tuple[Path, float]]) -> Iterator[Callable[[str], Browser]]:
    """A browser per microphone: "human", "email", "silent", or "refused" (no permission)."""
    launched: dict[str, Browser] = {}
    with sync_playwright() as playwright:

        def get(mic: str) -> Browser:
            if mic not in launched:
                args = ["--use-fake-device-for-media-stream"]
                if mic != "refused":
                    args += ["--use-fake-ui-for-media-stream",
                             f"--use-file-for-fake-audio-capture={wavs[mic][0]}"]
                launched[mic] = launch(playwright, args)
            return launched[mic]

        yield get
        for b in launched.values():
            b.close()


@pytest.fixture
def open_page(browsers: Callable[[str], Browser]) -> Iterator[Callable[..., Page]]:
    """A page in a fresh context of the browser with that microphone; at the end, fails on
    script errors, CSP violations or a request off loopback (`allow`: console errors a test
    expects)."""
    contexts = []
    errors: list[str] = []

    def open_(mic: str, width: int = 1280, allow: tuple[str, ...] = ()) -> Page:
        context = browsers(mic).new_context(
            viewport={"width": width, "height": 900 if width > 400 else 844}, reduced_motion="reduce")
        contexts.append(context)
        page = context.new_page()
        # The other sites of the cross-origin test live on loopback too: nothing leaves it.
        watch_page(page, errors, allow=allow, origins=("http://127.0.0.1:", "http://localhost:"))
        return page

    yield open_
    close_checked(contexts, errors)


def open_demo(page: Page, server: str) -> None:
    page.goto(server + "/dictate")
    page.wait_for_function("() => document.querySelectorAll('.dictate-controls').length >= 10")


def mic(page: Page, name: str) -> Any:
    return page.get_by_role("button", name=f"Dictate: {name}", exact=True)


def wait_recording(page: Page, on: bool = True) -> None:
    page.wait_for_function(
        "on => !!document.querySelector('.dictate-controls[data-state=recording]') === on", arg=on)


def wait_value(page: Page, selector: str, old: str) -> str:
    page.wait_for_function(
        "([s, old]) => document.querySelector(s).value !== old"
        " || document.querySelector('.dictate-message[data-kind=error]')",
        arg=[selector, old], timeout=TRANSCRIBE_TIMEOUT,
    )
    errors = page.locator(".dictate-message[data-kind=error]").all_inner_texts()
    assert not errors, errors
    return page.input_value(selector)


def wait_for_live(page: Page, text: str) -> None:
    """The one polite live region dictate.js adds says `text`."""
    page.wait_for_function(
        "t => (document.querySelector('.dictate-visually-hidden[role=status]')?.textContent || '')"
        ".includes(t)", arg=text)


def dictate_by_taps(page: Page, button: Any, seconds: float) -> None:
    """Tap to start, wait while the fake microphone speaks, tap to stop."""
    button.click()
    wait_recording(page)
    assert button.get_attribute("aria-pressed") == "true"
    time.sleep(seconds + 0.6)
    button.click()


# -- end to end, with a microphone --------------------------------------------------------


COUNT_TONES = """
window.__tones = [];
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  const osc = make.call(this);
  queueMicrotask(() => window.__tones.push(osc.frequency.value));
  return osc;
};
"""


def preview(page: Page) -> str:
    return page.evaluate("() => document.querySelector('.dictate-controls[data-state] .dictate-live:not([hidden])')"
                         "?.textContent || ''")


def test_dictation_replaces_the_selection_in_a_textarea(
    server: str, open_page: Callable[..., Page], wavs: dict[str, tuple[Path, float]]
) -> None:
    """A person's recorded speech lands where the selection was, in the words they said. While
    they speak, the words appear under the field (before the recording ends); the start and
    stop are told by sounds, not by speech the microphone would hear; the result is
    announced once."""
    page = open_page("long")
    page.add_init_script(COUNT_TONES)
    open_demo(page, server)
    page.fill("#message", "Dear team, XXX Thanks.")
    page.evaluate("() => document.getElementById('message').setSelectionRange(11, 14)")
    button = mic(page, "Your message")
    button.click()
    wait_recording(page)
    started = time.monotonic()
    assert page.evaluate("() => window.__tones") == [660, 880]  # the rising pair, before recording
    meter = page.locator(".dictate-controls[data-state=recording] .dictate-meter")
    assert meter.is_visible()
    time.sleep(1.5)  # into the speech: the level meter moves
    level = meter.locator(".dictate-level").evaluate("el => el.style.transform")
    assert level.startswith("scaleX(") and level != "scaleX(0.000)", level
    # Live words: "Printing, in the only sense ..." shows while the speech goes on.
    speech_ends = started + wavs["long"][1] - LEAD
    page.wait_for_function(
        "() => /printing/i.test(document.querySelector('.dictate-live:not([hidden])')?.textContent || '')",
        timeout=max(speech_ends - time.monotonic(), 0.5) * 1000)
    shown_after = time.monotonic() - started
    assert time.monotonic() < speech_ends, "the first words came only after the speech ended"
    assert page.locator(".dictate-live").first.get_attribute("aria-live") is None
    print(f"first live words after {shown_after:.1f} s of recording")
    check_axe(page, "dictation, the words while speaking")
    shoot(page, "dictate-1280-live-words")
    time.sleep(max(speech_ends + 0.6 - time.monotonic(), 0))
    button.click()
    value = wait_value(page, "#message", "Dear team, XXX Thanks.")
    assert button.get_attribute("aria-pressed") == "false"
    assert value.startswith("Dear team, ") and value.endswith(" Thanks."), value
    said = value[len("Dear team, "):-len(" Thanks.")]
    reference = speech_manifest()[LONG]["reference"]
    assert wer(reference, said) < 0.2, (reference, said)
    wait_for_live(page, "Added to Your message")
    assert page.evaluate("() => window.__tones") == [660, 880, 880, 660]
    assert page.locator(".dictate-live:not([hidden])").count() == 0  # the preview is gone
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Dictate: Your message"
    # The on-screen Undo takes the dictated words out again.
    undo = page.get_by_role("button", name="Undo: Your message")
    check_axe(page, "dictation done, with Undo")
    undo.click()
    assert page.input_value("#message") == "Dear team, XXX Thanks."
    wait_for_live(page, "Undone in Your message")


def test_without_sounds_start_and_stop_are_spoken(
    server: str, open_page: Callable[..., Page], wavs: dict[str, tuple[Path, float]]
) -> None:
    """The demo's setting switches the sounds off (remembered): the live region says it instead."""
    page = open_page("human")
    page.add_init_script(COUNT_TONES)
    open_demo(page, server)
    page.get_by_label("Sounds for start and stop").uncheck()
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.dictate-controls').length >= 10")
    assert not page.get_by_label("Sounds for start and stop").is_checked()
    button = mic(page, "Full name")
    button.click()
    wait_recording(page)
    wait_for_live(page, "Recording for Full name")
    time.sleep(2.0)
    button.click()
    wait_value(page, "#name", "")
    wait_for_live(page, "Added to Full name")
    assert page.evaluate("() => window.__tones") == []


def test_push_to_talk_fills_an_email_field_and_reads_it_back(
    server: str, open_page: Callable[..., Page], wavs: dict[str, tuple[Path, float]]
) -> None:
    """Hold the button (here: Space) while speaking; "at" and "dot" make an address."""
    page = open_page("email")
    open_demo(page, server)
    # The address must be heard exactly; on a 2-core CI machine the server's live passes and
    # Chromium's fake capture share the CPU, and a starved capture lost a word now and then.
    # The live passes have their own test (the textarea above); here they are off.
    page.evaluate("() => document.getElementById('email').setAttribute('data-dictate-live', 'off')")
    button = mic(page, "Email address")
    button.focus()
    page.keyboard.down("Space")
    wait_recording(page)
    time.sleep(wavs["email"][1] + 0.6)
    page.keyboard.up("Space")  # letting go stops the recording
    value = wait_value(page, "#email", "")
    assert EMAIL.match(value), value
    assert value == "john.smith@example.com"

    spoken: list[Any] = []
    page.on("request", lambda r: spoken.append(r.post_data_json) if r.url.endswith("/api/speech") else None)
    read = page.get_by_role("button", name="Read back: Email address")
    read.click()
    page.get_by_role("button", name="Stop reading: Email address").wait_for()
    assert spoken == [{"text": "john dot smith at example dot com"}]
    page.get_by_role("button", name="Read back: Email address").wait_for(timeout=TRANSCRIBE_TIMEOUT)


def test_another_site_can_use_dictate_js(
    server: str, sites: Sites, open_page: Callable[..., Page], wavs: dict[str, tuple[Path, float]]
) -> None:
    """A page of an origin in READER_CORS_ORIGINS loads dictate.js from the server and
    dictates through it; a page of any other origin cannot."""
    sites.form = (
        "<!doctype html><html lang='en'><head><title>Sign up</title>"
        f"<link rel='stylesheet' href='{server}/static/dictate.css'>"
        f"<script type='module' src='{server}/static/dictate.js'></script></head>"
        "<body><main><label for='e'>Your email</label><input id='e' type='email' data-dictate"
        " data-dictate-live='off'>"  # heard exactly: no live passes competing for the CPU (see above)
        "</main></body></html>"
    )
    page = open_page("email", allow=(r"CORS policy|Failed to load resource",))
    page.goto(sites.other + "/form")
    page.wait_for_load_state("networkidle")
    assert page.locator(".dictate-controls").count() == 0

    page.goto(sites.allowed + "/form")
    button = mic(page, "Your email")
    button.wait_for()
    dictate_by_taps(page, button, wavs["email"][1])
    value = wait_value(page, "#e", "")
    assert EMAIL.match(value), value


def test_keyboard_only_walkthrough(
    server: str, open_page: Callable[..., Page], wavs: dict[str, tuple[Path, float]]
) -> None:
    """Open a text, play, move by sentence, change speed and theme, go to the form,
    dictate, send: the keyboard alone, no mouse."""
    page = open_page("human")
    page.goto(server + "/")
    tab_to(page, "(el) => el.id === 'text'")
    page.keyboard.type(FOUR_SENTENCES)
    tab_to(page, "(el) => el.textContent.trim() === 'Read aloud'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/read/"))
    wait_for_state(page, "idle")
    indexes = sentence_indexes(page)

    tab_to(page, "(el) => el.id === 'play-pause'")
    page.keyboard.press("Enter")
    wait_for_current(page, indexes[0])
    page.keyboard.press("Alt+Period")
    wait_for_current(page, indexes[1])
    tab_to(page, "(el) => el.id === 'speed'")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#speed") == "1.25"
    tab_to(page, "(el) => el.id === 'settings-toggle'")
    page.keyboard.press("Enter")
    tab_to(page, "(el) => el.id === 'pref-theme'")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "contrast"
    if page.evaluate("() => document.documentElement.dataset.readerState") == "playing":
        page.keyboard.press("Alt+P")
        wait_for_state(page, "paused")

    tab_to(page, "(el) => el.textContent.trim() === 'Dictation demo'", key="Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dictate$"))
    page.wait_for_function("() => document.querySelectorAll('.dictate-controls').length >= 10")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "contrast"
    tab_to(page, "(el) => el.id === 'name'")
    page.keyboard.type("Ada Lovelace")
    tab_to(page, "(el) => el.id === 'email'")
    page.keyboard.type("ada@example.com")
    tab_to(page, "(el, name) => el.getAttribute('aria-label') === name", "Dictate: Your message")
    page.keyboard.press("Space")
    wait_recording(page)
    time.sleep(wavs["human"][1] + 0.6)
    page.keyboard.press("Space")
    said = wait_value(page, "#message", "")
    tab_to(page, "(el) => el.textContent.trim() === 'Send'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dictate$"))
    page.get_by_role("heading", name="Answers received").wait_for()
    message = page.locator(".answer-message").inner_text()
    assert message == said.strip()
    assert wer(speech_manifest()[HUMAN]["reference"], message) < 0.2, message
    check_axe(page, "dictation answers, high contrast")


# -- failures leave the field as it was ----------------------------------------------------


def test_silence_is_reported_and_the_field_untouched(
    server: str, open_page: Callable[..., Page], wavs: dict[str, tuple[Path, float]]
) -> None:
    page = open_page("silent", width=390)
    open_demo(page, server)
    page.fill("#name", "Ada")
    dictate_by_taps(page, mic(page, "Full name"), 1.0)
    error = page.locator(".dictate-message[data-kind=error]")
    error.wait_for()
    assert "No sound came from the microphone" in error.inner_text()
    assert page.input_value("#name") == "Ada"
    wait_for_live(page, "No sound came from the microphone")
    check_axe(page, "dictation error message")
    shoot(page, "dictate-390-error")


def test_refused_or_missing_microphone_is_explained(
    server: str, open_page: Callable[..., Page]
) -> None:
    page = open_page("refused")
    open_demo(page, server)
    page.fill("#message", "Kept as it is.")
    button = mic(page, "Your message")
    button.click()
    error = page.locator(".dictate-message[data-kind=error]")
    error.wait_for()
    assert "Microphone access was refused" in error.inner_text()
    assert button.get_attribute("aria-pressed") == "false"
    assert page.input_value("#message") == "Kept as it is."

    # No microphone at all: the browser says NotFoundError (stood in for here: the fake
    # device flag always provides one).
    page = open_page("refused")
    page.add_init_script(
        "navigator.mediaDevices.getUserMedia = () =>"
        " Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));")
    open_demo(page, server)
    mic(page, "Full name").click()
    page.locator(".dictate-message[data-kind=error]").wait_for()
    assert "No microphone was found" in page.locator(".dictate-message[data-kind=error]").inner_text()
    assert page.input_value("#name") == ""


def test_server_error_is_shown_and_the_field_untouched(
    server: str, open_page: Callable[..., Page], wavs: dict[str, tuple[Path, float]]
) -> None:
    """The English-only model refuses French: the server's explanation is shown."""
    page = open_page("human", allow=(r"status of 422",))
    open_demo(page, server)
    page.evaluate("() => document.getElementById('town').setAttribute('lang', 'fr')")
    page.fill("#town", "Lyon")
    dictate_by_taps(page, mic(page, "Town or city"), 1.5)
    error = page.locator(".dictate-message[data-kind=error]")
    error.wait_for(timeout=TRANSCRIBE_TIMEOUT)
    assert "English only" in error.inner_text()
    assert page.input_value("#town") == "Lyon"


# -- what a transcript does to a field (the real dictate.js, no microphone needed) ---------

FORMATTING = [
    ("#message", "Hello comma how are you question mark", "Hello, how are you?"),
    ("#message", "Hello, comma, how are you? Question mark.", "Hello, how are you?"),
    ("#message", "Dear Sam new paragraph thanks for the call full stop", "Dear Sam\n\nThanks for the call."),
    ("#message", "First line. New line. Second line exclamation mark", "First line\nSecond line!"),
    ("#message", "Note colon bring the keys period", "Note: bring the keys."),
    ("#street", "12 high street new line flat 3.", "12 high street flat 3"),
    ("#name", "ada lovelace.", "Ada Lovelace"),
    ("#town", "new york.", "New York"),
    ("#email", "John dot Smith at example dot com.", "john.smith@example.com"),
    ("#email", "John.Smith@Example.com.", "john.smith@example.com"),
    ("#email", "jane underscore doe two at mail dot example dot org", "jane_doe2@mail.example.org"),
    ("#phone", "Oh two oh, seven nine four six, double oh one two.", "02079460012"),
    ("#phone", "Plus 44 20 7946 0000.", "+442079460000"),
    ("#postcode", "sw1a 1aa.", "SW1A 1AA"),
    ("#dob-day", "The twenty-seventh.", "27"),
    ("#dob-day", "3rd", "3"),
    ("#dob-month", "March.", "3"),
    ("#dob-month", "twelve", "12"),
    ("#dob-year", "Nineteen ninety.", "1990"),
    ("#dob-year", "Nineteen oh five", "1905"),
    ("#dob-year", "two thousand and three", "2003"),
    # Spoken digit patterns in phone and number fields, and number words misheard as homophones.
    ("#phone", "Double five.", "55"),
    ("#phone", "Double-five, triple nine.", "55999"),
    ("#phone", "oh one six one, four nine six, double oh seven", "0161496007"),
    ("#phone", "oh, to, oh, for, six.", "02046"),
    ("#phone", "0207 Double4.", "020744"),
    # Digit patterns as Whisper heard the recordings of tests/data/commands, on every CPU kernel
    # (bench/commands.py): the grammar must read each of them right, whatever the machine.
    ("#phone", "Purple 9.", "999"),  # Piper's "triple nine", on every kernel
    ("#phone", "Purple, nine.", "999"),
    ("#phone", "Triple, nine.", "999"),
    ("#phone", "triple nine", "999"),
    ("#phone", "Double-five.", "55"),
    ("#phone", "Double 5.", "55"),
    ("#phone", "0207, double, 4.", "020744"),
    ("#phone", "0207 Double Four.", "020744"),
    ("#phone", "Oh, 207, double, four.", "020744"),
    ("#phone", "zero, two, oh, seven, double four.", "020744"),
    ("#phone", "Dabble five.", "55"),
    ("#phone", "Double fives.", "55"),  # a number word heard as its plural
    ("#phone", "Double sixes.", "66"),  # the rest of a word heard right, its first sound not
    ("#phone", "Triple down.", ""),  # "down" could be nine, ten or one: nothing is guessed
    ("#dob-day", "Double one.", "11"),
    # A command misheard, standing on its own (the whole utterance, or a sentence at an edge).
    ("#message", "Comment.", ","),
    ("#message", "Kama.", ","),
    ("#message", "Colin.", ":"),
    ("#message", "Question more?", "?"),
    ("#message", "Phil, stop.", "."),
    ("#message", "And new line.", "\n"),
    ("#message", "I went home. Fill stop.", "I went home."),
    ("#message", "Dear team. Comment.", "Dear team,"),
    # ... and words, wherever they are words.
    ("#message", "Come in.", "Come in."),
    ("#message", "Comments are welcome.", "Comments are welcome."),
    ("#message", "Colin is here.", "Colin is here."),
    ("#message", "And do you?", "And do you?"),
    ("#name", "Colin.", "Colin"),
    ("#town", "Colin.", "Colin"),
    ("#email", "colin at example dot com", "colin@example.com"),
]

APPLY = """async ([selector, transcript]) => {
  const { dictationFor } = await import('/static/dictate.js');
  const field = document.querySelector(selector);
  dictationFor(field).apply(transcript);
  return field.value;
}"""


def test_spoken_commands_and_field_aware_formatting(
    server: str, open_page: Callable[..., Page]
) -> None:
    page = open_page("silent")
    open_demo(page, server)
    wrong = []
    for selector, transcript, expected in FORMATTING:
        page.fill(selector, "")
        got = page.evaluate(APPLY, [selector, transcript])
        if got != expected:
            wrong.append(f"{selector} {transcript!r}: {got!r}, expected {expected!r}")
    assert not wrong, "\n".join(wrong)


def test_delete_that_scratch_that_and_undo(server: str, open_page: Callable[..., Page]) -> None:
    page = open_page("silent")
    open_demo(page, server)
    inputs = page.evaluate("""() => { window.__inputs = 0;
        document.getElementById('message').addEventListener('input', () => window.__inputs++); }""")
    assert inputs is None
    steps = [
        ("Hello world.", "Hello world."),
        ("how are you?", "Hello world. How are you?"),
        ("Delete that.", "Hello world."),
        ("Undo.", "Hello world. How are you?"),
        ("Scratch that.", "Hello world."),
        ("delete that", ""),
        ("undo", "Hello world."),
        ("This is wrong, scratch that.", "Hello world."),  # the whole utterance is dropped
        ("I want to undo the change.", "Hello world. I want to undo the change."),  # words, not a command
    ]
    for transcript, expected in steps:
        assert page.evaluate(APPLY, ["#message", transcript]) == expected, transcript
    assert page.evaluate("() => window.__inputs") == 8

    # Typed by hand since: dictation's commands leave it alone, and say so.
    page.fill("#message", "Typed by hand.")
    assert page.evaluate(APPLY, ["#message", "delete that"]) == "Typed by hand."
    assert "changed by hand" in page.locator("#message + .dictate-controls .dictate-message").inner_text()

    # At the caret, replacing the selection, with the spaces it needs.
    page.fill("#message", "Hello world")
    page.evaluate("() => document.getElementById('message').setSelectionRange(6, 11)")
    assert page.evaluate(APPLY, ["#message", "There."]) == "Hello There."
    page.fill("#message", "Onetwo")
    page.evaluate("() => document.getElementById('message').setSelectionRange(3, 3)")
    assert page.evaluate(APPLY, ["#message", "and"]) == "One and two"
    # Too long for the field: refused, field untouched.
    page.fill("#dob-day", "")
    assert page.evaluate(APPLY, ["#dob-day", "one two three"]) == ""
    assert "at most 2 characters" in page.locator("#dob-day + .dictate-controls .dictate-message").inner_text()


COMMANDS = Path(__file__).parent / "data" / "commands"
START = "Dear team"
COMMAND_RESULTS = {  # phrase -> (field, what it leaves there after START was dictated into it)
    "undo": ("#message", ""),
    "delete that": ("#message", ""),
    "comma": ("#message", "Dear team,"),
    "question mark": ("#message", "Dear team?"),
    "full stop": ("#message", "Dear team."),
    "period": ("#message", "Dear team."),
    "exclamation mark": ("#message", "Dear team!"),
    "colon": ("#message", "Dear team:"),
    "new line": ("#message", "Dear team\n"),
    "new paragraph": ("#message", "Dear team\n\n"),
    "double five": ("#phone", "55"),
    "oh two oh seven double four": ("#phone", "020744"),
    "triple nine": ("#phone", "999"),
}


def heard(server: str, clip: Path, field: str) -> str:
    """The final text of the live endpoint for a recording (what dictate.js gets on stop)."""
    boundary = "clip"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{clip.name}\"\r\n"
            "Content-Type: audio/ogg\r\n\r\n").encode() + clip.read_bytes()
    for name, value in (("language", "en"), ("partial", "0"), ("field", field)):
        body += f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}".encode()
    body += f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server + "/api/transcriptions/live", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=120) as resp:
        events = [json.loads(line) for line in resp.read().decode().splitlines()]
    return str(events[-1]["text"])


def test_spoken_commands_from_several_voices(server: str, open_page: Callable[..., Page]) -> None:
    """Recordings of each command and digit pattern said by ten voices (tests/data/commands)
    go through the server's final pass and dictate.js's reading of it, as on stop. Each
    command must work for at least four voices in five (80 %), and 90 % of all must. With
    every CPU kernel CTranslate2 can choose, the worst phrase worked for 9 of 10 and the whole
    table for 95 % or more (bench/commands.py), so one more voice heard wrong still passes."""
    page = open_page("silent")
    open_demo(page, server)
    voices = sorted(p for p in COMMANDS.iterdir() if p.is_dir())
    assert len(voices) == 10
    right: dict[str, list[str]] = {phrase: [] for phrase in COMMAND_RESULTS}
    table = []
    for voice in voices:
        for phrase, (selector, expected) in COMMAND_RESULTS.items():
            kind = "text" if selector == "#message" else "tel"
            text = heard(server, voice / f"{phrase.replace(' ', '-')}.ogg", kind)
            page.fill(selector, "")
            if selector == "#message":
                page.evaluate(APPLY, [selector, START])
            got = page.evaluate(APPLY, [selector, text])
            if got == expected:
                right[phrase].append(voice.name)
            table.append(f"{voice.name:<24} {phrase!r:<32} heard {text!r:<34} -> {got!r}")
    print("\n".join(table))
    total = sum(len(v) for v in right.values())
    weak = {phrase: names for phrase, names in right.items() if len(names) < 0.8 * len(voices)}
    assert not weak, f"commands that worked for fewer than 4 in 5 voices: {weak}\n" + "\n".join(table)
    assert total >= 0.9 * len(voices) * len(COMMAND_RESULTS), "\n".join(table)
