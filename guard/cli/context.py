"""What every command receives: the config and the archive, opened lazily, and shared types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click

from guard.archive.connection import Archive, open_archive, open_archive_readonly
from guard.clock import parse_iso
from guard.config import Config, load_config

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
            self._config = load_config(self.config_path)
        return self._config

    @property
    def db(self) -> Archive:
        if self._db is None:
            self._db = open_archive(self.config.guard.database)
        return self._db

    @property
    def read_db(self) -> Archive:
        """The archive opened read-only: for commands that only read (a read-only copy, a staff
        login without write permission). A command that also writes uses ``db``."""
        if self._db is not None:
            return self._db
        if self._read_db is None:
            self._read_db = open_archive_readonly(self.config.guard.database)
        return self._read_db


pass_ctx = click.make_pass_decorator(Context)


class IsoDate(click.ParamType):
    """A date or ISO-8601 time; naive values are UTC (the archive's time zone)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_iso(str(value).strip().replace(" ", "T"))
        except ValueError:
            self.fail(f"{value!r} is not a date; use e.g. 2026-11-01 or 2026-11-01T18:00:00", param, ctx)
