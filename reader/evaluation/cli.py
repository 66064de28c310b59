"""The `reader eval` command line."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from ..config import Settings

LOGGER = logging.getLogger(__name__)
CHARS_PER_SECOND = 14.0  # a narrator's pace, for prices per minute when no run of the voices measured one


def add_parser(sub: Any) -> None:
    ev = sub.add_parser("eval", help="measure speech quality, latency and cost; write a report",
                        description="Measure dictation accuracy, voices, a server's latency and cost; "
                                    "results go to --out (resumable) with an HTML and a JSON report.")
    kinds = ev.add_subparsers(dest="eval_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", default="artifacts/eval",
                       help="folder for results and the report (default: %(default)s)")
        p.add_argument("--limit", type=int, default=None, help="at most this many clips or sentences")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    dic = kinds.add_parser("dictation", help="recordings + transcripts: WER and CER per engine, clean and in noise")
    dic.add_argument("folder", help="a folder with manifest.jsonl, or name.wav + name.txt pairs")
    dic.add_argument("--engine", default="", help="dictation engines, comma-separated (default: READER_STT)")
    dic.add_argument("--noise", default="white,babble",
                     help="noises to mix in: white, babble, file (with --noise-file); empty for clean only")
    dic.add_argument("--snr", default="20,10,5,0", help="signal-to-noise ratios in dB (default: %(default)s)")
    dic.add_argument("--noise-file", help="a recording of noise to mix in (looped)")
    common(dic)
    voi = kinds.add_parser("voices", help="each voice reads sentences; transcribed back and scored")
    voi.add_argument("texts", nargs="?", help="a text file, one sentence a line (default: a built-in tricky set)")
    voi.add_argument("--voice", action="append", default=[],
                     help="a voice id (engine:name), repeatable (default: the default voice of each engine)")
    common(voi)
    lat = kinds.add_parser("latency", help="time to first audio and dictation turnaround of a running server")
    lat.add_argument("url", help="the server, e.g. http://127.0.0.1:8000")
    lat.add_argument("--count", type=int, default=20, help="sentences (at most 200; default: %(default)s)")
    lat.add_argument("--seconds", type=float, default=120.0, help="stop after this long (default: %(default)s)")
    common(lat)
    cost = kinds.add_parser("cost", help="what the work cost at cloud prices, and what the cache saved")
    cost.add_argument("--metrics", help="a server's /metrics URL (default: this folder's own runs)")
    cost.add_argument("--token", help="the API token when /metrics asks for one (default: READER_API_TOKEN)")
    common(cost)
    rep = kinds.add_parser("report", help="write the report from the results so far")
    common(rep)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from . import report, runs

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("faster_whisper", "matplotlib"):  # a line per clip is noise beside the progress bar
        logging.getLogger(name).setLevel(logging.WARNING)
    show = not args.quiet
    try:
        if args.eval_command == "dictation":
            _dictation(args, settings, out, show)
        elif args.eval_command == "voices":
            _voices(args, settings, out, show)
        elif args.eval_command == "latency":
            runs.run_latency(args.url.rstrip("/"), out, count=args.count, seconds=args.seconds, show=show)
        elif args.eval_command == "cost":
            _cost(args, settings, out)
    except KeyboardInterrupt:
        print(f"Interrupted. What was measured is kept in {out}; run the same command again to go on.")
        return 130
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"reader eval: {exc}")
        return 2
    html, data = report.write(out)
    _headline(out)
    print(f"Report: {html}  (data: {data})")
    return 0


def _dictation(args: argparse.Namespace, settings: Settings, out: Path, show: bool) -> None:
    from ..speech.registry import build_transcriber
    from . import runs

    names = [n.strip() for n in (args.engine or settings.stt).split(",") if n.strip()]
    engines = {name: build_transcriber(name, settings) for name in names}
    conditions = runs.parse_conditions(args.noise, args.snr)
    runs.run_dictation(args.folder, engines, out, conditions=conditions, limit=args.limit,
                       noise_file=args.noise_file, show=show)


def _voices(args: argparse.Namespace, settings: Settings, out: Path, show: bool) -> None:
    from ..speech.registry import build_synthesizer, build_transcriber
    from . import material, runs

    voices = list(args.voice)
    engine_names = {v.partition(":")[0] for v in voices} or {settings.tts, *settings.extra_tts}
    engines = {name: build_synthesizer(name, settings) for name in engine_names}
    if not voices:
        voices = [f"{name}:{engine.default_voice()}" for name, engine in sorted(engines.items())]
    runs.run_voices(engines, voices, material.sentences(args.texts), build_transcriber("whisper", settings), out,
                    limit=args.limit, show=show)


def _cost(args: argparse.Namespace, settings: Settings, out: Path) -> None:
    from . import runs

    if args.metrics:
        counts = runs.counts_from_metrics(runs.fetch_metrics(args.metrics, args.token or settings.api_token or None))
        source = f"the /metrics of {args.metrics}"
    else:
        counts = runs.counts_from_results(out)
        source = "this folder's own runs"
    voice_rows = runs.ResultLog(out / "voices.jsonl").rows
    chars = sum(r["characters"] for r in voice_rows)
    pace = chars / sum(r["duration"] for r in voice_rows) if voice_rows else CHARS_PER_SECOND
    prices = {"tts_per_minute": settings.price_tts_per_minute,
              "tts_per_million_chars": settings.price_tts_per_million_chars,
              "stt_per_minute": settings.price_stt_per_minute}
    data = {
        "source": source, "currency": "USD", "counts": counts, "prices": prices, "chars_per_second": round(pace, 2),
        "synthesised": sum(c["synthesised"] for c in counts.values()),
        "cached": sum(c["cached"] for c in counts.values()),
        "transcribed_minutes": sum(c["transcribed_seconds"] for c in counts.values()) / 60,
        "rows": runs.price_table(counts, prices, pace),
        "prices_note": (f"Prices: gpt-4o-mini-tts {prices['tts_per_minute']} per minute, tts-1 "
                        f"{prices['tts_per_million_chars']} per million characters, gpt-4o-transcribe "
                        f"{prices['stt_per_minute']} per minute (READER_PRICE_* settings; the defaults are OpenAI's "
                        "published list prices of March 2025; Azure sets its own per region, so set yours). "
                        f"Characters become minutes at {pace:.1f} characters a second"
                        f"{' (measured by the voices run)' if voice_rows else ' (a narrator pace, estimated)'}."),
    }
    (out / "cost.json").write_text(json.dumps(data, indent=2))


def _headline(out: Path) -> None:
    """The report's headline tables, printed."""
    from .report import summarise

    s = summarise(out)
    if s["headline"]:
        print("Dictation WER by condition:")
        print("  " + "engine".ljust(12) + "".join(c.rjust(14) for c in s["conditions"]))
        for row in s["headline"]:
            cells = "".join((f"{100 * v:.1f} %" if v is not None else "-").rjust(14) for v in row["cells"])
            print("  " + row["engine"].ljust(12) + cells)
    if s["voices"]:
        print("Voices: round-trip WER, median RTF, median time to first audio:")
        for v in s["voices"]:
            print(f"  {v['voice']:28} {100 * v['wer']:6.1f} %  RTF {v['rtf']:.3f}  {1000 * v['ttfb']:.0f} ms")
    for r in s["latency"]:
        print(f"Latency {r['kind']:10} p50 {1000 * r['p50']:.0f} ms  p90 {1000 * r['p90']:.0f} ms  "
              f"p99 {1000 * r['p99']:.0f} ms  (n={r['n']})")
