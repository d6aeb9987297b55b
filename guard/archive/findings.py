"""Findings in the archive: what the engine opened, their state, and the facts it asks about.

Each writer here runs inside the caller's transaction (the engine writes a finding, its event
and its alerts together); none commits on its own.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlite_utils

from guard.archive.events import MARK_EVENT, append_events, make_event
from guard.clock import parse_iso
from guard.errors import NotInArchive
from guard.redact import scrub, scrub_data
from guard.states import FindingState
from guard.text import sha256_fields

if TYPE_CHECKING:  # `status` reads this module; the policies' records load where findings are made
    from policies.records import FindingDraft, OpenFinding

__all__ = [
    "ENFORCED_EVENT",
    "UNRESOLVED",
    "posts_touched_by_poll",
    "posts_for_sweep",
    "insert_finding",
    "finding_digest",
    "count_by_state",
    "get_finding",
    "require_finding",
    "set_finding_state",
    "open_findings_for_posts",
    "escalation_due",
    "mark_escalated",
    "list_findings",
    "already_enforced",
    "record_enforced",
    "count_overrides",
]

ENFORCED_EVENT = "comment_unhidden_by_guard"
# Findings not resolved, as SQL: the states spelled out, so the findings_state index reads the
# open findings (few) where "state != 'resolved'" reads every finding ever opened.
UNRESOLVED = "state IN ({})".format(", ".join(f"'{s}'" for s in FindingState if s != FindingState.RESOLVED))


def posts_touched_by_poll(db: sqlite_utils.Database, poll_id: int) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT post_id FROM events WHERE poll_id = ? AND post_id IS NOT NULL ORDER BY post_id",
            [poll_id],
        )
    ]


def posts_for_sweep(db: sqlite_utils.Database, since: str, markers: tuple[str, ...]) -> list[str]:
    """Posts a time-based rule may still fire on: corrected since ``since`` (edited, marked,
    or carrying a marker), or with findings still open."""
    from policies.corrections import find_marker

    ids = {
        r[0]
        for r in db.execute(
            "SELECT id FROM posts WHERE last_seen >= ? AND status != 'deleted' AND (version > 1 OR"
            " id IN (SELECT post_id FROM events WHERE kind = ?))"
            f" UNION SELECT post_id FROM findings WHERE {UNRESOLVED} AND post_id IS NOT NULL",
            [since, MARK_EVENT],
        )
    }
    if markers:
        # LIKE narrows it down; the marker as the policy reads it ("UPDATE:", not "updated")
        # decides, so a common word in ordinary posts does not put them all in every sweep.
        likes = " OR ".join("message LIKE ?" for _ in markers)
        ids.update(
            r[0]
            for r in db.execute(
                f"SELECT id, message FROM posts WHERE last_seen >= ? AND version = 1 AND status != 'deleted'"
                f" AND ({likes})",
                [since, *(f"%{m}%" for m in markers)],
            )
            if find_marker(r[1], markers)
        )
    return sorted(ids)


def insert_finding(
    db: sqlite_utils.Database,
    draft: FindingDraft,
    *,
    at: str,
    note: str | None = None,
    account: str | None = None,
) -> int | None:
    """Open ``draft`` unless its situation (``dedupe_key``) already has a finding; writes the
    ``finding_opened`` event. Returns the new id, or None when it existed. A draft about a
    whole account (no post) names it with ``account``.

    A situation that happens again (``draft.since`` after the resolution of its latest
    finding: a comment hidden, shown, hidden again) opens a finding keyed
    ``<dedupe_key>@<since>``, so each occurrence opens once and the first keeps its key."""
    key = _recurrence_key(db, draft)
    if key is None:
        return None
    if key != draft.dedupe_key:
        draft = replace(draft, dedupe_key=key)
    if draft.post_id is None:
        if account is None:
            raise ValueError("a finding without a post needs its account")
    else:
        row = db.execute("SELECT account FROM posts WHERE id = ?", [draft.post_id]).fetchone()
        if row is None:
            raise NotInArchive(f"no post with id {draft.post_id!r} in the archive")
        account = row[0]
    evidence = json.dumps(scrub_data(draft.evidence), ensure_ascii=False)
    reply = scrub(draft.suggested_reply)
    cur = db.execute(
        "INSERT INTO findings (account, kind, severity, state, dedupe_key, post_id, comment_id,"
        " opened_at, updated_at, evidence, suggested_reply, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            account,
            draft.kind,
            str(draft.severity),
            str(FindingState.OPEN),
            draft.dedupe_key,
            draft.post_id,
            draft.comment_id,
            at,
            at,
            evidence,
            reply,
            note,
        ],
    )
    fid = int(cur.lastrowid or 0)
    digest = finding_digest(
        kind=draft.kind,
        dedupe_key=draft.dedupe_key,
        post_id=draft.post_id,
        comment_id=draft.comment_id,
        opened_at=at,
        evidence=evidence,
        suggested_reply=reply,
    )
    append_events(
        db,
        [
            make_event(
                "finding_opened",
                at=at,
                account=account,
                object_id=draft.comment_id or draft.post_id,
                post_id=draft.post_id,
                finding_id=fid,
                finding_kind=draft.kind,
                sha256=digest,
            )
        ],
    )
    return fid


def _recurrence_key(db: sqlite_utils.Database, draft: FindingDraft) -> str | None:
    """The key to open ``draft`` under, or None when its situation already has its finding."""
    base = draft.dedupe_key
    # the latest finding of the situation: its first key, or one of a later occurrence
    # (base + "@…": the range [base@, baseA) on the unique index, whatever the id holds)
    latest = db.execute(
        "SELECT dedupe_key, state, resolved_at FROM findings WHERE dedupe_key = ?"
        " OR (dedupe_key >= ? AND dedupe_key < ?) ORDER BY id DESC LIMIT 1",
        [base, base + "@", base + "A"],
    ).fetchone()
    if latest is None:
        return base
    _, state, resolved_at = latest
    if (
        draft.since is None
        or state != FindingState.RESOLVED
        or not resolved_at
        or parse_iso(draft.since) <= parse_iso(resolved_at)
    ):
        return None
    key = f"{base}@{draft.since}"
    return None if db.execute("SELECT 1 FROM findings WHERE dedupe_key = ?", [key]).fetchone() else key


def finding_digest(
    *,
    kind: str,
    dedupe_key: str,
    post_id: str | None,
    comment_id: str | None,
    opened_at: str,
    evidence: str,
    suggested_reply: str | None,
) -> str:
    """SHA-256 of what a finding says (its evidence as stored); ``finding_opened`` records it,
    so ``verify`` notices a rewritten finding."""
    return sha256_fields(kind, dedupe_key, post_id, comment_id, opened_at, evidence, suggested_reply)


def count_by_state(db: sqlite_utils.Database) -> dict[str, int]:
    """How many findings are in each state (states with none are absent)."""
    return {
        state: int(n)
        for state, n in db.execute("SELECT state, count(*) FROM findings GROUP BY state").fetchall()
    }


def get_finding(db: sqlite_utils.Database, fid: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM findings WHERE id = ?", [fid]))
    return rows[0] if rows else None


def require_finding(db: sqlite_utils.Database, fid: int) -> dict[str, Any]:
    row = get_finding(db, fid)
    if row is None:
        raise NotInArchive(f"no finding #{fid}; `comment-guard findings --state all` lists them")
    return row


def set_finding_state(
    db: sqlite_utils.Database,
    row: dict[str, Any],
    state: FindingState,
    *,
    at: str,
    note: str | None,
    actor: str,
) -> None:
    """Move a finding to ``state`` and record who did it in the event log."""
    db.execute(
        "UPDATE findings SET state = ?, updated_at = ?, resolved_at = ?,"
        " note = COALESCE(?, note) WHERE id = ?",
        [str(state), at, at if state == FindingState.RESOLVED else None, note, row["id"]],
    )
    append_events(
        db,
        [
            make_event(
                f"finding_{state}",
                at=at,
                account=row["account"],
                object_id=row["comment_id"] or row["post_id"],
                post_id=row["post_id"],
                finding_id=row["id"],
                by=actor,
                note=note,
            )
        ],
    )


def open_findings_for_posts(db: sqlite_utils.Database, post_ids: list[str]) -> dict[str, list[OpenFinding]]:
    """The findings not resolved on each of these posts, oldest first; posts without are absent."""
    from policies.records import OpenFinding

    out: dict[str, list[OpenFinding]] = {}
    for fid, kind, dedupe_key, post_id, comment_id in db.execute(
        "SELECT id, kind, dedupe_key, post_id, comment_id FROM findings"
        f" WHERE {UNRESOLVED} AND post_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        [json.dumps(post_ids)],
    ):
        out.setdefault(post_id, []).append(OpenFinding(fid, kind, dedupe_key, post_id, comment_id))
    return out


def escalation_due(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Open findings not yet escalated; the caller decides which are due."""
    return list(db.query("SELECT * FROM findings WHERE state = 'open' AND escalated_at IS NULL ORDER BY id"))


def mark_escalated(db: sqlite_utils.Database, row: dict[str, Any], *, at: str) -> None:
    db.execute(
        "UPDATE findings SET escalated_at = ?, severity = 'critical', updated_at = ? WHERE id = ?",
        [at, at, row["id"]],
    )
    append_events(
        db,
        [
            make_event(
                "finding_escalated",
                at=at,
                account=row["account"],
                object_id=row["comment_id"] or row["post_id"],
                post_id=row["post_id"],
                finding_id=row["id"],
            )
        ],
    )


def list_findings(
    db: sqlite_utils.Database, *, state: str = "open", kind: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Newest first, at most ``limit``. ``state``: open (not resolved), acknowledged, resolved
    or all. The limit is SQLite's: a page of findings reads and parses that page only."""
    where, args = [], []
    if state == "open":
        where.append("state != 'resolved'")
    elif state != "all":
        where.append("state = ?")
        args.append(state)
    if kind:
        where.append("kind = ?")
        args.append(kind)
    sql = "SELECT * FROM findings" + (" WHERE " + " AND ".join(where) if where else "")
    tail = f" LIMIT {int(limit)}" if limit else ""
    return [
        {**r, "evidence": json.loads(r["evidence"])} for r in db.query(sql + " ORDER BY id DESC" + tail, args)
    ]


def already_enforced(db: sqlite_utils.Database, comment_id: str) -> bool:
    """Whether comment-guard already un-hid this comment since it was last hidden."""
    row = db.execute(
        "SELECT max(CASE WHEN kind = 'comment_hidden' THEN seq END),"
        " max(CASE WHEN kind = ? THEN seq END) FROM events WHERE object_id = ?",
        [ENFORCED_EVENT, comment_id],
    ).fetchone()
    hidden, enforced = row
    return enforced is not None and (hidden is None or enforced > hidden)


def record_enforced(db: sqlite_utils.Database, account: str, comment_id: str, *, at: str) -> None:
    row = db.execute("SELECT post_id FROM comments WHERE id = ?", [comment_id]).fetchone()
    append_events(
        db,
        [
            make_event(
                ENFORCED_EVENT,
                at=at,
                account=account,
                object_id=comment_id,
                post_id=row[0] if row else None,
                mode="enforce",
            )
        ],
    )


def count_overrides(db: sqlite_utils.Database, comment_id: str) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM findings WHERE kind = 'override' AND comment_id = ?", [comment_id]
        ).fetchone()[0]
    )
