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
- each staff label is the one its ``comment_labelled`` event recorded (comment, label, who,
  when, note, text hash), every such event still has its row, and the rows are in event
  order (the newest label is the one that counts);
- the triggers that make ``events`` refuse UPDATE and DELETE are still there, unchanged: a
  dropped one leaves every other check passing while the log no longer guards itself;
- the chain head (hash of the last event) and the event count are reported; ``verify --head``
  proves an earlier head, kept somewhere else, is still a prefix of today's chain.

Memory stays flat however large the archive: the chain is hashed off one cursor, and posts and
comments are checked object by object, merging three cursors sorted by object id (their events,
their versions, their rows; each order comes from an index, so nothing is sorted in memory).
Only the problems are kept (the first 50, in check order). What this proves, and against whom,
is in the README ("What `verify` proves").
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, Callable

import sqlite_utils

from guard.archive.events import GENESIS_HASH, _chain_row
from guard.archive.findings import finding_digest
from guard.archive.labels import LABEL_EVENT
from guard.archive.outbox import row_digest
from guard.text import sha256_text

__all__ = ["Problem", "VerifyReport", "verify_archive", "chain_head"]

_MAX_PROBLEMS = 50
PROGRESS_EVERY = 100_000
Progress = Callable[[str, int], None]  # (what, how many so far)

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

# Where each check's problems go in the report: the order the checks run in, then the row.
_GUARDS, _CHAIN, _HEAD, _POSTS, _COMMENTS, _POLLS, _FINDINGS, _OUTBOX, _LABELS = range(9)
_VERSIONS, _MISSING_VERSIONS, _ROWS, _MISSING_ROWS = range(4)


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
    labels: int = 0
    head_checked: str | None = None  # the --head hash, when given
    head_seq: int | None = None  # where it sits in today's chain
    # Problems found so far with their place in check order; ``problems`` is the first 50.
    _found: list[tuple[tuple[int, ...], Problem]] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, reason: str, *, order: tuple[int, ...] = (99,)) -> None:
        """Record a problem; ``order`` places it among the others (check, row), so the report
        lists them in check order however the rows were read. Keeps the first 50."""
        self._found.append(((*order, len(self._found)), Problem(where, reason)))
        if len(self._found) > 4 * _MAX_PROBLEMS:
            self._found = sorted(self._found, key=lambda p: p[0])[:_MAX_PROBLEMS]
        self.problems = [p for _, p in sorted(self._found, key=lambda p: p[0])[:_MAX_PROBLEMS]]


def chain_head(db: sqlite_utils.Database) -> tuple[int, str | None]:
    """(event count, hash of the last event): what to keep elsewhere for ``verify --head``."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def verify_archive(
    db: sqlite_utils.Database, *, head: str | None = None, progress: Progress | None = None
) -> VerifyReport:
    """Run every check; the report lists the problems in check order (the first is the first
    failing row). ``progress`` hears how far each pass got, every 100,000 rows: ("events
    hashed", n), then ("posts checked", n) and ("comments checked", n).
    One read transaction: a poll committing meanwhile is not half seen."""
    report = VerifyReport()
    own = not db.conn.in_transaction
    if own:
        db.conn.execute("BEGIN")
    try:
        _check_guards(db, report)
        report.events = _check_chain(db, report, progress)
        report.events, report.head = chain_head(db)
        if head is not None:
            _check_head(db, head.strip().lower(), report)
        _check_objects(db, "post", report, progress)
        _check_objects(db, "comment", report, progress)
        _check_polls(db, report)
        _check_findings(db, report)
        _check_outbox(db, report)
        _check_labels(db, report)
    finally:
        if own:
            db.conn.rollback()
    return report


# The hashed content of an event (``guard.archive.events._content``: a JSON list) built by
# SQLite: json_quote escapes text exactly as Python's encoder does, so only the SHA-256 is left
# to Python. A column this cannot render the same way (a real, a blob: NULL here) falls back
# to the Python encoder, as does any row whose hash does not match this rendering.
_QUOTED = (
    "CASE typeof({c}) WHEN 'text' THEN json_quote({c}) WHEN 'null' THEN 'null'"
    " WHEN 'integer' THEN CAST({c} AS TEXT) END"
)
_CONTENT = (
    "'[' || "
    + " || ', ' || ".join(
        _QUOTED.format(c=c) for c in ("at", "account", "kind", "object_id", "post_id", "poll_id", "data")
    )
    + " || ']'"
)


# The append-only guards of the event log, as guard.archive.schema creates them (whitespace
# aside): a trigger that is missing, or rewritten (a ``WHEN 0`` added), no longer guards it.
_GUARD_TRIGGERS = {
    name: f"CREATE TRIGGER {name} BEFORE {verb} ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    for name, verb in (("events_no_update", "UPDATE"), ("events_no_delete", "DELETE"))
}


def _check_guards(db: sqlite_utils.Database, report: VerifyReport) -> None:
    found = {
        name: " ".join((sql or "").split())
        for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    }
    for name, expected in _GUARD_TRIGGERS.items():
        if found.get(name) != expected:
            report.add(
                f"events table: trigger {name}",
                f"is {'missing' if name not in found else 'changed'}, so the log no longer refuses edits"
                ' (restore it as the README\'s "What verify proves" shows, after reading the rest of'
                " this report)",
                order=(_GUARDS,),
            )


def _check_chain(db: sqlite_utils.Database, report: VerifyReport, progress: Progress | None) -> int:
    """Recompute every event hash off one cursor; report the first row whose content or link
    does not match. Returns the number of events read."""
    prev = GENESIS_HASH
    checked = 0
    expected_seq = 1
    sha256 = hashlib.sha256
    for seq, prev_hash, digest, content in db.execute(
        f"SELECT seq, prev_hash, hash, {_CONTENT} FROM events ORDER BY seq"
    ):
        checked += 1
        problem = None
        if seq != expected_seq:
            problem = f"row {expected_seq} is missing"
        elif prev_hash != prev:
            problem = "its link to the previous row was changed"
        elif (content is None or sha256((prev + content).encode("utf-8")).hexdigest() != digest) and (
            _chain_row(prev, _stored_content(db, seq)) != digest
        ):
            problem = "its content does not match its hash"
        if problem is not None:
            report.add(f"event {seq}", problem, order=(_CHAIN,))
            return checked
        prev = digest
        expected_seq += 1
        if progress is not None and checked % PROGRESS_EVERY == 0:
            progress("events hashed", checked)
    return checked


def _stored_content(db: sqlite_utils.Database, seq: int) -> tuple[Any, ...]:
    return tuple(
        db.execute(
            "SELECT at, account, kind, object_id, post_id, poll_id, data FROM events WHERE seq = ?", [seq]
        ).fetchone()
    )


def _check_head(db: sqlite_utils.Database, head: str, report: VerifyReport) -> None:
    report.head_checked = head
    row = db.execute("SELECT seq FROM events WHERE hash = ?", [head]).fetchone()
    if row is None:
        report.add(
            f"head {head[:16]}",
            "this earlier head is not in today's chain: the chain was rewritten or cut back "
            "(or the head is from another archive)",
            order=(_HEAD,),
        )
        return
    report.head_seq = int(row[0])


def _data(text: Any) -> dict[str, Any]:
    """An event's data as the checks read it: a JSON object, or {} for anything else."""
    try:
        parsed = json.loads(text)
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _grouped(cursor: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, list[tuple[Any, ...]]]]:
    """(key, rows) for rows sorted by their first column."""
    return ((key, list(rows)) for key, rows in groupby(cursor, _first))


_first = itemgetter(0)


def _check_objects(
    db: sqlite_utils.Database, kind: str, report: VerifyReport, progress: Progress | None = None
) -> None:
    """Versions ↔ their hashes ↔ their events ↔ the current row, and the status, one object
    at a time: its events, its versions and its row come off three cursors in id order."""
    table, versions_table, key = f"{kind}s", f"{kind}_versions", f"{kind}_id"
    status_kinds = _COMMENT_STATUS if kind == "comment" else _POST_STATUS
    kinds = sorted({f"{kind}_added", f"{kind}_edited", *status_kinds})
    # Posts are few: their events through the kind index. Comments are most events: the
    # object index gives them in id order without a sort.
    index = "events_kind" if kind == "post" else "events_object"
    events = _grouped(
        db.execute(
            f"SELECT object_id, seq, kind, data FROM events INDEXED BY {index}"
            f" WHERE object_id IS NOT NULL AND kind IN ({', '.join('?' * len(kinds))})"
            " ORDER BY object_id, seq",
            kinds,
        )
    )
    versions = _grouped(
        db.execute(
            f"SELECT {key}, id, version, message, sha256 FROM {versions_table} ORDER BY {key}, version"
        )
    )
    rows = db.execute(f"SELECT id, rowid, message, sha256, version, status FROM {table} ORDER BY id")
    check = _ObjectCheck(kind, status_kinds, report)
    added = f"{kind}_added"
    ev, vs, row = next(events, None), next(versions, None), next(rows, None)
    done = 0
    while ev is not None or vs is not None or row is not None:
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(f"{kind}s checked", done)
        if (
            ev is not None
            and vs is not None
            and row is not None
            and ev[0] == vs[0] == row[0]
            and len(ev[1]) == 1
            and len(vs[1]) == 1
            and _unchanged(added, ev[1][0], vs[1][0], row)
        ):
            # Most objects: added once, never changed, all three agree. Counted here; anything
            # else goes through every check below (which also names what does not match).
            report.versions += 1
            report.objects += 1
            ev, vs, row = next(events, None), next(versions, None), next(rows, None)
            continue
        oid = min(g[0] for g in (ev, vs, row) if g is not None)
        here_ev = ev is not None and ev[0] == oid
        here_vs = vs is not None and vs[0] == oid
        here_row = row is not None and row[0] == oid
        check(
            oid,
            ev[1] if here_ev else (),  # type: ignore[index]
            vs[1] if here_vs else (),  # type: ignore[index]
            row if here_row else None,
        )
        if here_ev:
            ev = next(events, None)
        if here_vs:
            vs = next(versions, None)
        if here_row:
            row = next(rows, None)


def _unchanged(added: str, event: tuple[Any, ...], version: tuple[Any, ...], row: tuple[Any, ...]) -> bool:
    """Whether an object with one event and one version passes every check: the event adds
    that version with its hash, the text hashes to it, the row is that version with the status
    the event leaves (present, or hidden when it was added hidden)."""
    _, _, kind, text = event
    _, _, number, message, digest = version
    _, _, row_message, row_digest, row_version, row_status = row
    if kind != added or row_version != number or row_digest != digest or row_message != message:
        return False
    data = _data(text)
    said = data.get("version")
    return (
        isinstance(said, int)
        and said == number
        and data.get("sha256") == digest
        and row_status == ("hidden" if data.get("hidden") else "present")
        and sha256_text(message) == digest
    )


class _ObjectCheck:
    """The checks of one post or comment, given its events, versions and row."""

    def __init__(self, kind: str, status_kinds: dict[str, str | None], report: VerifyReport) -> None:
        self.kind, self.status_kinds, self.report = kind, status_kinds, report
        self.table, self.versions_table = f"{kind}s", f"{kind}_versions"
        self.added, self.created = f"{kind}_added", (f"{kind}_added", f"{kind}_edited")
        self.section = _POSTS if kind == "post" else _COMMENTS

    def __call__(
        self,
        oid: str,
        events: Sequence[tuple[Any, ...]],
        versions: Sequence[tuple[Any, ...]],
        row: tuple[Any, ...] | None,
    ) -> None:
        kind, report, section, status_kinds = self.kind, self.report, self.section, self.status_kinds
        recorded: dict[int, tuple[int, dict[str, Any]]] = {}  # version → (seq, data) of its event
        first_seq: int | None = None
        status: set[str] | None = None
        for _, seq, event_kind, text in events:
            data: dict[str, Any] | None = None
            if event_kind in self.created:
                data = _data(text)
                version = data.get("version")
                if isinstance(version, int) and version not in recorded:
                    recorded[version] = (seq, data)
                if first_seq is None:
                    first_seq = seq
            if event_kind in status_kinds:
                fixed = status_kinds[event_kind]
                if event_kind == self.added and (data if data is not None else _data(text)).get("hidden"):
                    fixed = "hidden"
                if fixed is None:
                    said = _data(text).get("status")
                    status = {said} if isinstance(said, str) else {"present", "hidden"}
                else:
                    status = {fixed}

        latest: tuple[Any, ...] | None = None
        for _, vid, version, message, digest in versions:
            report.versions += 1
            event = recorded.get(version)
            if event is None or sha256_text(message) != digest or event[1].get("sha256") != digest:
                self._version_problems(oid, vid, version, message, digest, event)
            if latest is None or version > latest[2]:
                latest = (vid, message, version, digest)
        if len(recorded) > len(versions) or any(v[2] not in recorded for v in versions):
            seen = {v[2] for v in versions}
            for version, (seq, _) in recorded.items():
                if version not in seen:
                    report.add(
                        f"event {seq}",
                        f"records {kind} {oid} v{version}, which is missing from {self.versions_table}",
                        order=(section, _MISSING_VERSIONS, seq),
                    )

        if row is None:
            if first_seq is not None:
                report.add(
                    f"{self.table} id {oid}",
                    f"is missing (recorded by event {first_seq})",
                    order=(section, _MISSING_ROWS, first_seq),
                )
            return
        _, rowid, message, digest, version, row_status = row
        report.objects += 1
        where = f"{self.table} id {oid}"
        order = (section, _ROWS, rowid)
        if latest is None:
            report.add(
                where, "has no versions (inserted afterwards, or its versions were deleted)", order=order
            )
            return
        if version != latest[2] or digest != latest[3]:
            report.add(where, f"does not match its latest version v{latest[2]}", order=order)
        elif message != latest[1]:
            report.add(where, f"its text differs from its latest version v{latest[2]}", order=order)
        if status is not None and row_status not in status:
            report.add(
                where,
                f"status {row_status!r} but its events leave it {' or '.join(sorted(status))}",
                order=order,
            )

    def _version_problems(
        self,
        oid: str,
        vid: int,
        version: int,
        message: str,
        digest: str,
        event: tuple[int, dict[str, Any]] | None,
    ) -> None:
        where = f"{self.versions_table} id {vid} ({self.kind} {oid} v{version})"
        order = (self.section, _VERSIONS, vid)
        if sha256_text(message) != digest:
            self.report.add(
                where, "its text does not match its stored SHA-256 (the text was rewritten)", order=order
            )
        if event is None:
            self.report.add(
                where,
                "no event records this version (inserted afterwards, or its event was removed)",
                order=order,
            )
        elif event[1].get("sha256") != digest:
            self.report.add(where, f"its SHA-256 differs from the one event {event[0]} recorded", order=order)


def _check_polls(db: sqlite_utils.Database, report: VerifyReport) -> None:
    """Each poll's stored event counts against the events carrying its id: the events come
    in poll order off the poll index, one poll's counts in memory at a time."""
    counted = _grouped(
        db.execute(
            "SELECT poll_id, kind FROM events INDEXED BY events_poll"
            " WHERE poll_id IS NOT NULL ORDER BY poll_id"
        )
    )
    polls = db.execute("SELECT id, counts FROM polls ORDER BY id")
    group, poll = next(counted, None), next(polls, None)
    while group is not None or poll is not None:
        pid = min(g[0] for g in (group, poll) if g is not None)
        here = Counter(kind for _, kind in group[1]) if group is not None and group[0] == pid else None
        if poll is not None and poll[0] == pid:
            try:
                stored = Counter({k: int(v) for k, v in json.loads(poll[1] or "{}").items()})
            except (ValueError, TypeError, AttributeError):
                stored = Counter({"?": 1})
            if stored != (here or Counter()):
                report.add(
                    f"polls id {pid}",
                    "its event counts differ from the events carrying its id",
                    order=(_POLLS, 0, pid),
                )
            poll = next(polls, None)
        else:
            report.add(f"polls id {pid}", "is missing (its events remain)", order=(_POLLS, 1, pid))
        if here is not None:
            group = next(counted, None)


@dataclass(frozen=True)
class _Event:
    seq: int
    data: dict[str, Any]


def _lifecycles(
    db: sqlite_utils.Database, id_key: str, opener: str, states: dict[str, str]
) -> tuple[dict[int, _Event], dict[int, str]]:
    """For rows whose events carry ``id_key``: the event that created each one (``opener``) and
    the state its last state event leaves it in. Only these kinds' events are read (a few per
    finding or alert, through the kind index)."""
    opened: dict[int, _Event] = {}
    last: dict[int, str] = {}
    kinds = sorted(states)
    for seq, kind, text in db.execute(
        f"SELECT seq, kind, data FROM events WHERE kind IN ({', '.join('?' * len(kinds))}) ORDER BY seq",
        kinds,
    ):
        data = _data(text)
        row_id = data.get(id_key)
        if not isinstance(row_id, int):
            continue
        if kind == opener:
            opened.setdefault(row_id, _Event(seq, data))
        last[row_id] = states[kind]
    return opened, last


def _check_findings(db: sqlite_utils.Database, report: VerifyReport) -> None:
    opened, state = _lifecycles(db, "finding_id", "finding_opened", _FINDING_STATE)
    for row in db.query("SELECT * FROM findings ORDER BY id"):
        fid = row["id"]
        report.findings += 1
        where = f"findings id {fid}"
        order = (_FINDINGS, 0, fid)
        event = opened.pop(fid, None)
        if event is None:
            report.add(where, "no finding_opened event records it (inserted afterwards)", order=order)
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
            report.add(where, f"its content differs from what event {event.seq} recorded", order=order)
        if row["state"] != state.get(fid):
            report.add(
                where, f"state {row['state']!r} but its events leave it {state.get(fid)!r}", order=order
            )
    for fid, event in opened.items():
        report.add(
            f"findings id {fid}", f"is missing (opened by event {event.seq})", order=(_FINDINGS, 1, event.seq)
        )


def _check_outbox(db: sqlite_utils.Database, report: VerifyReport) -> None:
    queued, status = _lifecycles(db, "outbox_id", "alert_queued", _OUTBOX_STATUS)
    # Rows queued before outbox events existed (an archive from an older comment-guard) are
    # not covered; every row from the first recorded one on is.
    covered_from = min(queued) if queued else None
    for row in db.query("SELECT * FROM outbox ORDER BY id"):
        oid = row["id"]
        report.alerts += 1
        where = f"outbox id {oid}"
        order = (_OUTBOX, 0, oid)
        event = queued.pop(oid, None)
        if event is None:
            if covered_from is not None and oid > covered_from:
                report.add(where, "no alert_queued event records it (inserted afterwards)", order=order)
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
            report.add(where, f"its message differs from what event {event.seq} recorded", order=order)
        expected = status.get(oid)
        actual = "pending" if row["status"] == "sending" else row["status"]  # a claim in progress
        if actual != expected:
            report.add(where, f"status {row['status']!r} but its events leave it {expected!r}", order=order)
    for oid, event in queued.items():
        report.add(
            f"outbox id {oid}", f"is missing (queued by event {event.seq})", order=(_OUTBOX, 1, event.seq)
        )


def _check_labels(db: sqlite_utils.Database, report: VerifyReport) -> None:
    """Each ``labels`` row against the ``comment_labelled`` event it names. A label decides
    whether a comment is protected, so a rewritten one ("critical" turned "not-critical", or an
    older label renumbered to be the newest) would silence a finding without touching a text."""
    recorded = {
        seq: (at, object_id, _data(text))
        for seq, at, object_id, text in db.execute(
            "SELECT seq, at, object_id, data FROM events WHERE kind = ? ORDER BY seq", [LABEL_EVENT]
        )
    }
    last_seq = 0
    for row in db.query("SELECT * FROM labels ORDER BY id"):
        report.labels += 1
        where = f"labels id {row['id']} (comment {row['comment_id']})"
        order = (_LABELS, 0, row["id"])
        seq = row["event_seq"]
        event = recorded.pop(seq, None) if isinstance(seq, int) else None
        if event is None:
            report.add(where, f"no {LABEL_EVENT} event records it (inserted afterwards)", order=order)
            continue
        at, object_id, data = event
        if (object_id, at, data.get("label"), data.get("by"), data.get("note"), data.get("sha256")) != (
            row["comment_id"],
            row["at"],
            row["label"],
            row["labelled_by"],
            row["note"],
            row["sha256"],
        ):
            report.add(where, f"it differs from what event {seq} recorded", order=order)
        if seq < last_seq:
            report.add(where, f"is out of order: event {seq} came before the label above it", order=order)
        last_seq = max(last_seq, seq)
    for seq, (_, object_id, _) in recorded.items():
        report.add(
            f"labels of comment {object_id}",
            f"a label is missing (recorded by event {seq})",
            order=(_LABELS, 1, seq),
        )
