"""Word timings at the moment a sentence starts: how often they are there, and how close the
first timings are to the aligner's.

Run from the project root: ``python bench/word_timing.py [--sentences N]``.

Each sentence of Reader's own edited-prose set (tests/data/sentences/reader_en.json) is
synthesised with Piper, which now times its words from its own phoneme durations, and then
timed by the local Whisper as before (the aligner). Printed:

- the median error of the first timings against the aligner's word starts: Piper's own, and the
  estimate from silences and word lengths that voices without timings (cloud voices, Kokoro) get
  at once, on Piper's audio and on eSpeak NG's;
- the share of sentences whose timings are there when their audio starts playing, at 1x and 3x,
  replaying the player's schedule (it fetches the next sentence when one starts) with the
  synthesis and alignment times measured here, for the new path (timings with the audio) and
  the old one (timings after Whisper). The old path is the baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reader import audio  # noqa: E402
from reader.speech.align import align, estimate  # noqa: E402
from reader.speech.espeak import EspeakSynthesizer  # noqa: E402
from reader.speech.piper import PiperSynthesizer  # noqa: E402
from reader.speech.whisper import WhisperTranscriber  # noqa: E402


def sentences(limit: int) -> list[str]:
    own = json.loads((ROOT / "tests" / "data" / "sentences" / "reader_en.json").read_text(encoding="utf-8"))
    return [s for item in own["edited"] for s in item][:limit]


def heard(whisper: WhisperTranscriber, samples: object, text: str) -> tuple[list[tuple[int, int, float, float]], float]:
    started = time.perf_counter()
    words = whisper.transcribe(samples, word_timestamps=True, language="en").words  # type: ignore[arg-type]
    aligned = list(align(text, words, samples.shape[0] / audio.TRANSCRIBE_RATE))  # type: ignore[attr-defined]
    return aligned, time.perf_counter() - started


def presence(synth: list[float], aligner: list[float], durations: list[float], speed: float, own: bool) -> float:
    """Share of sentences after the first whose timings are there when they start to play."""
    start_prev = 0.0
    audio_free = align_free = 0.0
    there = 0
    for i in range(len(synth)):
        requested = 0.0 if i == 0 else start_prev  # the player asks for the next one as one starts
        audio_ready = max(requested, audio_free) + synth[i]
        audio_free = audio_ready
        if own:
            timed = audio_ready
        else:
            timed = max(audio_ready, align_free) + aligner[i]
            align_free = timed
        start = audio_ready if i == 0 else max(audio_ready, start_prev + durations[i - 1] / speed)
        if i > 0 and timed <= start:
            there += 1
        start_prev = start
    return there / max(len(synth) - 1, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=40)
    args = parser.parse_args(argv)
    piper, espeak, whisper = PiperSynthesizer(), EspeakSynthesizer(), WhisperTranscriber()
    texts = sentences(args.sentences)
    piper.synthesize("Warm up.", piper.voice_name)
    whisper.transcribe(audio.decode(audio.encode(piper.synthesize("Warm up.", piper.voice_name).samples, 22050,
                                                 "wav")), word_timestamps=True, language="en")
    own_err: list[float] = []
    est_err: list[float] = []
    est_espeak_err: list[float] = []
    own_later: list[float] = []  # every word but a sentence's first
    first_signed: list[float] = []
    est_letters_err: list[float] = []

    def weigh(word: str) -> float:  # as the service weighs words in a language Piper speaks
        return 1.0 + piper.count_phonemes(word)

    synth_s: list[float] = []
    align_s: list[float] = []
    durations: list[float] = []
    estimate_ms: list[float] = []
    for text in texts:
        started = time.perf_counter()
        speech = piper.synthesize(text, piper.voice_name)
        synth_s.append(time.perf_counter() - started)
        durations.append(speech.duration)
        samples = audio.decode(audio.encode(speech.samples, speech.sample_rate, "wav"))
        aligned, seconds = heard(whisper, samples, text)
        align_s.append(seconds)
        own_err += [abs(w.t0 - a[2]) for w, a in zip(speech.words, aligned)]
        own_later += [abs(w.t0 - a[2]) for w, a in list(zip(speech.words, aligned))[1:]]
        first_signed.append(speech.words[0].t0 - aligned[0][2])
        started = time.perf_counter()
        guessed = estimate(text, samples, audio.TRANSCRIBE_RATE, weigh)
        estimate_ms.append((time.perf_counter() - started) * 1000)
        est_err += [abs(g[2] - a[2]) for g, a in zip(guessed, aligned)]
        e_speech = espeak.synthesize(text, "en-us")
        e_samples = audio.decode(audio.encode(e_speech.samples, e_speech.sample_rate, "wav"))
        e_aligned, _ = heard(whisper, e_samples, text)
        e_guessed = estimate(text, e_samples, audio.TRANSCRIBE_RATE, weigh)
        est_espeak_err += [abs(g[2] - a[2]) for g, a in zip(e_guessed, e_aligned)]
        by_letters = estimate(text, e_samples, audio.TRANSCRIBE_RATE)
        est_letters_err += [abs(g[2] - a[2]) for g, a in zip(by_letters, e_aligned)]
    print(f"{len(texts)} sentences, {len(own_err)} words; Piper synthesis median {statistics.median(synth_s):.2f} s, "
          f"Whisper alignment median {statistics.median(align_s):.2f} s, estimate median "
          f"{statistics.median(estimate_ms):.1f} ms")
    print("| first timings | median error against the aligner (word starts) |\n|---|---|")
    print(f"| Piper's own phoneme durations | {statistics.median(own_err) * 1000:.0f} ms |")
    print(f"| Piper's own phoneme durations, words after a sentence's first | "
          f"{statistics.median(own_later) * 1000:.0f} ms |")
    print(f"(a sentence's first word: Piper's start is {statistics.median(first_signed) * 1000:+.0f} ms from "
          "Whisper's, which puts it at the audio's start, before the voice's lead-in and first sound)")
    print(f"| estimate from silences and phoneme counts, Piper audio | {statistics.median(est_err) * 1000:.0f} ms |")
    print(f"| estimate from silences and phoneme counts, eSpeak NG audio | "
          f"{statistics.median(est_espeak_err) * 1000:.0f} ms |")
    print(f"| estimate from silences and letter counts (other languages), eSpeak NG audio | "
          f"{statistics.median(est_letters_err) * 1000:.0f} ms |")
    print("| speed | timings there when the sentence starts (after the first): with the audio | after Whisper "
          "(baseline) |\n|---|---|---|")
    for speed in (1.0, 2.0, 3.0):
        new = presence(synth_s, align_s, durations, speed, own=True)
        old = presence(synth_s, align_s, durations, speed, own=False)
        print(f"| {speed:.0f}x | {new:.0%} | {old:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
