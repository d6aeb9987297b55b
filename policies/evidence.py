"""The evidence a finding carries: enough for a person (or an auditor) to judge it alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guard.states import CommentStatus
from policies.corrections import Correction
from policies.records import CommentRecord

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = ["build_evidence"]


def build_evidence(
    a: Analysis,
    summary: str,
    *,
    comment: CommentRecord | None = None,
    correction: Correction | None = None,
    **extra: Any,
) -> dict[str, Any]:
    post = a.thread.post
    correction = correction or a.latest
    ev: dict[str, Any] = {
        "platform": post.platform,
        "summary": summary,
        "post": {
            "id": post.id,
            "permalink_url": post.permalink_url,
            "message": post.message,
            "status": post.status,
            "versions": [
                {"version": v.version, "message": v.message, "seen_at": v.seen_at} for v in post.versions
            ],
        },
        "reply_to": post.id,
    }
    if comment is not None:
        ev["comment"] = {
            "id": comment.id,
            "message": comment.message,
            "author_name": comment.author_name,
            "created_time": comment.created_time,
            "status": comment.status,
            "parent_id": comment.parent_id,
        }
        ev["reasons"] = list(a.classifications[comment.id].reasons)
        if comment.status in (CommentStatus.PRESENT, CommentStatus.HIDDEN):
            ev["reply_to"] = comment.id
    if correction is not None:
        ev["correction"] = {
            "version": correction.version,
            "at": correction.at,
            "reason": correction.reason,
            "summary": correction.summary,
            "removed": list(correction.removed),
            "added": list(correction.added),
            "note": correction.note,
        }
        diff_version = next((v for v in post.versions if v.version == correction.version), None)
        if diff_version is not None and diff_version.diff:
            ev["diff"] = [list(d) for d in diff_version.diff]
    ev.update(extra)
    return ev
