"""The `openai` engine: OpenAI itself, or any OpenAI-compatible speech service (another Reader too)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..config import Settings
from .cloud import CloudSynthesizer, CloudTranscriber
from .cloud_errors import Profile

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def make_client(settings: Settings) -> Any:
    """An OpenAI client on OPENAI_BASE_URL (default OpenAI's) with OPENAI_API_KEY."""
    from openai import OpenAI

    if not settings.openai_api_key and not settings.openai_base_url:
        raise ValueError("OPENAI_API_KEY is not set: the openai engine needs a key, or OPENAI_BASE_URL "
                         "for a local service that takes none.")
    return OpenAI(
        # A local service without auth still needs a non-empty key for the SDK.
        api_key=settings.openai_api_key or "none",
        base_url=settings.openai_base_url or DEFAULT_BASE_URL,
        timeout=settings.cloud_timeout,
        max_retries=settings.cloud_retries,
    )


def _host(settings: Settings) -> str:
    return urlsplit(settings.openai_base_url or DEFAULT_BASE_URL).netloc


def _profile(settings: Settings, model: str, setting: str) -> Profile:
    service = "OpenAI service" if not settings.openai_base_url else f"speech service at {_host(settings)}"
    return Profile(engine="openai", service=service, auth_hint="Check OPENAI_API_KEY.",
                   role_hint="Check that the key may use this model (project and organisation).",
                   model=model, model_setting=setting, retries=settings.cloud_retries)


def build_synthesizer(settings: Settings) -> CloudSynthesizer:
    """Reading with READER_OPENAI_TTS_MODEL."""
    return CloudSynthesizer(
        make_client(settings), _profile(settings, settings.openai_tts_model, "READER_OPENAI_TTS_MODEL"),
        voices=settings.cloud_voices, host=_host(settings), concurrency=settings.cloud_concurrency,
        timeout=settings.cloud_timeout, allow_free_instructions=settings.allow_free_instructions,
    )


def build_transcriber(settings: Settings) -> CloudTranscriber:
    """Dictation with READER_OPENAI_STT_MODEL."""
    return CloudTranscriber(
        make_client(settings), _profile(settings, settings.openai_stt_model, "READER_OPENAI_STT_MODEL"),
        host=_host(settings), concurrency=settings.cloud_concurrency, timeout=settings.cloud_timeout,
        per_minute=settings.cloud_stt_per_minute,
    )
