"""silent-correction: a post's words changed and nobody said so publicly in time.

Acknowledged means a correction marker in the post ("UPDATE:") or a page comment after the
change; see ``Analysis.acknowledged``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from guard.clock import iso, parse_iso
from policies.analysis import Analysis
from policies.evidence import build_evidence
from policies.records import FindingDraft
from policies.replies import suggest_correction_note

KIND = "silent-correction"


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    if a.thread.post.status == "deleted":
        return []
    out = []
    for c in a.corrections:
        if not c.material or a.acknowledged(c):
            continue
        due = parse_iso(c.at) + timedelta(seconds=a.config.reply_within_seconds)
        if now < due:
            continue
        out.append(FindingDraft(
            kind=KIND, severity="warning", dedupe_key=f"{KIND}:{c.post_id}:{c.version}",
            post_id=c.post_id, comment_id=None,
            evidence=build_evidence(a, "A post was corrected without a public note", correction=c,
                                    due_at=iso(due)),
            suggested_reply=suggest_correction_note(c)))
    return out
