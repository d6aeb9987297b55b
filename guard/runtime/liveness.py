"""Is the daemon alive and on schedule? Measured on the monotonic clock, not the wall clock.

The daemon records, with every heartbeat and after every poll, the monotonic time of the beat
and when each account's next poll is due (``meta[daemon_schedule]``). ``CLOCK_MONOTONIC`` is
one clock for every process of a boot, so ``status`` (another process) can measure the age of
the beat and the lateness of a poll with it: a wall-clock step (NTP, a VM resume, an operator's
``date -s``) neither makes a stalled daemon look fresh ("heartbeat -3567s ago") nor a healthy
one look late. After a reboot (another boot id) the record is from a dead process: ``status``
falls back to the wall clock and reads a beat from the future as stale.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SCHEDULE_KEY", "Schedule", "boot_id", "monotonic", "record", "parse"]

SCHEDULE_KEY = "daemon_schedule"
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def monotonic() -> float:
    return time.monotonic()


def boot_id() -> str | None:
    """This boot's id (Linux); None elsewhere, where monotonic times cannot be compared."""
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class Schedule:
    boot: str | None
    beat: float  # monotonic time of the last heartbeat
    polls: dict[str, float] = field(default_factory=dict)  # account -> monotonic time due

    def comparable(self) -> bool:
        """Whether this process can compare its monotonic clock with the record's."""
        return self.boot is not None and self.boot == boot_id()


def record(beat: float, polls: dict[str, float]) -> str:
    return json.dumps({"boot": boot_id(), "beat": beat, "polls": polls}, sort_keys=True)


def parse(text: str | None) -> Schedule | None:
    """The stored record, or None when absent or unreadable."""
    if not text:
        return None
    try:
        data = json.loads(text)
        polls = {str(k): float(v) for k, v in dict(data.get("polls") or {}).items()}
        return Schedule(boot=data.get("boot"), beat=float(data["beat"]), polls=polls)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
