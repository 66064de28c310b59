"""The narration worker: its entry point, composed once (`reader worker`, started by `reader
serve` or run alone on any host), and the bodies of the queue's tasks: a narration, a helper
that fills the cache ahead of it, a long scan read page by page, and the minute's reaping."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from .config import Settings
from .errors import ReaderError
from .narration.narrate import Cancelled, narrate, request_for
from .retention import sweep
from .services import Services

LOGGER = logging.getLogger(__name__)
HEARTBEAT = 1.0  # seconds between progress writes of a running job
CHUNK = 12  # sentences per helper task when a job fans out over the workers
PAGES_AT_ONCE = 2  # pages recognised between two progress reports of an import


class Worker:
    """The task bodies over one Services, built on first use in each worker process (after the
    consumer forked it, so that no engine or connection is shared across processes)."""

    def __init__(self, settings: Settings, services: Services | None = None) -> None:
        self.settings = settings
        self._svc = services
        self._lock = threading.Lock()

    @property
    def svc(self) -> Services:
        with self._lock:
            if self._svc is None:
                from .wiring import build_services

                self._svc = build_services(self.settings, None, None)
            return self._svc

    def handlers(self) -> dict[str, Callable[..., None]]:
        return {"narrate": self.run_job, "fill": self.fill_cache, "import_scan": self.run_import,
                "reap": self.reap}

    def reap(self) -> None:
        self.requeue_stale()
        svc = self.svc
        sweep(svc.documents, svc.jobs, svc.speech.cache, svc.imports, document_days=svc.settings.document_days)

    def fill_cache(self, job_id: str, start: int, end: int) -> None:
        """A helper: sentences start..end-1 of a running job into the audio cache. The job itself
        goes through every sentence in order; where a helper got there first it finds them cached
        (or waits for the one being made), so any number of workers share a job without doing a
        sentence twice, and a helper that dies costs nothing but its head start."""
        svc = self.svc
        job = svc.jobs.get(job_id)
        if job.status not in ("queued", "running"):
            return
        doc = svc.documents.get(job.doc_id)
        for n in range(start, min(end, len(doc.sentences))):
            if n % 4 == 0 and svc.jobs.get(job_id).status not in ("queued", "running"):
                return
            svc.speech.speak(request_for(doc, n, job.spec, self.settings.default_format, svc.speech))

    def requeue_stale(self) -> int:
        """Queue again every running job whose worker went silent (killed); returns how many."""
        svc = self.svc
        count = 0
        for job in svc.jobs.stale():
            if not svc.jobs.claim_stale(job.id):  # one requeue per silent period, whoever reaps
                continue
            svc.queue.enqueue("narrate", job.id)
            LOGGER.warning("narration %s lost its worker; queued again", job.id)
            count += 1
        return count

    def run_job(self, job_id: str) -> None:
        """Make one narration: progress and heartbeat on the way, files whole at the end."""
        svc = self.svc
        store = svc.jobs
        job = store.start(job_id)
        if job is None:
            return  # cancelled or done meanwhile
        folder = store.folder(job_id)
        last = 0.0
        for start in range(CHUNK, job.total, CHUNK):  # helpers on the other workers make later sentences meanwhile
            svc.queue.enqueue("fill", job_id, start, start + CHUNK)

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < HEARTBEAT and done < total:
                return
            last = now
            if store.get(job_id).status == "cancelled":
                raise Cancelled()
            store.update(job_id, done=done, total=total, updated=time.time())

        try:
            doc = svc.documents.get(job.doc_id)
            label = next((v.label for v in svc.speech.voices() if v.id == job.voice), job.voice)
            result = narrate(svc.speech, doc, job.spec, folder, clip_format=self.settings.default_format,
                             progress=progress, narrator=label)
        except Cancelled:
            LOGGER.info("narration %s cancelled", job_id)
            return
        except Exception as exc:
            LOGGER.error("narration %s failed: %s", job_id, type(exc).__name__)
            detail = exc.detail if isinstance(exc, ReaderError) else "The narration could not be made."
            store.update(job_id, status="failed", error=detail, finished=time.time(), updated=time.time())
            return
        if store.get(job_id).status == "cancelled":
            return
        store.finish(job_id, result.files, done=job.total, finished=time.time(), updated=time.time(),
                     seconds=round(result.seconds, 3), size=result.path.stat().st_size)
        LOGGER.info("narration %s done: %.0f s of audio", job_id, result.seconds)

    def run_import(self, import_id: str) -> None:
        """Read a long scan: its pages recognised a few at a time, progress on the way, then a
        document like any other; the scan itself is deleted either way."""
        from .documents import ingest, ocr

        svc = self.svc
        store = svc.imports
        job = store.get(import_id)
        if job.status not in ("queued", "running"):
            return
        store.update(import_id, status="running")
        language = job.options.get("language")
        try:
            data = store.scan(import_id)
            recognise = ocr.recogniser(ocr.languages_for(language, self.settings.ocr_languages,
                                                         ocr.installed_languages()), len(job.pages))
            for start in range(0, len(job.pages), PAGES_AT_ONCE):
                chunk = job.pages[start:start + PAGES_AT_ONCE]
                data = recognise(data, chunk)
                store.update(import_id, done=start + len(chunk))
            found = ingest.extract(data, max_text_chars=self.settings.max_text_chars)
            said = f"{len(job.pages)} pages read by text recognition (OCR): names and numbers may be misread"
            found = replace(found, skipped=(said, *found.skipped))
            doc, _ = ingest.store_extracted(svc.documents, found, source="file", language=language,
                                            title=job.options.get("title"))
        except Exception as exc:
            detail = exc.detail if isinstance(exc, ReaderError) else "The scan could not be read."
            LOGGER.error("import %s failed: %s", import_id, type(exc).__name__)
            store.update(import_id, status="failed", error=detail)
            store.drop_scan(import_id)
            return
        store.update(import_id, status="done", done=len(job.pages), document=doc.id)
        store.drop_scan(import_id)
        LOGGER.info("import %s done: %d pages", import_id, len(job.pages))


def run_worker(settings: Settings, workers: int) -> None:
    """A Huey consumer (processes), until stopped. Its processes share the cores out between
    them (Piper's threads), so that a job fanned out over all of them does not oversubscribe."""
    workers = max(workers, 1)
    if settings.piper_threads <= 0:
        settings = dataclasses.replace(settings, piper_threads=max((os.cpu_count() or 1) // workers, 1))
    from .wiring import task_queue

    worker = Worker(settings)
    task_queue(settings).consume(worker.handlers(), workers)
