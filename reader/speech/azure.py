"""The `azure` engine: Azure OpenAI gpt-4o-mini-tts and gpt-4o-transcribe, on the current v1 route
(`https://RESOURCE.openai.azure.com/openai/v1/`, the plain OpenAI client, no api-version) or the
older deployment route (`/openai/deployments/NAME/...?api-version=`), which Whisper deployments need."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from ..config import Settings
from .cloud import CloudSynthesizer, CloudTranscriber
from .cloud_errors import Profile

LOGGER = logging.getLogger(__name__)

SERVICE = "Azure OpenAI service"
AUTH_HINT = ("Check AZURE_OPENAI_API_KEY, or, without a key, that Reader's Microsoft Entra ID identity "
             "can sign in (DefaultAzureCredential).")
ROLE_HINT = ("Give Reader's identity the 'Cognitive Services OpenAI User' role on the resource, and check "
             "its network rules. Entra ID needs a custom-subdomain endpoint.")


def make_client(settings: Settings, *, credential: Any = None) -> Any:
    """A client for the resource: key auth when a key is set, otherwise Microsoft Entra ID."""
    from openai import AzureOpenAI, OpenAI

    if not settings.azure_endpoint:
        raise ValueError("AZURE_OPENAI_ENDPOINT is not set: give the resource's endpoint, "
                         "https://NAME.openai.azure.com.")
    if settings.azure_route not in ("v1", "deployments"):
        raise ValueError(f"READER_AZURE_ROUTE must be v1 or deployments, not {settings.azure_route!r}.")
    # The SDK retries connection errors, 408, 409, 429 and 5xx, honouring retry-after(-ms).
    common: dict[str, Any] = {"timeout": settings.cloud_timeout, "max_retries": settings.cloud_retries}
    token: Any = settings.azure_api_key or None
    if token is None:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider

        token = get_bearer_token_provider(credential if credential is not None else DefaultAzureCredential(),
                                          settings.azure_scope)
    if settings.azure_route == "v1":
        base = settings.azure_endpoint.rstrip("/") + "/openai/v1/"
        headers = {"api-key": settings.azure_api_key} if settings.azure_api_key else None
        return OpenAI(base_url=base, api_key=token, default_headers=headers, **common)
    options: dict[str, Any] = {"azure_endpoint": settings.azure_endpoint, "api_version": settings.azure_api_version,
                               **common}
    if settings.azure_api_key:
        options["api_key"] = settings.azure_api_key
    else:
        options["azure_ad_token_provider"] = token
    return AzureOpenAI(**options)


def auth_method(settings: Settings) -> str:
    """How Reader signs in, in words (never the key itself)."""
    return "API key" if settings.azure_api_key else f"Microsoft Entra ID (scope {settings.azure_scope})"


def _profile(settings: Settings, model: str, setting: str) -> Profile:
    return Profile(engine="azure", service=SERVICE, auth_hint=AUTH_HINT, role_hint=ROLE_HINT,
                   model=model, model_setting=setting, retries=settings.cloud_retries)


def build_synthesizer(settings: Settings, *, credential: Any = None) -> CloudSynthesizer:
    """Reading with the TTS deployment."""
    return CloudSynthesizer(
        make_client(settings, credential=credential),
        _profile(settings, settings.azure_tts_deployment, "READER_AZURE_TTS_DEPLOYMENT"),
        voices=settings.cloud_voices, host=urlsplit(settings.azure_endpoint).netloc,
        concurrency=settings.cloud_concurrency, timeout=settings.cloud_timeout,
        allow_free_instructions=settings.allow_free_instructions,
    )


def build_transcriber(settings: Settings, *, credential: Any = None) -> CloudTranscriber:
    """Dictation with the STT deployment."""
    return CloudTranscriber(
        make_client(settings, credential=credential),
        _profile(settings, settings.azure_stt_deployment, "READER_AZURE_STT_DEPLOYMENT"),
        host=urlsplit(settings.azure_endpoint).netloc,
        concurrency=settings.cloud_concurrency, timeout=settings.cloud_timeout,
        per_minute=settings.cloud_stt_per_minute,
    )
