"""One exception tree for comment-guard, with messages written for the person running it.

    GuardError
    ├── ConfigError            the config file or an environment variable is wrong: fix and rerun
    ├── ConnectorError         talking to a platform failed; never evidence of a deletion
    │   ├── RateLimited        wait ``retry_after`` seconds, then retry
    │   ├── AuthExpired        the token is expired or revoked: issue a new one
    │   ├── PermissionMissing  the token lacks a permission: grant it
    │   ├── Transient          network error, timeout or 5xx: retry next poll
    │   └── NotFound           the platform says the object does not exist
    ├── UsageError             a command was given something it cannot use: fix the arguments
    ├── ArchiveError           the SQLite archive cannot be opened or is inconsistent
    │   └── NotInArchive       no post, comment or finding with that id: check the id, or poll first
    ├── AlertError             an alert channel refused or failed a message
    │   ├── AlertRetryable     try again later (``retry_after`` seconds when the channel said so)
    │   └── AlertPermanent     the channel will never accept it: surface it and fall back
    ├── ActionRefused          a guarded action (hide/delete) was refused by policy
    ├── AlreadyRunning         another daemon holds the archive's lock: stop it first
    └── ArchiveBusy            the daemon holds the archive's writer lock: leave the job to it

Each leaf is a decision the caller makes: retry, re-authenticate, give up, or tell a human.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "GuardError",
    "ConfigError",
    "ConnectorError",
    "RateLimited",
    "AuthExpired",
    "PermissionMissing",
    "Transient",
    "NotFound",
    "UsageError",
    "ArchiveError",
    "NotInArchive",
    "AlertError",
    "AlertRetryable",
    "AlertPermanent",
    "ActionRefused",
    "AlreadyRunning",
    "ArchiveBusy",
]


class GuardError(Exception):
    """Base of every error comment-guard raises on purpose; ``str()`` is the user message."""

    exit_code = 1


class ConfigError(GuardError):
    """The configuration (file, environment, command line) is invalid."""

    exit_code = 2


class ConnectorError(GuardError):
    """A platform call failed. Carries the platform error code when there was one."""

    def __init__(self, message: str, *, code: int | None = None, subcode: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.subcode = subcode


class RateLimited(ConnectorError):
    """The platform throttled us; ``retry_after`` is in seconds."""

    def __init__(
        self, message: str, *, retry_after: float, code: int | None = None, subcode: int | None = None
    ) -> None:
        super().__init__(message, code=code, subcode=subcode)
        self.retry_after = retry_after


class AuthExpired(ConnectorError):
    """The access token is expired, revoked or invalid."""


class PermissionMissing(ConnectorError):
    """The token is valid but lacks a permission needed for this call."""


class Transient(ConnectorError):
    """A network error, timeout or server error; the same call may work later."""


class NotFound(ConnectorError):
    """The platform says the object does not exist (or is not visible to this token)."""


class UsageError(GuardError):
    """A command's arguments cannot be used (an empty reply, an override without a reason)."""

    exit_code = 2


class ArchiveError(GuardError):
    """The archive database cannot be used as asked."""


class NotInArchive(ArchiveError):
    """The id names nothing the archive holds; the message says where to look ids up."""


class AlertError(GuardError):
    """An alert could not be delivered."""


class AlertRetryable(AlertError):
    """Delivery failed for now; ``retry_after`` seconds if the channel said how long."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AlertPermanent(AlertError):
    """The channel rejected the message for good (revoked webhook, bad payload, ...)."""


class ActionRefused(GuardError):
    """A guarded action was refused; the message lists the reasons."""


class AlreadyRunning(GuardError):
    """Another daemon holds the archive's lock: stop it (or point this one elsewhere)."""

    def __init__(self, database: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "pid unknown"
        super().__init__(
            f"another comment-guard daemon is already running on {database} ({who}); stop it first"
        )
        self.database = database
        self.pid = pid


_JOBS = {"poll": "polling", "deliver": "delivering alerts for"}


class ArchiveBusy(GuardError):
    """The daemon holds the archive's writer lock; a one-shot writer (``poll --once``,
    ``deliver``) would duplicate its work. The daemon does the job on its own schedule."""

    def __init__(self, database: Path, pid: int | None, role: str) -> None:
        who = f"pid {pid}" if pid else "pid unknown"
        job = _JOBS.get(role, "writing to")
        super().__init__(
            f"the daemon is {job} this archive ({who}): {database}; "
            "it does this on its own schedule (stop it first to run this by hand)"
        )
        self.database = database
        self.pid = pid
        self.role = role
