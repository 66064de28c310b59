"""A stream of audio passed on as it arrives, kept whole for the cache only when it ends well."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator


class TeeStream:
    """Passes chunks on as they arrive and keeps a copy that is committed only when the stream ends well.

    An upstream failure, or close() before the end (the client went away), drops the copy:
    no partial entry is ever written. The single-flight lock is held until then.
    """

    def __init__(self, chunks: Iterable[bytes], commit: Callable[[bytes], None],
                 release: Callable[[], None]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._source = chunks
        self._parts: list[bytes] = []
        self._commit = commit
        self._release = release
        self._done = False
        self.committed = False

    def __iter__(self) -> TeeStream:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except StopIteration:
            try:
                self._commit(b"".join(self._parts))
                self.committed = True
            finally:
                self._finish()
            raise
        except BaseException:
            self._finish()
            raise
        self._parts.append(chunk)
        return chunk

    def close(self) -> None:
        """Called by the WSGI server when the response ends, early or not."""
        self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        self._parts = []
        try:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        finally:
            self._release()
