"""One daemon per archive: an OS lock on ``<database>.lock`` held for the daemon's lifetime.

Two daemons polling the same archive would double every API call and race on the outbox
(the same alert sent twice). A pid file alone goes stale when the process is killed; an
``fcntl.flock`` lock is released by the kernel when the process dies, however it dies, so a
crashed daemon never blocks its restart. The pid written into the file is only for the
message that names the running daemon.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from guard.errors import AlreadyRunning

__all__ = ["DaemonLock", "lock_path_for", "running_daemon_pid"]


def lock_path_for(database: str | os.PathLike[str]) -> Path:
    """The lock file sits next to the database, so it follows the archive when it moves."""
    p = Path(database)
    return p.with_name(p.name + ".lock")


class DaemonLock:
    """A non-blocking exclusive lock; ``acquire`` raises :class:`AlreadyRunning` if taken."""

    def __init__(self, database: str | os.PathLike[str]) -> None:
        self.database = Path(database)
        self.path = lock_path_for(database)
        self._fd: int | None = None

    def acquire(self) -> DaemonLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_RDWR without O_TRUNC: a loser must still be able to read the winner's pid.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyRunning(self.database, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Unlock and close. The file stays: deleting it would race with a starting daemon."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DaemonLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def running_daemon_pid(database: str | os.PathLike[str]) -> int | None:
    """The pid of the daemon holding ``database``'s lock, or None when none is running.

    For ``comment-guard status``: a stale heartbeat with no daemon means "start it", with a
    daemon it means "it is stuck". Never creates the lock file; 0 means "running, pid unknown".
    """
    path = lock_path_for(database)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(fd) or 0
    except OSError:
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
