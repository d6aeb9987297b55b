"""removed-critical: a protected comment was confirmed deleted.

The platform doesn't say who deleted it (the page or the author), so the finding says "removed"
and the suggested reply answers the question publicly on the post either way. A deletion is
final; the finding resolves itself once a poll sees the page's public answer on the post
(posted after the removal), or staff resolve it. A comment the platform lists again after
saying it was gone was not deleted after all: the finding resolves as superseded.
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

KIND: str = "removed-critical"
HEADLINE: str = "A critical comment on a corrected post was deleted"
COMMENT_LABEL: str | None = "deleted"  # how alerts label the quoted comment


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    out = []
    for c in a.thread.comments:
        if c.status != CommentStatus.DELETED or not a.protected(c) or (c.id, "delete") in a.thread.overrides:
            continue  # a deletion staff did with --override was alerted as its override finding
        what = "question or complaint" if a.corrected else "critical comment"
        summary = (
            f"A {what} on a corrected post was removed" if a.corrected else "A critical comment was removed"
        )
        out.append(
            FindingDraft(
                kind=KIND,
                severity=Severity.CRITICAL if a.corrected else Severity.WARNING,
                dedupe_key=f"{KIND}:{c.id}",
                post_id=c.post_id,
                comment_id=c.id,
                evidence=build_evidence(
                    a,
                    summary,
                    comment=c,
                    removed_at=c.status_changed_at,
                    note="Platforms do not say whether the page or the author deleted a comment.",
                ),
                suggested_reply=suggest_reply(c, a.correction_for(c), gone=True),
                since=c.status_changed_at,
            )
        )
    return out


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    """Resolved once a poll sees the page answer publicly on the post after the removal (the
    reply staff post from the alert, or by hand); until then it stays open."""
    c = a.comment(finding.comment_id) if finding.comment_id else None
    if c is None:
        return None
    if c.status in (CommentStatus.PRESENT, CommentStatus.HIDDEN):
        # Listed again after the platform said it was gone (a glitch): no deletion to answer
        # for; unanswered or hidden-critical takes over, and a real deletion later opens anew.
        return f"superseded: the comment is back ({c.status})"
    since = c.status_changed_at or c.created_time
    for other in a.thread.comments:
        if (
            other.from_page
            and other.status == CommentStatus.PRESENT
            and other.parent_id is None
            and other.created_time >= since
        ):
            return f"answered publicly on the post by the page at {other.created_time}"
    return None
