"""hidden-critical: a protected comment was hidden (only its author and friends still see it)."""

from __future__ import annotations

from datetime import datetime

from policies.analysis import Analysis
from policies.evidence import build_evidence
from policies.records import FindingDraft
from policies.replies import suggest_reply

KIND = "hidden-critical"


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    return [FindingDraft(
        kind=KIND, severity="critical" if a.corrected else "warning",
        dedupe_key=f"{KIND}:{c.id}", post_id=c.post_id, comment_id=c.id,
        evidence=build_evidence(a, "A critical comment was hidden", comment=c,
                                hidden_at=c.status_changed_at),
        suggested_reply=suggest_reply(c, a.latest))
        for c in a.thread.comments if c.status == "hidden" and a.protected(c)]
