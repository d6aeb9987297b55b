"""Durations as people write them in config files: "30s", "5m", "2h", "1h30m", "14d"."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["parse_duration", "format_duration", "MAX_DURATION"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Longer than any schedule or deadline anyone means; beyond it date arithmetic overflows.
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """Parse "1h30m"-style text; raises ValueError with a hint on anything else."""
    s = text.strip().lower().replace(" ", "")
    if not s or _PART.sub("", s):
        raise ValueError(f'{text!r} is not a duration; write it like "30s", "5m", "2h" or "1h30m"')
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(s))
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is too long; durations are at most {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Short human form, e.g. ``2h5m`` or ``45s``."""
    total = int(delta.total_seconds())
    if total < 60:
        return f"{total}s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        n, total = divmod(total, size)
        if n:
            out += f"{n}{unit}"
    return out + (f"{total}s" if total else "")
