"""What the views, the CLI and the worker share: one Services per app or worker process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

from .budget import RateLimit
from .config import Settings
from .documents.imports import ImportStore
from .documents.store import Documents
from .limits import HeavyWork
from .metrics import Metrics
from .narration.jobs import JobStore
from .narration.queue import TaskQueue
from .speech.base import Transcriber
from .speech.service import SpeechService

if TYPE_CHECKING:
    from .shared import SharedRedis


@dataclass
class Services:
    """The engines, stores and limits, composed once (reader.wiring.build_services)."""

    settings: Settings
    documents: Documents
    speech: SpeechService
    transcriber: Transcriber
    metrics: Metrics
    speech_limit: RateLimit  # for POST /api/speech
    heavy: HeavyWork
    jobs: JobStore  # narrations
    imports: ImportStore  # long scans, read in the background
    queue: TaskQueue  # the narration and import tasks, for the worker
    redis: SharedRedis | None = None  # READER_REDIS_URL: what the hosts share


def services(app: Flask | None = None) -> Services:
    """The Services of the current (or given) app."""
    return (app or current_app).extensions["reader"]  # type: ignore[no-any-return]
