"""Narration jobs: their state on disk, one folder each, shared by the web workers and the queue.

A job is (document, voice, style, speed, format): the same request again is the same job, and
a finished one is served from its folder, not made again. State changes happen under an flock
on the job's folder and are written atomically. A running job writes a heartbeat; one that
falls silent (its worker was killed) is started again, and redoes only what the audio cache
does not already hold.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ClientBusy, NotFound, StorageFull
from .spec import Spec

if TYPE_CHECKING:
    from ..shared import SharedRedis

ACTIVE = ("queued", "running")
_ID_CHARS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Job:
    id: str
    doc_id: str
    voice: str
    format: str
    style: str | None = None
    speed: float = 1.0
    client: str = ""  # a hash of the client's address, for the per-client limit
    status: str = "queued"  # queued, running, done, failed, cancelled
    done: int = 0
    total: int = 0
    created: float = 0.0
    started: float = 0.0
    updated: float = 0.0  # the heartbeat of a running job
    finished: float = 0.0
    seconds: float = 0.0  # length of the audio made
    size: int = 0  # bytes of the main file
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # kind -> file name in the job's folder

    @property
    def spec(self) -> Spec:
        return Spec(doc_id=self.doc_id, voice=self.voice, format=self.format, style=self.style, speed=self.speed)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, from the pace so far (None before there is a pace)."""
        if self.status != "running" or self.done <= 0 or not self.started:
            return None
        spent = (now or time.time()) - self.started
        return round(spent / self.done * max(self.total - self.done, 0), 1)

    def public(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("client", "files")}
        data["eta"] = self.eta()
        data["progress"] = round(self.done / self.total, 4) if self.total else 0.0
        return data


def job_id(spec: Spec) -> str:
    payload = json.dumps([spec.doc_id, spec.voice, spec.format, spec.style or "", round(spec.speed, 3)])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def client_hash(client: str | None) -> str:
    return hashlib.sha256((client or "").encode()).hexdigest()[:16]


class JobStore:
    """Jobs in `directory`/<id>/: state.json and, when done, the files."""

    def __init__(self, directory: str | Path, *, per_client: int, budget_bytes: int, keep_seconds: float,
                 stale_seconds: float) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.per_client = per_client
        self.budget_bytes = budget_bytes
        self.keep_seconds = keep_seconds
        self.stale_seconds = stale_seconds

    def folder(self, jid: str) -> Path:
        if len(jid) != 24 or not set(jid) <= _ID_CHARS:
            raise NotFound(f"No narration with id {jid!r}.")
        return self.directory / jid

    @contextlib.contextmanager
    def _locked(self, jid: str) -> Iterator[Path]:
        folder = self.folder(jid)
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield folder
        finally:
            os.close(fd)

    def get(self, jid: str) -> Job:
        path = self.folder(jid) / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"No narration with id {jid!r}.") from None
        return Job(**data)

    def _write(self, folder: Path, job: Job) -> None:
        tmp = folder / ".state.json.part"
        tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(tmp, folder / "state.json")

    def submit(self, spec: Spec, *, total: int, client: str | None) -> tuple[Job, bool]:
        """The job for `spec`: an existing one as it is (unless it failed or was cancelled), or a new one.
        Returns (job, whether it must be queued)."""
        jid = job_id(spec)
        try:
            existing = self.get(jid)
        except NotFound:
            existing = None
        if existing is not None and existing.status in (*ACTIVE, "done") and self._files_there(existing):
            return existing, False
        who = client_hash(client)
        if self.per_client > 0 and self._active_for(who) >= self.per_client:
            raise ClientBusy(f"You already have {self.per_client} narrations under way. Wait for one to finish, "
                             "or cancel one.", retry_after=30)
        self._make_room()
        now = time.time()
        job = Job(id=jid, doc_id=spec.doc_id, voice=spec.voice, format=spec.format, style=spec.style,
                  speed=spec.speed, client=who, total=total, created=now, updated=now)
        with self._locked(jid) as folder:
            self._write(folder, job)
        return job, True

    def _files_there(self, job: Job) -> bool:
        return job.status != "done" or all((self.folder(job.id) / name).is_file() for name in job.files.values())

    def update(self, jid: str, **changes: Any) -> Job:
        with self._locked(jid) as folder:
            job = replace(self.get(jid), **changes)
            self._write(folder, job)
            return job

    def start(self, jid: str) -> Job | None:
        """Mark a job running (None when it was cancelled or is finished meanwhile)."""
        with self._locked(jid) as folder:
            job = self.get(jid)
            if job.status not in ACTIVE:
                return None
            now = time.time()
            job = replace(job, status="running", started=job.started or now, updated=now, error=None)
            self._write(folder, job)
            return job

    def cancel(self, jid: str) -> Job:
        """Cancel a queued or running job (its worker stops at the next sentence); idempotent."""
        with self._locked(jid) as folder:
            job = self.get(jid)
            if job.status in ACTIVE:
                job = replace(job, status="cancelled", finished=time.time())
                self._write(folder, job)
            return job

    def file(self, jid: str, kind: str | None = None) -> tuple[Job, Path]:
        job = self.get(jid)
        name = job.files.get(kind or job.format)
        path = self.folder(jid) / name if name else None
        if job.status != "done" or path is None or not path.is_file():
            from ..errors import Conflict

            if job.status == "done" and kind:
                raise NotFound(f"This narration has no {kind} file.")
            raise Conflict(f"The narration is {job.status}; its file is there once it is done.")
        return job, path

    def finish(self, jid: str, files: dict[str, Path], **changes: Any) -> Job:
        """Mark a job done with its files (made in its folder)."""
        return self.update(jid, status="done", files={kind: path.name for kind, path in files.items()}, **changes)

    def remove(self, jid: str) -> None:
        """A job and its files, gone."""
        shutil.rmtree(self.folder(jid), ignore_errors=True)

    def jobs(self) -> list[Job]:
        found = []
        for folder in self.directory.iterdir():
            if folder.is_dir() and (folder / "state.json").is_file():
                with contextlib.suppress(NotFound, ValueError, TypeError, OSError):
                    found.append(self.get(folder.name))
        return found

    def _active_for(self, who: str) -> int:
        return sum(1 for job in self.jobs() if job.client == who and job.status in ACTIVE and not self.is_stale(job))

    def is_stale(self, job: Job, now: float | None = None) -> bool:
        return job.status == "running" and (now or time.time()) - job.updated > self.stale_seconds

    def claim_stale(self, jid: str) -> bool:
        """True for exactly one caller while job `jid` is stale: it then queues the job again. Others
        (another reaper, a host the reader polls) see it fresh and leave it."""
        with self._locked(jid) as folder:
            job = self.get(jid)
            if not self.is_stale(job):
                return False
            self._write(folder, replace(job, updated=time.time()))
            return True

    def stale(self) -> list[Job]:
        """Running jobs whose worker has gone silent."""
        return [job for job in self.jobs() if self.is_stale(job)]

    def used_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file())

    def expire(self, now: float | None = None) -> int:
        """Remove finished, failed and cancelled jobs past their time; returns how many."""
        now = now or time.time()
        removed = 0
        for job in self.jobs():
            ended = job.finished or job.updated
            if job.status not in ACTIVE and now - ended > self.keep_seconds:
                self.remove(job.id)
                removed += 1
        return removed

    def _make_room(self) -> None:
        if self.budget_bytes <= 0 or self.used_bytes() < self.budget_bytes:
            return
        self.expire()
        for job in sorted((j for j in self.jobs() if j.status not in ACTIVE), key=lambda j: j.finished):
            if self.used_bytes() < self.budget_bytes:
                return
            self.remove(job.id)
        if self.used_bytes() >= self.budget_bytes:
            raise StorageFull("The space for narrations is full while others are being made. Try again later.",
                              retry_after=300)


CHUNK_BYTES = 1024 * 1024  # a finished file is kept in Redis in pieces of this size


class RedisJobStore(JobStore):
    """Jobs in Redis, for many hosts: any host takes a request, any worker makes the narration,
    any host serves the file.

    A job's state is one JSON value, changed under a Redis lock (that expires if its holder is
    killed). A worker makes the files in its local folder and, when done, puts them in Redis in
    1 MB pieces with their size and sha256; a host that serves one copies it to its local folder
    first (checked against the sha256), so a download is an ordinary file with Range requests.
    The budget (READER_EXPORTS_MB) then counts bytes in Redis.
    """

    def __init__(self, directory: str | Path, shared: SharedRedis, **kwargs: Any) -> None:
        super().__init__(directory, **kwargs)
        self.shared = shared
        self._all = shared.key("jobs")
        self._pruned = 0.0

    def _state(self, jid: str) -> str:
        self.folder(jid)  # checks the id
        return self.shared.key("job", jid)

    def _file_key(self, jid: str, name: str) -> str:
        return self.shared.key("job-file", jid, name)

    @contextlib.contextmanager
    def _locked(self, jid: str) -> Iterator[Path]:
        lock = self.shared.client.lock(self.shared.key("job-lock", jid), timeout=10, blocking_timeout=15)
        got = self.shared.call(lambda r: lock.acquire())
        if not got:
            from ..errors import StoreUnavailable

            raise StoreUnavailable("The narration is busy; try again in a moment.", retry_after=2)
        try:
            yield self.folder(jid)
        finally:
            with contextlib.suppress(Exception):  # expired, or Redis away: it expires by itself
                self.shared.call(lambda r: lock.release())

    def get(self, jid: str) -> Job:
        data = self.shared.call(lambda r: r.get(self._state(jid)))
        if data is None:
            raise NotFound(f"No narration with id {jid!r}.")
        return Job(**json.loads(data))

    def _write(self, folder: Path, job: Job) -> None:
        ttl = None
        if job.status not in ACTIVE:
            ttl = int(self.keep_seconds + 86400)  # expire() removes it first; this is the backstop

        def write(r: Any) -> None:
            with r.pipeline() as pipe:
                pipe.set(self._state(job.id), json.dumps(asdict(job)), ex=ttl)
                pipe.sadd(self._all, job.id)
                pipe.execute()

        self.shared.call(write)

    def _files_there(self, job: Job) -> bool:
        if job.status != "done":
            return True
        keys = [self._file_key(job.id, name) for name in job.files.values()]
        return not keys or self.shared.call(lambda r: r.exists(*keys)) == len(keys)

    def finish(self, jid: str, files: dict[str, Path], **changes: Any) -> Job:
        """Put the files in Redis, mark the job done, and drop the worker's local copies."""
        ttl = int(self.keep_seconds + 86400)
        for path in files.values():
            self._upload(jid, path, ttl)
        job = super().finish(jid, files, **changes)
        shutil.rmtree(self.folder(jid), ignore_errors=True)
        return job

    def _upload(self, jid: str, path: Path, ttl: int) -> None:
        digest = hashlib.sha256()
        base = self._file_key(jid, path.name)
        pieces = 0
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                digest.update(chunk)
                self.shared.do("set", f"{base}:{pieces}", chunk, ex=ttl)
                pieces += 1
        meta = json.dumps({"size": path.stat().st_size, "pieces": pieces, "sha256": digest.hexdigest()})
        self.shared.call(lambda r: r.set(base, meta, ex=ttl))  # last: the file is there once this is

    def file(self, jid: str, kind: str | None = None) -> tuple[Job, Path]:
        job = self.get(jid)
        name = job.files.get(kind or job.format)
        if job.status != "done" or name is None:
            from ..errors import Conflict

            if job.status == "done" and kind:
                raise NotFound(f"This narration has no {kind} file.")
            raise Conflict(f"The narration is {job.status}; its file is there once it is done.")
        self._prune_local()
        path = self.folder(jid) / name
        if not path.is_file():
            self._download(jid, name, path)
        return job, path

    def _download(self, jid: str, name: str, path: Path) -> None:
        base = self._file_key(jid, name)
        raw = self.shared.call(lambda r: r.get(base))
        if raw is None:
            raise NotFound("This narration's file has expired.")
        meta = json.loads(raw)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.part")
        digest = hashlib.sha256()
        try:
            with tmp.open("wb") as fh:
                for i in range(int(meta["pieces"])):
                    chunk = self.shared.do("get", f"{base}:{i}")
                    if chunk is None:
                        raise NotFound("This narration's file has expired.")
                    digest.update(chunk)
                    fh.write(chunk)
            if digest.hexdigest() != meta["sha256"] or tmp.stat().st_size != int(meta["size"]):
                from ..errors import StoreUnavailable

                raise StoreUnavailable("The narration's file failed its check; try again later.", retry_after=60)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _prune_local(self) -> None:
        """Local copies of files go after the narration's time (checked every ten minutes)."""
        now = time.time()
        if now - self._pruned < 600:
            return
        self._pruned = now
        for folder in self.directory.iterdir():
            with contextlib.suppress(OSError):
                if folder.is_dir() and now - folder.stat().st_mtime > self.keep_seconds:
                    shutil.rmtree(folder, ignore_errors=True)

    def remove(self, jid: str) -> None:
        job = None
        with contextlib.suppress(NotFound):
            job = self.get(jid)

        def delete(r: Any) -> None:
            keys = [self._state(jid)]
            for name in (job.files.values() if job else ()):
                base = self._file_key(jid, name)
                keys.append(base)
                keys.extend(k for k in r.scan_iter(match=f"{base}:*", count=1000))
            r.delete(*keys)
            r.srem(self._all, jid)

        self.shared.call(delete)
        shutil.rmtree(self.folder(jid), ignore_errors=True)

    def jobs(self) -> list[Job]:
        ids = [raw.decode() for raw in self.shared.call(lambda r: r.smembers(self._all))]
        if not ids:
            return []
        values = self.shared.call(lambda r: r.mget([self.shared.key("job", i) for i in ids]))
        found, gone = [], []
        for jid, data in zip(ids, values, strict=True):
            if data is None:
                gone.append(jid)  # expired by its time to live
                continue
            with contextlib.suppress(ValueError, TypeError):
                found.append(Job(**json.loads(data)))
        if gone:
            self.shared.call(lambda r: r.srem(self._all, *gone))
        return found

    def used_bytes(self) -> int:
        total = 0
        for job in self.jobs():
            for name in job.files.values():
                raw = self.shared.do("get", self._file_key(job.id, name))
                if raw is not None:
                    total += int(json.loads(raw)["size"])
        return total
