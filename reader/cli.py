"""Command line: `reader serve | speak | transcribe | voices`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
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
                "accesslog": "-" if args.access_log else None,
                # The app is built in each worker, after fork: engines load lazily there.
                "preload_app": False,
            }
            # gunicorn 25+ opens a runtime-control socket by default; Reader needs none, and
            # two servers on one machine would contend for the same path.
            if "control_socket_disable" in self.cfg.settings:
                options["control_socket_disable"] = True
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(settings)

    print(f"Reader on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    Server().run()
    return 0


def _build(settings: Settings) -> Any:
    from . import create_app

    return create_app(settings).extensions["reader"]


def _speak(args: argparse.Namespace, settings: Settings) -> int:
    svc = _build(settings)
    fmt = args.format or Path(args.output).suffix.lstrip(".") or settings.default_format
    entry, hit = svc.speech.speak(args.text, args.voice, fmt)
    Path(args.output).write_bytes(entry.audio)
    print(f"{args.output}: {entry.duration:.2f} s, {len(entry.audio)} bytes ({'cached' if hit else 'synthesised'})")
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
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        parser.error(str(exc))
    handlers = {"serve": _serve, "speak": _speak, "transcribe": _transcribe, "voices": _voices}
    return handlers[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
