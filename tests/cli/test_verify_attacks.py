"""`verify` catches each way an adversary with the database file would rewrite the record.

Every test builds a real archive through the CLI (an edited post, a deleted question, its
finding and alert), tampers with the SQLite file the way issue 10 describes, and expects exit 1
with the first line naming the row.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from guard.archive.events import GENESIS_HASH, _chain
from guard.archive.verify import _GUARD_TRIGGERS
from guard.text import sha256_text
from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"
QUESTION = "wait, the meeting is TONIGHT?!?"


@pytest.fixture
def archive(capsys, config, rsps):
    """An archive with an edited post, a deleted question, its finding and queued alerts."""
    config.write_text(
        config.read_text()
        + """
[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = 9
starttls = false
from = "guard@example.org"
to = ["comms@example.org"]
"""
    )
    page = FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The meeting is Thursday.",
                comments=[FakeComment("1_1", QUESTION), FakeComment("1_2", "Thanks!", author="Sam Neighbor")],
            )
        ],
    )
    run(capsys, "poll", "--once")
    page.post(POST).message = "The meeting is the Thirteenth."
    run(capsys, "poll", "--once")
    page.remove_comment("1_1")
    run(capsys, "poll", "--once")
    db = config.parent / "archive.db"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT status FROM comments WHERE id = '1_1'").fetchone() == ("deleted",)
        assert conn.execute("SELECT count(*) FROM findings").fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] >= 1
    finally:
        conn.close()
    code, out, err = run(capsys, "verify")
    assert code == 0, err
    return db


def tamper(db, *sql: str, params: tuple = (), restore_guards: bool = True) -> None:
    """Edit the file as an adversary would: drop the append-only triggers, run ``sql``, and put
    the triggers back as they were (unless ``restore_guards`` is False), covering the tracks."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
        for statement in sql:
            conn.execute(statement, params if "?" in statement else ())
        if restore_guards:
            for create in _GUARD_TRIGGERS.values():
                conn.execute(create)
        conn.commit()
    finally:
        conn.close()


def verify_fails(capsys, *args: str) -> str:
    code, out, err = run(capsys, "verify", *args)
    assert code == 1, out + err
    first = err.splitlines()[0]
    assert first.startswith("TAMPERED: ")
    return first


def test_rewritten_comment_version_text_is_caught(capsys, archive):
    """The deleted question rewritten to something harmless in comment_versions."""
    tamper(archive, "UPDATE comment_versions SET message = 'Great post, thanks!' WHERE comment_id = '1_1'")
    first = verify_fails(capsys)
    assert "comment_versions id" in first and "(comment 1_1 v1)" in first
    assert "does not match its stored SHA-256" in first


def test_rewritten_text_with_recomputed_hash_is_caught_by_its_event(capsys, archive):
    """Rewriting the text and its stored hash: the creating event still holds the old hash."""
    fake = "Great post, thanks!"
    tamper(
        archive,
        "UPDATE comment_versions SET message = ?, sha256 = ? WHERE comment_id = '1_1'",
        params=(fake, sha256_text(fake)),
    )
    first = verify_fails(capsys)
    assert "(comment 1_1 v1)" in first and "differs from the one event" in first


def test_rewritten_current_comment_text_is_caught(capsys, archive):
    """The comments row (what `comments` and `thread` show) rewritten, versions untouched."""
    tamper(archive, "UPDATE comments SET message = 'Great post, thanks!' WHERE id = '1_1'")
    assert verify_fails(capsys) == "TAMPERED: comments id 1_1: its text differs from its latest version v1"


def test_rewritten_post_version_is_caught(capsys, archive):
    tamper(archive, f"UPDATE post_versions SET message = 'The meeting is Friday.' WHERE post_id = '{POST}'")
    first = verify_fails(capsys)
    assert f"(post {POST} v1)" in first and "SHA-256" in first


def test_deleted_version_is_caught(capsys, archive):
    tamper(archive, f"DELETE FROM post_versions WHERE post_id = '{POST}' AND version = 2")
    first = verify_fails(capsys)
    assert f"records post {POST} v2, which is missing from post_versions" in first


def test_deleted_comment_row_is_caught(capsys, archive):
    """The deleted question removed from comments and comment_versions altogether."""
    tamper(
        archive,
        "DELETE FROM comment_versions WHERE comment_id = '1_1'",
        "DELETE FROM comments WHERE id = '1_1'",
    )
    code, _, err = run(capsys, "verify")
    assert code == 1
    assert "comment 1_1 v1, which is missing" in err.splitlines()[0]
    assert any(line.startswith("also: comments id 1_1: is missing") for line in err.splitlines())


def test_status_set_back_to_present_is_caught(capsys, archive):
    tamper(archive, "UPDATE comments SET status = 'present' WHERE id = '1_1'")
    assert verify_fails(capsys) == (
        "TAMPERED: comments id 1_1: status 'present' but its events leave it deleted"
    )


def test_deleted_finding_is_caught(capsys, archive):
    tamper(archive, "DELETE FROM outbox", "DELETE FROM findings")
    code, _, err = run(capsys, "verify")
    assert code == 1
    assert "findings id 1: is missing (opened by event" in err
    assert "outbox id 1: is missing (queued by event" in err


def test_rewritten_finding_evidence_is_caught(capsys, archive):
    tamper(archive, "UPDATE findings SET evidence = '{}', suggested_reply = NULL WHERE id = 1")
    assert "findings id 1: its content differs from what event" in verify_fails(capsys)


def test_resolved_finding_set_back_or_alert_marked_sent_is_caught(capsys, archive):
    tamper(archive, "UPDATE findings SET state = 'resolved' WHERE id = 1")
    assert verify_fails(capsys) == "TAMPERED: findings id 1: state 'resolved' but its events leave it 'open'"
    tamper(archive, "UPDATE findings SET state = 'open' WHERE id = 1", "UPDATE outbox SET status = 'sent'")
    assert "outbox id 1: status 'sent' but its events leave it 'pending'" in verify_fails(capsys)


def test_rewritten_alert_is_caught(capsys, archive):
    tamper(archive, "UPDATE outbox SET payload = '{}' WHERE id = 1")
    assert "outbox id 1: its message differs from what event" in verify_fails(capsys)


def test_deleted_tail_of_the_chain_is_caught(capsys, archive):
    """Cutting the last poll's events (the deletion) off the end of the chain."""
    conn = sqlite3.connect(archive)
    seq = conn.execute("SELECT min(seq) FROM events WHERE kind = 'comment_deleted'").fetchone()[0]
    conn.close()
    tamper(archive, f"DELETE FROM events WHERE seq >= {seq}")
    first = verify_fails(capsys)
    assert "polls id 3: its event counts differ" in first or "is missing" in first or "leave it" in first


def _rehash(db, rewrite) -> None:
    """Re-hash the whole chain after ``rewrite(kind, data) -> (kind, data)``: a forged chain."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    conn.execute("DROP TRIGGER events_no_update")
    prev = GENESIS_HASH
    for row in conn.execute("SELECT * FROM events ORDER BY seq").fetchall():
        kind, data = rewrite(row["kind"], row["data"])
        record = {**dict(row), "kind": kind, "data": data}
        digest = _chain(prev, record)
        conn.execute(
            "UPDATE events SET kind = ?, data = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            [kind, data, prev, digest, row["seq"]],
        )
        prev = digest
    conn.execute(_GUARD_TRIGGERS["events_no_update"])  # tracks covered
    conn.commit()
    conn.close()


def test_rehashed_chain_with_deletion_made_harmless_is_caught(capsys, archive):
    """comment_deleted turned into comment_hidden and the chain re-hashed: the chain checks out,
    the cross-checks (the row's status, the poll's counts) do not."""
    _rehash(archive, lambda kind, data: ("comment_hidden" if kind == "comment_deleted" else kind, data))
    first = verify_fails(capsys)
    assert "polls id 3" in first or "comments id 1_1" in first


def test_head_kept_elsewhere_passes_today_and_fails_against_a_forged_chain(capsys, archive):
    """`verify --head` with an earlier head passes after more polls; after a consistent rewrite
    of the whole chain (a re-hash that changes one event's data) it fails."""
    code, out, _ = run(capsys, "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and len(report["head"]) == 64 and report["events"] > 0
    old_head = report["head"]
    code, out, _ = run(capsys, "verify")
    assert f"head: {old_head} ({report['events']} events)" in out
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "verify", "--head", old_head)
    assert code == 0 and f"ok: head {old_head} is event {report['events']} of today's chain" in out

    def forge(kind: str, data: str) -> tuple[str, str]:
        parsed = json.loads(data)
        if parsed.get("finding_kind"):
            parsed["note"] = "reviewed"  # a change no cross-check covers: only the head does
        return kind, json.dumps(parsed, sort_keys=True)

    _rehash(archive, forge)
    assert run(capsys, "verify")[0] == 0  # consistent rewrite: only an outside copy catches it
    first = verify_fails(capsys, "--head", old_head)
    assert "is not in today's chain" in first


@pytest.fixture
def labelled(capsys, archive):
    """The archive with two staff labels on the thank-you comment: critical, then not-critical
    (the newest counts)."""
    assert run(capsys, "label", "1_2", "critical", "--by", "maria")[0] == 0
    assert run(capsys, "label", "1_2", "not-critical", "--by", "maria", "--note", "just thanks")[0] == 0
    code, out, err = run(capsys, "verify")
    assert code == 0, err
    assert "2 labels match" in out
    return archive


def test_rewritten_label_is_caught(capsys, labelled):
    """Staff's decision turned around in the labels table: explain would show it as theirs."""
    tamper(labelled, "UPDATE labels SET label = 'critical' WHERE id = 2")
    assert verify_fails(capsys) == (
        "TAMPERED: labels id 2 (comment 1_2): it differs from what event "
        f"{_label_events(labelled)[1]} recorded"
    )


def test_older_label_renumbered_to_be_the_newest_is_caught(capsys, labelled):
    """Each row still matches its own event, but the older decision now counts."""
    tamper(labelled, "UPDATE labels SET id = 3 WHERE id = 1")
    assert "labels id 3 (comment 1_2): is out of order" in verify_fails(capsys)


def test_deleted_or_inserted_label_is_caught(capsys, labelled):
    first_seq = _label_events(labelled)[0]
    tamper(labelled, "DELETE FROM labels WHERE id = 1")
    assert verify_fails(capsys) == (
        f"TAMPERED: labels of comment 1_2: a label is missing (recorded by event {first_seq})"
    )
    tamper(
        labelled,
        "INSERT INTO labels (id, comment_id, label, labelled_by, at, sha256, event_seq)"
        " VALUES (1, '1_2', 'critical', 'maria', '2026-01-01T00:00:00+00:00', 'x', ?)",
        params=(first_seq,),
    )
    assert "labels id 1 (comment 1_2): it differs from what event" in verify_fails(capsys)
    tamper(labelled, "DELETE FROM labels WHERE id = 1")
    tamper(
        labelled,
        "INSERT INTO labels (comment_id, label, labelled_by, at, sha256, event_seq)"
        " VALUES ('1_2', 'critical', 'eve', '2026-01-01T00:00:00+00:00', 'x', 999)",
    )
    code, _, err = run(capsys, "verify")
    assert code == 1
    assert "labels id 3 (comment 1_2): no comment_labelled event records it (inserted afterwards)" in err


def _label_events(db) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT seq FROM events WHERE kind = 'comment_labelled' ORDER BY seq")
        return [seq for (seq,) in rows]
    finally:
        conn.close()


def test_dropped_or_disarmed_append_only_trigger_is_caught(capsys, archive):
    """Every row intact, but the log no longer refuses edits: verify says so first, and passes
    again once the trigger is restored."""
    tamper(archive, restore_guards=False)
    code, _, err = run(capsys, "verify")
    assert code == 1
    assert err.splitlines()[0].startswith(
        "TAMPERED: events table: trigger events_no_update: is missing, so the log no longer refuses edits"
    )
    assert err.splitlines()[1].startswith("also: events table: trigger events_no_delete: is missing")
    tamper(archive)  # restored exactly as the schema creates them
    assert run(capsys, "verify")[0] == 0
    tamper(
        archive,
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events WHEN 0"
        " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
        " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        restore_guards=False,
    )
    assert verify_fails(capsys).startswith("TAMPERED: events table: trigger events_no_update: is changed")
    # The README's recovery statements, run as written, restore the guard.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    restore = re.search(r"put\s+the triggers back.*?```sql\n(.*?)```", readme, re.S)
    assert restore is not None
    conn = sqlite3.connect(archive)
    conn.executescript(restore.group(1))
    conn.close()
    assert run(capsys, "verify")[0] == 0
