"""Streams of encoded audio passed on as they arrive: one that closes its source and frees what
it holds however it ends (a cloud voice's connection and slot), and one that also keeps a copy
for the cache, committed only when the stream ends well."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator


class ClosingStream:
    """Chunks as they arrive (after `head`, if any). The end, a failure, or close() before the end
    (the WSGI server calls it when the client goes away) closes the source and calls `on_close`,
    once."""

    def __init__(self, chunks: Iterable[bytes], on_close: Callable[[], None], head: bytes = b"") -> None:
        self._source = chunks
        self._chunks: Iterator[bytes] = iter(chunks)
        self._on_close = on_close
        self._head = head
        self._done = False

    def __iter__(self) -> ClosingStream:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        if self._head:
            head, self._head = self._head, b""
            self._seen(head)
            return head
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._ended()
            raise
        except BaseException:
            self.close()
            raise
        self._seen(chunk)
        return chunk

    def _seen(self, chunk: bytes) -> None:
        """Each chunk as it passes (nothing here)."""

    def _ended(self) -> None:
        """The source ran out: close."""
        self.close()

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()


class TeeStream(ClosingStream):
    """Passes chunks on as they arrive and keeps a copy that is committed only when the stream ends well.

    An upstream failure, or close() before the end (the client went away), drops the copy:
    no partial entry is ever written. The single-flight lock is held until then (`release`).
    """

    def __init__(self, chunks: Iterable[bytes], commit: Callable[[bytes], None],
                 release: Callable[[], None]) -> None:
        super().__init__(chunks, release)
        self._parts: list[bytes] = []
        self._commit = commit
        self.committed = False

    def _seen(self, chunk: bytes) -> None:
        self._parts.append(chunk)

    def _ended(self) -> None:
        try:
            self._commit(b"".join(self._parts))
            self.committed = True
        finally:
            self.close()

    def close(self) -> None:
        self._parts = []
        super().close()
