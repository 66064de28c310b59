"""Cost counters per engine, exposed at /metrics in the Prometheus text format (multiprocess-safe)."""

from __future__ import annotations

import logging
import os

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


def mark_process_dead(pid: int) -> None:
    """gunicorn child_exit hook: fold a dead worker's live gauges away (counters are kept)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        try:
            from prometheus_client import multiprocess
        except ImportError:
            return
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
