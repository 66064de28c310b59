"""Live dictation: how soon the first words show, and whether the final text is as good.

    python bench/live_dictation.py [--limit N]

Each recording of ../shared/eval/speech is played as if spoken into the browser, in real
time: a live pass starts when the last one has finished, at most every 0.3 s and leaving
the server idle for as long as the last pass took (as dictate-live.js does) and decodes the recording as far as it has got, from the offset the
browser's agreement rule (a Python copy of dictate-live.js's) has settled. Each pass really
runs (live_dictation(), the code behind POST /api/transcriptions/live), and its measured time
moves the clock on. The recording is sent as WAV: the browser's Opus chunks cost the decode
a few milliseconds more.

Printed, with the baseline measured in the same run, today's one-shot dictation (the text
appears once the recording has stopped and been transcribed):
- time from the end of the first spoken word to its first showing (goal: under 1.5 s);
- the same for every word (median and 90th percentile), tentative and settled;
- WER of the final text (the live endpoint's final pass, with the command hotwords) and of
  the one-shot /api/transcriptions path, over all recordings.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reader import audio  # noqa: E402
from reader.speech.dictation import COMMAND_HOTWORDS, dictate, live_dictation  # noqa: E402
from reader.speech.whisper import WhisperTranscriber  # noqa: E402

SPEECH = ROOT.parent / "shared" / "eval" / "speech"
MIN_GAP = 0.3
DUTY = 0.5
SETTLE_SECONDS = 15.0


def key(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


class Agreement:
    """dictate-live.js's LiveText.agree, in Python: settled words, tentative words, offset."""

    def __init__(self) -> None:
        self.settled: list[dict[str, Any]] = []
        self.previous: list[dict[str, Any]] = []
        self.offset = 0.0

    def overlap(self, words: list[dict[str, Any]]) -> int:
        after = [w for w in self.settled if w["end"] > self.offset + 0.05]
        if not after:
            return 0
        if all(i < len(words) and key(words[i]["text"]) == key(w["text"]) for i, w in enumerate(after)):
            return len(after)
        last = after[-1]["end"]
        return len([w for w in words if w["end"] <= last + 0.1])

    def agree(self, done: dict[str, Any]) -> None:
        if done["offset"] > self.offset + 0.01:
            self.settled += self.previous
            self.previous = []
            self.offset = done["offset"]
        words = [w for w in done["words"] if w["end"] > self.offset + 0.05]
        words = words[self.overlap(words):]
        same = 0
        while same < min(len(words), len(self.previous)) and key(words[same]["text"]) == key(
                self.previous[same]["text"]):
            same += 1
        agreed = words[:same]
        self.settled += agreed
        self.previous = words[same:]
        for word in reversed(agreed):
            if re.search(r"[.?!][\"”’)]*$", word["text"]) or done["duration"] - self.offset > SETTLE_SECONDS:
                self.offset = max(self.offset, word["end"])
                break


def wav(samples: np.ndarray) -> bytes:
    return audio.encode((np.clip(samples, -1, 1) * 32767).astype(np.int16), audio.TRANSCRIBE_RATE, "wav")


def passes(engine: WhisperTranscriber, samples: np.ndarray) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """Plays the recording in real time; returns when (seconds from the start of the recording)
    each count of words was first shown, and when each count was settled."""
    rate = audio.TRANSCRIBE_RATE
    length = samples.shape[0] / rate
    clock = 0.25  # the first chunk arrives after the recorder's timeslice
    agreement = Agreement()
    shown: list[tuple[float, int]] = []
    settled: list[tuple[float, int]] = []
    while clock < length + 0.5:
        started = time.perf_counter()
        upto = samples[: int(min(clock, length) * rate)]
        run = live_dictation(engine, wav(upto), "live.wav", language="en", prompt=None, max_seconds=600,
                             partial=True, offset=agreement.offset)
        done = [e for e in run if e["type"] == "done"][0]
        took = time.perf_counter() - started
        agreement.agree(done)
        at = clock + took
        total = len(agreement.settled) + len(agreement.previous)
        shown.append((at, total))
        settled.append((at, len(agreement.settled)))
        clock = max(at, clock + MIN_GAP, clock + took / DUTY)
    return shown, settled


def first_time(series: list[tuple[float, int]], count: int) -> float | None:
    return next((at for at, n in series if n >= count), None)


def main() -> None:
    import jiwer

    from reader.evaluation.normalise import english

    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if not (SPEECH / "manifest.jsonl").is_file():
        sys.exit(f"No recordings at {SPEECH}: this benchmark needs ../shared/eval/speech.")
    rows = [json.loads(line) for line in (SPEECH / "manifest.jsonl").open()]
    rows = [r for r in rows if r.get("language", "en").startswith("en")]
    if args.limit:
        rows = rows[: args.limit]
    engine = WhisperTranscriber()
    engine.transcribe(np.zeros(16000, dtype=np.float32) + 1e-2)  # load the model outside the clock
    first_live: list[float] = []
    first_oneshot: list[float] = []
    word_shown: list[float] = []
    word_settled: list[float] = []
    refs: list[str] = []
    finals: list[str] = []
    oneshots: list[str] = []
    for row in rows:
        data = (SPEECH / row["path"]).read_bytes()
        samples = audio.decode(data)
        length = samples.shape[0] / audio.TRANSCRIBE_RATE
        # Where each word ends, from the whole recording: the moment it has been spoken.
        timed = engine.transcribe(samples, language="en", word_timestamps=True).words
        ends = [w.t1 for w in timed]
        shown, settled = passes(engine, samples)
        started = time.perf_counter()
        oneshot = dictate(engine, data, row["path"], language="en", prompt=None, max_seconds=600)
        oneshot_at = length + (time.perf_counter() - started)  # shown once stopped and transcribed
        run = live_dictation(engine, data, row["path"], language="en", prompt=None, max_seconds=600,
                             partial=False, hotwords=COMMAND_HOTWORDS)
        final = [e for e in run if e["type"] == "done"][0]["text"]
        refs.append(english(row["reference"]))
        finals.append(english(final))
        oneshots.append(english(oneshot.text))
        if ends:
            at = first_time(shown, 1)
            first_live.append((at if at is not None else oneshot_at) - ends[0])
            first_oneshot.append(oneshot_at - ends[0])
            for i, end in enumerate(ends):
                seen = first_time(shown, i + 1)
                fixed = first_time(settled, i + 1)
                word_shown.append((seen if seen is not None else oneshot_at) - end)
                word_settled.append((fixed if fixed is not None else oneshot_at) - end)
        print(f"{row['id']:<24} {length:5.1f} s  first words after {first_live[-1]:.2f} s "
              f"(one-shot {first_oneshot[-1]:.2f} s)", flush=True)

    def p90(values: list[float]) -> float:
        return sorted(values)[int(0.9 * (len(values) - 1))]

    live_first, base_first = statistics.median(first_live), statistics.median(first_oneshot)
    wer_final = jiwer.wer(refs, finals)
    wer_oneshot = jiwer.wer(refs, oneshots)
    print()
    print(f"{len(rows)} recordings, {sum(len(r.split()) for r in refs)} words")
    print(f"first words shown after they were spoken: live median {live_first:.2f} s, p90 {p90(first_live):.2f} s, "
          f"max {max(first_live):.2f} s; one-shot median {base_first:.2f} s "
          f"(ratio {live_first / base_first:.2f}); goal: under 1.5 s")
    print(f"every word, shown: median {statistics.median(word_shown):.2f} s, p90 {p90(word_shown):.2f} s; "
          f"settled: median {statistics.median(word_settled):.2f} s, p90 {p90(word_settled):.2f} s")
    print(f"final WER: live final pass {wer_final:.3f}, one-shot {wer_oneshot:.3f} "
          f"(ratio {wer_final / wer_oneshot if wer_oneshot else float('nan'):.2f})")


if __name__ == "__main__":
    main()
