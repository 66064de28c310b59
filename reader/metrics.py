"""Cost counters per engine, exposed at /metrics in the Prometheus text format (multiprocess-safe)."""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any

from flask import Flask, Response, request

LOGGER = logging.getLogger(__name__)


class Metrics:
    """Characters synthesised and served from cache, audio seconds transcribed, tokens, fallbacks."""

    def __init__(self) -> None:
        self.enabled = False
        try:
            from prometheus_client import CollectorRegistry, Counter
        except ImportError:  # metrics are optional: everything else works without them
            LOGGER.warning("prometheus-client is not installed: /metrics is off")
            return
        # A registry per app (not the global one), so several apps in one process can coexist;
        # under gunicorn the values live in PROMETHEUS_MULTIPROC_DIR whatever the registry.
        self.registry = CollectorRegistry(auto_describe=True)
        engine = ["engine"]
        self.tts_chars = Counter("reader_tts_characters", "Characters synthesised (what a cloud engine bills).",
                                 engine, registry=self.registry)
        self.cached_chars = Counter("reader_tts_cached_characters",
                                    "Characters served from the audio cache (synthesis not paid for again).",
                                    engine, registry=self.registry)
        self.stt_seconds = Counter("reader_stt_audio_seconds", "Seconds of audio transcribed.",
                                   engine, registry=self.registry)
        self.tokens = Counter("reader_cloud_tokens", "Tokens the cloud service reported using.",
                              ["engine", "kind"], registry=self.registry)
        self.fallbacks = Counter("reader_fallbacks", "Sentences read by the offline voice instead of the cloud voice.",
                                 ["engine", "reason"], registry=self.registry)
        self.cache_faults = Counter("reader_cache_faults",
                                    "Audio cache faults by kind: open, write, damaged (served without the cache).",
                                    ["kind"], registry=self.registry)
        self.refused = Counter("reader_heavy_refused", "Heavy requests refused: this worker or client was busy.",
                               ["scope"], registry=self.registry)
        self.enabled = True

    def synthesised(self, engine: str, chars: int) -> None:
        if self.enabled:
            self.tts_chars.labels(engine).inc(chars)

    def cached(self, engine: str, chars: int) -> None:
        if self.enabled:
            self.cached_chars.labels(engine).inc(chars)

    def transcribed(self, engine: str, seconds: float) -> None:
        if self.enabled and seconds > 0:
            self.stt_seconds.labels(engine).inc(seconds)

    def used_tokens(self, engine: str, kind: str, count: int) -> None:
        if self.enabled:
            self.tokens.labels(engine, kind).inc(count)

    def fell_back(self, engine: str, reason: str) -> None:
        if self.enabled:
            self.fallbacks.labels(engine, reason).inc()

    def cache_fault(self, kind: str) -> None:
        if self.enabled:
            self.cache_faults.labels(kind).inc()

    def refuse(self, scope: str) -> None:
        if self.enabled:
            self.refused.labels(scope).inc()

    def render(self) -> bytes:
        """The text exposition: every worker's values under gunicorn, this process's otherwise."""
        from prometheus_client import CollectorRegistry, generate_latest

        # The variable is prometheus-client's own contract, set by `reader serve` before the fork.
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))


def init_app(app: Flask) -> None:
    """GET /metrics; behind READER_API_TOKEN when one is set."""

    def metrics() -> Any:
        from . import services
        from .web.boundary import problem

        svc = services()
        token = svc.settings.api_token
        if token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return problem(401, "Unauthorized", "Send the API token as 'Authorization: Bearer <token>'.",
                               "unauthorized")
        if svc.metrics is None or not svc.metrics.enabled:
            return problem(503, "Metrics unavailable", "Install prometheus-client to expose /metrics.",
                           "metrics-unavailable")
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(svc.metrics.render() + live_gauges(svc), mimetype=None, content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics)


def live_gauges(svc: Any) -> bytes:
    """Gauges read at scrape time from what the hosts share: the narration queue's depth and the
    live narration workers (from Redis across hosts, or this host's queue), and Redis itself."""
    from .narration.queue import live_workers, queue_for
    lines: list[str] = []

    def gauge(name: str, help_text: str, value: float) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"])

    if svc.redis is not None:
        gauge("reader_redis_up", "1 when Redis answers this host.", 1.0 if svc.redis.ping() else 0.0)
    try:
        gauge("reader_queue_depth", "Narration tasks waiting for a worker (all hosts).",
              float(queue_for(svc.settings).huey.pending_count()))
        gauge("reader_workers", "Narration worker processes alive (all hosts).", float(live_workers(svc.settings)))
    except Exception as exc:  # Redis away (redis-py's errors or ours): the other metrics still count
        LOGGER.warning("queue gauges unavailable (%s)", type(exc).__name__)
    return ("\n".join(lines) + "\n").encode() if lines else b""


def mark_process_dead(pid: int) -> None:
    """gunicorn child_exit hook: fold a dead worker's live gauges away (counters are kept)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        try:
            from prometheus_client import multiprocess
        except ImportError:
            return
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
