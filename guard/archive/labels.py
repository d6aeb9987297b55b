"""Staff labels: `comment-guard label COMMENT_ID critical|not-critical` as archive rows.

A label is a human decision that overrides the classifier for one comment. It is kept twice,
like every other record here: a row in ``labels`` (what the policies read) and a
``comment_labelled`` event in the hash chain (what proves nobody rewrote it). Labels are never
updated or deleted: a new label on the same comment supersedes the old one, and both stay.
The poller never touches this table, so a label survives every re-poll.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from guard.archive.events import append_events, make_event
from guard.errors import UsageError
from policies.records import LABELS, StaffLabel

__all__ = ["LABEL_EVENT", "LabelledComment", "add_label", "latest_labels", "labelled_comments"]

LABEL_EVENT = "comment_labelled"


@dataclass(frozen=True)
class LabelledComment:
    """A labelled comment with the text staff saw when they labelled it (for the bench)."""

    comment_id: str
    account: str
    text: str
    label: str
    by: str
    at: str


def add_label(
    db: sqlite_utils.Database, comment_id: str, label: str, *, by: str, at: str, note: str | None = None
) -> StaffLabel:
    """Record a staff label on a comment's current text: one row plus one chained event."""
    if label not in LABELS:
        raise UsageError(f"label must be one of: {', '.join(LABELS)} (got {label!r})")
    if not by.strip():
        raise UsageError("say who labels the comment with --by NAME")
    row = db.execute(
        "SELECT account, post_id, sha256, version, from_page FROM comments WHERE id = ?", [comment_id]
    ).fetchone()
    if row is None:
        raise UsageError(f"no comment {comment_id!r} in the archive (`comment-guard comments` lists them)")
    account, post_id, digest, version, from_page = row
    if from_page:
        raise UsageError(
            f"comment {comment_id!r} was written by the page; the page's own comments are never protected"
        )
    with db.atomic():
        (seq,) = append_events(
            db,
            [
                make_event(
                    LABEL_EVENT,
                    at=at,
                    account=account,
                    object_id=comment_id,
                    post_id=post_id,
                    label=label,
                    by=by,
                    note=note,
                    sha256=digest,
                    version=version,
                )
            ],
        )
        db.execute(
            "INSERT INTO labels (comment_id, label, labelled_by, at, note, sha256, event_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [comment_id, label, by, at, note, digest, seq],
        )
    return StaffLabel(comment_id, label, by, at, note, digest)


def latest_labels(db: sqlite_utils.Database, comment_ids: list[str]) -> dict[str, StaffLabel]:
    """The latest label of each of these comments that has one, by comment id: a lookup per
    comment, where one by post joined every comment of the post to find the few labelled."""
    return {
        row[0]: StaffLabel(*row)
        for row in db.execute(
            "SELECT l.comment_id, l.label, l.labelled_by, l.at, l.note, l.sha256 FROM labels l"
            " WHERE l.comment_id IN (SELECT value FROM json_each(?))"
            " AND l.id = (SELECT MAX(id) FROM labels WHERE comment_id = l.comment_id)",
            [json.dumps(comment_ids)],
        )
    }


def labelled_comments(db: sqlite_utils.Database) -> list[LabelledComment]:
    """Every comment's latest label, with the text of the version that was labelled."""
    return [
        LabelledComment(r["comment_id"], r["account"], r["text"], r["label"], r["labelled_by"], r["at"])
        for r in db.query(
            """
            SELECT l.comment_id, c.account, l.label, l.labelled_by, l.at,
                   COALESCE((SELECT v.message FROM comment_versions v
                             WHERE v.comment_id = l.comment_id AND v.sha256 = l.sha256
                             ORDER BY v.version DESC LIMIT 1), c.message) AS text
            FROM labels l JOIN comments c ON c.id = l.comment_id
            WHERE l.id = (SELECT MAX(id) FROM labels WHERE comment_id = l.comment_id)
            ORDER BY l.id
            """
        )
    ]
