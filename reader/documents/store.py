"""Documents on disk, one JSON file each, written atomically so they survive restarts.

Each document's file time is its last use (touched at most once an hour when it is read), so
documents can expire a set time after they were last used. A deleted document leaves a
tombstone (its id only, no content), so that deleting it again is not an error while an id
that never existed is.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import NotFound
from .model import Document

_ID = re.compile(r"^[0-9a-f]{24}$")
TOUCH_EVERY = 3600.0  # seconds: a document's last use is recorded at most this often


class DocumentStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, doc_id: str, suffix: str = ".json") -> Path:
        if not _ID.match(doc_id):
            raise NotFound(f"No document with id {doc_id!r}.")
        return self.directory / doc_id[:2] / f"{doc_id}{suffix}"

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
        self._path(doc.id, ".deleted").unlink(missing_ok=True)  # opened again after a delete
        return True

    def get(self, doc_id: str) -> Document:
        path = self._path(doc_id)
        try:
            with path.open(encoding="utf-8") as fh:
                doc = Document.from_json(json.load(fh))
        except FileNotFoundError:
            raise NotFound(f"No document with id {doc_id!r}.") from None
        self._touch(path)
        return doc

    def _touch(self, path: Path) -> None:
        try:
            if time.time() - path.stat().st_mtime > TOUCH_EVERY:
                os.utime(path)
        except OSError:  # gone meanwhile, or a read-only disk: the last use is a nicety
            pass

    def delete(self, doc_id: str) -> bool:
        """Remove the document; True if it was there, False if it was deleted before.
        An id that never existed is a NotFound."""
        path = self._path(doc_id)
        tombstone = self._path(doc_id, ".deleted")
        try:
            path.unlink()
        except FileNotFoundError:
            if tombstone.exists():
                return False
            raise NotFound(f"No document with id {doc_id!r}.") from None
        tombstone.parent.mkdir(parents=True, exist_ok=True)
        tombstone.write_text(str(int(time.time())))
        return True

    def entries(self) -> Iterator[tuple[str, float, int]]:
        """(id, last use, size in bytes) of every stored document."""
        for path in self.directory.glob("??/*.json"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            yield path.stem, stat.st_mtime, stat.st_size

    def expire(self, older_than: float, keep: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Delete documents last used before `older_than` (a time), except those in `keep`; their ids."""
        gone = []
        for doc_id, used, _ in list(self.entries()):
            if used < older_than and doc_id not in keep:
                self.delete(doc_id)
                gone.append(doc_id)
        for tombstone in self.directory.glob("??/*.deleted"):  # tombstones go after the same time
            try:
                if tombstone.stat().st_mtime < older_than:
                    tombstone.unlink()
            except FileNotFoundError:
                continue
        return gone
