"""silent-correction: a post's words changed and nobody said so publicly in time.

Acknowledged means a correction marker in the post ("UPDATE:") or a page comment after the
change; see ``Analysis.acknowledged``. Resolves itself once that correction is acknowledged,
or when the post is deleted (post-removed takes over).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from guard.clock import iso, parse_iso
from guard.states import PostStatus, Severity
from policies.evidence import build_evidence
from policies.records import FindingDraft, OpenFinding
from policies.replies import suggest_correction_note
from policies.rules.post_removed import POST_GONE

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = ["KIND", "HEADLINE", "COMMENT_LABEL", "evaluate", "resolve"]

KIND: str = "silent-correction"
HEADLINE: str = "A post was corrected without a public note"
COMMENT_LABEL: str | None = None


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    if a.thread.post.status == PostStatus.DELETED:
        return []
    out = []
    for c in a.corrections:
        if not c.material or a.acknowledged(c):
            continue
        due = parse_iso(c.at) + timedelta(seconds=a.config.reply_within_seconds)
        if now < due:
            continue
        out.append(
            FindingDraft(
                kind=KIND,
                severity=Severity.WARNING,
                dedupe_key=_key(c.post_id, c.version),
                post_id=c.post_id,
                comment_id=None,
                evidence=build_evidence(
                    a, "A post was corrected without a public note", correction=c, due_at=iso(due)
                ),
                suggested_reply=suggest_correction_note(c),
            )
        )
    return out


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    if a.thread.post.status == PostStatus.DELETED:
        return POST_GONE  # no note is possible there any more: post-removed carries it
    for corr in a.corrections:
        if finding.dedupe_key != _key(corr.post_id, corr.version):
            continue
        ack = a.acknowledged(corr)
        if ack:
            return f"the correction was acknowledged publicly at {ack}"
    return None


def _key(post_id: str, version: int) -> str:
    return f"{KIND}:{post_id}:{version}"
