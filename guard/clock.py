"""The one place comment-guard reads the time, so tests can move it (time-machine)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["utcnow", "iso", "parse_iso", "local_time", "zone"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime, *, round_up: bool = False) -> str:
    """ISO-8601 in UTC to the second: the archive's one time format (sorts as text).

    ``round_up`` moves a time with a fraction to the next second, so something scheduled for
    that moment is never due early.
    """
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware (UTC)")
    moment = moment.astimezone(timezone.utc)
    if round_up and moment.microsecond:
        moment += timedelta(seconds=1)
    return moment.replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def zone(name: str | None) -> tzinfo:
    """The time zone called ``name`` (``[guard] timezone``, validated at load); UTC for None."""
    return ZoneInfo(name) if name and name != "UTC" else timezone.utc


def local_time(value: Any, tz: tzinfo | None = None, *, seconds: bool = False) -> str:
    """An archive time (UTC ISO-8601) as a person reads it in ``tz``: "2026-11-25 14:05 CST".

    Empty is "-"; anything unparseable is shown as given (never hidden)."""
    if value is None or value == "":
        return "-"
    try:
        moment = value if isinstance(value, datetime) else parse_iso(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(tz or timezone.utc)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
