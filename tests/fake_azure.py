"""A stand-in for Azure OpenAI's audio routes on 127.0.0.1, speaking the real wire protocol.

`POST /openai/deployments/{dep}/audio/speech?api-version=...` (JSON body) answers with real
audio in the requested format, streamed in chunks; `.../audio/transcriptions` (multipart)
answers with a real transcription. Auth by `api-key` or `Authorization: Bearer`. Faults
(429 with retry-after-ms, 500, 401, 404 DeploymentNotFound, slow answers, dropped
connections, rejected containers) are queued per test, and every request is recorded.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from reader import audio

API_VERSIONS = ("2025-04-01-preview", "2025-03-01-preview")
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
          "verse", "marin", "cedar")
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
CONTAINERS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
TTS1_LACKS = ("ballad", "verse", "marin", "cedar")  # voices tts-1 and tts-1-hd reject
MIME = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
        "wav": "audio/wav", "pcm": "audio/pcm"}


@dataclass
class Fault:
    """What to do to the next matching request instead of (or while) answering it."""

    status: int = 0  # answer with this error status
    code: str | None = None
    message: str = "Injected failure."
    retry_after_ms: int | None = None
    retry_after: int | None = None
    delay: float = 0.0  # seconds of silence before the answer (timeouts)
    drop_after: int | None = None  # body bytes sent before the connection is cut
    route: str = ""  # "speech", "transcriptions" or "" for either


@dataclass
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: dict[str, Any] | None = None
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name -> (filename, mime, data)
    v1: bool = False  # came in on the /openai/v1/ route


def _model_of(route: str, content_type: str, body: bytes) -> str:
    """The v1 route's deployment: "model" in the JSON body, or the multipart field."""
    if route == "speech":
        try:
            return str(json.loads(body).get("model") or "")
        except (ValueError, AttributeError):
            return ""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    for part in message.iter_parts() if message.is_multipart() else ():
        if part.get_param("name", header="content-disposition") == "model":
            return (part.get_payload(decode=True) or b"").decode()
    return ""


class FakeAzure:
    """The server; `url` is the endpoint to give AzureOpenAI(azure_endpoint=...)."""

    def __init__(self, synthesize: Callable[[str], Any], transcribe: Callable[[np.ndarray], str], *,
                 key: str = "test-key", token: str | None = None,
                 deployments: tuple[str, ...] = ("gpt-4o-mini-tts", "gpt-4o-transcribe"),
                 chunk_size: int = 4096, chunk_delay: float = 0.0, header_delay: float = 0.0,
                 reject_containers: tuple[str, ...] = ()) -> None:
        self.synthesize = synthesize
        self.transcribe = transcribe
        self.key, self.token = key, token
        self.deployments = deployments
        self.chunk_size, self.chunk_delay, self.header_delay = chunk_size, chunk_delay, header_delay
        self.reject_containers = reject_containers
        self.stream_fail_after: int | None = None  # a streamed transcription fails after this many deltas
        self.faults: deque[Fault] = deque()
        self.requests: list[Seen] = []
        self.first_byte_at: list[float] = []  # perf_counter when each speech body's first byte left
        self.in_flight = 0
        self.max_in_flight = 0
        # Seconds a speech response may keep its last chunk back while it is the only one in
        # flight: a client that asks for the next sentences while one streams then meets them in
        # flight together, however slow the machine (0: no waiting).
        self.overlap_wait = 0.0
        self.filter_words: tuple[str, ...] = ()  # input containing one of these gets a content-filter 400
        self.stt_quota: tuple[int, float] | None = None  # (requests, per seconds) for transcriptions, as Azure's
        self._stt_times: list[float] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAzure:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def speech_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path.endswith("/audio/speech")]

    def fault_for(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.route in ("", route):
                    self.faults.remove(fault)
                    return fault
        return None


def _error(code: str | int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": str(code), "message": message, **extra}}


def _handler(fake: FakeAzure) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-request-id", str(uuid.uuid4()))
            self.send_header("apim-request-id", str(uuid.uuid4()))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = Seen("POST", url.path, query, {k.lower(): v for k, v in self.headers.items()})
            with fake._lock:
                fake.requests.append(seen)
            parts = url.path.strip("/").split("/")
            if parts[:3] == ["openai", "v1", "audio"] and len(parts) == 4:
                # The v1 route: no api-version; the deployment is the body's "model".
                route = parts[3]
                deployment = _model_of(route, self.headers.get("Content-Type", ""), body)
                seen.v1 = True
            elif len(parts) == 5 and parts[:2] == ["openai", "deployments"] and parts[3] == "audio":
                deployment, route = parts[2], parts[4]
                if query.get("api-version") not in API_VERSIONS:
                    return self._json(404, _error(404, "Resource not found"))
            else:
                return self._json(404, _error(404, "Resource not found"))
            if len(body) > 25 * 1024 * 1024:
                return self._json(413, _error("request_too_large", "Maximum content size limit (26214400) exceeded."))
            if not self._authorised(seen.headers):
                return self._json(401, _error(401, "Access denied due to invalid subscription key or wrong "
                                                   "API endpoint. Make sure to provide a valid key for an "
                                                   "active subscription and use a correct regional API "
                                                   "endpoint for your resource."))
            if deployment not in fake.deployments:
                return self._json(404, _error("DeploymentNotFound", "The API deployment for this resource "
                                              "does not exist. If you created the deployment within the "
                                              "last 5 minutes, please wait a moment and try again."))
            fault = fake.fault_for(route)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status:
                headers = {}
                if fault.retry_after_ms is not None:
                    headers["retry-after-ms"] = str(fault.retry_after_ms)
                if fault.retry_after is not None:
                    headers["retry-after"] = str(fault.retry_after)
                return self._json(fault.status, _error(fault.code or fault.status, fault.message), headers)
            if route == "speech":
                return self._speech(seen, body, fault)
            if route == "transcriptions":
                if fake.stt_quota is not None:
                    count, window = fake.stt_quota
                    now = time.monotonic()
                    with fake._lock:
                        fake._stt_times = [t for t in fake._stt_times if now - t < window]
                        over = len(fake._stt_times) >= count
                        if not over:
                            fake._stt_times.append(now)
                    if over:
                        return self._json(429, _error("429", "Requests to the Audio API have exceeded call rate limit "
                                                      "of your current quota. Please retry after 60 seconds."),
                                          {"retry-after": "60", "x-ratelimit-remaining-requests": "0",
                                           "x-ratelimit-limit-requests": str(count)})
                return self._transcription(seen, body)
            return self._json(404, _error(404, "Resource not found"))

        def _authorised(self, headers: dict[str, str]) -> bool:
            if "api-key" in headers:
                return headers["api-key"] == fake.key
            bearer = headers.get("authorization", "")
            # The v1 route also takes the key as a bearer token, as OpenAI's client sends it.
            return (fake.token is not None and bearer == f"Bearer {fake.token}") or bearer == f"Bearer {fake.key}"

        def _speech(self, seen: Seen, body: bytes, fault: Fault | None) -> None:
            try:
                req = json.loads(body)
            except ValueError:
                return self._json(400, _error("invalid_json", "We could not parse the JSON body."))
            seen.json = req
            text, voice = req.get("input"), req.get("voice")
            fmt = req.get("response_format", "mp3")
            if not isinstance(text, str) or not text:
                return self._json(400, _error("missing_required_parameter", "Missing 'input'.", param="input"))
            if len(text) > 4096:
                return self._json(400, _error("string_above_max_length", "'input' is longer than 4096 "
                                              "characters.", param="input"))
            model = str(req.get("model") if seen.v1 else seen.path.split("/")[3])
            offered = [v for v in VOICES if not (model.startswith("tts-1") and v in TTS1_LACKS)]
            if voice not in offered:
                return self._json(400, _error("invalid_value", f"Invalid value for 'voice'. Supported "
                                              f"values are: {', '.join(offered)}.", param="voice"))
            if fake.filter_words and any(w in text.lower() for w in fake.filter_words):
                return self._json(400, {"error": {
                    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                               "management policy.", "type": None, "param": "prompt", "code": "content_filter",
                    "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation",
                                                  "content_filter_result": {"hate": {"filtered": True,
                                                                                     "severity": "high"}}}}})
            if fmt not in FORMATS:
                return self._json(400, _error("invalid_value", "Invalid response_format.",
                                              param="response_format"))
            speech = fake.synthesize(text)
            data = audio.encode(speech.samples, speech.sample_rate, fmt)
            with fake._lock:
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                time.sleep(fake.header_delay)
                self.send_response(200)
                self.send_header("Content-Type", MIME[fmt])
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("x-request-id", str(uuid.uuid4()))
                self.send_header("apim-request-id", str(uuid.uuid4()))
                self.end_headers()
                sent = 0
                for i in range(0, len(data), fake.chunk_size):
                    chunk = data[i: i + fake.chunk_size]
                    if fault is not None and fault.drop_after is not None and sent + len(chunk) > fault.drop_after:
                        self._cut(data[i: i + max(fault.drop_after - sent, 1)])
                        return
                    if i:
                        time.sleep(fake.chunk_delay)
                    else:
                        with fake._lock:
                            fake.first_byte_at.append(time.perf_counter())
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    sent += len(chunk)
                deadline = time.monotonic() + fake.overlap_wait
                while time.monotonic() < deadline and fake.max_in_flight < 2:
                    time.sleep(0.02)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def _cut(self, partial: bytes) -> None:
            """Send part of a chunk, then drop the connection, as a failing proxy would."""
            self.wfile.write(b"%x\r\n%s" % (len(partial) + 1000, partial))
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _transcription(self, seen: Seen, body: bytes) -> None:
            ctype = self.headers.get("Content-Type", "")
            if not ctype.startswith("multipart/form-data"):
                return self._json(400, _error("invalid_request", "Expected multipart/form-data."))
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None:
                    seen.files[str(name)] = (filename, part.get_content_type(), payload)
                else:
                    seen.fields[str(name)] = payload.decode()
            if "file" not in seen.files:
                return self._json(400, _error("missing_required_parameter", "Missing 'file'.", param="file"))
            filename, _, data = seen.files["file"]
            ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
            if ext not in CONTAINERS:
                return self._json(400, _error("unsupported_format", f"Invalid file format. Supported "
                                              f"formats: {list(CONTAINERS)}", param="file"))
            if ext in fake.reject_containers:
                return self._json(400, _error("unsupported_format", "Audio file might be corrupted or "
                                              "unsupported", param="file"))
            samples = audio.decode(data)
            text = fake.transcribe(samples)
            audio_tokens = int(len(samples) / audio.TRANSCRIBE_RATE * 10) + 1
            text_tokens = max(len(text.split()), 1)
            usage = {"type": "tokens", "input_tokens": audio_tokens, "output_tokens": text_tokens,
                     "total_tokens": audio_tokens + text_tokens,
                     "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0}}
            if seen.fields.get("stream") == "true":
                # Server-sent events, a delta per word as the service decodes, then the done event.
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("x-request-id", str(uuid.uuid4()))
                self.end_headers()
                pieces = [w if i == 0 else " " + w for i, w in enumerate(text.split())]
                for i, piece in enumerate(pieces):
                    if fake.stream_fail_after is not None and i == fake.stream_fail_after:
                        error = {"error": {"message": "The server had an error.", "type": "server_error"}}
                        self.wfile.write(f"data: {json.dumps(error)}\n\n".encode())
                        self.wfile.flush()
                        return
                    event = {"type": "transcript.text.delta", "delta": piece}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(fake.chunk_delay)
                done = {"type": "transcript.text.done", "text": text, "usage": usage}
                self.wfile.write(f"data: {json.dumps(done)}\n\n".encode())
                self.wfile.flush()
                self.close_connection = True
                return
            if seen.fields.get("response_format") == "text":
                out = (text + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                return
            self._json(200, {"text": text, "usage": usage})

    return Handler


class FakeCredential:
    """An azure-identity credential without a network: get_token and get_token_info, counting calls."""

    def __init__(self, token: str = "entra-token") -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        self.scopes.append(scopes)
        return AccessTokenInfo(self.token, int(time.time()) + 3600)


# -- fixtures (import them into a test module to use them) -----------------------------------


@pytest.fixture
def fake_azure(espeak: Any, whisper: Any) -> Any:
    """A running FakeAzure speaking with eSpeak and hearing with Whisper; stopped after the test."""
    fake = FakeAzure(lambda text: espeak.synthesize(text, "en-us"),
                     lambda samples: whisper.transcribe(samples, language="en").text).start()
    try:
        yield fake
    finally:
        fake.stop()


def cloud_settings(settings: Any, fake: FakeAzure, **overrides: Any) -> Any:
    """Settings for the azure engine on `fake` (key auth, fast retries), on the test's data dir."""
    import dataclasses

    # The wire tests of the deployment route keep it; the v1 route (Reader's default) has its own tests.
    values: dict[str, Any] = {"azure_endpoint": fake.url, "azure_api_key": fake.key, "cloud_timeout": 5.0,
                              "cloud_retries": 1, "tts": "azure", "extra_tts": ("espeak",),
                              "azure_route": "deployments"}
    values.update(overrides)
    return dataclasses.replace(settings, **values)
