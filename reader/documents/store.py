"""Documents on disk, one JSON file each, written atomically so they survive restarts.

Each document's file time is its last use (touched at most once an hour when it is read), so
documents can expire a set time after they were last used. A deleted document leaves a
tombstone (its id only, no content), so that deleting it again is not an error while an id
that never existed is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import NotFound, StoreUnavailable
from .model import Document

if TYPE_CHECKING:
    from ..shared import SharedRedis

LOGGER = logging.getLogger(__name__)

_ID = re.compile(r"^[0-9a-f]{24}$")
TOUCH_EVERY = 3600.0  # seconds: a document's last use is recorded at most this often


class Documents(Protocol):
    """Where documents are kept: the data dir (DocumentStore) or Redis (RedisDocumentStore)."""

    def put(self, doc: Document) -> bool: ...

    def get(self, doc_id: str) -> Document: ...

    def delete(self, doc_id: str) -> bool: ...

    def entries(self) -> Iterator[tuple[str, float, int]]: ...

    def expire(self, older_than: float, keep: frozenset[str] | set[str] = frozenset()) -> list[str]: ...


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


class RedisDocumentStore:
    """Documents in Redis, for many hosts: the same interface as DocumentStore.

    A document is one zlib-compressed JSON value with a checksum; a sorted set holds each
    document's last use (for expiry); a deletion leaves a tombstone that expires with the
    document's retention time. Each process keeps the documents it read lately in memory (never
    on disk): while Redis is away they are still read from there, and an unknown one is a 503.
    """

    def __init__(self, shared: SharedRedis, *, keep_seconds: float, memory_bytes: int = 32 * 1024 * 1024) -> None:
        self.shared = shared
        self.keep_seconds = keep_seconds
        self._recent: OrderedDict[str, tuple[Document, int]] = OrderedDict()
        self._recent_bytes = 0
        self._memory = memory_bytes
        self._guard = threading.Lock()
        self._used = shared.key("docs", "used")

    def _key(self, doc_id: str, suffix: str = "") -> str:
        if not _ID.match(doc_id):
            raise NotFound(f"No document with id {doc_id!r}.")
        return self.shared.key("doc", doc_id) + suffix

    def put(self, doc: Document) -> bool:
        raw = json.dumps(doc.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
        value = hashlib.sha256(raw).digest()[:16] + zlib.compress(raw, 1)
        key = self._key(doc.id)

        def write(r: Any) -> bool:
            with r.pipeline() as pipe:  # MULTI/EXEC: the value, its last use and the tombstone at once
                pipe.set(key, value, nx=True)
                pipe.zadd(self._used, {doc.id: time.time()})
                pipe.delete(key + ":deleted")
                created, _, _ = pipe.execute()
            return bool(created)

        created = self.shared.call(write)
        self._remember(doc, len(raw))
        return created

    def get(self, doc_id: str) -> Document:
        key = self._key(doc_id)
        try:
            value, used = self.shared.call(lambda r: r.pipeline(transaction=False).get(key)
                                           .zscore(self._used, doc_id).execute())
        except StoreUnavailable:
            with self._guard:
                kept = self._recent.get(doc_id)
            if kept is None:
                raise
            return kept[0]
        if value is None:
            self._drop(doc_id)
            raise NotFound(f"No document with id {doc_id!r}.")
        doc, size = _decode(value)
        now = time.time()
        if used is None or now - float(used) > TOUCH_EVERY:
            with contextlib.suppress(StoreUnavailable):
                self.shared.call(lambda r: r.zadd(self._used, {doc_id: now}))
        self._remember(doc, size)
        return doc

    def _remember(self, doc: Document, size: int) -> None:
        if size > self._memory // 4:
            return
        with self._guard:
            old = self._recent.pop(doc.id, None)
            if old is not None:
                self._recent_bytes -= old[1]
            self._recent[doc.id] = (doc, size)
            self._recent_bytes += size
            while self._recent_bytes > self._memory and self._recent:
                _, (_, gone) = self._recent.popitem(last=False)
                self._recent_bytes -= gone

    def _drop(self, doc_id: str) -> None:
        with self._guard:
            old = self._recent.pop(doc_id, None)
            if old is not None:
                self._recent_bytes -= old[1]

    def delete(self, doc_id: str) -> bool:
        key = self._key(doc_id)
        self._drop(doc_id)

        def remove(r: Any) -> tuple[int, int]:
            with r.pipeline() as pipe:
                pipe.delete(key)
                pipe.zrem(self._used, doc_id)
                pipe.exists(key + ":deleted")
                gone, _, tombstone = pipe.execute()
            if gone:
                r.set(key + ":deleted", int(time.time()), ex=max(int(self.keep_seconds), 60))
            return int(gone), int(tombstone)

        gone, tombstone = self.shared.call(remove)
        if gone:
            return True
        if tombstone:
            return False
        raise NotFound(f"No document with id {doc_id!r}.")

    def entries(self) -> Iterator[tuple[str, float, int]]:
        """(id, last use, size in bytes) of every stored document."""
        used = self.shared.call(lambda r: r.zrange(self._used, 0, -1, withscores=True))
        for raw_id, when in used:
            doc_id = raw_id.decode()
            size = self.shared.do("strlen", self._key(doc_id))
            yield doc_id, float(when), int(size)

    def expire(self, older_than: float, keep: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Delete documents last used before `older_than`, except those in `keep`; their ids.
        (Tombstones expire by themselves.)"""
        old = self.shared.call(lambda r: r.zrangebyscore(self._used, "-inf", older_than))
        gone = []
        for raw_id in old:
            doc_id = raw_id.decode()
            if doc_id not in keep and self.delete(doc_id):
                gone.append(doc_id)
        return gone


def _decode(value: bytes) -> tuple[Document, int]:
    """A stored document, checked; a damaged value is a 503 (never served), not a crash."""
    digest, body = value[:16], value[16:]
    try:
        raw = zlib.decompress(body)
        if hashlib.sha256(raw).digest()[:16] != digest:
            raise ValueError("checksum mismatch")
        return Document.from_json(json.loads(raw)), len(raw)
    except (ValueError, zlib.error, KeyError, TypeError) as exc:
        LOGGER.error("a stored document failed its check (%s)", type(exc).__name__)
        raise StoreUnavailable("The document could not be read from the shared store.", retry_after=60) from None
