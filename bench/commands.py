"""Spoken commands and digit patterns under every CPU kernel CTranslate2 can pick.

    python bench/commands.py [--settings all|default] [--hotwords field|none|digits]

Whisper's int8 kernels round differently on different processors (the instruction set it
selects, AVX512 / AVX2 / AVX / GENERIC, and MKL or oneDNN for the matrix products), so a clip
heard one way on one machine can be heard another way on the next. This runs every recording
of tests/data/commands through the live endpoint's final pass (live_dictation(), with the
hotwords the endpoint gives the field) once under each `CT2_FORCE_CPU_ISA` x `CT2_USE_MKL`
setting, in a process of its own, and reads each transcript with dictate.js's own FieldEditor
(bench/commands_grammar.mjs, under node), as the page does on stop.

Printed: per phrase, how many voices got it right under the worst setting and under the best,
and the whole table's worst and best share; the goal the test holds (each command for at least
4 of 5 voices, i.e. 80 %, and 90 % of all) reads against the worst.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMMANDS = ROOT / "tests" / "data" / "commands"
START = "Dear team"
# phrase -> (field kind, what the field holds after START was dictated into a message box and
# the phrase was heard; digit patterns go into an empty phone field)
EXPECTED = {
    "undo": ("text", ""), "delete that": ("text", ""), "comma": ("text", "Dear team,"),
    "question mark": ("text", "Dear team?"), "full stop": ("text", "Dear team."),
    "period": ("text", "Dear team."), "exclamation mark": ("text", "Dear team!"),
    "colon": ("text", "Dear team:"), "new line": ("text", "Dear team\n"),
    "new paragraph": ("text", "Dear team\n\n"), "double five": ("tel", "55"),
    "oh two oh seven double four": ("tel", "020744"), "triple nine": ("tel", "999"),
}
# The digit patterns Reader once gave number fields as hotwords (--hotwords digits compares them).
DIGIT_HOTWORDS = "Double, triple, oh."
SETTINGS = [(isa, mkl) for isa in ("AVX512", "AVX2", "AVX", "GENERIC") for mkl in ("0", "1")]


def heard_all(hotwords: str, fields: str) -> list[dict[str, str]]:
    """Every clip through the final pass, in this process (its CT2_* environment)."""
    from reader.config import Settings
    from reader.speech.dictation import hotwords_for, live_dictation
    from reader.speech.registry import build_transcriber

    settings = Settings()
    transcriber = build_transcriber(settings.stt, settings)
    rows = []
    for voice in sorted(p for p in COMMANDS.iterdir() if p.is_dir()):
        for phrase, (field, _) in EXPECTED.items():
            if fields != "all" and field != fields:
                continue
            data = (voice / f"{phrase.replace(' ', '-')}.ogg").read_bytes()
            words = {"field": hotwords_for(field), "none": None, "digits": DIGIT_HOTWORDS}[hotwords]
            passes = live_dictation(transcriber, data, "clip.ogg", language="en", prompt=None,
                                    max_seconds=settings.max_audio_seconds,
                                    partial=False, hotwords=words)
            done = [e for e in passes if e["type"] == "done"][-1]
            rows.append({"voice": voice.name, "phrase": phrase, "field": field,
                         "start": START if field == "text" else "", "text": done["text"]})
    return rows


def read_back(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """What dictate.js makes of each transcript."""
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    out = subprocess.run(["node", str(ROOT / "bench" / "commands_grammar.mjs"), str(ROOT)], input=lines,
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", choices=("all", "default"), default="all")
    parser.add_argument("--hotwords", choices=("field", "none", "digits"), default="field")
    parser.add_argument("--fields", choices=("all", "text", "tel"), default="all", help="the phrases of these fields")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(heard_all(args.hotwords, args.fields)))
        return
    settings = SETTINGS if args.settings == "all" else [(None, None)]
    per_setting: dict[str, dict[str, list[str]]] = {}
    for isa, mkl in settings:
        env = dict(os.environ)
        name = "default"
        if isa:
            env.update(CT2_FORCE_CPU_ISA=isa, CT2_USE_MKL=mkl)
            name = f"{isa}/mkl={mkl}"
        out = subprocess.run([sys.executable, __file__, "--child", "--hotwords", args.hotwords, "--fields", args.fields], env=env,
                             capture_output=True, text=True, check=True).stdout
        rows = read_back(json.loads(out.splitlines()[-1]))
        right: dict[str, list[str]] = {p: [] for p in EXPECTED if args.fields in ("all", EXPECTED[p][0])}
        for r in rows:
            if r["got"] == EXPECTED[r["phrase"]][1]:
                right[r["phrase"]].append(r["voice"])
            else:
                print(f"  {name:<16} {r['voice']:<24} {r['phrase']!r:<31} heard {r['text']!r} -> {r['got']!r}")
        per_setting[name] = right
    voices = len({p.name for p in COMMANDS.iterdir() if p.is_dir()})
    print(f"\n{'phrase':<31} {'worst':>7} {'best':>6}   (of {voices} voices, over {len(per_setting)} settings)")
    for phrase in next(iter(per_setting.values())):
        counts = [len(r[phrase]) for r in per_setting.values()]
        print(f"{phrase:<31} {min(counts):>7} {max(counts):>6}")
    totals = [sum(len(v) for v in r.values()) for r in per_setting.values()]
    whole = voices * len(next(iter(per_setting.values())))
    print(f"{'all':<31} {min(totals) / whole:>7.1%} {max(totals) / whole:>6.1%}"
          f"   goal: each phrase >= 80 % of voices, all >= 90 %")


if __name__ == "__main__":
    main()
