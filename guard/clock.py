"""The one place comment-guard reads the time, so tests can move it (time-machine)."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["utcnow", "iso", "parse_iso"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC to the second: the archive's one time format (sorts as text)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
