"""``comment-guard verify``: the archive proves its own evidence, or names the first row that lies.

The event log is hash-chained (``guard.archive.events``), and every piece of evidence is tied
to it, so an edit anywhere shows up as a broken link or a failed cross-check:

- each post and comment version's stored SHA-256 matches its text;
- each version is recorded by the event that created it (``*_added`` / ``*_edited``), with the
  same hash, and each such event's version still exists;
- each post and comment row equals its latest version (text, hash, number) and its status is
  the one its last status event left it in (``*_deleted`` → deleted, ...); an event about a row
  that is gone names the deleted row;
- each poll's event counts match the events carrying its id, and no event names a missing poll;
- each finding and outbox row is opened by an event recording its content hash, and its
  state is the one its last state event says;
- the chain head (hash of the last event) and the event count are reported; ``verify --head``
  proves an earlier head, kept somewhere else, is still a prefix of today's chain.

What this proves, and against whom, is in the README ("What `verify` proves").
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import sqlite_utils

from guard.archive.events import verify_chain
from guard.archive.findings import finding_digest
from guard.archive.outbox import row_digest
from guard.text import sha256_text

__all__ = ["Problem", "VerifyReport", "verify_archive", "chain_head"]

_MAX_PROBLEMS = 50

# Status each event leaves its object in (None: the event says it in data["status"]).
_COMMENT_STATUS: dict[str, str | None] = {
    "comment_added": "present",
    "comment_hidden": "hidden",
    "comment_unhidden": "present",
    "comment_deleted": "deleted",
    "comment_missing": "unknown",
    "comment_unavailable": "unknown",
    "comment_reappeared": None,
}
_POST_STATUS: dict[str, str | None] = {
    "post_added": "present",
    "post_deleted": "deleted",
    "post_missing": "unknown",
    "post_unavailable": "unknown",
    "post_reappeared": "present",
}
_FINDING_STATE = {
    "finding_opened": "open",
    "finding_open": "open",
    "finding_acknowledged": "acknowledged",
    "finding_resolved": "resolved",
}
_OUTBOX_STATUS = {
    "alert_queued": "pending",
    "alert_requeued": "pending",
    "alert_sent": "sent",
    "alert_failed": "failed",
    "alert_cancelled": "cancelled",
}


@dataclass(frozen=True)
class Problem:
    where: str  # the row: "comment_versions id 7 (comment 1_2 v1)", "event 42", ...
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class VerifyReport:
    events: int = 0
    head: str | None = None
    problems: list[Problem] = field(default_factory=list)
    versions: int = 0
    objects: int = 0
    findings: int = 0
    alerts: int = 0
    head_checked: str | None = None  # the --head hash, when given
    head_seq: int | None = None  # where it sits in today's chain

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, reason: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(where, reason))


def chain_head(db: sqlite_utils.Database) -> tuple[int, str | None]:
    """(event count, hash of the last event): what to keep elsewhere for ``verify --head``."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def verify_archive(
    db: sqlite_utils.Database, *, head: str | None = None, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Run every check; the report lists the problems in check order (the first is the first
    failing row). ``progress`` hears the number of events hashed so far, every 100,000."""
    report = VerifyReport()
    chain = verify_chain(db, progress)
    report.events = chain.checked
    if not chain.ok:
        report.add(f"event {chain.bad_seq}", chain.reason or "the hash chain is broken")
    report.events, report.head = chain_head(db)
    if head is not None:
        _check_head(db, head.strip().lower(), report)
    events = _load_events(db)
    for kind in ("post", "comment"):
        _check_objects(db, kind, events, report)
    _check_polls(db, events, report)
    _check_findings(db, events, report)
    _check_outbox(db, events, report)
    return report


@dataclass(frozen=True)
class _Event:
    seq: int
    kind: str
    object_id: str | None
    poll_id: int | None
    data: dict[str, Any]


def _load_events(db: sqlite_utils.Database) -> list[_Event]:
    out = []
    for seq, kind, object_id, poll_id, data in db.execute(
        "SELECT seq, kind, object_id, poll_id, data FROM events ORDER BY seq"
    ):
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = {}
        out.append(_Event(seq, kind, object_id, poll_id, parsed if isinstance(parsed, dict) else {}))
    return out


def _check_head(db: sqlite_utils.Database, head: str, report: VerifyReport) -> None:
    report.head_checked = head
    row = db.execute("SELECT seq FROM events WHERE hash = ?", [head]).fetchone()
    if row is None:
        report.add(
            f"head {head[:16]}",
            "this earlier head is not in today's chain: the chain was rewritten or cut back "
            "(or the head is from another archive)",
        )
        return
    report.head_seq = int(row[0])


def _check_objects(db: sqlite_utils.Database, kind: str, events: list[_Event], report: VerifyReport) -> None:
    """Versions ↔ their hashes ↔ their events ↔ the current row, and the status."""
    table, versions_table, key = f"{kind}s", f"{kind}_versions", f"{kind}_id"
    created = {f"{kind}_added", f"{kind}_edited"}
    status_kinds = _COMMENT_STATUS if kind == "comment" else _POST_STATUS
    recorded: dict[tuple[str, int], _Event] = {}  # (object id, version) → its event
    first_event: dict[str, _Event] = {}
    status: dict[str, set[str]] = {}
    for e in events:
        if e.object_id is None:
            continue
        if e.kind in created:
            version = e.data.get("version")
            if isinstance(version, int):
                recorded.setdefault((e.object_id, version), e)
            first_event.setdefault(e.object_id, e)
        if e.kind in status_kinds:
            fixed = status_kinds[e.kind]
            if e.kind == f"{kind}_added" and e.data.get("hidden"):
                fixed = "hidden"
            if fixed is None:
                said = e.data.get("status")
                status[e.object_id] = {said} if isinstance(said, str) else {"present", "hidden"}
            else:
                status[e.object_id] = {fixed}

    latest: dict[str, dict[str, Any]] = {}
    seen_versions: set[tuple[str, int]] = set()
    for v in db.query(f"SELECT id, {key} AS oid, version, message, sha256 FROM {versions_table} ORDER BY id"):
        report.versions += 1
        where = f"{versions_table} id {v['id']} ({kind} {v['oid']} v{v['version']})"
        seen_versions.add((v["oid"], v["version"]))
        if sha256_text(v["message"]) != v["sha256"]:
            report.add(where, "its text does not match its stored SHA-256 (the text was rewritten)")
        event = recorded.get((v["oid"], v["version"]))
        if event is None:
            report.add(where, "no event records this version (inserted afterwards, or its event was removed)")
        elif event.data.get("sha256") != v["sha256"]:
            report.add(where, f"its SHA-256 differs from the one event {event.seq} recorded")
        if v["oid"] not in latest or v["version"] > latest[v["oid"]]["version"]:
            latest[v["oid"]] = v
    for (oid, version), event in recorded.items():
        if (oid, version) not in seen_versions:
            report.add(
                f"event {event.seq}",
                f"records {kind} {oid} v{version}, which is missing from {versions_table}",
            )

    rows = {r["id"]: r for r in db.query(f"SELECT id, message, sha256, version, status FROM {table}")}
    for oid, row in rows.items():
        report.objects += 1
        where = f"{table} id {oid}"
        last = latest.get(oid)
        if last is None:
            report.add(where, "has no versions (inserted afterwards, or its versions were deleted)")
            continue
        if row["version"] != last["version"] or row["sha256"] != last["sha256"]:
            report.add(where, f"does not match its latest version v{last['version']}")
        elif row["message"] != last["message"]:
            report.add(where, f"its text differs from its latest version v{last['version']}")
        expected = status.get(oid)
        if expected is not None and row["status"] not in expected:
            report.add(
                where,
                f"status {row['status']!r} but its events leave it {' or '.join(sorted(expected))}",
            )
    for oid, event in first_event.items():
        if oid not in rows:
            report.add(f"{table} id {oid}", f"is missing (recorded by event {event.seq})")


def _check_polls(db: sqlite_utils.Database, events: list[_Event], report: VerifyReport) -> None:
    by_poll: dict[int, Counter[str]] = {}
    for e in events:
        if e.poll_id is not None:
            by_poll.setdefault(e.poll_id, Counter())[e.kind] += 1
    polls = {r[0]: r[1] for r in db.execute("SELECT id, counts FROM polls")}
    for poll_id, counts in polls.items():
        try:
            stored = Counter({k: int(v) for k, v in json.loads(counts or "{}").items()})
        except (ValueError, TypeError, AttributeError):
            stored = Counter({"?": 1})
        if stored != by_poll.get(poll_id, Counter()):
            report.add(f"polls id {poll_id}", "its event counts differ from the events carrying its id")
    for poll_id in sorted(set(by_poll) - set(polls)):
        report.add(f"polls id {poll_id}", "is missing (its events remain)")


def _lifecycles(
    events: list[_Event], id_key: str, opener: str, states: dict[str, str]
) -> tuple[dict[int, _Event], dict[int, str]]:
    """For rows whose events carry ``id_key``: the event that created each one (``opener``) and
    the state its last state event leaves it in."""
    opened: dict[int, _Event] = {}
    last: dict[int, str] = {}
    for e in events:
        row_id = e.data.get(id_key)
        if not isinstance(row_id, int) or e.kind not in states:
            continue
        if e.kind == opener:
            opened.setdefault(row_id, e)
        last[row_id] = states[e.kind]
    return opened, last


def _check_findings(db: sqlite_utils.Database, events: list[_Event], report: VerifyReport) -> None:
    opened, state = _lifecycles(events, "finding_id", "finding_opened", _FINDING_STATE)
    rows = {r["id"]: r for r in db.query("SELECT * FROM findings")}
    for fid, row in rows.items():
        report.findings += 1
        where = f"findings id {fid}"
        event = opened.get(fid)
        if event is None:
            report.add(where, "no finding_opened event records it (inserted afterwards)")
            continue
        digest = event.data.get("sha256")
        if digest is not None and digest != finding_digest(
            kind=row["kind"],
            dedupe_key=row["dedupe_key"],
            post_id=row["post_id"],
            comment_id=row["comment_id"],
            opened_at=row["opened_at"],
            evidence=row["evidence"],
            suggested_reply=row["suggested_reply"],
        ):
            report.add(where, f"its content differs from what event {event.seq} recorded")
        if row["state"] != state.get(fid):
            report.add(where, f"state {row['state']!r} but its events leave it {state.get(fid)!r}")
    for fid, event in opened.items():
        if fid not in rows:
            report.add(f"findings id {fid}", f"is missing (opened by event {event.seq})")


def _check_outbox(db: sqlite_utils.Database, events: list[_Event], report: VerifyReport) -> None:
    queued, status = _lifecycles(events, "outbox_id", "alert_queued", _OUTBOX_STATUS)
    # Rows queued before outbox events existed (an archive from an older comment-guard) are
    # not covered; every row from the first recorded one on is.
    covered_from = min(queued) if queued else None
    rows = {r["id"]: r for r in db.query("SELECT * FROM outbox")}
    for oid, row in rows.items():
        report.alerts += 1
        where = f"outbox id {oid}"
        event = queued.get(oid)
        if event is None:
            if covered_from is not None and oid > covered_from:
                report.add(where, "no alert_queued event records it (inserted afterwards)")
            continue
        digest = row_digest(
            finding_id=row["finding_id"],
            stage=row["stage"],
            channel=row["channel"],
            dedupe_key=row["dedupe_key"],
            subject=row["subject"],
            payload=row["payload"],
        )
        if event.data.get("sha256") != digest:
            report.add(where, f"its message differs from what event {event.seq} recorded")
        expected = status.get(oid)
        actual = "pending" if row["status"] == "sending" else row["status"]  # a claim in progress
        if actual != expected:
            report.add(where, f"status {row['status']!r} but its events leave it {expected!r}")
    for oid, event in queued.items():
        if oid not in rows:
            report.add(f"outbox id {oid}", f"is missing (queued by event {event.seq})")
