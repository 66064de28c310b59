"""Reader: a self-hosted read-aloud and voice dictation server."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from .config import Settings

if TYPE_CHECKING:
    from .speech.base import Synthesizer, Transcriber

PACKAGE = Path(__file__).resolve().parent
# Templates and static files sit at the top of a checkout; a wheel carries them inside the package.
ASSETS = PACKAGE if (PACKAGE / "templates").is_dir() else PACKAGE.parent


def create_app(
    settings: Settings | None = None,
    *,
    synthesizers: Mapping[str, Synthesizer] | None = None,
    transcribers: Mapping[str, Transcriber] | None = None,
) -> Flask:
    """The app factory: tests pass what they need, wsgi.py passes nothing."""
    from . import wiring

    settings = (settings or Settings.from_env()).resolved()
    app = Flask(__name__, template_folder=str(ASSETS / "templates"), static_folder=str(ASSETS / "static"))
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_upload_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["reader"] = wiring.build_services(settings, synthesizers, transcribers)
    wiring.init_web(app)
    return app
