"""Narrate a whole document: every sentence through the speech service (and so the audio cache),
then one file with chapters, captions beside it, and (for "epub") the read-along book."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import audio
from ..documents.model import Document
from ..speech.base import SpeechRequest
from ..speech.service import SpeechService, Spoken, source_words
from . import assemble, captions, epub
from .plan import plan
from .spec import FORMATS, Spec

LOGGER = logging.getLogger(__name__)

class Cancelled(Exception):
    """The narration was cancelled; nothing is kept."""


@dataclass(frozen=True)
class Result:
    path: Path
    seconds: float
    files: dict[str, Path]  # every file made: the main one, and captions beside it


Progress = Callable[[int, int], None]  # (sentences done, total): raises Cancelled to stop


def narrate(speech: SpeechService, doc: Document, spec: Spec, out_dir: Path, *, clip_format: str,
            progress: Progress = lambda done, total: None, narrator: str = "") -> Result:
    """Make the narration of `doc` in `out_dir` (files appear whole, or not at all)."""
    if spec.format not in FORMATS:
        raise ValueError(f"unknown narration format {spec.format!r}")
    total = len(doc.sentences)
    requests = [request_for(doc, n, spec, clip_format, speech) for n in range(total)]
    for n, req in enumerate(requests):  # synthesise (or find in the cache) every sentence
        speech.speak(req)
        progress(n + 1, total)
    out_dir.mkdir(parents=True, exist_ok=True)
    audio_format = spec.format if spec.format in assemble.OUTPUTS else "mp3"
    steps = plan(doc)
    tags = {"title": doc.title, "album": doc.title, "artist": _author(doc), "genre": "Audiobook",
            "comment": f"Narrated by {narrator or spec.voice} with Reader"}
    tmp = out_dir / f".audio{assemble.OUTPUTS[audio_format].suffix}.part"
    encoder = assemble.Encoder(tmp, audio_format, tags=tags)
    spans: list[tuple[float, float]] = []
    cues: list[captions.Cue] = []
    try:
        for n, req in enumerate(requests):
            spoken = speech.speak(req)
            assert spoken.entry is not None
            clip = assemble.level(audio.decode(spoken.entry.audio, rate=assemble.RATE))
            start = encoder.seconds
            encoder.write(clip)
            end = encoder.seconds
            spans.append((start, end))
            words = tuple((s, e, start + t0) for s, e, t0, _ in _words(speech, spoken))
            cues.append(captions.Cue(start, end, doc.sentences[n].text, words))
            encoder.silence(steps.pauses[n])
        chapters = assemble.chapter_times(steps.chapters, spans, encoder.seconds)
        seconds = encoder.seconds
        encoder.close(chapters)
    except BaseException:
        encoder.abort()
        tmp.unlink(missing_ok=True)
        raise
    files = {audio_format: out_dir / f"narration{assemble.OUTPUTS[audio_format].suffix}"}
    _write_text(out_dir / "narration.vtt", captions.webvtt(cues))
    _write_text(out_dir / "narration.srt", captions.srt(cues))
    files["vtt"], files["srt"] = out_dir / "narration.vtt", out_dir / "narration.srt"
    if spec.format == "epub":
        book = out_dir / ".narration.epub.part"
        epub.write_epub(book, doc, steps.chapters, spans, tmp, book_id=out_dir.name, narrator=narrator or spec.voice)
        os.replace(book, out_dir / "narration.epub")
        files["epub"] = out_dir / "narration.epub"
    os.replace(tmp, files[audio_format])
    return Result(path=files[spec.format], seconds=seconds, files=files)


def request_for(doc: Document, n: int, spec: Spec, clip_format: str, speech: SpeechService) -> SpeechRequest:
    """The same request the reader page makes for sentence n (the voice following the language),
    so the page then finds it cached."""
    return speech.sentence_request(doc, n, voice=spec.voice, format=clip_format, instructions=spec.style,
                                   speed=spec.speed, stream=False, fallback=False)


def _words(speech: SpeechService, spoken: Spoken) -> list[tuple[int, int, float, float]]:
    """Word timings already known for a clip (the engine's own, or aligned earlier): never made here."""
    assert spoken.entry is not None
    words = spoken.entry.words or (speech.cache.get_words(spoken.key) if spoken.aligned else None) or ()
    return source_words(spoken.text, words)


def _author(doc: Document) -> str:
    if doc.url:
        from urllib.parse import urlsplit

        return urlsplit(doc.url).hostname or "Unknown author"
    return "Unknown author"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
