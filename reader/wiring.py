"""Wiring: the engines, cache, stores and limits an app shares, and the web parts it registers."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from flask import Flask, Request

from .audio_cache import AudioCache
from .budget import Counters, DailyBudget, DiskCounters, FallbackCounters, RateLimit, RedisCounters
from .config import Settings
from .documents.imports import ImportStore, RedisImportStore
from .documents.store import Documents, DocumentStore, RedisDocumentStore
from .limits import HeavyWork
from .logs import quiet_content_loggers
from .metrics import Metrics
from .narration.jobs import JobStore, RedisJobStore
from .narration.queue import TaskQueue
from .services import Services
from .speech.align import WordAligner
from .speech.base import Synthesizer, Transcriber
from .speech.service import SpeechService

if TYPE_CHECKING:
    from .audio_cache.redis_tier import RedisAudioTier
    from .shared import SharedRedis

LOGGER = logging.getLogger(__name__)


def build_services(settings: Settings, synthesizers: Mapping[str, Synthesizer] | None,
                   transcribers: Mapping[str, Transcriber] | None) -> Services:
    """Build (or take) the engines and everything that serves them."""
    from .speech.registry import CLOUD_SYNTHESIZERS, build_transcriber
    from .text.speech_text import load_pronunciations

    quiet_content_loggers()
    from .text import language

    language.warm()  # identifying a text's language needs its model: load it before the first request does
    load_pronunciations(settings.pronunciations)  # a broken list stops start-up, loudly
    if synthesizers is None:
        names = [settings.tts, *(n for n in settings.extra_tts if n != settings.tts)]
        if settings.fallback and all(n in CLOUD_SYNTHESIZERS for n in names):
            names.append("piper")  # the offline voice the fallback reads with
        synthesizers = _synthesizers(names, settings)
    if transcribers is None:
        transcribers = {settings.stt: build_transcriber(settings.stt, settings)}
    if settings.stt not in transcribers:
        raise ValueError(f"Dictation engine {settings.stt!r} is not configured")
    data = Path(settings.data_dir)
    metrics = Metrics()
    shared = _shared(settings)
    heavy = HeavyWork(data / "run" / "clients", per_worker=settings.heavy_per_worker, queue=settings.heavy_queue,
                      per_client=settings.heavy_per_client, on_refuse=metrics.refuse,
                      shared=shared.audio.locks if shared else None)
    cache = AudioCache(settings.cache_dir, settings.cache_size_mb, retry_seconds=settings.cache_retry_seconds,
                       on_fault=metrics.cache_fault, max_age_seconds=settings.audio_days * 86400,
                       shared=shared.audio if shared else None)
    budget = (DailyBudget(shared.counters("budget") if shared else DiskCounters(str(data / "budget")),
                          settings.daily_char_budget) if settings.daily_char_budget > 0 else None)
    rate_counters: Counters = DiskCounters(str(data / "rate-limits"))
    if shared is not None:
        rate_counters = FallbackCounters(shared.counters("rate"), rate_counters)
    speech = SpeechService(
        synthesizers, cache, default_engine=settings.tts, default_voice=settings.default_voice,
        pronunciations=settings.pronunciations, metrics=metrics, budget=budget, fallback=settings.fallback,
        aligner=_word_aligner(cache, settings, transcribers), heavy=heavy, language_voices=settings.language_voices,
    )
    documents: Documents = DocumentStore(data / "documents")
    if shared is not None:
        documents = RedisDocumentStore(shared.redis, keep_seconds=settings.document_days * 86400)
    imports = RedisImportStore(shared.redis) if shared is not None else ImportStore(data / "imports")
    return Services(settings=settings, documents=documents, speech=speech,
                    transcriber=transcribers[settings.stt], metrics=metrics, heavy=heavy,
                    speech_limit=RateLimit(rate_counters, settings.speech_per_minute),
                    jobs=jobs_for(settings, shared.redis if shared else None), imports=imports,
                    queue=task_queue(settings, shared.redis if shared else None),
                    redis=shared.redis if shared else None)


def jobs_for(settings: Settings, redis: SharedRedis | None = None) -> JobStore:
    """The narration job store: in the data dir, or in Redis when many hosts share it."""
    options: dict[str, Any] = {
        "per_client": settings.narration_per_client, "budget_bytes": settings.exports_mb * 1024 * 1024,
        "keep_seconds": settings.export_days * 86400, "stale_seconds": settings.job_stale_seconds}
    folder = Path(settings.data_dir) / "narrations"
    if settings.redis_url:
        return RedisJobStore(folder, redis or _redis(settings), **options)
    return JobStore(folder, **options)


def task_queue(settings: Settings, redis: SharedRedis | None = None) -> TaskQueue:
    """The queue of the narration and import tasks, for these settings."""
    if settings.redis_url and redis is None:
        redis = _redis(settings)
    return TaskQueue(settings.data_dir, settings.redis_url, redis)


def _redis(settings: Settings) -> SharedRedis:
    from .shared import shared_redis

    return shared_redis(settings.redis_url)


def _synthesizers(names: list[str], settings: Settings) -> dict[str, Synthesizer]:
    """The engines named; an extra one whose files are not installed (Kokoro's voices outside
    `make run`) is left out with a warning, the main one never."""
    from .speech.base import EngineUnavailable
    from .speech.registry import build_synthesizer

    built: dict[str, Synthesizer] = {}
    for name in names:
        try:
            built[name] = build_synthesizer(name, settings)
        except EngineUnavailable as exc:
            if name == settings.tts:
                raise
            LOGGER.warning("reading engine %s is not offered: %s", name, exc)
    return built


@dataclass
class _Shared:
    redis: SharedRedis
    audio: RedisAudioTier

    def counters(self, name: str) -> RedisCounters:
        return RedisCounters(self.redis, name)


def _shared(settings: Settings) -> _Shared | None:
    """The Redis parts, when READER_REDIS_URL is set."""
    if not settings.redis_url:
        return None
    from .audio_cache.redis_tier import RedisAudioTier
    from .shared import shared_redis

    redis = shared_redis(settings.redis_url)
    return _Shared(redis=redis, audio=RedisAudioTier(redis, settings.redis_audio_mb * 1024 * 1024,
                                                     max_age_seconds=settings.audio_days * 86400))


def init_web(app: Flask) -> None:
    """The error boundary, security headers, CORS, the blueprints and /metrics."""
    from .web import api, boundary, cors, metrics, narrations, openai_api, pages, security

    settings: Settings = app.extensions["reader"].settings
    app.request_class = MemoryRequest
    if settings.trust_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trust_proxy, x_proto=settings.trust_proxy)  # type: ignore[method-assign]
    boundary.init_app(app)
    security.init_app(app)
    cors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(narrations.bp)
    openai_api.init_app(app)
    metrics.init_app(app)


class MemoryRequest(Request):
    """Uploads stay in memory (bounded by MAX_CONTENT_LENGTH): werkzeug would spool anything over
    500 KB to a temporary file, and a recording for dictation must never touch the disk."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> BinaryIO:
        return io.BytesIO()


def _word_aligner(cache: AudioCache, settings: Settings, transcribers: Mapping[str, Transcriber]) -> WordAligner:
    """Times the words of engines that give no timings with the local Whisper (built on first use)."""
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
