"""override: staff hid or deleted a protected comment with ``--override --reason``.

No poll produces this finding: ``comment-guard hide|delete --override`` opens it through
``draft`` so the override is alerted, not silent. It never resolves itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from guard.states import Severity
from policies.evidence import build_evidence
from policies.records import CommentRecord, FindingDraft, OpenFinding
from policies.replies import suggest_reply

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = ["KIND", "HEADLINE", "COMMENT_LABEL", "evaluate", "resolve", "draft"]

KIND: str = "override"
HEADLINE: str = "A protected comment was removed with --override"
COMMENT_LABEL: str | None = None


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    return []


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    return None


def draft(a: Analysis, comment: CommentRecord, action: str, reason: str, nth: int) -> FindingDraft:
    """The finding for the ``nth`` override of ``action`` on ``comment`` (each one is kept)."""
    return FindingDraft(
        kind=KIND,
        severity=Severity.WARNING,
        dedupe_key=f"{KIND}:{comment.id}:{action}:{nth}",
        post_id=comment.post_id,
        comment_id=comment.id,
        evidence=build_evidence(
            a,
            f"Staff used --override to {action} a protected comment",
            comment=comment,
            action=action,
            override_reason=reason,
        ),
        suggested_reply=suggest_reply(comment, a.correction_for(comment), gone=action == "delete"),
    )
