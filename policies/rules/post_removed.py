"""post-removed: a corrected post was deleted while it had open findings or protected comments,
taking them (and the public record of the mistake) with it. Never resolves itself."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from guard.states import CommentStatus, PostStatus, Severity
from policies.evidence import build_evidence
from policies.records import FindingDraft, OpenFinding
from policies.replies import PLACEHOLDER

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = ["KIND", "HEADLINE", "COMMENT_LABEL", "POST_GONE", "evaluate", "resolve"]

KIND: str = "post-removed"
# How unanswered and silent-correction resolve once the post is deleted: nothing can be said
# on it any more, and this finding (opened in the same engine run) carries them.
POST_GONE = "superseded: the post was deleted"
HEADLINE: str = "A corrected post with open questions was deleted"
COMMENT_LABEL: str | None = None


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    post = a.thread.post
    if post.status != PostStatus.DELETED or not a.corrected:
        return []
    open_kinds = a.thread.open_kinds - {KIND}
    # Protected comments still there when the post went: they went with it, so their own
    # deletion is never seen, and no deadline may have passed yet (fixed, then deleted at once).
    questions = [c.id for c in a.thread.comments if c.status != CommentStatus.DELETED and a.protected(c)]
    if not open_kinds and not questions:
        return []
    return [
        FindingDraft(
            kind=KIND,
            severity=Severity.CRITICAL,
            dedupe_key=f"{KIND}:{post.id}",
            post_id=post.id,
            comment_id=None,
            evidence=build_evidence(
                a,
                "A corrected post with open questions was deleted",
                open_findings=sorted(open_kinds),
                protected_comments=questions,
            ),
            suggested_reply=(
                "We removed a post that had a mistake in it, and some of you had "
                f"questions about it. Here is the correct information: {PLACEHOLDER} "
                "Sorry for the confusion!"
            ),
        )
    ]


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    return None
