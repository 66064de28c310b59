"""Command line: `reader serve | speak | transcribe | voices | check`."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .config import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from gunicorn.app.base import BaseApplication

    from . import create_app

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers or settings.workers,
                "threads": settings.threads,
                "worker_class": "gthread",
                # A long first synthesis or a model load must not look like a hung worker.
                "timeout": 120,
                "graceful_timeout": 10,
                # Idle keep-alive connections are held longer than a proxy holds its own (nginx:
                # 60 s, deploy/nginx.conf), so that it is always the proxy that closes one: else a
                # request sent as Reader closes it meets a reset, and a POST cannot be retried.
                "keepalive": 75,
                "accesslog": "-" if args.access_log else None,
                # The app is built in each worker, after fork: engines load lazily there.
                "preload_app": False,
            }
            # gunicorn 25+ opens a runtime-control socket by default; Reader needs none, and
            # two servers on one machine would contend for the same path.
            if "control_socket_disable" in self.cfg.settings:
                options["control_socket_disable"] = True
            # Metrics of a worker that exited are folded in by prometheus-client's multiprocess mode.
            options["child_exit"] = _child_exit
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(settings)

    # Workers write their metrics to files in one directory, so /metrics can sum them all.
    # Set before the fork (prometheus-client reads it at import, in each worker).
    own_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if own_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="reader-metrics-")
    print(f"Reader on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    # Narrations: a queue consumer beside gunicorn (on one host nothing else needs starting).
    worker = None
    if settings.narration_workers > 0:
        import subprocess

        worker = subprocess.Popen([sys.executable, "-m", "reader.cli", "worker", "--with-parent",
                                   "--workers", str(settings.narration_workers)])
    try:
        Server().run()
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        if own_dir:
            shutil.rmtree(os.environ.pop("PROMETHEUS_MULTIPROC_DIR"), ignore_errors=True)
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    """A narration queue consumer, until stopped."""
    from .logs import quiet_content_loggers
    from .worker import run_worker

    quiet_content_loggers()
    if args.with_parent:
        _die_with_parent()
    run_worker(settings, args.workers or settings.narration_workers or 1)
    return 0


def _die_with_parent() -> None:
    """Linux: end this process when the `reader serve` that started it ends, however it ends."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: `reader serve` still stops it on a normal exit
        pass


def _narrate(args: argparse.Namespace, settings: Settings) -> int:
    """A document (a URL, a file or stdin) into an audiobook, here and now, with a progress bar."""
    from tqdm import tqdm

    from .documents import ingest
    from .errors import ReaderError
    from .narration.narrate import Cancelled, narrate
    from .narration.spec import FORMATS, Spec

    fmt = args.format or Path(args.output).suffix.lstrip(".").lower() or "m4b"
    if fmt not in FORMATS:
        print(f"reader narrate: unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    svc = _build(settings)
    try:
        if args.source == "-":
            data = sys.stdin.buffer.read()
            doc, _ = ingest.from_upload(svc.documents, data, settings=settings, filename=None)
        elif "://" in args.source:
            doc, _ = ingest.from_url(svc.documents, args.source, settings=settings)
        else:
            data = Path(args.source).read_bytes()
            doc, _ = ingest.from_upload(svc.documents, data, settings=settings, filename=Path(args.source).name)
        _, voice = svc.speech.resolve(args.voice)
    except (ReaderError, OSError) as exc:
        print(f"reader narrate: {exc.detail if isinstance(exc, ReaderError) else exc}", file=sys.stderr)
        return 1
    out = Path(args.output)
    work = out.parent / f".{out.name}.narration"
    bar = tqdm(total=len(doc.sentences), unit="sentence", desc=doc.title[:40], disable=args.quiet)
    spec = Spec(doc_id=doc.id, voice=voice.id, format=fmt)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        result = narrate(svc.speech, doc, spec, work, clip_format=settings.default_format, progress=progress,
                         narrator=voice.label)
        os.replace(result.path, out)
    except KeyboardInterrupt:
        bar.close()
        print("reader narrate: interrupted; nothing was written", file=sys.stderr)
        return 130
    except (ReaderError, Cancelled) as exc:
        bar.close()
        print(f"reader narrate: {getattr(exc, 'detail', 'cancelled')}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        svc.speech.close()
    bar.close()
    print(f"{out}: {result.seconds / 60:.1f} min of audio, {len(doc.sentences)} sentences", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    """What is stored, how much, and the oldest of each kind, against the retention settings."""
    import datetime as dt

    from .audio_cache import AudioCache
    from .documents.store import DocumentStore
    from .wiring import jobs_for

    def when(stamp: float) -> str:
        if not stamp:
            return "-"
        return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def size(n: float) -> str:
        return f"{n / 1e6:.1f} MB"

    store: Any = DocumentStore(Path(settings.data_dir) / "documents")
    shared = None
    if settings.redis_url:
        from .audio_cache.redis_tier import RedisAudioTier
        from .documents.store import RedisDocumentStore
        from .shared import shared_redis

        shared = shared_redis(settings.redis_url)
        store = RedisDocumentStore(shared, keep_seconds=settings.document_days * 86400)
        if not shared.ping():
            print("Redis does not answer (READER_REDIS_URL): documents, jobs and the shared audio tier are there.")
            return 1
    docs = list(store.entries())
    print(f"Documents:  {len(docs)}, {size(sum(d[2] for d in docs))}; least recently used "
          f"{when(min((d[1] for d in docs), default=0))}; kept {settings.document_days:g} days after last use")
    cache = AudioCache(settings.cache_dir, settings.cache_size_mb, retry_seconds=0)
    info = cache.status()
    asked = info["hits"] + info["misses"]
    rate = f"{info['hits'] / asked:.0%}" if asked else "-"
    print(f"Audio:      {int(info['entries'])} sentences, {size(info['bytes'])} of {settings.cache_size_mb} MB; "
          f"hit rate {rate} ({int(asked)} requests); oldest {when(info['oldest'])}; kept at most "
          f"{settings.audio_days:g} days")
    cache.close()
    if shared is not None:
        tier = RedisAudioTier(shared, settings.redis_audio_mb * 1024 * 1024, max_age_seconds=0).stats()
        print(f"Shared:     {tier['entries']} sentences, {size(tier['bytes'])} of {settings.redis_audio_mb} MB "
              "in Redis")
    store_of_jobs = jobs_for(settings)
    jobs = store_of_jobs.jobs()
    done = [j for j in jobs if j.status == "done"]
    kept = store_of_jobs.used_bytes()
    print(f"Narrations: {len(done)} finished, {sum(1 for j in jobs if j.status in ('queued', 'running'))} under way, "
          f"{size(kept)} of {settings.exports_mb} MB; oldest {when(min((j.finished for j in done), default=0))}; "
          f"kept {settings.export_days:g} days")
    return 0


def _child_exit(server: Any, worker: Any) -> None:
    from .metrics import mark_process_dead

    mark_process_dead(worker.pid)


def _build(settings: Settings) -> Any:
    from . import create_app

    return create_app(settings).extensions["reader"]


def _speak(args: argparse.Namespace, settings: Settings) -> int:
    from .speech.base import SpeechRequest

    svc = _build(settings)
    fmt = args.format or Path(args.output).suffix.lstrip(".") or settings.default_format
    spoken = svc.speech.speak(SpeechRequest(text=args.text, voice=args.voice, format=fmt, stream=False))
    entry = spoken.entry
    assert entry is not None
    Path(args.output).write_bytes(entry.audio)
    print(f"{args.output}: {entry.duration:.2f} s, {len(entry.audio)} bytes "
          f"({'cached' if spoken.hit else 'synthesised'})")
    return 0


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from . import audio

    svc = _build(settings)
    samples = audio.decode(Path(args.file).read_bytes(), max_seconds=settings.max_audio_seconds)
    print(svc.transcriber.transcribe(samples, language=args.language).text)
    return 0


def _voices(args: argparse.Namespace, settings: Settings) -> int:
    svc = _build(settings)
    default = svc.speech.default_voice()
    for v in svc.speech.voices():
        print(f"{'*' if v.id == default else ' '} {v.id:32} {v.language:8} {v.label}")
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    """Try one tiny synthesis and one transcription with the configured engines; say what is wrong."""
    from .errors import ReaderError
    from .speech.registry import build_synthesizer, build_transcriber

    def failed(exc: BaseException) -> str:
        if isinstance(exc, ReaderError):
            return exc.detail
        return f"{exc}" if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"

    ok = True
    clip = None
    engines: list[Any] = []
    print(f"Reading with {settings.tts}: {_where(settings.tts, settings, reading=True)}")
    try:
        synth = build_synthesizer(settings.tts, settings)
        engines.append(synth)
        started = time.perf_counter()
        speech = synth.synthesize("Hello, this is Reader.", synth.default_voice())
        clip = speech
        print(f"  OK: {speech.duration:.1f} s of audio in {time.perf_counter() - started:.1f} s "
              f"(voice {synth.name}:{synth.default_voice()})")
    except Exception as exc:
        ok = False
        print(f"  FAILED: {failed(exc)}")
    print(f"Dictation with {settings.stt}: {_where(settings.stt, settings, reading=False)}")
    try:
        from . import audio

        transcriber = build_transcriber(settings.stt, settings)
        engines.append(transcriber)
        if clip is None:  # the reading engine failed: speak the test phrase offline instead
            from .speech.espeak import EspeakSynthesizer

            clip = EspeakSynthesizer().synthesize("Hello, this is Reader.", "en-us")
        wav = audio.encode(clip.samples, clip.sample_rate, "wav")
        started = time.perf_counter()
        heard = transcriber.transcribe(audio.decode(wav), language="en")
        print(f"  OK: heard {heard.text.strip()!r} in {time.perf_counter() - started:.1f} s")
    except Exception as exc:
        ok = False
        print(f"  FAILED: {failed(exc)}")
    finally:
        for engine in engines:
            if hasattr(engine, "close"):
                engine.close()
    print("All good." if ok else "Reader can start, but the engines above need attention.")
    return 0 if ok else 1


def _where(engine: str, settings: Settings, *, reading: bool) -> str:
    """Where an engine runs, in words (never a key)."""
    if engine == "azure":
        from .speech.azure import auth_method

        deployment = settings.azure_tts_deployment if reading else settings.azure_stt_deployment
        return (f"deployment {deployment!r} at {settings.azure_endpoint or '(AZURE_OPENAI_ENDPOINT not set)'}, "
                f"API version {settings.azure_api_version}, signing in with {auth_method(settings)}")
    if engine == "openai":
        model = settings.openai_tts_model if reading else settings.openai_stt_model
        return f"model {model!r} at {settings.openai_base_url or 'api.openai.com'}"
    return "offline, on this machine"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `reader` console script."""
    parser = argparse.ArgumentParser(prog="reader", description="Read-aloud and dictation server.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the app under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=0, help="default: READER_WORKERS")
    serve.add_argument("--access-log", action="store_true", help="log requests (paths only)")
    speak = sub.add_parser("speak", help="synthesise text to an audio file")
    speak.add_argument("text")
    speak.add_argument("-o", "--output", required=True)
    speak.add_argument("--voice")
    speak.add_argument("--format")
    tr = sub.add_parser("transcribe", help="transcribe an audio file")
    tr.add_argument("file")
    tr.add_argument("--language")
    sub.add_parser("voices", help="list the voices on offer")
    sub.add_parser("check", help="try the configured engines once and say what is wrong")
    narrate = sub.add_parser("narrate", help="a document (URL, file or - for stdin) into an audiobook")
    narrate.add_argument("source")
    narrate.add_argument("-o", "--output", required=True)
    narrate.add_argument("--voice")
    narrate.add_argument("--format", help="m4b, mp3, opus, wav, epub, vtt or srt (default: from the output's name)")
    narrate.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sub.add_parser("status", help="what is stored, how much and how old, against the retention settings")
    worker = sub.add_parser("worker", help="run a narration queue consumer")
    worker.add_argument("--workers", type=int, default=0, help="processes (default: READER_NARRATION_WORKERS)")
    worker.add_argument("--with-parent", action="store_true", help=argparse.SUPPRESS)
    from .evaluation.cli import add_parser as add_eval
    from .evaluation.cli import run as run_eval

    add_eval(sub)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        parser.error(str(exc))
    handlers = {"serve": _serve, "speak": _speak, "transcribe": _transcribe, "voices": _voices,
                "check": _check, "narrate": _narrate, "worker": _worker, "status": _status, "eval": run_eval}
    return handlers[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
