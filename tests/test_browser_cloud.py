"""The reader page with a cloud voice: the style select appears, the chosen style reaches the
service as `instructions`, and the page stays accessible. The cloud is the local stand-in
that speaks Azure's wire protocol (tests/fake_azure.py); everything stays on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import start_server, stop_server
from fake_azure import FakeAzure
from playwright.sync_api import Browser
from test_browser import (  # noqa: F401  (the module-scoped browser fixture)
    browser,
    check_axe,
    close_checked,
    open_text,
    wait_for_state,
    watch_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cloud_server(tmp_path_factory: pytest.TempPathFactory, espeak: Any, whisper: Any) -> Iterator[tuple[str, FakeAzure]]:
    fake = FakeAzure(lambda text: espeak.synthesize(text, "en-us"),
                     lambda samples: whisper.transcribe(samples, language="en").text).start()
    data_dir = tmp_path_factory.mktemp("cloud-live") / "data"
    data_dir.mkdir()
    base, proc = start_server(data_dir, workers=1, env={
        "READER_EXTRA_TTS": "espeak,azure", "AZURE_OPENAI_ENDPOINT": fake.url,
        "AZURE_OPENAI_API_KEY": fake.key})
    try:
        yield base, fake
    finally:
        stop_server(proc)
        fake.stop()


def test_cloud_voice_with_a_style(cloud_server: tuple[str, FakeAzure], browser: Browser) -> None:
    base, fake = cloud_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    errors: list[str] = []
    try:
        page = context.new_page()
        watch_page(page, errors, origins=(base,))
        open_text(page, base, "A cloud voice reads this. It reads calmly. It reads the next ones ahead. "
                              "In parallel, not one by one. Then it stops.")
        style = page.locator("#style-setting")
        assert not style.is_visible()  # the offline default voice takes no style
        label = page.eval_on_selector("#voice option[value='azure:coral']", "o => o.textContent")
        assert "AI-generated" in label  # people are told the voice is synthetic and in the cloud
        page.select_option("#voice", "azure:coral")
        style.wait_for(state="visible")
        options = page.eval_on_selector_all("#style option", "os => os.map(o => o.value)")
        assert "calm narrator" in options
        page.select_option("#style", "calm narrator")
        check_axe(page, "reader with a cloud voice and its style select")

        # A service that takes its time, so requests in flight overlap if they run in parallel.
        fake.chunk_size, fake.chunk_delay = 2048, 0.05
        fake.overlap_wait = 10.0  # the first answer ends only once another is in flight (or 10 s on)
        page.click("#play-pause")
        wait_for_state(page, "playing")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(fake.speech_requests()) < 2:
            time.sleep(0.1)
        sent = fake.speech_requests()
        assert sent, "no request reached the cloud stand-in"
        body = sent[0].json or {}
        assert body["voice"] == "coral"
        assert body["input"] == "A cloud voice reads this."
        assert "calm" in body.get("instructions", "").lower()
        wait_for_state(page, "finished")
        # The sentences ahead were asked for together (the server bounds them per deployment).
        assert fake.max_in_flight >= 2, fake.max_in_flight
        assert len({r.json["input"] for r in fake.speech_requests() if r.json}) == 5
        assert page.evaluate("() => localStorage.getItem('reader.style')") == "calm narrator"
    finally:
        fake.overlap_wait = 0.0
        close_checked([context], errors)
