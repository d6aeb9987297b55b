"""post-removed: a corrected post that still had open findings was deleted, taking its
comments (and the public record of the mistake) with it."""

from __future__ import annotations

from datetime import datetime

from policies.analysis import Analysis
from policies.evidence import build_evidence
from policies.records import FindingDraft
from policies.replies import PLACEHOLDER

KIND = "post-removed"


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    post = a.thread.post
    open_kinds = a.thread.open_kinds - {KIND}
    if post.status != "deleted" or not a.corrected or not open_kinds:
        return []
    return [FindingDraft(
        kind=KIND, severity="critical", dedupe_key=f"{KIND}:{post.id}", post_id=post.id,
        comment_id=None,
        evidence=build_evidence(a, "A corrected post with open questions was deleted",
                                open_findings=sorted(open_kinds)),
        suggested_reply=("We removed a post that had a mistake in it, and some of you had "
                         f"questions about it. Here is the correct information: {PLACEHOLDER} "
                         "Sorry for the confusion!"))]
