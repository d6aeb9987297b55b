"""unanswered: a protected comment on a corrected post got no public page reply in time.

The clock starts when both the comment and the correction exist (a question asked before the
fix is owed an answer from the moment of the fix). Escalation time rides in the evidence.
Resolves itself when the page answers publicly, or when the comment is no longer there to
answer (then removed-critical or hidden-critical takes over, or post-removed when the whole
post went); not while it is only ``unknown``
(missing from a list, not confirmed gone: a failed read says nothing about the comment).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from guard.clock import iso, parse_iso
from guard.states import CommentStatus, PostStatus, Severity
from policies.evidence import build_evidence
from policies.records import FindingDraft, OpenFinding
from policies.replies import suggest_reply
from policies.rules.post_removed import POST_GONE

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = ["KIND", "HEADLINE", "COMMENT_LABEL", "evaluate", "resolve"]

KIND: str = "unanswered"
HEADLINE: str = "A critical comment on a corrected post has no public reply"
COMMENT_LABEL: str | None = "unanswered"


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    if not a.corrected or a.thread.post.status == "deleted":
        return []
    first = a.corrections[0]
    out = []
    for c in a.thread.comments:
        if c.status != CommentStatus.PRESENT or not a.protected(c) or a.page_reply_to(c):
            continue
        start = max(parse_iso(c.created_time), parse_iso(first.at))
        due = start + timedelta(seconds=a.config.reply_within_seconds)
        if now < due:
            continue
        escalate = start + timedelta(seconds=a.config.escalate_after_seconds)
        out.append(
            FindingDraft(
                kind=KIND,
                severity=Severity.WARNING,
                dedupe_key=f"{KIND}:{c.id}",
                post_id=c.post_id,
                comment_id=c.id,
                evidence=build_evidence(
                    a,
                    "A question on a corrected post has no public reply",
                    comment=c,
                    due_at=iso(due),
                    escalate_at=iso(escalate),
                ),
                suggested_reply=suggest_reply(c, a.correction_for(c)),
                since=c.status_changed_at,  # visible again after a hiding: owed an answer again
            )
        )
    return out


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    c = a.comment(finding.comment_id)
    if c is None:
        return None
    if a.thread.post.status == PostStatus.DELETED:
        return POST_GONE  # no reply is possible there any more: post-removed carries it
    replied = a.page_reply_to(c)
    if replied:
        return f"answered publicly by the page at {replied}"
    if c.status not in (CommentStatus.PRESENT, CommentStatus.UNKNOWN):
        return f"superseded: the comment is now {c.status}"
    if c.status == CommentStatus.PRESENT and not a.protected(c):
        # its author edited it into something that asks nothing ("never mind, found it"), or staff
        # labelled it not critical: nobody is owed an answer, so no more reminders or escalation
        return "no longer a question or complaint (edited, or labelled not critical)"
    return None
