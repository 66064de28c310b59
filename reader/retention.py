"""Retention: documents, narrations and cached audio are kept for a set time, and a person can
delete a document with everything made from it. Expiry runs on the job queue every minute (and
`reader status` shows what is kept); it logs counts only, never a title or a text."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .audio_cache import AudioCache
    from .documents.imports import ImportStore
    from .documents.store import Documents
    from .narration.jobs import JobStore

LOGGER = logging.getLogger(__name__)


def forget_document(documents: Documents, jobs: JobStore, cache: AudioCache, doc_id: str) -> bool:
    """Delete a document, its narrations (running ones are cancelled) and the audio only it used.
    True when it was there; False when it was deleted before; NotFound for an unknown id."""
    removed = documents.delete(doc_id)
    _forget_what_was_made(jobs, cache, doc_id)
    return removed


def _forget_what_was_made(jobs: JobStore, cache: AudioCache, doc_id: str) -> None:
    for job in jobs.jobs():
        if job.doc_id == doc_id:
            jobs.cancel(job.id)
            jobs.remove(job.id)
    cache.forget(doc_id)


def sweep(documents: Documents, jobs: JobStore, cache: AudioCache, imports: ImportStore, *, document_days: float,
          now: float | None = None) -> dict[str, int]:
    """Expire what is past its time; never a document whose narration is being made."""
    now = now or time.time()
    narrations = jobs.expire(now)
    busy = {job.doc_id for job in jobs.jobs() if job.status in ("queued", "running")}
    gone_docs = documents.expire(now - document_days * 86400, keep=busy)
    for doc_id in gone_docs:
        _forget_what_was_made(jobs, cache, doc_id)
    counts = {"documents": len(gone_docs), "narrations": narrations, "audio": cache.expire(),
              "imports": imports.expire(now)}
    if any(counts.values()):
        LOGGER.info("retention: expired %(documents)d documents, %(narrations)d narrations, %(audio)d audio entries",
                    counts)
    return counts
