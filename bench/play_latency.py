"""Time from pressing Play on a freshly opened document to sound, in Chromium.

    python bench/play_latency.py

A real `reader serve` (Piper, the default voice) and Debian's Chromium through Playwright. For
each of 10 fresh documents the reader page is opened, the reader looks at it for two seconds,
then Play is clicked; the time is from the click to the first `playing` event of an audio
element. The baseline, in the same run, is the same with the early fetch turned off (?warm=0).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import start_server, stop_server  # noqa: E402

TIMER = """
window.__playing = null;
document.addEventListener("click", () => { window.__clicked = performance.now(); }, true);
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  this.addEventListener("playing", () => { window.__playing ??= performance.now(); }, { once: true });
  return play.apply(this, arguments);
};
"""


def _measure(page: object, base: str, n: int, warm: bool) -> float:
    import json
    import urllib.request

    text = f"A fresh document number {n}, {'warm' if warm else 'cold'}. It has a second sentence too."
    req = urllib.request.Request(base + "/api/documents", data=json.dumps({"text": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        doc = json.load(resp)["id"]
    page.goto(f"{base}/read/{doc}" + ("" if warm else "?warm=0"))  # type: ignore[attr-defined]
    page.wait_for_timeout(2000)  # type: ignore[attr-defined]
    page.click("#play-pause")  # type: ignore[attr-defined]
    page.wait_for_function("() => window.__playing !== null", timeout=60000)  # type: ignore[attr-defined]
    took = page.evaluate("() => window.__playing - window.__clicked")  # type: ignore[attr-defined]
    page.click("#play-pause")  # type: ignore[attr-defined]
    return float(took) / 1000


def main() -> None:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="reader-play-"))
    data = tmp / "data"
    data.mkdir()
    base, proc = start_server(data, workers=2)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                         args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"])
            page = browser.new_page()
            page.add_init_script(TIMER)
            _measure(page, base, 0, True)  # load the voice in the workers first
            _measure(page, base, 0, False)
            warm = [_measure(page, base, n, True) for n in range(1, 11)]
            cold = [_measure(page, base, n, False) for n in range(1, 11)]
            browser.close()
    finally:
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    w, c = statistics.median(warm), statistics.median(cold)
    print(f"click to sound, p50 over 10 fresh documents: {w * 1000:.0f} ms with the early fetch, "
          f"{c * 1000:.0f} ms without (ratio {w / c:.2f})")
    print(f"with: max {max(warm) * 1000:.0f} ms; without: max {max(cold) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
