"""Documents on disk, one JSON file each, written atomically so they survive restarts."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from ..errors import NotFound
from .model import Document

_ID = re.compile(r"^[0-9a-f]{24}$")


class DocumentStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, doc_id: str) -> Path:
        if not _ID.match(doc_id):
            raise NotFound(f"No document with id {doc_id!r}.")
        return self.directory / doc_id[:2] / f"{doc_id}.json"

    def put(self, doc: Document) -> bool:
        """Store `doc`; returns False when it was already there (ids derive from content)."""
        path = self._path(doc.id)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc.to_json(), fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def get(self, doc_id: str) -> Document:
        try:
            with self._path(doc_id).open(encoding="utf-8") as fh:
                return Document.from_json(json.load(fh))
        except FileNotFoundError:
            raise NotFound(f"No document with id {doc_id!r}.") from None
