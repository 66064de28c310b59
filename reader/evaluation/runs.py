"""The measurements: dictation accuracy, voices, a server's latency, cost. Each appends its rows
to a JSON-lines file as it goes and skips what is there already, so a run that is interrupted
(Ctrl+C, a killed job) resumes where it stopped."""

from __future__ import annotations

import json
import logging
import statistics
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import audio
from ..audio import TRANSCRIBE_RATE
from ..speech.base import StreamingSynthesizer, Synthesizer, Transcriber
from . import material, noise
from .normalise import for_language

LOGGER = logging.getLogger(__name__)
CLEAN = ("clean", None)


class ResultLog:
    """Rows in a JSON-lines file, each with a unique `key`; a torn last line (a run killed while
    writing) is dropped on reading."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and "key" in row:
                    self.rows.append(row)
        self._keys = {row["key"] for row in self.rows}

    def done(self, key: str) -> bool:
        return key in self._keys

    def add(self, row: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.rows.append(row)
        self._keys.add(row["key"])


def _progress(items: list[Any], what: str, show: bool) -> Iterable[Any]:
    if not show:
        return items
    from tqdm import tqdm

    bar: Iterable[Any] = tqdm(items, desc=what, unit="item")
    return bar


def _save_audio(out: Path, relative: str, samples: np.ndarray) -> str:
    """16 kHz float samples as a small Opus file beside the results (for the report's players)."""
    path = out / "audio" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(samples * 32767.0, -32768, 32767).astype(np.int16)
    path.write_bytes(audio.encode(pcm, TRANSCRIBE_RATE, "opus"))
    return str(path.relative_to(out))


def _score(reference: str, hypothesis: str, language: str) -> dict[str, Any]:
    """WER and CER (jiwer) after the normaliser of `language`, and the counts behind them."""
    import jiwer

    name, normalise = for_language(language)
    ref, hyp = normalise(reference), normalise(hypothesis)  # type: ignore[operator]
    words = jiwer.process_words(ref, hyp)
    return {"normaliser": name, "reference_normalised": ref, "hypothesis_normalised": hyp,
            "wer": words.wer, "cer": jiwer.cer(ref, hyp), "hits": words.hits, "substitutions": words.substitutions,
            "deletions": words.deletions, "insertions": words.insertions, "reference_words": len(ref.split())}


def parse_conditions(noises: str, snrs: str) -> list[tuple[str, float | None]]:
    """("clean", None) and every (noise, SNR) asked for: "white,babble" x "20,10,5,0"."""
    found: list[tuple[str, float | None]] = [CLEAN]
    kinds = [n.strip() for n in noises.split(",") if n.strip()]
    levels = [float(s) for s in snrs.split(",") if s.strip()]
    for kind in kinds:
        for snr in levels:
            found.append((kind, snr))
    return found


def run_dictation(folder: str | Path, engines: Mapping[str, Transcriber], out: Path, *,
                  conditions: list[tuple[str, float | None]], limit: int | None = None,
                  noise_file: str | None = None, show: bool = True) -> ResultLog:
    """Every clip through every engine in every condition, scored against its transcript."""
    import pystoi

    clips = material.clips(folder)[:limit] if limit else material.clips(folder)
    log = ResultLog(out / "dictation.jsonl")
    babble: np.ndarray | None = None
    todo = [(name, clip, kind, snr) for name in engines for clip in clips for kind, snr in conditions
            if not log.done(_dictation_key(name, clip.id, kind, snr))]
    planned = len(engines) * len(clips) * len(conditions)
    if len(todo) < planned:
        LOGGER.info("resuming: %d of %d measurements are done already", planned - len(todo), planned)
    decoded: dict[str, np.ndarray] = {}
    for name, clip, kind, snr in _progress(todo, "dictation", show):
        engine = engines[name]
        if clip.id not in decoded:
            decoded.clear()  # one clip at a time in memory
            decoded[clip.id] = audio.decode(clip.path.read_bytes())
        clean = decoded[clip.id]
        row: dict[str, Any] = {"key": _dictation_key(name, clip.id, kind, snr), "engine": name,
                               "model": str(getattr(engine, "model", name)), "clip": clip.id,
                               "language": clip.language, "noise": kind, "snr": snr}
        samples = clean
        if snr is not None:
            if kind == "white":
                sound = noise.white(clean.shape[0], noise.seed_for(clip.id, kind, str(snr)))
            elif kind == "babble":
                babble = noise.babble() if babble is None else babble
                sound = np.roll(babble, noise.seed_for(clip.id, str(snr)) % babble.shape[0])
            elif kind == "file" and noise_file:
                sound = noise.from_file(noise_file)
            else:
                raise ValueError(f"Unknown noise {kind!r}: white, babble, or file (with --noise-file).")
            samples, gain = noise.mix(clean, sound, snr)
            row["measured_snr"] = round(noise.measured_snr(clean, samples, gain), 3)
            row["stoi"] = round(float(pystoi.stoi(clean * gain, samples, TRANSCRIBE_RATE)), 4)
        duration = clean.shape[0] / TRANSCRIBE_RATE
        started = time.perf_counter()
        result = engine.transcribe(samples, language=clip.language.split("-")[0])
        seconds = time.perf_counter() - started
        row.update(reference=clip.reference, hypothesis=result.text, duration=round(duration, 3),
                   seconds=round(seconds, 3), rtf=round(seconds / duration, 4) if duration else None,
                   **_score(clip.reference, result.text, clip.language))
        row["audio"] = _save_audio(out, f"dictation/{_safe(name)}/{kind}-{snr}/{_safe(clip.id)}.opus", samples)
        log.add(row)
    return log


def _dictation_key(engine: str, clip: str, kind: str, snr: float | None) -> str:
    return f"{engine}|{clip}|{kind}|{snr}"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def run_voices(engines: Mapping[str, Synthesizer], voices: list[str], sentences: list[str],
               transcriber: Transcriber, out: Path, *, limit: int | None = None, show: bool = True) -> ResultLog:
    """Each voice reads each sentence (Reader's spoken form of it, unit by unit as Reader sends
    it); the audio is transcribed back and scored against the sentence."""
    from ..speech import units
    from ..text.speech_text import spoken_text

    chosen = sentences[:limit] if limit else sentences
    log = ResultLog(out / "voices.jsonl")
    todo = [(voice, n) for voice in voices for n in range(len(chosen)) if not log.done(f"{voice}|{n}")]
    for voice_id, n in _progress(todo, "voices", show):
        engine_name, _, voice_name = voice_id.partition(":")
        synth = engines[engine_name]
        voice = next((v for v in synth.voices() if v.name == voice_name), None)
        if voice is None:
            raise ValueError(f"Unknown voice {voice_id!r}.")
        language = voice.language or "en"
        text = spoken_text(chosen[n], lang=language.split("-")[0]).text
        caps = synth.capabilities
        started = time.perf_counter()
        if isinstance(synth, StreamingSynthesizer) and caps.streams:
            first = None
            parts = []
            for chunk in synth.stream(text, voice_name, "mp3"):
                first = first if first is not None else time.perf_counter() - started
                parts.append(chunk)
            seconds = time.perf_counter() - started
            samples = audio.decode(b"".join(parts))
            ttfb = first if first is not None else seconds
        else:
            speech = units.synthesize(synth, text, voice_name)
            seconds = time.perf_counter() - started
            spans = units.units(text, caps.unit_chars, caps.unit_words) or [(0, len(text))]
            if len(spans) == 1:
                ttfb = seconds  # the whole sentence is the first unit Reader sends
            else:
                began = time.perf_counter()
                synth.synthesize(text[spans[0][0]:spans[0][1]], voice_name)
                ttfb = time.perf_counter() - began
            samples = noise._to_rate(speech.samples.astype(np.float64) / 32768.0, speech.sample_rate).astype(np.float32)
        duration = samples.shape[0] / TRANSCRIBE_RATE
        heard = transcriber.transcribe(samples, language=language.split("-")[0])
        rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64))))) if samples.size else 0.0
        row = {"key": f"{voice_id}|{n}", "voice": voice_id, "engine": engine_name, "language": language,
               "sentence": n, "text": chosen[n], "spoken": text, "hypothesis": heard.text,
               "duration": round(duration, 3), "seconds": round(seconds, 3),
               "rtf": round(seconds / duration, 4) if duration else None, "ttfb": round(ttfb, 3),
               "rms_db": round(20 * np.log10(rms), 2) if rms > 0 else None, "characters": len(text),
               **_score(chosen[n], heard.text, language)}
        row["audio"] = _save_audio(out, f"voices/{_safe(voice_id)}/{n}.opus", samples)
        log.add(row)
    return log


# -- a running server ------------------------------------------------------------------------

def run_latency(base: str, out: Path, *, count: int = 20, seconds: float = 120.0,
                clip: bytes | None = None, show: bool = True) -> ResultLog:
    """Time to first audio byte of `count` new sentences (uncached), the same again (cached), and
    dictation turnaround, against the server at `base`; at most `seconds` in all."""
    count = max(1, min(count, 200))
    deadline = time.monotonic() + max(5.0, min(seconds, 1800.0))
    run = uuid.uuid4().hex[:8]
    log = ResultLog(out / "latency.jsonl")
    text = " ".join(f"Latency check {run} sentence {n + 1} reads a few ordinary words aloud." for n in range(count))
    status, _, body = _http("POST", base + "/api/documents", json.dumps({"text": text}).encode(),
                            {"Content-Type": "application/json"})
    if status not in (200, 201):
        raise RuntimeError(f"The server did not take the test document ({status}): {body[:200]!r}")
    doc = json.loads(body)
    sentences = len(doc["sentences"])
    plan = [("uncached", n) for n in range(sentences)] + [("cached", n) for n in range(sentences)]
    for kind, n in _progress(plan, "latency", show):
        if time.monotonic() > deadline:
            LOGGER.warning("latency: time is up after %d requests", len(log.rows))
            break
        url = f"{base}/api/documents/{doc['id']}/sentences/{n}/speech"
        status, first, total, headers = _timed_get(url)
        log.add({"key": f"{run}|{kind}|{n}", "run": run, "kind": kind, "n": n, "status": status,
                 "ttfb": round(first, 4), "total": round(total, 4), "cache": headers.get("X-Reader-Cache")})
    if clip is None:
        status, _, clip = _http("POST", base + "/api/speech",
                                json.dumps({"text": "Please call me back tomorrow morning.", "format": "wav"}).encode(),
                                {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"The server could not make a recording to dictate ({status}).")
    for n in range(min(count, 10)):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        status, _, body = _multipart(base + "/api/transcriptions", clip)
        log.add({"key": f"{run}|dictation|{n}", "run": run, "kind": "dictation", "n": n, "status": status,
                 "ttfb": round(time.perf_counter() - started, 4), "total": round(time.perf_counter() - started, 4),
                 "cache": None})
    return log


def _http(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 300) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def _timed_get(url: str) -> tuple[int, float, float, dict[str, str]]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as resp:
            resp.read(1)
            first = time.perf_counter() - started
            resp.read()
            return resp.status, first, time.perf_counter() - started, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            exc.read()
            elapsed = time.perf_counter() - started
            return exc.code, elapsed, elapsed, dict(exc.headers)


def _multipart(url: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return _http("POST", url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 (nearest rank) and the count."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, int(np.ceil(p / 100 * len(ordered))) - 1))]

    return {"n": len(ordered), "p50": rank(50), "p90": rank(90), "p99": rank(99), "mean": statistics.fmean(ordered)}


# -- cost --------------------------------------------------------------------------------------

def counts_from_metrics(text: str) -> dict[str, dict[str, float]]:
    """{engine: {synthesised, cached, transcribed_seconds}} from a /metrics page."""
    found: dict[str, dict[str, float]] = {}
    names = {"reader_tts_characters_total": "synthesised", "reader_tts_cached_characters_total": "cached",
             "reader_stt_audio_seconds_total": "transcribed_seconds"}
    for line in text.splitlines():
        if line.startswith("#") or "{" not in line:
            continue
        metric, rest = line.split("{", 1)
        if metric not in names:
            continue
        labels, value = rest.rsplit("}", 1)
        engine = next((p.split("=", 1)[1].strip('"') for p in labels.split(",") if p.startswith("engine=")), "")
        found.setdefault(engine, {"synthesised": 0.0, "cached": 0.0, "transcribed_seconds": 0.0})
        found[engine][names[metric]] += float(value)
    return found


def counts_from_results(out: Path) -> dict[str, dict[str, float]]:
    """The same counts from this folder's own runs (voices: characters read; dictation: seconds heard)."""
    found: dict[str, dict[str, float]] = {}
    for row in ResultLog(out / "voices.jsonl").rows:
        entry = found.setdefault(row["engine"], {"synthesised": 0.0, "cached": 0.0, "transcribed_seconds": 0.0})
        entry["synthesised"] += row["characters"]
    for row in ResultLog(out / "dictation.jsonl").rows:
        entry = found.setdefault(row["engine"], {"synthesised": 0.0, "cached": 0.0, "transcribed_seconds": 0.0})
        entry["transcribed_seconds"] += row["duration"]
    return found


def fetch_metrics(url: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, _, body = _http("GET", url.rstrip("/") + ("" if url.rstrip("/").endswith("/metrics") else "/metrics"),
                            headers=headers, timeout=30)
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    return body.decode()


def price_table(counts: Mapping[str, Mapping[str, float]], prices: Mapping[str, float],
                chars_per_second: float) -> list[dict[str, Any]]:
    """What the counted work costs at each cloud price, and what the cache saved.

    Characters are priced directly where the price is per character (tts-1); where it is per
    minute of audio (gpt-4o-mini-tts) they become minutes at `chars_per_second`."""
    synthesised = sum(c["synthesised"] for c in counts.values())
    cached = sum(c["cached"] for c in counts.values())
    heard_minutes = sum(c["transcribed_seconds"] for c in counts.values()) / 60
    rows = []
    per_minute_tts = prices["tts_per_minute"]
    for label, made, saved in [
        ("gpt-4o-mini-tts (per minute of audio)",
         synthesised / chars_per_second / 60 * per_minute_tts, cached / chars_per_second / 60 * per_minute_tts),
        ("tts-1 (per million characters)", synthesised / 1e6 * prices["tts_per_million_chars"],
         cached / 1e6 * prices["tts_per_million_chars"]),
    ]:
        rows.append({"service": label, "kind": "synthesis", "cost": round(made, 4), "saved_by_cache": round(saved, 4)})
    rows.append({"service": "gpt-4o-transcribe (per minute of audio)", "kind": "transcription",
                 "cost": round(heard_minutes * prices["stt_per_minute"], 4), "saved_by_cache": 0.0})
    return rows


