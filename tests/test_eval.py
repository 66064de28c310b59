"""`reader eval` on small material made here: real Whisper, Piper and eSpeak, noise mixed at
known SNRs (measured back), error rates checked against jiwer computed directly, resume after
an interruption, a live server's latency and cost, and the HTML report checked by axe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import pytest
from conftest import ROOT, start_server, stop_server
from playwright.sync_api import Browser
from test_browser import browser, check_axe  # noqa: F401  (the module-scoped browser fixture)

from reader import audio
from reader.evaluation import material, noise, report, runs
from reader.evaluation.normalise import english, general

SPEECH = ROOT / "tests" / "data" / "speech"


@pytest.mark.parametrize(("text", "expected"), [
    ("In 1961, Dr. Smith paid $5.", "in nineteen sixty one doctor smith paid five dollars"),
    ("Um, I don't — uh — know!", "i don't know"),
    ("“Quoted,” she said; well-known/loved", "quoted she said well known or loved"),  # "/" as Reader says it
    ("It's 10:30 a.m.", "it's ten thirty am"),
    ("It's 10.30am", "it's ten thirty am"),  # as recognisers write times
    ("The U.S. office", "the us office"),
])
def test_the_english_normaliser(text: str, expected: str) -> None:
    assert english(text) == expected


def test_the_general_normaliser_folds_case_and_punctuation_only() -> None:
    assert general("Il a 3 chats, n’est-ce pas ?") == "il a 3 chats n est ce pas"
    assert general("ÉCOLE  École") == "école école"


def _clean() -> np.ndarray:
    return audio.decode((SPEECH / "ljspeech" / "LJ001-0001.wav").read_bytes())


@pytest.mark.parametrize("kind", ["white", "babble", "file"])
def test_noise_is_mixed_at_the_asked_snr(kind: str, tmp_path: Path) -> None:
    clean = _clean()
    if kind == "white":
        sound = noise.white(clean.shape[0], 1)
    elif kind == "babble":
        sound = noise.babble(seconds=4)
    else:
        hum = (np.sin(np.arange(48000) * 2 * np.pi * 120 / 16000) * 9000).astype(np.int16)
        path = tmp_path / "hum.wav"
        path.write_bytes(audio.encode(hum, 16000, "wav"))
        sound = noise.from_file(path)
    for snr in (20, 10, 5, 0, -5):
        mixed, gain = noise.mix(clean, sound, snr)
        assert mixed.shape == clean.shape and np.max(np.abs(mixed)) <= 1.0
        assert noise.measured_snr(clean, mixed, gain) == pytest.approx(snr, abs=0.01)
    loud, gain = noise.mix(clean * 8, sound, 0)  # would clip: scaled down, SNR kept
    assert gain < 1 and noise.measured_snr(clean * 8, loud, gain) == pytest.approx(0, abs=0.01)


class Interrupting:
    """Whisper, counted; interrupted (as by Ctrl+C) after `stop_after` transcriptions."""

    def __init__(self, inner: Any, stop_after: int | None = None) -> None:
        self.inner, self.stop_after, self.calls = inner, stop_after, 0
        self.model = inner.model

    def transcribe(self, samples: np.ndarray, **kwargs: Any) -> Any:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.calls += 1
        return self.inner.transcribe(samples, **kwargs)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory, espeak: Any) -> Path:
    """name.wav + name.txt pairs: two human recordings and one made by eSpeak."""
    folder = tmp_path_factory.mktemp("recordings")
    rows = {json.loads(line)["id"]: json.loads(line) for line in (SPEECH / "manifest.jsonl").read_text().splitlines()}
    for clip_id in ("LJ001-0001", "LJ001-0002"):
        shutil.copy(SPEECH / rows[clip_id]["path"], folder / f"{clip_id}.wav")
        (folder / f"{clip_id}.txt").write_text(rows[clip_id]["reference"])
    said = "Please send the report to the office before noon on Friday."
    speech = espeak.synthesize(said, "en-us")
    (folder / "espeak.wav").write_bytes(audio.encode(speech.samples, speech.sample_rate, "wav"))
    (folder / "espeak.txt").write_text(said)
    return folder


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One results folder the tests below fill, so the report sees every kind of run."""
    return tmp_path_factory.mktemp("eval")


def test_recordings_come_from_a_manifest_or_from_pairs(recordings: Path, tmp_path: Path) -> None:
    listed = sorted(json.loads(line)["id"] for line in (SPEECH / "manifest.jsonl").read_text().splitlines())
    assert [c.id for c in material.clips(SPEECH)] == listed
    found = material.clips(recordings)
    assert [c.id for c in found] == ["LJ001-0001", "LJ001-0002", "espeak"]
    assert found[2].reference.startswith("Please send")
    with pytest.raises(ValueError, match="No recordings"):
        material.clips(tmp_path)


def test_dictation_scores_match_jiwer_and_an_interrupted_run_resumes(recordings: Path, results: Path,
                                                                      whisper: Any) -> None:
    conditions = runs.parse_conditions("white", "10")
    assert conditions == [("clean", None), ("white", 10.0)]
    first = Interrupting(whisper, stop_after=4)
    with pytest.raises(KeyboardInterrupt):
        runs.run_dictation(recordings, {"whisper": first}, results, conditions=conditions, show=False)
    assert len(runs.ResultLog(results / "dictation.jsonl").rows) == 4
    second = Interrupting(whisper)
    log = runs.run_dictation(recordings, {"whisper": second}, results, conditions=conditions, show=False)
    assert second.calls == 2 and len(log.rows) == 6  # only what was missing
    assert len({row["key"] for row in log.rows}) == 6
    for row in log.rows:
        assert row["wer"] == pytest.approx(jiwer.wer(english(row["reference"]), english(row["hypothesis"])))
        assert row["cer"] == pytest.approx(jiwer.cer(english(row["reference"]), english(row["hypothesis"])))
        if row["snr"] is not None:
            assert row["measured_snr"] == pytest.approx(10, abs=0.01) and 0 < row["stoi"] < 1
        assert audio.decode((results / row["audio"]).read_bytes()).size > 0
    summary = report.summarise(results)
    for group in summary["dictation"]:
        rows = [r for r in log.rows if (r["snr"] is None) == (group["condition"] == "clean")]
        assert group["wer"] == pytest.approx(jiwer.wer([english(r["reference"]) for r in rows],
                                                       [english(r["hypothesis"]) for r in rows]))
    clean = next(g for g in summary["dictation"] if g["condition"] == "clean")
    assert clean["wer"] < 0.2  # Whisper hears these recordings well
    from reader.cli import main

    before = (results / "dictation.jsonl").read_text()
    assert main(["eval", "dictation", str(recordings), "--noise", "white", "--snr", "10", "--out", str(results),
                 "-q"]) == 0
    assert (results / "dictation.jsonl").read_text() == before  # the command line resumes the same run: all done


def test_voices_are_read_and_heard_back(results: Path, piper: Any, espeak: Any, whisper: Any) -> None:
    sentences = ["The meeting starts at 10:30 a.m. on Tuesday.", "Please close the window."]
    voices = ["espeak:en-us", f"piper:{piper.default_voice()}"]
    log = runs.run_voices({"espeak": espeak, "piper": piper}, voices, sentences, whisper, results, show=False)
    assert len(log.rows) == 4
    for row in log.rows:
        assert row["wer"] == pytest.approx(jiwer.wer(english(row["text"]), english(row["hypothesis"])))
        assert row["duration"] > 0.5 and row["rtf"] > 0 and 0 < row["ttfb"] <= row["seconds"] + 1e-3
        assert row["rms_db"] < 0
    piper_rows = [r for r in log.rows if r["engine"] == "piper"]
    # Piper's sampling noise makes each reading a little different ("10:30" heard as "10.30" or
    # "1030"): a bound that says the voice is understood, not that it is perfect.
    assert sum(r["wer"] for r in piper_rows) / len(piper_rows) < 0.5
    from reader.cli import main

    texts = results / "sentences.txt"
    texts.write_text("# two sentences\n" + "\n".join(sentences) + "\n")
    before = (results / "voices.jsonl").read_text()
    args = ["eval", "voices", str(texts), "--out", str(results), "-q"]
    assert main([*args, *[a for v in voices for a in ("--voice", v)]]) == 0
    assert (results / "voices.jsonl").read_text() == before


def test_latency_and_cost_of_a_live_server(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reader.cli import main

    data = tmp_path / "data"
    data.mkdir()
    base, proc = start_server(data, workers=1, env={"READER_TTS": "espeak", "READER_EXTRA_TTS": ""})
    try:
        assert main(["eval", "latency", base, "--count", "3", "--out", str(results), "-q"]) == 0
        rows = runs.ResultLog(results / "latency.jsonl").rows
        assert [r["cache"] for r in rows if r["kind"] == "uncached"] == ["miss"] * 3
        assert [r["cache"] for r in rows if r["kind"] == "cached"] == ["hit"] * 3
        assert all(r["status"] == 200 for r in rows) and sum(r["kind"] == "dictation" for r in rows) == 3
        assert main(["eval", "cost", "--metrics", base, "--out", str(results), "-q"]) == 0
        with __import__("urllib.request").request.urlopen(base + "/metrics") as resp:
            counts = runs.counts_from_metrics(resp.read().decode())
    finally:
        stop_server(proc)
    cost = json.loads((results / "cost.json").read_text())
    assert cost["synthesised"] == counts["espeak"]["synthesised"] > 0
    assert cost["cached"] == counts["espeak"]["cached"] > 0  # the cached pass
    assert cost["transcribed_minutes"] == pytest.approx(counts["whisper"]["transcribed_seconds"] / 60)
    tts1 = next(r for r in cost["rows"] if r["service"].startswith("tts-1"))
    assert tts1["cost"] == pytest.approx(round(cost["synthesised"] / 1e6 * 15.0, 4))
    out = capsys.readouterr().out
    assert "Latency uncached" in out and "Report: " in out


def test_counts_from_metrics_text() -> None:
    text = ('# HELP reader_tts_characters_total x\nreader_tts_characters_total{engine="piper"} 120.0\n'
            'reader_tts_cached_characters_total{engine="piper"} 30.0\n'
            'reader_stt_audio_seconds_total{engine="whisper"} 90.0\nreader_queue_depth 0\n')
    assert runs.counts_from_metrics(text) == {
        "piper": {"synthesised": 120.0, "cached": 30.0, "transcribed_seconds": 0.0},
        "whisper": {"synthesised": 0.0, "cached": 0.0, "transcribed_seconds": 90.0}}


@pytest.mark.browser
def test_the_report_is_whole_and_accessible(results: Path, browser: Browser) -> None:
    from reader.cli import main

    assert main(["eval", "report", "--out", str(results), "-q"]) == 0
    data = json.loads((results / "report.json").read_text())
    assert data["headline"][0]["engine"] == "whisper" and len(data["voices"]) == 2 and data["latency"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fetched: list[str] = []
    page.on("request", lambda req: fetched.append(req.url))
    try:
        page.goto((results / "report.html").as_uri())
        page.wait_for_load_state("networkidle")
        assert {url.split(":", 1)[0] for url in fetched} <= {"file", "data"}, fetched  # self-contained
        assert page.locator("table caption").first.inner_text().startswith("Word error rate")
        assert page.locator("img[alt]").count() == 3  # WER, RTF and latency plots, each with its text
        assert page.locator("audio[src^='data:audio/ogg']").count() >= 1
        assert page.locator("del").count() + page.locator("ins").count() >= 1
        check_axe(page, "the evaluation report")
        page.emulate_media(color_scheme="dark")
        check_axe(page, "the evaluation report, dark preference")
    finally:
        page.close()
