"""The HTML pages: open a document, read it."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from .. import services
from ..documents import ingest
from ..errors import ReaderError

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> Any:
    return render_template(
        "index.html", text="", error=None, max_text_chars=services().settings.max_text_chars
    )


@bp.post("/")
def create() -> Any:
    """The no-JavaScript path: the form posts here and is redirected to the reader."""
    svc = services()
    text = request.form.get("text", "")
    try:
        doc, _ = ingest.from_text(svc.documents, text, max_chars=svc.settings.max_text_chars)
    except ReaderError as exc:
        # Re-show the form with the user's text intact: nothing typed is lost.
        return render_template(
            "index.html", text=text, error=exc.detail, max_text_chars=svc.settings.max_text_chars
        ), exc.status
    return redirect(url_for("pages.read", doc_id=doc.id), code=303)


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
        format=svc.settings.default_format,
    )
