"""The text an engine speaks for a sentence, with a map back to the sentence's characters."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SpokenText:
    """`text` is sent to the engine; `source[i]` is the sentence offset of `text[i]`."""

    text: str
    source: tuple[int, ...]

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the spoken text back to a span of the sentence."""
        if not self.source:
            return (0, 0)
        start = min(max(start, 0), len(self.source) - 1)
        last = min(max(end - 1, start), len(self.source) - 1)
        return self.source[start], self.source[last] + 1


def spoken_text(sentence: str) -> SpokenText:
    """Collapse runs of white space; every other character is spoken as written."""
    out: list[str] = []
    source: list[int] = []
    pos = 0
    stripped_start = len(sentence) - len(sentence.lstrip())
    body = sentence.strip()
    for match in _SPACE.finditer(body):
        for i in range(pos, match.start()):
            out.append(body[i])
            source.append(stripped_start + i)
        out.append(" ")
        source.append(stripped_start + match.start())
        pos = match.end()
    for i in range(pos, len(body)):
        out.append(body[i])
        source.append(stripped_start + i)
    return SpokenText("".join(out), tuple(source))
