"""Long scans, read in the background: an upload whose pages need text recognition beyond what
one request may do (READER_OCR_INLINE_PAGES) becomes an import job. The scan waits in the data
dir (or in Redis, across hosts) until a worker has recognised it page by page, saying how far
it got; then it becomes a document like any other, and the scan is deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import NotFound

if TYPE_CHECKING:
    from ..shared import SharedRedis

KEEP_SECONDS = 86400.0  # an import (and its scan, if it never ran) is kept this long


@dataclass(frozen=True)
class Import:
    id: str
    pages: tuple[int, ...]  # the pages (1-based) that need recognition
    status: str = "queued"  # queued, running, done, failed
    done: int = 0  # pages recognised so far
    document: str | None = None
    error: str | None = None
    created: float = 0.0
    updated: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)  # title, language, mode of the upload

    def public(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("options", "pages")}
        data["total"] = len(self.pages)
        data["progress"] = round(self.done / len(self.pages), 4) if self.pages else 0.0
        data["url"] = f"/api/imports/{self.id}"
        if self.document:
            data["read"] = f"/read/{self.document}"
        return data


def _check(iid: str) -> str:
    if len(iid) != 24 or not all(c in "0123456789abcdef" for c in iid):
        raise NotFound(f"No import with id {iid!r}.")
    return iid


class ImportStore:
    """Imports in the data dir: state.json and scan.pdf in a folder each."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def create(self, data: bytes, pages: list[int], options: dict[str, Any]) -> Import:
        now = time.time()
        job = Import(id=secrets.token_hex(12), pages=tuple(pages), created=now, updated=now, options=options)
        folder = self.directory / job.id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scan.pdf").write_bytes(data)
        self._write(job)
        return job

    def _write(self, job: Import) -> None:
        folder = self.directory / job.id
        tmp = folder / ".state.json.part"
        tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(tmp, folder / "state.json")

    def get(self, iid: str) -> Import:
        try:
            data = json.loads((self.directory / _check(iid) / "state.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"No import with id {iid!r}.") from None
        data["pages"] = tuple(data["pages"])
        return Import(**data)

    def update(self, iid: str, **changes: Any) -> Import:
        job = replace(self.get(iid), updated=time.time(), **changes)
        self._write(job)
        return job

    def scan(self, iid: str) -> bytes:
        try:
            return (self.directory / _check(iid) / "scan.pdf").read_bytes()
        except FileNotFoundError:
            raise NotFound("This import's scan is gone.") from None

    def drop_scan(self, iid: str) -> None:
        (self.directory / _check(iid) / "scan.pdf").unlink(missing_ok=True)

    def expire(self, now: float | None = None) -> int:
        now = now or time.time()
        removed = 0
        for folder in self.directory.glob("*"):
            with contextlib.suppress(OSError):
                if now - folder.stat().st_mtime > KEEP_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
        return removed


class RedisImportStore(ImportStore):
    """Imports in Redis, for many hosts: any host takes the upload, any worker reads it."""

    def __init__(self, shared: SharedRedis) -> None:
        super().__init__(Path("."))
        self.shared = shared

    def create(self, data: bytes, pages: list[int], options: dict[str, Any]) -> Import:
        now = time.time()
        job = Import(id=secrets.token_hex(12), pages=tuple(pages), created=now, updated=now, options=options)
        self.shared.do("set", self.shared.key("import-scan", job.id), data, ex=int(KEEP_SECONDS))
        self._write(job)
        return job

    def _write(self, job: Import) -> None:
        self.shared.do("set", self.shared.key("import", job.id), json.dumps(asdict(job)), ex=int(KEEP_SECONDS))

    def get(self, iid: str) -> Import:
        raw = self.shared.do("get", self.shared.key("import", _check(iid)))
        if raw is None:
            raise NotFound(f"No import with id {iid!r}.")
        data = json.loads(raw)
        data["pages"] = tuple(data["pages"])
        return Import(**data)

    def scan(self, iid: str) -> bytes:
        data = self.shared.do("get", self.shared.key("import-scan", _check(iid)))
        if data is None:
            raise NotFound("This import's scan is gone.")
        return bytes(data)

    def drop_scan(self, iid: str) -> None:
        self.shared.do("delete", self.shared.key("import-scan", _check(iid)))

    def expire(self, now: float | None = None) -> int:
        return 0  # keys expire by themselves
