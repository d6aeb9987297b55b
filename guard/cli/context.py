"""What every command receives: the config and the archive, opened lazily, and shared types.

The config and archive modules are imported lazily too: ``--help`` and commands that need
neither (``init``, ``demo``) do not pay for the config's parsers or sqlite_utils.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import click

from guard.clock import iso, zone
from guard.errors import GuardError

if TYPE_CHECKING:
    from guard.archive.connection import Archive
    from guard.config import Config

__all__ = ["Context", "pass_ctx", "IsoDate"]


@dataclass
class Context:
    config_path: str
    debug: bool = False
    log_level: str | None = None  # as given on the command line (None: the command's default)
    _config: Config | None = field(default=None, repr=False)
    _db: Archive | None = field(default=None, repr=False)
    _read_db: Archive | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from guard.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def tz(self) -> tzinfo:
        """``[guard] timezone``: how times are shown, and what a date without an offset means."""
        return zone(self.config.guard.timezone)

    def utc(self, moment: datetime | None) -> str | None:
        """An ``IsoDate`` value as the archive's UTC ISO-8601; a time without an offset is local
        time (``[guard] timezone``)."""
        if moment is None:
            return None
        return iso(moment if moment.tzinfo else moment.replace(tzinfo=self.tz))

    @property
    def db(self) -> Archive:
        if self._db is None:
            from guard.archive.connection import open_archive

            self._db = open_archive(
                self.config.guard.database, before_upgrade=self._refuse_upgrade_under_a_daemon
            )
        return self._db

    def _refuse_upgrade_under_a_daemon(self, found: int) -> None:
        """Opening an archive of an older schema upgrades it. With a daemon of that older
        release still running (not yet restarted after `pip install -U`), its next writes
        would miss what the new schema keeps (the comment counts stay wrong for good): the
        daemon upgrades the archive itself when it restarts."""
        from guard.archive.schema import SCHEMA_VERSION
        from guard.runtime.lock import running_daemon_pid

        pid = running_daemon_pid(self.config.guard.database)
        if pid is None:
            return
        raise GuardError(
            f"the running daemon (pid {pid or '?'}) is an older comment-guard (archive schema {found}, "
            f"this one {SCHEMA_VERSION}): restart it (e.g. `systemctl restart comment-guard`) so it "
            "upgrades the archive, then run this command again"
        )

    @property
    def read_db(self) -> Archive:
        """The archive opened read-only: for commands that only read (a read-only copy, a staff
        login without write permission). A command that also writes uses ``db``."""
        if self._db is not None:
            return self._db
        if self._read_db is None:
            from guard.archive.connection import open_archive_readonly

            self._read_db = open_archive_readonly(
                self.config.guard.database, before_upgrade=self._refuse_upgrade_under_a_daemon
            )
        return self._read_db


pass_ctx = click.make_pass_decorator(Context)


# Room for an offset, the time zone and the end of the day (under a day each): a date closer
# to Python's first or last day would overflow on its way to UTC.
_EDGE = timedelta(days=3)


class IsoDate(click.ParamType):
    """A date or ISO-8601 time. Without an offset it is local time (``[guard] timezone``):
    the value stays naive here and ``Context.utc`` places it. ``end_of_day``: a bare date means
    the end of that day (for ``--until``, which is exclusive)."""

    name = "date"

    def __init__(self, *, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip().replace(" ", "T").replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not a date; use e.g. 2026-11-01 or 2026-11-01T18:00:00", param, ctx)
        if not datetime.min + _EDGE <= moment.replace(tzinfo=None) <= datetime.max - _EDGE:
            first, last = (datetime.min + _EDGE).date(), (datetime.max - _EDGE).date()
            self.fail(f"{value!r} is out of range; use a date from {first} to {last}", param, ctx)
        if self.end_of_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment += timedelta(days=1)
        return moment
