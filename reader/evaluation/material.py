"""What an evaluation reads: recordings with their transcripts, and sentences for the voices."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".webm")

# Sentences that are easy to get wrong: numbers, dates, money, abbreviations, names, a
# question, homographs, a long clause chain. Used when no file of sentences is given.
TRICKY_SENTENCES = (
    "The meeting moved from Tuesday, March 3rd to 10:30 a.m. on the 5th.",
    "Dr. Smith paid $1,250.75 for 3 tickets, about 40% more than last year.",
    "Did you read the lead article, or did you lead the discussion?",
    "Call 555-0199 before 6 p.m. if the package has not arrived.",
    "In 1969, Apollo 11 landed on the Moon, 384,400 km from Earth.",
    "She said the wind would wind down by the afternoon.",
    "Please enter your password, then press Enter twice.",
    "NASA and the WHO published the report on the 2nd of June.",
    "The recipe needs 2 cups of flour, 1/2 teaspoon of salt and 3 eggs.",
    "Why does the train to Edinburgh leave at a quarter past nine?",
    "Although the road was closed, which nobody had expected, the bus arrived on time.",
    "Chapter 12 begins on page 204.",
)


@dataclass(frozen=True)
class Clip:
    """One recording and what was said in it."""

    id: str
    path: Path
    reference: str
    language: str = "en"


def clips(folder: str | Path) -> list[Clip]:
    """The recordings of `folder`: from its manifest.jsonl (id, path, reference or text, language),
    or from name.wav + name.txt pairs. Sorted by id, so a --limit is the same clips each time."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{folder} is not a folder of recordings.")
    manifest = root / "manifest.jsonl"
    found: list[Clip] = []
    if manifest.is_file():
        for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            reference = row.get("reference") or row.get("text")
            if not isinstance(reference, str) or "path" not in row:
                raise ValueError(f"{manifest}:{n}: each line needs 'path' and 'reference' (or 'text').")
            path = (root / row["path"]).resolve()
            if not path.is_file():
                raise ValueError(f"{manifest}:{n}: {row['path']} is not there.")
            found.append(Clip(id=str(row.get("id") or Path(row["path"]).stem), path=path, reference=reference,
                              language=str(row.get("language") or "en")))
    else:
        for audio in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
            text = audio.with_suffix(".txt")
            if text.is_file():
                found.append(Clip(id=str(audio.relative_to(root).with_suffix("")), path=audio,
                                  reference=text.read_text(encoding="utf-8").strip()))
    if not found:
        raise ValueError(f"No recordings in {folder}: give a manifest.jsonl, or name.wav with name.txt beside it.")
    return sorted(found, key=lambda c: c.id)


def sentences(path: str | Path | None) -> list[str]:
    """Sentences to read: one per line of a text file, or the built-in tricky set."""
    if path is None:
        return list(TRICKY_SENTENCES)
    lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    found = [line for line in lines if line and not line.startswith("#")]
    if not found:
        raise ValueError(f"{path} holds no sentences (one per line).")
    return found
