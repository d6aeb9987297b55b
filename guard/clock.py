"""The one place comment-guard reads the time, so tests can move it (time-machine)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["utcnow", "iso", "parse_iso"]


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
