"""Cloud speech errors: the openai SDK's exceptions translated into actionable problems."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from ..errors import (
    CloudBusy,
    CloudError,
    CloudNotConfigured,
    CloudRejected,
    CloudTimeout,
    OverBudget,
    RateLimited,
)

__all__ = ["CloudBusy", "CloudError", "CloudNotConfigured", "CloudRejected", "CloudTimeout", "OverBudget",
           "Profile", "RateLimited", "translate"]

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    """What the messages need to know about one engine and operation."""

    engine: str  # "azure" | "openai"
    service: str  # "Azure OpenAI service", for people
    auth_hint: str  # what to check after a 401
    role_hint: str  # what to check after a 403
    model: str  # deployment or model name
    model_setting: str  # the environment variable naming it
    retries: int


def request_ids(exc: BaseException) -> tuple[str | None, str | None]:
    """x-request-id and apim-request-id of a failed response, for the log (never the key)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None, None
    return headers.get("x-request-id"), headers.get("apim-request-id")


def _retry_after(exc: BaseException, default: float = 1.0) -> float:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(float(headers[name]) / divisor, 0.0)
        except (KeyError, TypeError, ValueError):
            continue
    return default


def translate(exc: BaseException, profile: Profile, what: str) -> CloudError:
    """One CloudError with a message that says what to do, for any failure of the SDK."""
    import openai

    if isinstance(exc, CloudError):  # translated already (a later part of a long text)
        return exc
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    rid, apim = request_ids(exc)
    LOGGER.warning("%s %s failed: %s status=%s code=%s x-request-id=%s apim-request-id=%s",
                   profile.engine, what, type(exc).__name__, status, code, rid, apim)
    service = profile.service
    if _is_credential_error(exc):
        return CloudNotConfigured(
            f"Reader could not get a Microsoft Entra ID token for the {service}. Sign in "
            "(az login), give the managed identity access, or set a key instead. "
            f"{profile.auth_hint}"
        )
    if isinstance(exc, openai.APITimeoutError):
        return CloudTimeout(f"The {service} did not answer in time ({what}). Please try again shortly.")
    if isinstance(exc, openai.APIConnectionError):
        return CloudError(f"Reader could not reach the {service} ({what}). Check the endpoint setting "
                          "and the network, then try again.")
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, status, code, profile, what)
    # Mid-body failures come from the HTTP library itself (the connection broke off).
    return CloudError(f"The connection to the {service} broke off during the {what}. Please try again.")


def _content_filtered(exc: BaseException) -> bool:
    """A 400 from Azure's content filter (code content_filter, or an innererror that says so)."""
    body = getattr(exc, "body", None)
    if not isinstance(body, dict):
        return False
    error = body.get("error", body)
    inner = error.get("innererror") if isinstance(error, dict) else None
    codes = {str(error.get("code", "")) if isinstance(error, dict) else ""}
    if isinstance(inner, dict):
        codes.add(str(inner.get("code", "")))
    return any("content_filter" in c or c == "ResponsibleAIPolicyViolation" for c in codes)


def _is_credential_error(exc: BaseException) -> bool:
    try:
        from azure.core.exceptions import ClientAuthenticationError
    except ImportError:  # azure-identity is optional for the openai engine
        return False
    return isinstance(exc, ClientAuthenticationError)


def _status_error(exc: BaseException, status: int | None, code: str | None, profile: Profile, what: str) -> CloudError:
    """The service answered with an error status: what it means, and what to do."""
    service = profile.service
    if status == 401:
        return CloudNotConfigured(f"The {service} refused Reader's credentials (401). {profile.auth_hint}")
    if status == 403:
        return CloudNotConfigured(f"The {service} denied access (403). {profile.role_hint}")
    if status == 404 and code in ("DeploymentNotFound", "model_not_found", "ModelNotFound"):
        return CloudNotConfigured(
            f"The {service} has no deployment or model named {profile.model!r} "
            f"(404 {code}). Check {profile.model_setting}: it must be the "
            "deployment name, not the model name. A new deployment can take a few minutes to appear."
        )
    if status == 404:
        return CloudNotConfigured(
            f"The {service} has no such route (404{' ' + code if code else ''}). Check the endpoint "
            "setting, and READER_AZURE_ROUTE: v1 for current models, deployments (with OPENAI_API_VERSION) "
            "for Whisper deployments and older resources."
        )
    if status == 429:
        wait = _retry_after(exc)
        quota = "quota" in str(getattr(exc, "message", "")).lower()
        cause = ("has used up its quota for this minute (raise the deployment's quota in the Azure portal)"
                 if quota else "is busy (no capacity right now)")
        return RateLimited(f"The {service} {cause}. Try again in {math.ceil(wait)} s.", retry_after=wait)
    if status == 400 and _content_filtered(exc):
        return CloudRejected(
            f"The {service} refused this {what} under its content policy (a policy decision, not a fault "
            "in the text or in Reader). Reading on with the next sentence, or with an offline voice, works."
        )
    if status == 413:
        return CloudRejected(f"The {service} takes recordings up to 25 MB; this one is larger.")
    if status is not None and status < 500:
        return CloudRejected(
            f"The {service} could not handle this {what} ({status}{' ' + code if code else ''})."
        )
    return CloudError(f"The {service} failed ({status}) after {profile.retries} retries. "
                      "Please try again shortly.")
