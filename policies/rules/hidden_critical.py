"""hidden-critical: a protected comment was hidden (only its author and friends still see it).

Resolves itself when the comment is visible again, or when it is gone for another reason; a
comment hidden again after that is a new hiding and a new finding. A hiding staff did with
`hide --override --reason` opens none: its override finding said it (and enforce mode leaves
it hidden, since un-hiding follows this rule's findings).
A comment missing from a list but not confirmed gone (``unknown``) resolves nothing: that is
a failed read, not news about the comment.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from guard.states import CommentStatus, Severity
from policies.evidence import build_evidence
from policies.records import FindingDraft, OpenFinding
from policies.replies import suggest_reply

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = ["KIND", "HEADLINE", "COMMENT_LABEL", "evaluate", "resolve"]

KIND: str = "hidden-critical"
HEADLINE: str = "A critical comment on a corrected post was hidden"
COMMENT_LABEL: str | None = "hidden"


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    return [
        FindingDraft(
            kind=KIND,
            severity=Severity.CRITICAL if a.corrected else Severity.WARNING,
            dedupe_key=f"{KIND}:{c.id}",
            post_id=c.post_id,
            comment_id=c.id,
            evidence=build_evidence(
                a, "A critical comment was hidden", comment=c, hidden_at=c.status_changed_at
            ),
            suggested_reply=suggest_reply(c, a.correction_for(c)),
            since=c.status_changed_at,  # this hiding: one hidden again later is a new one
        )
        for c in a.thread.comments
        if c.status == CommentStatus.HIDDEN and a.protected(c) and (c.id, "hide") not in a.thread.overrides
    ]


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    c = a.comment(finding.comment_id)
    if c is None or c.status in (CommentStatus.HIDDEN, CommentStatus.UNKNOWN):
        return None
    if c.status == CommentStatus.PRESENT:
        return "the comment is visible again"
    return f"superseded: the comment is now {c.status}"
