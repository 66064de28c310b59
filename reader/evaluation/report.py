"""The report: one self-contained HTML file (no network: styles inline, plots and audio as data
URIs) and the same numbers as JSON for machines."""

from __future__ import annotations

import base64
import io
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from .runs import ResultLog, percentiles

WORST = 5  # clips and sentences with the highest WER get players in the report


def _condition(row: dict[str, Any]) -> str:
    return "clean" if row["snr"] is None else f"{row['noise']} {row['snr']:g} dB"


def _condition_order(label: str) -> tuple[int, str, float]:
    if label == "clean":
        return (0, "", 0.0)
    kind, snr, _ = label.split(" ")
    return (1, kind, -float(snr))


def summarise(out: Path) -> dict[str, Any]:
    """Every table of the report, from the result files in `out`."""
    import jiwer

    dictation = ResultLog(out / "dictation.jsonl").rows
    voices = ResultLog(out / "voices.jsonl").rows
    latency = ResultLog(out / "latency.jsonl").rows
    cost_path = out / "cost.json"
    cost = json.loads(cost_path.read_text()) if cost_path.is_file() else None

    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in dictation:
        groups[(row["engine"], _condition(row))].append(row)
    by_condition = []
    for (engine, condition), rows in sorted(groups.items(), key=lambda g: (g[0][0], _condition_order(g[0][1]))):
        refs = [r["reference_normalised"] for r in rows]
        hyps = [r["hypothesis_normalised"] for r in rows]
        stoi = [r["stoi"] for r in rows if r.get("stoi") is not None]
        by_condition.append({
            "engine": engine, "model": rows[0]["model"], "condition": condition, "clips": len(rows),
            "wer": jiwer.wer(refs, hyps), "cer": jiwer.cer(refs, hyps),
            "rtf": statistics.median(r["rtf"] for r in rows if r["rtf"] is not None),
            "stoi": statistics.fmean(stoi) if stoi else None,
        })
    conditions = sorted({c["condition"] for c in by_condition}, key=_condition_order)
    headline = []
    for engine in sorted({c["engine"] for c in by_condition}):
        cells = {c["condition"]: c["wer"] for c in by_condition if c["engine"] == engine}
        headline.append({"engine": engine, "cells": [cells.get(cond) for cond in conditions]})

    per_voice: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in voices:
        per_voice[row["voice"]].append(row)
    voice_table = []
    for voice, rows in sorted(per_voice.items()):
        rates = [r["duration"] / r["characters"] for r in rows if r["characters"]]
        loud = [r["rms_db"] for r in rows if r.get("rms_db") is not None]
        voice_table.append({
            "voice": voice, "sentences": len(rows),
            "wer": jiwer.wer([r["reference_normalised"] for r in rows], [r["hypothesis_normalised"] for r in rows]),
            "rtf": statistics.median(r["rtf"] for r in rows if r["rtf"] is not None),
            "ttfb": statistics.median(r["ttfb"] for r in rows),
            "pace_cv": statistics.pstdev(rates) / statistics.fmean(rates) if len(rates) > 1 else 0.0,
            "loudness_spread": statistics.pstdev(loud) if len(loud) > 1 else 0.0,
        })

    latency_table = []
    for kind in ("uncached", "cached", "dictation"):
        rows = [r for r in latency if r["kind"] == kind and r["status"] == 200]
        if rows:
            latency_table.append({"kind": kind, "failed": sum(1 for r in latency if r["kind"] == kind) - len(rows),
                                  "values": [r["ttfb"] for r in rows], **percentiles([r["ttfb"] for r in rows])})
    worst_clips = sorted((r for r in dictation if r["wer"] > 0), key=lambda r: -r["wer"])[:WORST]
    worst_sentences = sorted((r for r in voices if r["wer"] > 0), key=lambda r: -r["wer"])[:WORST]
    return {"dictation": by_condition, "conditions": conditions, "headline": headline, "voices": voice_table,
            "latency": latency_table, "cost": cost, "worst_clips": worst_clips, "worst_sentences": worst_sentences,
            "counts": {"dictation": len(dictation), "voices": len(voices), "latency": len(latency)}}


def marked(reference: str, hypothesis: str) -> list[tuple[str, str]]:
    """The alignment of two normalised texts as (kind, words): equal, missed (in the reference
    only) and heard (in the hypothesis only)."""
    import jiwer

    if not reference.strip():
        return [("heard", hypothesis)] if hypothesis.strip() else []
    ref, hyp = reference.split(), hypothesis.split()
    parts: list[tuple[str, str]] = []
    for chunk in jiwer.process_words(reference, hypothesis).alignments[0]:
        said = " ".join(ref[chunk.ref_start_idx:chunk.ref_end_idx])
        heard = " ".join(hyp[chunk.hyp_start_idx:chunk.hyp_end_idx])
        if chunk.type == "equal":
            parts.append(("equal", said))
        else:
            if said:
                parts.append(("missed", said))
            if heard:
                parts.append(("heard", heard))
    return parts


def _plot(draw: Any, alt: str) -> dict[str, str]:
    """A matplotlib figure as an SVG data URI, with its text alternative."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    try:
        draw(ax)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    return {"src": "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode(), "alt": alt}


def plots(summary: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    rows = summary["dictation"]
    if rows:
        def wer_by_snr(ax: Any) -> None:
            for engine in sorted({r["engine"] for r in rows}):
                clean = next((r["wer"] for r in rows if r["engine"] == engine and r["condition"] == "clean"), None)
                kinds = sorted({r["condition"].split(" ")[0] for r in rows if r["condition"] != "clean"})
                for kind in kinds:
                    points = sorted(((float(r["condition"].split(" ")[1]), r["wer"]) for r in rows
                                     if r["engine"] == engine and r["condition"].startswith(kind + " ")), reverse=True)
                    ax.plot([p[0] for p in points], [100 * p[1] for p in points], marker="o", label=f"{engine}, {kind}")
                if clean is not None:
                    ax.axhline(100 * clean, linestyle="--", color="0.3", label=f"{engine}, clean")
            ax.invert_xaxis()
            ax.set_xlabel("Signal-to-noise ratio (dB); noisier to the right")
            ax.set_ylabel("Word error rate (%)")
            ax.legend(fontsize=8)

        found.append(_plot(wer_by_snr, "Word error rate of each dictation engine as noise rises; the numbers are in "
                                       "the table 'Dictation by condition'."))
    if summary["voices"]:
        voices = summary["voices"]

        def rtf(ax: Any) -> None:
            ax.barh([v["voice"] for v in voices], [v["rtf"] for v in voices], color="#2f5d8a")
            ax.axvline(1.0, linestyle="--", color="0.3")
            ax.set_xlabel("Real-time factor (below 1: faster than real time)")

        found.append(_plot(rtf, "Real-time factor of each voice; the numbers are in the table 'Voices'."))
    latency = summary["latency"]
    if latency:
        def spread(ax: Any) -> None:
            ax.boxplot([[1000 * v for v in row["values"]] for row in latency], whis=(1, 99), showfliers=True)
            ax.set_xticks(range(1, len(latency) + 1), [row["kind"] for row in latency])
            ax.set_yscale("log")
            ax.set_ylabel("Time to first byte (ms, log scale)")

        found.append(_plot(spread, "Latency distribution by kind of request (box: middle half; whiskers: 1st to "
                                   "99th percentile); the percentiles are in the table 'Latency'."))
    return found


def _audio_uri(out: Path, relative: str | None) -> str | None:
    if not relative:
        return None
    path = out / relative
    if not path.is_file():
        return None
    return "data:audio/ogg;base64," + base64.b64encode(path.read_bytes()).decode()


def write(out: Path) -> tuple[Path, Path]:
    """report.json and report.html in `out`, from whatever results are there."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    summary = summarise(out)
    data = {k: v for k, v in summary.items() if k not in ("worst_clips", "worst_sentences")}
    data["worst_clips"] = [{k: r[k] for k in ("engine", "clip", "noise", "snr", "wer", "reference", "hypothesis")}
                           for r in summary["worst_clips"]]
    json_path = out / "report.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    env = Environment(loader=PackageLoader("reader.evaluation", "templates"), autoescape=select_autoescape(["html"]))
    for rows in (summary["worst_clips"], summary["worst_sentences"]):
        for row in rows:
            row["marked"] = marked(row["reference_normalised"], row["hypothesis_normalised"])
            row["audio_uri"] = _audio_uri(out, row.get("audio"))
    html = env.get_template("report.html").render(s=summary, plots=plots(summary), environment=_env(out))
    html_path = out / "report.html"
    html_path.write_text(html, encoding="utf-8")
    return html_path, json_path


def _env(out: Path) -> dict[str, Any]:
    import time

    return {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "folder": out.name}
