"""The HTML pages: open a document, read it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import groupby
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import RequestEntityTooLarge

from ..documents import ingest
from ..documents.ocr import LongScan
from ..errors import BadRequest, ReaderError
from ..services import services
from ..speech.base import Synthesizer
from .uploads import start_import, text_recognition

bp = Blueprint("pages", __name__)


@bp.app_template_global()
def linked(block: Any, start: int, end: int) -> Markup:
    """block.text[start:end], escaped, with the block's links in it as links (cut at the ends)."""
    text: str = block.text
    out: list[str] = []
    pos = start
    for a, b, href in block.links:
        a, b = max(a, start), min(b, end)
        if a >= b or a < pos:
            continue
        out.append(str(escape(text[pos:a])))
        out.append(f'<a href="{escape(href)}" rel="noreferrer">{escape(text[a:b])}</a>')
        pos = b
    out.append(str(escape(text[pos:end])))
    return Markup("".join(out))


@bp.app_template_filter()
def long_date(iso: str | None) -> str:
    """"2024-03-05" -> "5 March 2024"; what is not a date stays as it is."""
    import datetime

    try:
        day = datetime.date.fromisoformat(iso or "")
    except ValueError:
        return iso or ""
    return f"{day.day} {day:%B %Y}"


@bp.get("/")
def index() -> Any:
    return render_template(
        "index.html", text="", error=None, max_text_chars=services().settings.max_text_chars,
        forgotten=request.args.get("forgotten") == "1",
    )


@bp.post("/")
def create() -> Any:
    """The no-JavaScript path: each of the home page's forms posts here, then the reader opens."""
    svc = services()
    try:
        _ = request.form  # parsing the body is where an oversized upload is found
    except RequestEntityTooLarge:
        return render_template(
            "index.html", text="", url="", mode="article", error_field="file",
            error=f"The file is larger than the limit of {svc.settings.max_upload_mb} MB.",
            max_text_chars=svc.settings.max_text_chars,
        ), 413
    text = request.form.get("text", "")
    url = request.form.get("url", "").strip()
    mode = request.form.get("mode") or "article"
    upload = request.files.get("file")
    # One way in: a chosen file, else the one field holds a web address or a text. (A form with
    # only a "url" or only a "file" field still works, as older pages and scripts post them.)
    if upload is not None and upload.filename:
        field = "file"
    elif url or ("url" in request.form and "text" not in request.form):
        field = "url"
    elif is_address(text):
        url, field = text.strip(), "url"
    elif "text" not in request.form and (upload is not None or "file" in request.form):
        field = "file"
    else:
        field = "text"
    try:
        if field == "file":
            if upload is None or not upload.filename:
                raise BadRequest("Choose a file to upload: a PDF, an EPUB or Word file, an image of text, a web "
                                 "page (HTML), or a text or Markdown file.")
            try:
                doc, _ = ingest.from_upload(svc.documents, upload.read(), settings=svc.settings,
                                            filename=upload.filename, mode=mode, ocr=text_recognition(None))
            except LongScan as scan:  # a long scan is read in the background: follow it
                job = start_import(scan, title=None, language=None)
                return redirect(url_for("pages.reading_scan", iid=job.id), code=303)
        elif field == "url":
            if not url:
                raise BadRequest("Type or paste a web address, such as https://example.org/article.")
            # People type "example.org/page"; a browser would add the scheme, so do the same.
            address = url if "://" in url else "https://" + url
            doc, _ = ingest.from_url(svc.documents, address, settings=svc.settings, mode=mode,
                                     ocr=text_recognition(None))
        else:
            if not text.strip():
                raise BadRequest("Paste a web address or a text to read, or choose a file.")
            doc, _ = ingest.from_text(svc.documents, text, max_chars=svc.settings.max_text_chars)
    except ReaderError as exc:
        # Re-show the form with what the user gave intact: nothing typed is lost.
        # The address and the text share one field, where the error is shown.
        return render_template(
            "index.html", text=text, url=url, mode=mode, error=exc.detail,
            error_field="file" if field == "file" else "text", max_text_chars=svc.settings.max_text_chars,
        ), exc.status
    return redirect(url_for("pages.read", doc_id=doc.id), code=303)


_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}(?:[/?#]\S*)?", re.I)


def is_address(text: str) -> bool:
    """Whether the one field holds a web address rather than a text: one token, no spaces,
    that looks like https://…, www.… or a domain with a path ("example.org/page")."""
    value = text.strip()
    return 0 < len(value) <= 4000 and not any(c.isspace() for c in value) and bool(_ADDRESS.fullmatch(value))


@bp.get("/read/<doc_id>")
def read(doc_id: str) -> Any:
    svc = services()
    doc = svc.documents.get(doc_id)
    by_block = {k: list(g) for k, g in groupby(doc.sentences, key=lambda s: s.block)}
    blocks = [(b, by_block.get(b.index, [])) for b in doc.blocks]
    return render_template(
        "reader.html",
        doc=doc,
        blocks=blocks,
        voices=svc.speech.voices(),
        default_voice=svc.speech.default_voice(),
        styles=_styles(svc.speech.synthesizers.values()),
        remote_engines={name for name in svc.speech.synthesizers if svc.speech.is_remote(name)},
        format=svc.settings.default_format,
        reading_voices=_reading_voices(svc, doc),
    )


def _reading_voices(svc: Any, doc: Any) -> list[dict[str, str]]:
    """The text's languages, each with the voice that reads it when the chosen voice does not
    speak it (shown on the page, so nobody wonders why the voice changed)."""
    from .uploads import reading_voices

    labels = {v.id: v.label for v in svc.speech.voices()}
    return [{"language": lang, "voice": voice, "label": labels.get(voice, voice)}
            for lang, voice in reading_voices(doc, None).items()]


def _styles(synthesizers: Iterable[Synthesizer]) -> list[dict[str, Any]]:
    """The style presets on offer, each with the engines that take it (for the style select)."""
    styles: dict[str, list[str]] = {}
    for synth in synthesizers:
        for name, _ in synth.capabilities.styles:
            styles.setdefault(name, []).append(synth.name)
    return [{"id": name, "label": name.capitalize(), "engines": engines} for name, engines in styles.items()]


@bp.get("/imports/<iid>")
def reading_scan(iid: str) -> Any:
    """A long scan being read: its progress (import.js follows it), then the reader."""
    job = services().imports.get(iid)
    if job.status == "done" and job.document:
        return redirect(url_for("pages.read", doc_id=job.document), code=303)
    return render_template("import.html", job=job.public())


@bp.get("/privacy")
def privacy() -> Any:
    """What is stored, where, for how long, and what leaves the machine with each engine."""
    svc = services()

    def days(n: float) -> str:
        return f"{n:g} day" + ("" if n == 1 else "s")

    return render_template("privacy.html", settings=svc.settings, days=days, engines=_where_data_goes(svc))


def _where_data_goes(svc: Any) -> list[str]:
    """A sentence per configured engine: where text or audio goes with it."""
    said = []
    for name, synth in svc.speech.synthesizers.items():
        caps = synth.capabilities
        if caps.remote:
            said.append(f"Reading with the {name} voices sends the text of each sentence to {caps.destination}, "
                        "which makes the speech. Azure OpenAI does not train on it but may keep it up to 30 days "
                        "for abuse monitoring, unless the organisation has had that waived.")
        else:
            said.append(f"Reading with the {name} voices: nothing leaves this server.")
    if svc.transcriber.capabilities.remote:
        said.append(f"Dictation sends your recording to {svc.transcriber.capabilities.destination} for "
                    "transcription (on the same terms).")
    else:
        said.append("Dictation: recordings are transcribed on this server; nothing leaves it.")
    return said


@bp.route("/dictate", methods=["GET", "POST"])
def dictate() -> Any:
    """The dictation demo form; a POST only echoes the answers back (nothing is stored)."""
    fields = ("name", "email", "phone", "street", "town", "postcode",
              "dob-day", "dob-month", "dob-year", "message")
    answers = {k: request.form.get(k, "").strip() for k in fields} if request.method == "POST" else None
    return render_template("dictate.html", answers=answers)
