"""Settings: every option declared once, with its environment variable, default and help."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _setting(default: Any, env: str, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


def _default_state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "reader")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Reader's configuration. Built from the environment in `from_env`, nowhere else."""

    data_dir: str = _setting(
        "", "READER_DATA_DIR",
        "Where documents are stored (they survive restarts). Default: ~/.local/state/reader.",
    )
    cache_dir: str = _setting(
        "", "READER_CACHE_DIR", "Audio cache directory. Default: audio-cache inside READER_DATA_DIR."
    )
    cache_size_mb: int = _setting(
        1024, "READER_CACHE_SIZE_MB", "Upper bound of the audio cache in MB (least recently used evicted)."
    )
    tts: str = _setting("piper", "READER_TTS", "Engine for reading: piper, espeak, azure, openai.")
    extra_tts: tuple[str, ...] = _setting(
        ("espeak", "kokoro"), "READER_EXTRA_TTS",
        "More reading engines to offer voices from, comma-separated (empty for none). Kokoro is left out, "
        "with a warning, where its voices are not installed.",
    )
    kokoro_voices: str = _setting(
        "", "READER_KOKORO_VOICES",
        "Folder of Kokoro voice files (*.bin). Default: where `make run` unpacks the npm package kokoro-js.",
    )
    stt: str = _setting("whisper", "READER_STT", "Engine for dictation: whisper, azure, openai.")
    default_voice: str = _setting(
        "", "READER_DEFAULT_VOICE",
        "Voice used when none is asked for, as engine:name (e.g. espeak:en-us). Default: the reading engine's own.",
    )
    default_format: str = _setting("mp3", "READER_DEFAULT_FORMAT", "Audio format when none is asked for.")
    piper_model: str = _setting(
        "", "READER_PIPER_MODEL", "Path of a Piper .onnx voice. Default: the packaged en_US joe voice."
    )
    piper_config: str = _setting(
        "", "READER_PIPER_CONFIG", "Path of the voice's .onnx.json. Default: the model path + .json."
    )
    piper_threads: int = _setting(
        0, "READER_PIPER_THREADS", "CPU threads per Piper voice (0: all cores; narration workers share them out).",
    )
    whisper_model: str = _setting(
        "", "READER_WHISPER_MODEL",
        "Path of a CTranslate2 Whisper model directory. Default: the packaged tiny.en model.",
    )
    whisper_multilingual: str = _setting(
        "", "READER_WHISPER_MULTILINGUAL",
        "Whisper model for languages other than English: empty for the packaged multilingual base, a model "
        "directory, or none (English only).",
    )
    whisper_threads: int = _setting(2, "READER_WHISPER_THREADS", "CPU threads per Whisper transcription.")
    max_text_chars: int = _setting(
        500_000, "READER_MAX_TEXT_CHARS", "Longest pasted text accepted, in characters."
    )
    max_speech_chars: int = _setting(
        4_000, "READER_MAX_SPEECH_CHARS", "Longest text accepted by POST /api/speech, in characters."
    )
    speech_per_minute: int = _setting(
        60, "READER_SPEECH_PER_MINUTE", "Requests per minute per client to POST /api/speech (0: no limit)."
    )
    max_upload_mb: int = _setting(
        25, "READER_MAX_UPLOAD_MB", "Largest request body (uploads, recordings) in MB."
    )
    max_audio_seconds: int = _setting(
        300, "READER_MAX_AUDIO_SECONDS", "Longest recording accepted for transcription, in seconds."
    )
    allow_private_urls: bool = _setting(
        False, "READER_ALLOW_PRIVATE_URLS",
        "Allow fetching from private, loopback and link-local addresses (for tests and intranets).",
    )
    fetch_connect_timeout: float = _setting(
        5.0, "READER_FETCH_CONNECT_TIMEOUT", "Seconds to connect when fetching a URL.")
    fetch_timeout: float = _setting(20.0, "READER_FETCH_TIMEOUT", "Total seconds a URL fetch may take.")
    max_download_mb: int = _setting(20, "READER_MAX_DOWNLOAD_MB", "Largest web page or PDF fetched from a URL, in MB.")
    pronunciations: str = _setting(
        "", "READER_PRONUNCIATIONS", "Path of a JSON or TOML pronunciation list applied for every engine."
    )
    azure_endpoint: str = _setting("", "AZURE_OPENAI_ENDPOINT", "Azure OpenAI endpoint, https://NAME.openai.azure.com.")
    azure_api_key: str = _setting(
        "", "AZURE_OPENAI_API_KEY", "Azure OpenAI key. Without it, Microsoft Entra ID (DefaultAzureCredential) is used."
    )
    azure_api_version: str = _setting("2025-04-01-preview", "OPENAI_API_VERSION", "Azure OpenAI API version.")
    azure_route: str = _setting(
        "v1", "READER_AZURE_ROUTE",
        "Azure OpenAI route: v1 (/openai/v1/, no api-version) or deployments (with OPENAI_API_VERSION; "
        "Whisper deployments need it).",
    )
    azure_tts_deployment: str = _setting(
        "gpt-4o-mini-tts", "READER_AZURE_TTS_DEPLOYMENT", "Azure deployment name for reading."
    )
    azure_stt_deployment: str = _setting(
        "gpt-4o-transcribe", "READER_AZURE_STT_DEPLOYMENT", "Azure deployment name for dictation."
    )
    azure_scope: str = _setting(
        "https://cognitiveservices.azure.com/.default", "READER_AZURE_SCOPE", "Entra ID token scope."
    )
    openai_api_key: str = _setting("", "OPENAI_API_KEY", "Key for the openai engine.")
    openai_base_url: str = _setting(
        "", "OPENAI_BASE_URL", "Base URL of an OpenAI-compatible service (default: OpenAI's)."
    )
    openai_tts_model: str = _setting(
        "gpt-4o-mini-tts", "READER_OPENAI_TTS_MODEL", "Model for reading with the openai engine.")
    openai_stt_model: str = _setting(
        "gpt-4o-transcribe", "READER_OPENAI_STT_MODEL", "Model for dictation with the openai engine.")
    cloud_voices: tuple[str, ...] = _setting(
        ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
         "verse", "marin", "cedar"),
        "READER_CLOUD_VOICES", "Cloud voices offered, comma-separated.",
    )
    cloud_timeout: float = _setting(30.0, "READER_CLOUD_TIMEOUT", "Seconds before a cloud request times out.")
    cloud_retries: int = _setting(2, "READER_CLOUD_RETRIES", "Retries of a cloud request (429, 5xx, timeouts).")
    cloud_concurrency: int = _setting(
        4, "READER_CLOUD_CONCURRENCY", "Cloud syntheses at once per deployment, per worker."
    )
    cloud_stt_per_minute: int = _setting(
        0, "READER_CLOUD_STT_PER_MINUTE",
        "Dictation requests per minute the cloud deployment allows (Azure's default quota: 3). Reader then "
        "queues and paces them per worker instead of failing (0: no pacing).",
    )
    cloud_live_interval: float = _setting(
        2.0, "READER_CLOUD_LIVE_INTERVAL",
        "Seconds between the live dictation passes sent to a cloud transcriber while someone speaks (each "
        "is billed for the audio it sends; at most half of READER_CLOUD_STT_PER_MINUTE goes to them). "
        "0: none, the text comes when the recording stops.",
    )
    allow_free_instructions: bool = _setting(
        False, "READER_ALLOW_FREE_INSTRUCTIONS", "Let users send their own style instructions to cloud voices."
    )
    fallback: bool = _setting(
        False, "READER_FALLBACK", "When a cloud voice fails or is over budget, read with the offline voice."
    )
    daily_char_budget: int = _setting(
        0, "READER_DAILY_CHAR_BUDGET", "Characters of cloud synthesis per client per day (0: no limit)."
    )
    api_token: str = _setting("", "READER_API_TOKEN", "Bearer token required on /v1 endpoints (empty: none).")
    cors_origins: tuple[str, ...] = _setting(
        (), "READER_CORS_ORIGINS", "Origins allowed to use dictate.js and the API from other sites, comma-separated."
    )
    workers: int = _setting(3, "READER_WORKERS", "gunicorn worker processes for `reader serve`.")
    threads: int = _setting(
        8, "READER_THREADS", "Threads per gunicorn worker (requests waiting on a cloud voice hold one each)."
    )
    heavy_per_worker: int = _setting(
        1, "READER_HEAVY_PER_WORKER",
        "Local syntheses and transcriptions run at once per worker (the CPU-heavy work).",
    )
    heavy_queue: int = _setting(
        4, "READER_HEAVY_QUEUE",
        "Heavy requests that may wait per worker; beyond it a 503 with Retry-After (keep below READER_THREADS).",
    )
    heavy_per_client: int = _setting(
        4, "READER_HEAVY_PER_CLIENT",
        "Heavy requests one client may have under way across all workers; beyond it a 429 (0: no limit).",
    )
    cache_retry_seconds: float = _setting(
        30.0, "READER_CACHE_RETRY_SECONDS",
        "After the audio cache fails (full, read-only or damaged disk), seconds before it is tried again.",
    )
    redis_url: str = _setting(
        "", "READER_REDIS_URL",
        "Redis shared by many hosts (redis://host:6379/0): documents, limits, budgets, narration jobs and "
        "the shared tier of the audio cache. Empty: everything local, in the data dir.",
    )
    redis_audio_mb: int = _setting(
        512, "READER_REDIS_AUDIO_MB",
        "Size bound of the audio cache's shared tier in Redis, in MB (least recently used go first).",
    )
    narration_workers: int = _setting(
        1, "READER_NARRATION_WORKERS",
        "Narration worker processes `reader serve` starts beside gunicorn (0: none; run `reader worker`).",
    )
    narration_per_client: int = _setting(
        2, "READER_NARRATION_PER_CLIENT", "Narrations one client may have queued or running at once (429 beyond).",
    )
    exports_mb: int = _setting(
        2048, "READER_EXPORTS_MB", "Disk budget for finished narrations, in MB (the oldest expire first; 507 beyond).",
    )
    export_days: float = _setting(
        7.0, "READER_EXPORT_DAYS", "Days a finished narration is kept after it was made.",
    )
    document_days: float = _setting(
        30.0, "READER_DOCUMENT_DAYS", "Days a document is kept after it was last opened or read (then it is deleted).",
    )
    audio_days: float = _setting(
        30.0, "READER_AUDIO_DAYS", "Longest a sentence's audio stays in the cache, in days (besides the size bound).",
    )
    job_stale_seconds: float = _setting(
        60.0, "READER_JOB_STALE_SECONDS",
        "A running narration silent this long is taken to have lost its worker and is started again.",
    )
    ocr: bool = _setting(
        True, "READER_OCR",
        "Recognise the text of scanned PDF pages and images with Tesseract (when it is installed).",
    )
    ocr_languages: tuple[str, ...] = _setting(
        ("eng",), "READER_OCR_LANGUAGES",
        "Tesseract languages for text recognition, comma-separated (after the upload's own language).",
    )
    ocr_max_pages: int = _setting(
        300, "READER_OCR_MAX_PAGES", "Scanned pages one upload may have recognised (413 beyond).",
    )
    ocr_inline_pages: int = _setting(
        3, "READER_OCR_INLINE_PAGES",
        "Scanned pages recognised while the upload waits; a longer scan is read by a worker in the background, "
        "with its progress shown.",
    )
    language_voices: tuple[str, ...] = _setting(
        (), "READER_LANGUAGE_VOICES",
        "Voices for languages the chosen voice does not speak, as language=voice pairs, comma-separated "
        "(fr=espeak:fr,de=espeak:de). Otherwise the first voice on offer for the language.",
    )
    price_tts_per_minute: float = _setting(
        0.015, "READER_PRICE_TTS_PER_MINUTE",
        "For `reader eval cost`: USD per minute of gpt-4o-mini-tts audio (OpenAI's estimate, list price, March 2025).",
    )
    price_tts_per_million_chars: float = _setting(
        15.0, "READER_PRICE_TTS_PER_MILLION_CHARS",
        "For `reader eval cost`: USD per million characters of tts-1 (OpenAI list price, 2024-2025).",
    )
    price_stt_per_minute: float = _setting(
        0.006, "READER_PRICE_STT_PER_MINUTE",
        "For `reader eval cost`: USD per minute of gpt-4o-transcribe (OpenAI's estimate, list price of March 2025).",
    )
    trust_proxy: int = _setting(
        0, "READER_TRUST_PROXY",
        "Proxies in front of Reader whose X-Forwarded-For is trusted for the client address (0: none).",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every READER_* variable; unknown values raise ValueError naming the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "" and f.type != "tuple[str, ...]":
                continue
            values[f.name] = _parse(f, raw)
        return cls(**values).resolved()

    def resolved(self) -> Settings:
        """Fill in the defaults that depend on other settings."""
        data_dir = self.data_dir or _default_state_dir()
        cache_dir = self.cache_dir or str(Path(data_dir) / "audio-cache")
        return dataclasses.replace(self, data_dir=data_dir, cache_dir=cache_dir)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            value = int(raw)
            if value < 0:
                raise ValueError("must not be negative")
            return value
        if kind == "float":
            number = float(raw)
            if number < 0:
                raise ValueError("must not be negative")
            return number
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError("expected true or false")
        if kind == "tuple[str, ...]":
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        return raw.strip()
    except ValueError as exc:
        raise ValueError(f"{f.metadata['env']}={raw!r}: {exc}") from exc


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting: the README table is checked against this."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default
        if isinstance(default, tuple):
            default = ",".join(default)
        elif isinstance(default, bool):
            default = "true" if default else "false"
        rows.append((f.metadata["env"], str(default), f.metadata["help"]))
    return rows
