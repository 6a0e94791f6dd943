"""One writer per run folder: ``runs/<name>/.lock``, held for the writer's whole life.

The lock is an advisory ``flock`` on the file, so the kernel drops it when the holder dies
(kill -9, crash, reboot): a lock file whose lock nobody holds is stale and is taken over
with a warning naming the dead holder. The file's content says who holds it, as JSON
``{"pid": ..., "host": ..., "started": ...}``, so a refused writer can name the holder.

Readers (``dse report``, ``load_run``, optuna-dashboard) never wait for the lock. ``dse report`` writes
its own files (which no holder writes) without it, and takes it, without waiting, only for the one
write of ``trials.csv`` (``RunFolder.refresh_trials_csv``): while a search holds it, the report leaves
``trials.csv`` to the search. The table of files and their writers is in ``dse.store.run_folder``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from dse.errors import RunFolderError

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"


class RunLockedError(RunFolderError):
    """Another process writes to this run folder (exit code 2 from the CLI)."""


class RunLock:
    """``with RunLock(run_dir): ...`` holds the run folder's writer lock (the folder is created if needed)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd, wait=True)
            os.close(fd)
            raise _locked_error(self.path.parent, holder) from None
        previous = _read_holder(fd, wait=False)
        if previous:
            log.warning("taking over the lock of %s left by PID %s on %s (started %s): that process is gone",
                        self.path.parent, previous.get("pid", "?"), previous.get("host", "?"),
                        previous.get("started", "?"))
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the holder record (a clean exit leaves no stale holder) and drop the lock."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def refuse_if_held(run_dir: str | Path) -> None:
    """Raise :class:`RunLockedError` now when another process holds the run folder's lock.

    A cheap early check for a writer about to do slow work (loading a data set) before it takes the lock;
    :meth:`RunLock.acquire` remains the check that counts (the holder may change in between)."""
    holder = read_lock_holder(run_dir)
    if holder is not None:
        raise _locked_error(Path(run_dir), holder)


def _locked_error(run_dir: Path, holder: dict[str, Any]) -> RunLockedError:
    return RunLockedError(
        f"{run_dir} is in use by another dse process (PID {holder.get('pid', '?')} on "
        f"{holder.get('host', '?')}, started {holder.get('started', '?')}); wait for it to finish "
        "or stop it first")


def _read_holder(fd: int, wait: bool) -> dict[str, Any]:
    """The holder record in the lock file ({} when empty or unreadable). With ``wait``, retries for
    0.2 s: a new holder writes it right after taking the lock."""
    for _ in range(20 if wait else 1):
        raw = os.pread(fd, 4096, 0)
        if raw.strip():
            try:
                data = json.loads(raw)
                return data if isinstance(data, dict) else {}
            except json.JSONDecodeError:
                pass
        time.sleep(0.01)
    return {}


def read_lock_holder(run_dir: str | Path) -> dict[str, Any] | None:
    """Who holds the run's lock now (pid, host, started), or None when nobody does. For readers."""
    path = Path(run_dir) / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd, wait=True)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
