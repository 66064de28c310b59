"""Narration: whole documents as M4B, MP3, Opus and WAV with chapters, WebVTT and SRT captions that
line up with the audio, and EPUB 3 read-along books that EPUBCheck accepts; made with the real
engines and read back with ffprobe, PyAV and EPUBCheck."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT

from reader import audio
from reader.narration.assemble import RATE, level
from reader.narration.jobs import JobStore
from reader.narration.narrate import Spec, narrate
from reader.narration.plan import plan

BOOK = """# The Lighthouse

A short book in three parts, read aloud for a test.

## The storm

The wind rose in the evening. The keeper climbed the stairs, one hundred and twelve of them.
He lit the lamp at seven.

- The oil was low.
- The glass was cracked.

## The ship

A ship came close to the rocks! It turned away at the last moment. Everyone on board was safe.

## The morning

The sea was calm again. The keeper slept until noon & dreamed of <nothing> at all.
"""
EPUBCHECK = Path("/usr/share/java/epubcheck.jar")


def _doc(app: Any, text: str = BOOK) -> Any:
    svc = app.extensions["reader"]
    doc_id = app.test_client().post("/api/documents", json={"text": text}).get_json()["id"]
    return svc.documents.get(doc_id)


def _probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out))


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, piper: Any, espeak: Any, whisper: Any) -> dict[str, Any]:
    """The book narrated once in every audio format and as an EPUB (eSpeak: fast, exact word timings)."""
    from reader import create_app
    from reader.config import Settings

    tmp = tmp_path_factory.mktemp("narration")
    settings = Settings(data_dir=str(tmp / "data"), cache_size_mb=64).resolved()
    app = create_app(settings, synthesizers={"piper": piper, "espeak": espeak}, transcribers={"whisper": whisper})
    doc = _doc(app)
    results = {}
    for fmt in ("m4b", "mp3", "opus", "wav", "epub"):
        results[fmt] = narrate(app.extensions["reader"].speech, doc, Spec(doc.id, "espeak:en-us", fmt),
                               tmp / fmt, clip_format="mp3")
    return {"app": app, "doc": doc, "results": results}


def test_m4b_and_mp3_have_a_chapter_per_heading(made: dict[str, Any]) -> None:
    for fmt in ("m4b", "mp3"):
        info = _probe(made["results"][fmt].path)
        titles = [c["tags"]["title"] for c in info["chapters"]]
        assert titles == ["The Lighthouse", "The storm", "The ship", "The morning"], (fmt, titles)
        starts = [float(c["start_time"]) for c in info["chapters"]]
        assert starts[0] == 0 and starts == sorted(starts)
        duration = float(info["format"]["duration"])
        assert abs(float(info["chapters"][-1]["end_time"]) - duration) < 0.5
        assert info["format"]["tags"]["title"] == "The Lighthouse"


def test_every_format_decodes_to_the_same_narration(made: dict[str, Any]) -> None:
    lengths = {}
    for fmt in ("m4b", "mp3", "opus", "wav"):
        samples = audio.decode(made["results"][fmt].path.read_bytes())
        lengths[fmt] = samples.shape[0] / audio.TRANSCRIBE_RATE
    assert max(lengths.values()) - min(lengths.values()) < 0.2, lengths
    assert abs(lengths["wav"] - made["results"]["wav"].seconds) < 0.01


def _cues(vtt: str) -> list[tuple[float, float, str]]:
    def secs(clock: str) -> float:
        h, m, s = clock.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    found = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.*)", vtt)
    return [(secs(a), secs(b), text) for a, b, text in found]


def _onset(samples: np.ndarray, start: int, threshold: float = 0.02) -> int:
    """The first sample from `start` where 5 ms of audio is louder than `threshold` (RMS)."""
    frame = RATE // 200
    for at in range(start, len(samples) - frame, frame // 2):
        if float(np.sqrt(np.mean(samples[at:at + frame] ** 2))) > threshold:
            return at
    return len(samples)


def test_captions_line_up_with_the_audio(made: dict[str, Any]) -> None:
    result = made["results"]["wav"]
    vtt = result.files["vtt"].read_text()
    cues = _cues(vtt)
    doc = made["doc"]
    assert len(cues) == len(doc.sentences)
    assert [c[2].split("<")[0].split(" ")[0] for c in cues][:2] == ["The", "A"]
    assert "&amp;" in vtt and "&lt;" in vtt and "nothing&gt;" in vtt and "<nothing>" not in vtt  # escaped
    assert re.search(r"<\d\d:\d\d:\d\d\.\d{3}>\w", vtt), "word timings as inner timestamps"
    output = audio.decode(result.path.read_bytes(), rate=RATE)
    speech = made["app"].extensions["reader"].speech
    from reader.narration.narrate import request_for

    for n in range(len(doc.sentences)):
        request = request_for(doc, n, Spec(doc.id, "espeak:en-us", "wav"), "mp3", speech)
        clip = audio.decode(speech.speak(request).entry.audio,
                            rate=RATE)
        expected = int(cues[n][0] * RATE) + _onset(level(clip), 0)
        heard = _onset(output, max(int(cues[n][0] * RATE) - RATE // 10, 0))
        assert abs(heard - expected) / RATE < 0.05, (n, heard / RATE, expected / RATE)
    srt = result.files["srt"].read_text()
    assert srt.startswith("1\n00:00:00,000 --> ") and srt.count(" --> ") == len(cues)


def test_loudness_is_even_and_joins_do_not_click(made: dict[str, Any]) -> None:
    result = made["results"]["wav"]
    output = audio.decode(result.path.read_bytes(), rate=RATE)
    cues = _cues(result.files["vtt"].read_text())
    levels = []
    for start, end, _ in cues:
        part = output[int(start * RATE):int(end * RATE)]
        loud = part[np.abs(part) > 0.01]
        levels.append(20 * np.log10(np.sqrt(np.mean(loud ** 2))))
    assert max(levels) - min(levels) < 4.0, levels
    for start, end, _ in cues:  # each clip fades in from and out to silence
        for at in (int(start * RATE), int(end * RATE)):
            edge = output[max(at - 24, 0):at + 24]
            assert float(np.abs(edge).max(initial=0.0)) < 0.05, at / RATE
    # Longer pauses around headings than between sentences.
    gaps = [cues[k + 1][0] - cues[k][1] for k in range(len(cues) - 1)]
    pauses = plan(made["doc"]).pauses
    assert all(abs(g - p) < 0.01 for g, p in zip(gaps, pauses))
    assert max(gaps) > 2.5 * min(gaps)


def test_epub_is_valid_and_has_a_media_overlay_par_per_sentence(made: dict[str, Any]) -> None:
    book = made["results"]["epub"].path
    if not EPUBCHECK.exists() or shutil.which("java") is None:
        pytest.fail("EPUBCheck needs Debian's epubcheck package and java (make test installs them)")
    check = subprocess.run(["java", "-jar", str(EPUBCHECK), str(book)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0 and "0 fatals / 0 errors / 0 warnings" in check.stdout + check.stderr, check.stderr
    with zipfile.ZipFile(book) as z:
        names = z.namelist()
        assert names[0] == "mimetype" and z.read("mimetype") == b"application/epub+zip"
        opf = z.read("OEBPS/content.opf").decode()
        smil = "".join(z.read(n).decode() for n in names if n.endswith(".smil"))
        xhtml = "".join(z.read(n).decode() for n in names if re.search(r"chapter\d+\.xhtml$", n))
    doc = made["doc"]
    assert smil.count("<par ") == len(doc.sentences)
    assert all(f'id="s{s.index}"' in xhtml for s in doc.sentences)
    assert "-epub-media-overlay-active" in opf and 'property="media:duration"' in opf
    assert "&lt;nothing&gt;" in xhtml and "<nothing>" not in xhtml  # text is escaped, never markup


def test_page_reading_afterwards_is_all_cache_hits(made: dict[str, Any]) -> None:
    client = made["app"].test_client()
    doc = made["doc"]
    for n in (0, len(doc.sentences) - 1):
        resp = client.get(f"/api/documents/{doc.id}/sentences/{n}/speech?voice=espeak:en-us")
        assert resp.headers["X-Reader-Cache"] == "hit"


def test_chapters_by_page_range_for_pdfs_without_headings() -> None:
    from reader.documents.build import build_document
    from reader.documents.model import Block

    blocks = [Block(index=k, kind="paragraph", text=f"Page {k + 1} says something. It goes on.", page=k + 1)
              for k in range(23)]
    chapters = plan(build_document(blocks, source="file")).chapters
    assert [c.title for c in chapters] == ["Pages 1–10", "Pages 11–20", "Pages 21–23"]


def test_job_store_limits_and_budget(tmp_path: Path) -> None:
    from reader.errors import ClientBusy, StorageFull

    store = JobStore(tmp_path, per_client=1, budget_bytes=1000, keep_seconds=3600, stale_seconds=60)
    first, queue_it = store.submit(Spec("a" * 24, "espeak:en-us", "mp3"), total=3, client="1.2.3.4")
    assert queue_it
    again, queue_again = store.submit(Spec("a" * 24, "espeak:en-us", "mp3"), total=3, client="1.2.3.4")
    assert again.id == first.id and not queue_again  # the same request is the same job
    with pytest.raises(ClientBusy):
        store.submit(Spec("b" * 24, "espeak:en-us", "mp3"), total=3, client="1.2.3.4")
    (store.folder(first.id) / "narration.mp3").write_bytes(b"x" * 5000)  # a job holding the space
    with pytest.raises(StorageFull):
        store.submit(Spec("c" * 24, "espeak:en-us", "mp3"), total=3, client="5.6.7.8")
    store.update(first.id, status="done", finished=1.0, files={"mp3": "narration.mp3"})
    made, _ = store.submit(Spec("c" * 24, "espeak:en-us", "mp3"), total=3, client="5.6.7.8")
    assert made.status == "queued" and not store.folder(first.id).exists()  # the oldest finished one went


def test_cli_narrate_from_stdin(tmp_path: Path) -> None:
    env = {"READER_DATA_DIR": str(tmp_path / "data"), "READER_TTS": "espeak", "READER_EXTRA_TTS": "", "PATH": "/usr/bin:/bin"}
    out = tmp_path / "book.mp3"
    run = subprocess.run([sys.executable, "-m", "reader.cli", "narrate", "-", "-o", str(out), "-q"], input=BOOK.encode(),
                         capture_output=True, env=env, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert [c["tags"]["title"] for c in _probe(out)["chapters"]][1] == "The storm"
    bad = subprocess.run([sys.executable, "-m", "reader.cli", "narrate", "-", "-o", str(tmp_path / "x.doc")],
                         input=BOOK.encode(), capture_output=True, env=env, cwd=ROOT, timeout=300)
    assert bad.returncode == 2 and b"unknown format" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "reader.cli", "narrate", str(tmp_path / "none.txt"), "-o",
                              str(out)], capture_output=True, env=env, cwd=ROOT, timeout=300)
    assert missing.returncode == 1 and not list(tmp_path.glob(".*.narration"))


def test_cli_narrate_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    import signal
    import time

    env = {"READER_DATA_DIR": str(tmp_path / "data"), "READER_EXTRA_TTS": "", "PATH": "/usr/bin:/bin"}
    out = tmp_path / "long.m4b"
    text = " ".join(f"Sentence {n} of a long text that takes a while to read aloud with the neural voice."
                    for n in range(60))
    source = tmp_path / "long.txt"
    source.write_text(text)
    with source.open("rb") as stdin:
        # Ctrl-C as in a terminal: a suite started in the background (`make test &`) passes SIGINT
        # on ignored, and Python then installs no KeyboardInterrupt for it.
        proc = subprocess.Popen([sys.executable, "-m", "reader.cli", "narrate", "-", "-o", str(out)], stdin=stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(8)  # the voice loads and a few sentences are read
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-1000:]
    assert b"interrupted; nothing was written" in err and b"Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".*.narration"))
