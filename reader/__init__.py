"""Reader: a self-hosted read-aloud and voice dictation server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from .budget import RateLimit
from .cache import AudioCache
from .config import Settings
from .documents.store import DocumentStore
from .speech.base import Synthesizer, Transcriber
from .speech.service import SpeechService

LOGGER = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Services:
    """What the views share, kept in app.extensions["reader"]."""

    settings: Settings
    documents: DocumentStore
    speech: SpeechService
    transcriber: Transcriber
    metrics: Any = None  # reader.metrics.Metrics
    speech_limit: Any = None  # reader.budget.RateLimit for POST /api/speech


def create_app(
    settings: Settings | None = None,
    *,
    synthesizers: Mapping[str, Synthesizer] | None = None,
    transcribers: Mapping[str, Transcriber] | None = None,
) -> Flask:
    """The app factory: tests pass what they need, wsgi.py passes nothing."""
    from . import metrics as metrics_module
    from .speech.registry import CLOUD_SYNTHESIZERS, build_synthesizer, build_transcriber
    from .web import api, cors, errors, openai_api, pages, security

    settings = (settings or Settings.from_env()).resolved()
    from .text.speech_text import load_pronunciations

    load_pronunciations(settings.pronunciations)  # a broken list stops start-up, loudly
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_upload_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    if synthesizers is None:
        names = [settings.tts, *(n for n in settings.extra_tts if n != settings.tts)]
        if settings.fallback and all(n in CLOUD_SYNTHESIZERS for n in names):
            names.append("piper")  # the offline voice the fallback reads with
        synthesizers = {name: build_synthesizer(name, settings) for name in names}
    if transcribers is None:
        transcribers = {settings.stt: build_transcriber(settings.stt, settings)}
    if settings.stt not in transcribers:
        raise ValueError(f"Dictation engine {settings.stt!r} is not configured")

    metrics = metrics_module.Metrics()
    for engine in [*synthesizers.values(), *transcribers.values()]:
        metrics.attach(engine)
    cache = AudioCache(settings.cache_dir, settings.cache_size_mb)
    aligner = _word_aligner(cache, settings, transcribers)
    budget = None
    if settings.daily_char_budget > 0:
        from .budget import DailyBudget

        budget = DailyBudget(str(Path(settings.data_dir) / "budget"), settings.daily_char_budget)
    services = Services(
        settings=settings,
        documents=DocumentStore(Path(settings.data_dir) / "documents"),
        speech=SpeechService(
            synthesizers, cache, default_engine=settings.tts, default_voice=settings.default_voice,
            metrics=metrics, budget=budget, fallback=settings.fallback, aligner=aligner,
            prefetch_workers=settings.cloud_concurrency,
        ),
        transcriber=transcribers[settings.stt],
        metrics=metrics,
        speech_limit=RateLimit(str(Path(settings.data_dir) / "rate-limits"), settings.speech_per_minute),
    )
    app.extensions["reader"] = services

    errors.init_app(app)
    security.init_app(app)
    cors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    openai_api.init_app(app)
    metrics_module.init_app(app)
    return app


def _word_aligner(cache: AudioCache, settings: Settings, transcribers: Mapping[str, Transcriber]) -> Any:
    """Times the words of engines that give no timings with the local Whisper (built on first use)."""
    from .speech.align import WordAligner
    from .speech.registry import build_transcriber

    local = transcribers.get("whisper")
    built: list[Transcriber] = [local] if local is not None else []
    lock = threading.Lock()

    def whisper() -> Transcriber:
        with lock:
            if not built:
                built.append(build_transcriber("whisper", settings))
            return built[0]

    return WordAligner(cache, whisper)


def services(app: Any = None) -> Services:
    """The Services of the current (or given) app."""
    from flask import current_app

    return (app or current_app).extensions["reader"]  # type: ignore[no-any-return]
