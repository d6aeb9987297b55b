"""One writer per archive: an OS lock on ``<real database file>.lock``.

The daemon holds it for its lifetime; ``poll --once`` and ``deliver`` hold it while they write.
Two writers on one archive would double every API call, write the same deletion twice and race
on the outbox (the same alert sent twice). A pid file alone goes stale when the process is
killed; an ``fcntl.flock`` lock is released by the kernel when the process dies, however it
dies, so a crashed writer never blocks its successor.

The lock is keyed on the real file: the database path is resolved (symlinks, ``..``) before the
lock file is named, so a second daemon started through a symlink meets the first one's lock.
The file holds the holder's pid and role (``daemon``, ``poll``, ``deliver``), only for the
messages: a second daemon is refused, a one-shot writer beside the daemon is told the daemon
does this job, and a one-shot writer beside another one-shot writer waits its turn.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from guard.errors import AlreadyRunning, ArchiveBusy

__all__ = ["DaemonLock", "WriterLock", "lock_path_for", "running_daemon_pid", "writer_lock_holder", "DAEMON"]

DAEMON = "daemon"


def real_database_path(database: str | os.PathLike[str]) -> Path:
    """The database file itself: symlinks resolved, so every path to it names one lock."""
    return Path(os.path.realpath(Path(database).expanduser()))


def lock_path_for(database: str | os.PathLike[str]) -> Path:
    """The lock file sits next to the real database file, so it follows the archive when it moves."""
    p = real_database_path(database)
    return p.with_name(p.name + ".lock")


class WriterLock:
    """The archive's exclusive writer lock, taken as ``role``.

    ``acquire`` never waits for a daemon: a second daemon gets :class:`AlreadyRunning`, a
    one-shot writer gets :class:`ArchiveBusy` naming the daemon's pid. Anything else holding the
    lock (a ``poll --once`` from cron) is waited for, after ``on_wait(holder_pid, holder_role)``.
    """

    def __init__(
        self,
        database: str | os.PathLike[str],
        role: str = DAEMON,
        *,
        on_wait: Callable[[int | None, str | None], None] | None = None,
    ) -> None:
        self.database = Path(database)
        self.role = role
        self.path = lock_path_for(database)
        self.on_wait = on_wait
        self._fd: int | None = None

    def acquire(self) -> WriterLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_RDWR without O_TRUNC: a loser must still be able to read the winner's pid.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, role = _read_holder(fd)
                if role == DAEMON and self.role == DAEMON:
                    raise AlreadyRunning(self.database, pid) from None
                if role == DAEMON:
                    raise ArchiveBusy(self.database, pid, self.role) from None
                if self.on_wait is not None:
                    self.on_wait(pid, role)
                fcntl.flock(fd, fcntl.LOCK_EX)  # the kernel wakes us when the holder is done
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.role}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Unlock and close. The file stays: deleting it would race with a starting writer."""
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

    def __enter__(self) -> WriterLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class DaemonLock(WriterLock):
    """The daemon's writer lock, held for its lifetime."""

    def __init__(
        self,
        database: str | os.PathLike[str],
        *,
        on_wait: Callable[[int | None, str | None], None] | None = None,
    ) -> None:
        super().__init__(database, DAEMON, on_wait=on_wait)


def writer_lock_holder(database: str | os.PathLike[str]) -> tuple[int | None, str | None] | None:
    """(pid, role) of the process holding ``database``'s writer lock, or None when free.

    Never creates the lock file; a pid of None means "held, pid not yet written".
    """
    path = lock_path_for(database)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(fd)
    except OSError:
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def running_daemon_pid(database: str | os.PathLike[str]) -> int | None:
    """The pid of the daemon holding ``database``'s lock, or None when no daemon runs.

    For ``comment-guard status``: a stale heartbeat with no daemon means "start it", with a
    daemon it means "it is stuck". 0 means "running, pid unknown".
    """
    holder = writer_lock_holder(database)
    if holder is None:
        return None
    pid, role = holder
    if role not in (DAEMON, None):
        return None  # a one-shot writer (poll --once, deliver), not the daemon
    return pid or 0


def _read_holder(fd: int) -> tuple[int | None, str | None]:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").split()
    except OSError:
        return None, None
    pid: int | None = None
    if text:
        try:
            pid = int(text[0])
        except ValueError:
            pid = None
    role = text[1] if len(text) > 1 else (DAEMON if text else None)  # "pid" alone: an older daemon
    return pid, role
