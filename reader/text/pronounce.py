"""The operator's pronunciation list: whole words or phrases and what to say instead.

The file named by READER_PRONUNCIATIONS is JSON (``.json``) or TOML (``.toml``): one table
whose keys are the written forms and whose values are either what to say, or a table with
``say`` and ``ignore_case``::

    {"Nginx": "engine x", "SQL": "sequel", "Dr. Who": "Doctor Who",
     "gif": {"say": "jif", "ignore_case": true}}

    Nginx = "engine x"
    "Dr. Who" = "Doctor Who"          # TOML: quote keys with dots or spaces
    gif = { say = "jif", ignore_case = true }

Rules: a key matches only as a whole word or phrase (no letter or digit may touch it on
either side), case-sensitively unless ``ignore_case`` is true; a space in a key matches any
run of white space; where keys overlap, the longest wins. An empty ``say`` skips the words.
The list applies to every language and engine, before the built-in English rules, and what
it says is sent to the engine as written. A file is read once per process and again only
when its modification time changes; a malformed file raises ValueError naming the file
(after a good load, a broken edit is logged and the last good list is kept).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Pronunciations", "load_pronunciations", "EMPTY"]

LOGGER = logging.getLogger(__name__)
_SPACES = re.compile(r"\s+")
_OPTIONS = frozenset({"say", "ignore_case"})


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text.strip())


@dataclass(frozen=True)
class Pronunciations:
    """Compiled entries: `exact` (case-sensitive) and `folded` (lower-cased keys) to what to say."""

    exact: Mapping[str, str] = field(default_factory=dict)
    folded: Mapping[str, str] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None
    origin: str = ""

    def __len__(self) -> int:
        return len(self.exact) + len(self.folded)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, origin: str = "") -> Pronunciations:
        """Validate a parsed list ({written: say | {"say", "ignore_case"}}) and compile it."""
        where = f"Pronunciation list {origin}" if origin else "Pronunciation list"
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected a table of words to pronunciations, got {type(data).__name__}.")
        exact: dict[str, str] = {}
        folded: dict[str, str] = {}
        for key, value in data.items():
            written = _normal(key) if isinstance(key, str) else ""
            if not written:
                raise ValueError(f"{where}: entry {key!r} has an empty written form.")
            ignore_case = False
            if isinstance(value, Mapping):
                unknown = set(value) - _OPTIONS
                if unknown or "say" not in value:
                    raise ValueError(
                        f"{where}: entry {key!r} must have 'say' and may have 'ignore_case'"
                        + (f"; unknown: {sorted(unknown)}" if unknown else "") + "."
                    )
                ignore_case = value.get("ignore_case", False)
                if not isinstance(ignore_case, bool):
                    raise ValueError(f"{where}: entry {key!r}: 'ignore_case' must be true or false.")
                value = value["say"]
            if not isinstance(value, str):
                raise ValueError(f"{where}: entry {key!r} must say a string, not {type(value).__name__}.")
            if ignore_case:
                folded[written.lower()] = _normal(value)
            else:
                exact[written] = _normal(value)
        if not exact and not folded:
            return cls(origin=origin)
        keys = [(k, False) for k in exact] + [(k, True) for k in folded]
        keys.sort(key=lambda item: -len(item[0]))  # at one position the longest key wins
        parts = []
        for key, fold in keys:
            body = r"\s+".join(map(re.escape, key.split(" ")))
            parts.append(f"(?i:{body})" if fold else body)
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")
        return cls(exact=exact, folded=folded, pattern=pattern, origin=origin)

    def matches(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, what to say) for every entry found in `text`, left to right."""
        if self.pattern is None:
            return
        for m in self.pattern.finditer(text):
            written = _normal(m.group())
            say = self.exact.get(written)
            if say is None:
                say = self.folded.get(written.lower())
            if say is not None:
                yield m.start(), m.end(), say


EMPTY = Pronunciations()


def load_pronunciations(path: str) -> Pronunciations:
    """The list in the JSON or TOML file at `path` (cached until the file changes)."""
    if not path:
        return EMPTY
    key = os.path.abspath(path)
    try:
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError as exc:
            raise ValueError(f"Pronunciation list {path}: cannot read it ({exc.strerror}).") from exc
        loaded = _load(key, mtime)
    except ValueError as exc:
        # At start-up a bad file must stop the server; once running, a half-saved edit must
        # not stop every reader, so the last good list stays in force until the file is fixed.
        if key not in _LAST_GOOD:
            raise
        LOGGER.warning("%s; still using the list loaded before", exc)
        return _LAST_GOOD[key]
    _LAST_GOOD[key] = loaded
    return loaded


_LAST_GOOD: dict[str, Pronunciations] = {}


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: int) -> Pronunciations:
    """Parse once per (path, modification time): every request after start-up is a stat."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".json", ".toml"):
        raise ValueError(f"Pronunciation list {path}: name it .json or .toml, so its format is known.")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        data = tomllib.loads(raw.decode("utf-8")) if suffix == ".toml" else json.loads(raw)
    except OSError as exc:
        raise ValueError(f"Pronunciation list {path}: cannot read it ({exc.strerror}).") from exc
    except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"Pronunciation list {path} is not valid {suffix[1:].upper()}: {exc}") from exc
    return Pronunciations.from_mapping(data, origin=path)
