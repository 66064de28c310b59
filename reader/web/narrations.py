"""Narrations over HTTP: start one, follow it (JSON or Server-Sent Events), fetch or cancel it."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file, stream_with_context, url_for

from ..errors import BadRequest, Busy, ReaderError, StoreUnavailable
from ..narration.jobs import ACTIVE, Job
from ..narration.spec import FORMATS, MIME, SUFFIX, Spec
from ..services import services
from .body import json_object

bp = Blueprint("narrations", __name__)
EVENTS_FOR = 30.0  # seconds one event stream stays open; the browser's EventSource reconnects
# An open event stream holds one of the worker's threads: at most this many at once per worker,
# so that progress streams can never take the threads that reading needs. Beyond it a 503, and
# the page falls back to asking for the job's state now and then.
EVENT_STREAMS = 2
_streams = threading.BoundedSemaphore(EVENT_STREAMS)


def _job_json(job: Job) -> dict[str, Any]:
    data = job.public()
    data["url"] = url_for("narrations.get_narration", jid=job.id)
    data["events"] = url_for("narrations.narration_events", jid=job.id)
    if job.status == "done":
        data["file"] = url_for("narrations.narration_file", jid=job.id)
        data["captions"] = {kind: url_for("narrations.narration_file", jid=job.id, kind=kind)
                            for kind in ("vtt", "srt") if kind in job.files}
    return data


@bp.post("/api/documents/<doc_id>/narrations")
def start_narration(doc_id: str) -> Any:
    """JSON {voice?, format, speed?, style?} -> 202 and the job (200 when it is already done)."""
    svc = services()
    doc = svc.documents.get(doc_id)
    data = json_object()
    fmt = data.get("format", "m4b")
    if fmt not in FORMATS:
        raise BadRequest(f"'format' must be one of {', '.join(FORMATS)}.")
    speed = data.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.5 <= speed <= 2.0:
        raise BadRequest("'speed' must be a number from 0.5 to 2.0.")
    voice, style = data.get("voice"), data.get("style")
    for name, value in (("voice", voice), ("style", style)):
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"'{name}' must be a string.")
    synth, chosen = svc.speech.resolve(voice)
    try:
        synth.capabilities.style_text(style)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    if not doc.sentences:
        raise BadRequest("This document has nothing to read.")
    spec = Spec(doc_id=doc.id, voice=chosen.id, format=fmt, style=style or None, speed=float(speed))
    job, queue_it = svc.jobs.submit(spec, total=len(doc.sentences), client=request.remote_addr)
    if queue_it:
        try:
            svc.queue.enqueue("narrate", job.id)
        except StoreUnavailable:
            with contextlib.suppress(ReaderError):  # not left "queued" with no task behind it
                svc.jobs.update(job.id, status="failed", error="It could not be queued.", finished=time.time())
            raise
    resp = jsonify(_job_json(job))
    resp.status_code = 200 if job.status == "done" else 202
    resp.headers["Location"] = url_for("narrations.get_narration", jid=job.id)
    return resp


def _current(jid: str) -> Job:
    """The job, started again first when its worker went silent."""
    svc = services()
    job = svc.jobs.get(jid)
    if svc.jobs.is_stale(job) and svc.jobs.claim_stale(jid):
        svc.queue.enqueue("narrate", jid)
        job = svc.jobs.get(jid)
    return job


@bp.get("/api/narrations/<jid>")
def get_narration(jid: str) -> Any:
    return jsonify(_job_json(_current(jid)))


@bp.delete("/api/narrations/<jid>")
def cancel_narration(jid: str) -> Any:
    return jsonify(_job_json(services().jobs.cancel(jid)))


@bp.get("/api/narrations/<jid>/events")
def narration_events(jid: str) -> Response:
    """Progress as Server-Sent Events: a `progress` event on each change, then `done`, `failed` or `cancelled`."""
    _current(jid)  # a 404 now, not inside the stream
    svc = services()
    if not _streams.acquire(blocking=False):
        raise Busy("Too many progress streams are open on this server; ask for the narration's state instead.",
                   retry_after=5)

    def events() -> Iterator[str]:
        yield "retry: 1000\n\n"
        last = None
        ends = time.monotonic() + EVENTS_FOR
        while time.monotonic() < ends:
            job = svc.jobs.get(jid)
            body = json.dumps(_job_json(job))
            if body != last:
                last = body
                kind = "progress" if job.status in ACTIVE else job.status
                yield f"event: {kind}\ndata: {body}\n\n"
                if job.status not in ACTIVE:
                    return
            else:
                yield ": waiting\n\n"  # a comment: a listener that has gone is noticed at once
            time.sleep(0.5)

    resp = Response(_Released(stream_with_context(events()), _streams.release), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: pass events on as they come
    return resp


class _Released:
    """A response body that lets go of its slot when the server closes it, read to the end or not."""

    def __init__(self, body: Iterator[str], release: Callable[[], None]) -> None:
        self._body = body
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[str]:
        return self._body

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        try:
            if close is not None:
                close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


@bp.get("/api/narrations/<jid>/file")
def narration_file(jid: str) -> Any:
    """The finished file (Range requests work); `kind=vtt|srt` for the captions beside the audio."""
    svc = services()
    kind = request.args.get("kind") or None
    if kind is not None and kind not in FORMATS:
        raise BadRequest(f"'kind' must be one of {', '.join(FORMATS)}.")
    job, path = svc.jobs.file(jid, kind)
    doc_title = svc.documents.get(job.doc_id).title
    name = "".join(c if c.isalnum() or c in " -_" else "_" for c in doc_title).strip()[:80] or "narration"
    fmt = kind or job.format
    return send_file(path, mimetype=MIME[fmt], as_attachment=True, download_name=f"{name}{SUFFIX[fmt]}",
                     conditional=True, etag=True, max_age=0)
