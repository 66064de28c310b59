"""GET /metrics: the cost counters and the gauges read at scrape time, in Prometheus' text format."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response

from ..services import Services, services
from .boundary import problem
from .security import bearer_ok

LOGGER = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """GET /metrics; behind READER_API_TOKEN when one is set."""

    def metrics() -> Any:
        svc = services()
        if not bearer_ok(svc.settings.api_token):
            return problem(401, "Unauthorized", "Send the API token as 'Authorization: Bearer <token>'.",
                           "unauthorized")
        if svc.metrics is None or not svc.metrics.enabled:
            return problem(503, "Metrics unavailable", "Install prometheus-client to expose /metrics.",
                           "metrics-unavailable")
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(svc.metrics.render() + live_gauges(svc), mimetype=None, content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics)


def live_gauges(svc: Services) -> bytes:
    """Gauges read at scrape time from what the hosts share: the narration queue's depth and the
    live narration workers (from Redis across hosts, or this host's queue), and Redis itself."""
    lines: list[str] = []

    def gauge(name: str, help_text: str, value: float) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"])

    if svc.redis is not None:
        gauge("reader_redis_up", "1 when Redis answers this host.", 1.0 if svc.redis.ping() else 0.0)
    try:
        gauge("reader_queue_depth", "Narration tasks waiting for a worker (all hosts).", float(svc.queue.pending()))
        gauge("reader_workers", "Narration worker processes alive (all hosts).", float(svc.queue.live_workers()))
    except Exception as exc:  # Redis away (redis-py's errors or ours): the other metrics still count
        LOGGER.warning("queue gauges unavailable (%s)", type(exc).__name__)
    return ("\n".join(lines) + "\n").encode() if lines else b""
