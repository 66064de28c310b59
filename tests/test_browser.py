"""The pages in a real browser: axe-core, the paste form, playback, keyboard use, screenshots.

Debian's Chromium driven by Playwright (never `playwright install`), against the real
server and the real Piper voice from the `live_server` fixture in conftest.py.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

pytestmark = pytest.mark.browser

# Read at import: the autouse fixture in conftest.py clears READER_* for each test.
REQUIRE_BROWSER = os.environ.get("READER_REQUIRE_BROWSER") == "1"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
AXE_JS = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
VIEWPORTS: dict[int, ViewportSize] = {
    1280: {"width": 1280, "height": 900},
    390: {"width": 390, "height": 844},
}
Scheme = Literal["light", "dark"]
FOUR_SENTENCES = (
    "The sun rose over the hills. Birds began to sing. "
    "A farmer walked to the field. The day had begun."
)
PLAYBACK_TIMEOUT = 60_000  # ms: the first synthesis also loads the voice

# Records what the Content-Security-Policy blocks: the pages must need nothing it forbids.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        message = "Debian's chromium is needed: apt-get install -y chromium (make browser-deps)"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens pages in fresh contexts; at the end, fails on script errors or CSP violations.

    `allow`: patterns of console errors a test expects (such as a deliberate 400).
    """
    contexts = []
    errors: list[str] = []

    def open_page(
        width: int = 1280, color_scheme: Scheme = "light", allow: tuple[str, ...] = ()
    ) -> Page:
        context = browser.new_context(
            viewport=VIEWPORTS[width], color_scheme=color_scheme, reduced_motion="reduce"
        )
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(CSP_WATCH)
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

        def on_console(msg: Any) -> None:
            if msg.type == "error" and not any(re.search(a, msg.text) for a in allow):
                errors.append(f"console: {msg.text}")

        page.on("console", on_console)
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            errors.extend(f"CSP: {v}" for v in page.evaluate("window.__cspViolations || []"))
        context.close()
    assert not errors, "\n".join(errors)


def open_text(page: Page, base_url: str, text: str) -> None:
    """Pastes `text` on the home page, submits it and waits for the reader."""
    page.goto(base_url + "/")
    page.fill("#text", text)
    page.get_by_role("button", name="Read aloud").click()
    page.wait_for_url(re.compile(r"/read/[^/?#]+$"))
    page.wait_for_function("() => document.documentElement.dataset.readerState === 'idle'")


def sentence_indexes(page: Page) -> list[str]:
    return page.eval_on_selector_all(".sentence", "els => els.map(e => e.dataset.index)")


# Predicates are functions, never expression strings: Playwright evaluates those with
# eval(), which the page's CSP (rightly) forbids.


def wait_for_current(page: Page, index: str) -> None:
    page.wait_for_function(
        "i => document.querySelector('article').dataset.current === i",
        arg=index,
        timeout=PLAYBACK_TIMEOUT,
    )


def wait_for_state(page: Page, state: str) -> None:
    page.wait_for_function(
        "s => document.documentElement.dataset.readerState === s",
        arg=state,
        timeout=PLAYBACK_TIMEOUT,
    )


def assert_one_current(page: Page, index: str) -> None:
    marked = page.eval_on_selector_all(
        "[aria-current]", "els => els.map(e => [e.dataset.index, e.className])"
    )
    assert len(marked) == 1, marked
    assert marked[0][0] == index
    assert "current" in marked[0][1].split()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    # add_script_tag would insert an inline <script>, which the page's CSP rightly blocks;
    # evaluate() runs the same source through DevTools and keeps the CSP on.
    page.evaluate(AXE_JS)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return result["violations"]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"    {node['target']}: {node['failureSummary']}")
    return "\n".join(lines)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("which", ["home", "reader"])
def test_pages_have_no_axe_violations(
    live_server: str, new_page: Callable[..., Page], which: str, width: int, color_scheme: Scheme
) -> None:
    page = new_page(width, color_scheme)
    if which == "home":
        page.goto(live_server + "/")
    else:
        open_text(page, live_server, FOUR_SENTENCES)
    violations = axe_violations(page)
    assert not violations, describe(violations)


@pytest.mark.parametrize("width", [1280, 390])
def test_reader_while_playing_has_no_axe_violations(
    live_server: str, new_page: Callable[..., Page], width: int
) -> None:
    """The sentence and word highlights keep their contrast, in both themes."""
    for color_scheme in ("light", "dark"):
        page = new_page(width, color_scheme)
        open_text(page, live_server, FOUR_SENTENCES)
        page.click("#play-pause")
        wait_for_current(page, sentence_indexes(page)[0])
        page.click("#play-pause")  # pause, so the highlight holds still for axe
        wait_for_state(page, "paused")
        violations = axe_violations(page)
        assert not violations, describe(violations)


@pytest.mark.parametrize("which", ["home", "reader"])
def test_phone_layout_reflows_with_large_targets(
    live_server: str, new_page: Callable[..., Page], which: str
) -> None:
    """At 390 px nothing scrolls sideways and every control is at least 44 px square."""
    page = new_page(390)
    if which == "home":
        page.goto(live_server + "/")
    else:
        open_text(page, live_server, FOUR_SENTENCES)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    small = page.eval_on_selector_all(
        "main button, main select, main textarea, main input:not([type=file])",
        """els => els.map(e => [e.id || e.name, e.getBoundingClientRect()])
                   .filter(([, r]) => r.width > 0 && (r.width < 44 || r.height < 44))
                   .map(([id, r]) => `${id}: ${Math.round(r.width)}x${Math.round(r.height)}`)""",
    )
    assert not small, small


def test_form_error_is_shown_and_linked(live_server: str, new_page: Callable[..., Page]) -> None:
    page = new_page(allow=(r"status of 4\d\d",))
    page.goto(live_server + "/")
    page.fill("#text", "   \n  ")  # passes `required`, but there is nothing to read
    page.get_by_role("button", name="Read aloud").click()
    page.wait_for_load_state()
    assert "/read/" not in page.url
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    alert_id = alert.get_attribute("id")
    textarea = page.locator("#text")
    assert alert_id in (textarea.get_attribute("aria-describedby") or "").split()
    assert textarea.get_attribute("aria-invalid") == "true"
    assert page.title().startswith("Error")
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_home_page_works_without_javascript(live_server: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + "/")
        for name in ("Web address", "Upload a file"):
            field = page.get_by_label(name)
            assert field.is_disabled()
        page.fill("#text", FOUR_SENTENCES)
        page.get_by_role("button", name="Read aloud").click()
        page.wait_for_url(re.compile(r"/read/[^/?#]+$"))
        assert page.locator(".sentence").count() == 4
    finally:
        context.close()


def test_pasted_text_opens_the_reader(live_server: str, new_page: Callable[..., Page]) -> None:
    page = new_page()
    open_text(page, live_server, FOUR_SENTENCES)
    texts = page.eval_on_selector_all(".sentence", "els => els.map(e => e.textContent)")
    assert texts == [
        "The sun rose over the hills.",
        "Birds began to sing.",
        "A farmer walked to the field.",
        "The day had begun.",
    ]
    article = page.locator("article")
    assert article.get_attribute("data-count") == "4"
    assert article.get_attribute("data-doc-id")
    assert page.locator("h1").count() == 1
    assert page.get_by_role("region", name="Player").is_visible()
    assert page.locator("#position").inner_text() == "Sentence 1 of 4"


def test_playback_advances_sentence_by_sentence(
    live_server: str, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    open_text(page, live_server, FOUR_SENTENCES)
    indexes = sentence_indexes(page)
    page.click("#play-pause")
    wait_for_state(page, "playing")
    assert page.locator("#play-pause").inner_text() == "Pause"
    for n, index in enumerate(indexes[:3]):
        wait_for_current(page, index)
        assert_one_current(page, index)
        assert page.locator("#position").inner_text().startswith(f"Sentence {n + 1} of 4")
    wait_for_state(page, "finished")
    assert page.locator("[aria-current]").count() == 0
    page.wait_for_function("() => document.getElementById('status').textContent === 'Finished.'")


def test_clicking_a_sentence_reads_from_there(
    live_server: str, new_page: Callable[..., Page]
) -> None:
    page = new_page(390)
    open_text(page, live_server, FOUR_SENTENCES)
    third = sentence_indexes(page)[2]
    page.click(f'.sentence[data-index="{third}"]')
    wait_for_state(page, "playing")
    wait_for_current(page, third)
    assert_one_current(page, third)


def test_keyboard_only(live_server: str, new_page: Callable[..., Page]) -> None:
    page = new_page()
    open_text(page, live_server, FOUR_SENTENCES)
    indexes = sentence_indexes(page)
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "play-pause":
            break
    else:
        pytest.fail("Tab never reached the Play button")

    page.keyboard.press("Enter")
    wait_for_state(page, "playing")
    wait_for_current(page, indexes[0])
    page.keyboard.press("Alt+P")
    wait_for_state(page, "paused")
    current = page.get_attribute("article", "data-current")
    assert current is not None

    page.keyboard.press("Alt+Period")
    nxt = indexes[indexes.index(current) + 1]
    wait_for_current(page, nxt)
    assert_one_current(page, nxt)
    page.keyboard.press("Alt+Comma")
    wait_for_current(page, current)

    page.keyboard.press("Alt+P")
    wait_for_state(page, "playing")
    page.keyboard.press("Alt+Period")
    wait_for_current(page, nxt)
    # Nothing took the focus away from where the user left it.
    assert page.evaluate("document.activeElement.id") == "play-pause"


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(live_server: str, new_page: Callable[..., Page], width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for color_scheme in ("light", "dark"):
        suffix = "" if color_scheme == "light" else "-dark"
        page = new_page(width, color_scheme)
        page.goto(live_server + "/")
        page.screenshot(path=SCREENSHOTS / f"home-{width}{suffix}.png", full_page=True)
        open_text(page, live_server, FOUR_SENTENCES)
        page.click(f'.sentence[data-index="{sentence_indexes(page)[1]}"]')
        page.wait_for_function(
            "() => document.querySelector('.sentence.current') !== null", timeout=PLAYBACK_TIMEOUT
        )
        page.click("#play-pause")
        wait_for_state(page, "paused")
        page.screenshot(path=SCREENSHOTS / f"reader-{width}{suffix}.png", full_page=True)
