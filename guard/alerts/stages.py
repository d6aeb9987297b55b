"""The alert stages an outbox row is queued for, defined once.

``StrEnum`` members equal their text, so the ``outbox.stage`` column, dedupe keys and JSON keep
the plain strings ("first", "reminder", ...) while code names the value.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Stage", "FOLLOW_UP_STAGES"]


class Stage(StrEnum):
    FIRST = "first"  # the finding was written
    REMINDER = "reminder"  # still open after reminder_after
    ESCALATION = "escalation"  # still open after policy.escalate_after
    DIGEST = "digest"  # the daily summary, not about one finding
    TEST = "test"  # comment-guard test-alert
    RESOLVED = "resolved"  # the finding resolved itself and people should know (archiving resumed)


# Stages that only make sense while the finding is open: withdrawn once it is resolved.
FOLLOW_UP_STAGES = (Stage.REMINDER, Stage.ESCALATION)
