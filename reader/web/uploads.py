"""What the document and dictation views share: the speech service's view of a document's
languages, the text recognition of uploads, long scans queued for the worker, and recordings
taken from a request (never stored)."""

from __future__ import annotations

from typing import Any

from flask import request

from ..documents import ingest
from ..documents.imports import Import
from ..documents.model import Document
from ..documents.ocr import LongScan
from ..errors import BadRequest
from ..services import services
from ..speech.base import Transcript
from ..speech.dictation import dictate


def reading_voices(doc: Document, voice: str | None) -> dict[str, str]:
    """{language: voice id} for every language of `doc`: the voice follows the language."""
    speech = services().speech
    languages = dict.fromkeys([doc.language, *(b.lang for b in doc.blocks if b.lang)])
    return {lang: speech.voice_for(voice, lang) for lang in languages if lang}


def start_import(scan: LongScan, *, title: object, language: str | None) -> Import:
    """A long scan, queued for a worker to read page by page."""
    svc = services()
    ingest.check_title(title)
    job = svc.imports.create(scan.data, scan.pages, {"title": title, "language": language})
    svc.queue.enqueue("import_scan", job.id)
    return job


_OCR_LANGUAGES: list[set[str]] = []


def text_recognition(language: str | None) -> Any:
    """OCR for this request's scanned pages (in a heavy-work slot of its client), or None when it
    is switched off or Tesseract is not installed."""
    from ..documents import ocr

    svc = services()
    if not svc.settings.ocr or not ocr.available():
        return None
    if not _OCR_LANGUAGES:
        _OCR_LANGUAGES.append(ocr.installed_languages())
    installed = _OCR_LANGUAGES[0]
    languages = ocr.languages_for(language, svc.settings.ocr_languages, installed)
    client = request.remote_addr

    def run(data: bytes, pages: Any) -> bytes:
        if len(pages) > svc.settings.ocr_inline_pages:
            if len(pages) > svc.settings.ocr_max_pages:
                from ..errors import TooLarge

                raise TooLarge(f"This PDF has {len(pages)} scanned pages; text recognition takes at most "
                               f"{svc.settings.ocr_max_pages}. Split it, or ask the operator to raise "
                               "READER_OCR_MAX_PAGES.")
            raise ocr.LongScan(data, pages)  # read by a worker, in the background
        with svc.heavy.slot(client):
            done = ocr.recogniser(languages, svc.settings.ocr_max_pages)(data, pages)
        if language:
            return done
        # Nobody said which language: read once, identify the language of what was read, and read
        # again with that language's pack when it is installed and was not used.
        better = ocr.detected_language(done, pages, installed, languages)
        if better is None:
            return done
        with svc.heavy.slot(client):
            return ocr.recogniser([better, *languages], svc.settings.ocr_max_pages)(data, pages)

    return run


def recording() -> tuple[Any, str | None]:
    """This request's multipart `file` and its `prompt`, checked."""
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("Send the recording as a multipart form field named 'file'.")
    prompt = request.form.get("prompt") or None
    if prompt is not None and len(prompt) > 1000:
        raise BadRequest("'prompt' is limited to 1,000 characters.")
    return upload, prompt


def transcribe_upload(language: str | None, *, words: bool = False, temperature: float = 0.0,
                      task: str = "transcribe") -> Transcript:
    """The multipart `file` (+ `prompt`) of this request, transcribed; the audio is never stored."""
    svc = services()
    upload, prompt = recording()
    return dictate(svc.transcriber, upload.read(), upload.filename, language=language, prompt=prompt,
                   max_seconds=svc.settings.max_audio_seconds, client=request.remote_addr,
                   metrics=svc.metrics, heavy=svc.heavy, words=words, temperature=temperature, task=task)
