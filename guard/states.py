"""The words the archive stores for statuses and severities, defined once.

``StrEnum`` members are equal to their text, so rows, JSON and config files keep plain
strings while code names the value instead of repeating it.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CommentStatus", "PostStatus", "FindingState", "Severity", "Mode", "LIVE_STATUSES"]


class CommentStatus(StrEnum):
    PRESENT = "present"  # listed by the platform in the last complete scan
    HIDDEN = "hidden"  # listed, but hidden from everyone except its author and friends
    DELETED = "deleted"  # the platform positively said it is gone (never inferred from absence)
    UNKNOWN = "unknown"  # missing from a list and not (yet) confirmed either way


class PostStatus(StrEnum):
    PRESENT = "present"
    DELETED = "deleted"
    UNKNOWN = "unknown"


# Statuses of comments that can still go missing from a scan.
LIVE_STATUSES = (CommentStatus.PRESENT, CommentStatus.HIDDEN, CommentStatus.UNKNOWN)


class FindingState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Mode(StrEnum):
    """``[guard] mode``: observe archives and alerts; enforce also un-hides protected comments."""

    OBSERVE = "observe"
    ENFORCE = "enforce"
