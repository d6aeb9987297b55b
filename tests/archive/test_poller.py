"""Polls through the real Facebook connector into the archive: versions, statuses, events."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.facebook import FacebookConnector
from guard.archive import polls, queries
from guard.archive.connection import open_archive
from guard.archive.events import verify_chain
from guard.archive.verify import verify_archive
from guard.errors import ArchiveError
from guard.runtime.pipeline import poll_account
from tests.conftest import NOW
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture

POST = f"{PAGE_ID}_1"


@pytest.fixture
def page(rsps) -> FakePage:
    post = FakePost(
        POST,
        "Reminder: the meeting is Thursday at 7pm.",
        comments=[
            FakeComment("1_1", "wait, the meeting is TONIGHT?!?"),
            FakeComment("1_2", "See you there!", author="Sam Neighbor", author_id="5550002"),
            FakeComment(
                "1_3",
                "Yes, tonight at 7.",
                author="Riverside Community Center",
                author_id=PAGE_ID,
                parent="1_1",
            ),
        ],
    )
    return FakePage(rsps, [post])


@pytest.fixture
def fb() -> FacebookConnector:
    return FacebookConnector(PAGE_ID, "EAAB-test-token")


def poll(db, account, fb, minutes: int = 0):
    return poll_account(db, account, fb, now=NOW + timedelta(minutes=minutes))


def statuses(db) -> dict[str, str]:
    return {r["id"]: r["status"] for r in db.query("SELECT id, status FROM comments")}


def kinds(db) -> list[str]:
    return [r["kind"] for r in db.query("SELECT kind FROM events ORDER BY seq")]


def test_first_poll_archives_posts_comments_and_reply_links(db, account, page, fb):
    """The first poll stores the post, every comment, reply parents and version 1 of each."""
    result = poll(db, account, fb)
    assert result.complete and result.api_calls == 1 and result.items == 4
    rows = queries.list_comments(db, post=POST)
    assert [r["id"] for r in rows] == ["1_1", "1_2", "1_3"]
    assert rows[2]["parent_id"] == "1_1" and rows[2]["from_page"] is True
    assert db.execute("SELECT count(*) FROM comment_versions").fetchone()[0] == 3
    assert kinds(db) == ["post_added", "comment_added", "comment_added", "comment_added"]


def test_identical_second_poll_writes_no_versions_and_no_events(db, account, page, fb):
    """Polling unchanged data again adds a poll row and nothing else."""
    poll(db, account, fb)
    before = (
        db.execute("SELECT count(*) FROM events").fetchone()[0],
        db.execute("SELECT count(*) FROM comment_versions").fetchone()[0],
        db.execute("SELECT count(*) FROM post_versions").fetchone()[0],
    )
    second = poll(db, account, fb, minutes=5)
    after = (
        db.execute("SELECT count(*) FROM events").fetchone()[0],
        db.execute("SELECT count(*) FROM comment_versions").fetchone()[0],
        db.execute("SELECT count(*) FROM post_versions").fetchone()[0],
    )
    assert after == before and second.counts == {}
    assert queries.list_comments(db, post=POST)[0]["last_seen"] == "2026-11-21T12:05:00+00:00"


def test_edited_comment_and_post_get_new_versions_with_word_diffs(db, account, page, fb):
    """Edits add a version carrying a word-level diff; the old text stays in the archive."""
    poll(db, account, fb)
    page.comment("1_2").message = "See you there Thursday!"
    page.post(POST).message = "Reminder: the meeting is the Thirteenth at 7pm."
    poll(db, account, fb, minutes=5)
    h = queries.history(db, "1_2")
    assert [v["message"] for v in h["versions"]] == ["See you there!", "See you there Thursday!"]
    assert h["versions"][1]["diff"] == [["=", "See you"], ["-", "there!"], ["+", "there Thursday!"]]
    p = queries.history(db, POST)
    assert p["versions"][1]["diff_text"] == "Reminder: the meeting is [-Thursday-] {+the Thirteenth+} at 7pm."
    assert kinds(db)[-2:] == ["post_edited", "comment_edited"]


def test_hidden_flips_produce_events_and_hidden_is_never_deleted(db, account, page, fb):
    """is_hidden true/false become comment_hidden/comment_unhidden; status follows."""
    poll(db, account, fb)
    page.comment("1_1").is_hidden = True
    poll(db, account, fb, minutes=5)
    assert statuses(db)["1_1"] == "hidden" and kinds(db)[-1] == "comment_hidden"
    poll(db, account, fb, minutes=10)
    assert statuses(db)["1_1"] == "hidden"
    page.comment("1_1").is_hidden = False
    poll(db, account, fb, minutes=15)
    assert statuses(db)["1_1"] == "present" and kinds(db)[-1] == "comment_unhidden"


def test_missing_comment_with_not_found_and_control_ok_is_deleted(db, account, page, fb):
    """Absent from a complete scan + 100/33 + readable post → deleted, text kept."""
    poll(db, account, fb)
    page.remove_comment("1_1")
    result = poll(db, account, fb, minutes=5)
    assert statuses(db)["1_1"] == "deleted" and result.counts == {"comment_deleted": 1}
    deleted = queries.list_comments(db, status="deleted")
    assert deleted[0]["message"] == "wait, the meeting is TONIGHT?!?"


def test_missing_comment_with_failed_control_read_is_unknown_then_retried(db, account, page, fb):
    """100/33 but the post itself unreadable → unknown; the next poll asks again."""
    poll(db, account, fb)
    page.remove_comment("1_1")
    page.fail(f"/{POST}", 400, fixture("facebook/error_unknown_1.json"))
    poll(db, account, fb, minutes=5)
    assert statuses(db)["1_1"] == "unknown" and kinds(db)[-1] == "comment_missing"
    poll(db, account, fb, minutes=10)
    assert statuses(db)["1_1"] == "deleted"


def test_comment_that_reappears_is_recorded_as_reappeared(db, account, page, fb):
    """A comment back after being unknown is present again with a comment_reappeared event."""
    poll(db, account, fb)
    saved = page.comment("1_2")
    page.remove_comment("1_2")
    page.deleted.discard("1_2")  # the id still resolves: it only fell out of the list
    page.fail("/1_2", 400, fixture("facebook/error_unknown_1.json"))
    poll(db, account, fb, minutes=5)
    assert statuses(db)["1_2"] == "unknown"
    page.post(POST).comments.append(saved)
    poll(db, account, fb, minutes=10)
    assert statuses(db)["1_2"] == "present" and kinds(db)[-1] == "comment_reappeared"


@pytest.mark.parametrize(
    "status,body",
    [
        (500, "<html>Internal Server Error</html>"),
        (400, fixture("facebook/error_rate_limit_613.json")),
        (
            400,
            {
                "error": {
                    "message": "(#4) Application request limit reached",
                    "type": "OAuthException",
                    "code": 4,
                    "fbtrace_id": "Ab1",
                }
            },
        ),
        (
            400,
            {
                "error": {
                    "message": "(#17) User request limit reached",
                    "type": "OAuthException",
                    "code": 17,
                    "fbtrace_id": "Ab2",
                }
            },
        ),
        (400, fixture("facebook/error_page_throttled_32.json")),
        (
            400,
            {
                "error": {
                    "message": "(#80001) There have been too many calls to this Page account.",
                    "type": "OAuthException",
                    "code": 80001,
                    "fbtrace_id": "Ab3",
                }
            },
        ),
    ],
)
def test_error_mid_comment_pages_changes_no_status_and_marks_poll_incomplete(
    db, account, rsps, fb, status, body
):
    """A failed page of comments never turns the unread comments into deletions."""
    post = FakePost(POST, "many comments", comments=[FakeComment(f"1_{i}", f"c{i}") for i in range(150)])
    page = FakePage(rsps, [post])
    poll(db, account, fb)
    del post.comments[120:]  # would look deleted if the failure were ignored
    page.fail("/comments", status, body)
    result = poll(db, account, fb, minutes=5)
    assert set(statuses(db).values()) == {"present"}
    assert not result.complete and result.error is not None
    row = db.execute("SELECT complete, error FROM polls ORDER BY id DESC").fetchone()
    assert row[0] == 0 and row[1]


def test_timeout_mid_comment_pages_changes_no_status(db, account, rsps, fb):
    """A timeout while paging comments is an incomplete poll, not a deletion."""
    import requests

    post = FakePost(POST, "many comments", comments=[FakeComment(f"1_{i}", f"c{i}") for i in range(150)])
    page = FakePage(rsps, [post])
    poll(db, account, fb)
    del post.comments[120:]
    page.fail(f"/{POST}/comments", raises=requests.Timeout("slow"))
    result = poll(db, account, fb, minutes=5)
    assert set(statuses(db).values()) == {"present"} and not result.complete
    assert page.calls >= 1


def test_expired_token_records_failed_poll_and_changes_nothing(db, account, page, fb):
    """Code 190 → poll row with the error, no status changes, no events."""
    poll(db, account, fb)
    events_before = kinds(db)
    page.remove_comment("1_1")
    page.fail("/posts", 400, fixture("facebook/error_expired_token.json"))
    result = poll(db, account, fb, minutes=5)
    assert result.failed and "token" in str(result.error)
    assert statuses(db)["1_1"] == "present" and kinds(db) == events_before


def test_exception_halfway_through_writes_leaves_archive_unchanged(db, account, page, fb, monkeypatch):
    """A crash after part of a poll's writes rolls the whole poll back."""
    poll(db, account, fb)
    page.comment("1_2").message = "edited"
    page.remove_comment("1_1")
    snapshot_before = {
        t: list(db.query(f"SELECT * FROM {t}"))
        for t in ("posts", "comments", "comment_versions", "events", "polls")
    }
    real = polls.append_events

    def boom(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(polls, "append_events", boom)
    with pytest.raises(RuntimeError):
        poll(db, account, fb, minutes=5)
    after = {t: list(db.query(f"SELECT * FROM {t}")) for t in snapshot_before}
    assert after == snapshot_before


def test_deleted_post_needs_the_same_confirmation(db, account, page, fb):
    """A post missing from a complete post list is deleted only after 100/33 + page read."""
    poll(db, account, fb)
    page.posts.clear()
    page.deleted.add(POST)
    poll(db, account, fb, minutes=5)
    assert db.execute("SELECT status FROM posts WHERE id = ?", [POST]).fetchone()[0] == "deleted"
    assert "post_deleted" in kinds(db)


def test_verify_passes_then_names_the_row_altered_with_plain_sqlite(tmp_path, account, page, fb):
    """The hash chain verifies, and detects a row edited behind our back."""
    db = open_archive(tmp_path / "a.db")
    poll(db, account, fb)
    assert verify_chain(db).ok
    db.execute("DROP TRIGGER events_no_update")
    data = json.dumps({"version": 1, "sha256": "forged"})
    db.execute("UPDATE events SET data = ? WHERE seq = 2", [data])
    db.conn.commit()
    check = verify_chain(db)
    assert not check.ok and check.bad_seq == 2


def test_events_table_refuses_updates_and_deletes(db, account, page, fb):
    """The append-only rule is enforced by the database, not only by our code."""
    import sqlite3

    poll(db, account, fb)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")


def test_comment_edited_to_empty_text_keeps_both_versions(db, account, page, fb):
    """An edit that blanks a comment is still an edit: the archive holds the blank and the old text."""
    poll(db, account, fb)
    page.comment("1_2").message = ""
    poll(db, account, fb, minutes=5)
    h = queries.history(db, "1_2")
    assert [v["message"] for v in h["versions"]] == ["See you there!", ""]
    assert h["current"]["message"] == ""


def test_missing_is_hidden_field_keeps_the_known_hidden_state(db, account, page, fb):
    """A response without is_hidden (token lost the moderate task) is not read as 'unhidden'."""
    page.comment("1_1").is_hidden = True
    poll(db, account, fb)
    page.comment("1_1").is_hidden = None
    poll(db, account, fb, minutes=5)
    assert statuses(db)["1_1"] == "hidden"
    assert "comment_unhidden" not in kinds(db)


def test_search_index_is_exact_after_every_poll(db, account, page, fb):
    """New comments and versions are indexed in bulk once per poll: after each poll the full-text
    indexes hold exactly the archived text (FTS5 integrity-check) and find the new words."""
    page.post(POST).comments.append(FakeComment("1_4", "is the parking lot open?"))
    poll(db, account, fb)
    page.comment("1_2").message = "See you there Thursday, zebra!"
    page.post(POST).comments.append(FakeComment("1_5", "bring a quokka"))
    poll(db, account, fb, minutes=5)
    for table in ("comments_fts", "comment_versions_fts", "posts_fts", "post_versions_fts"):
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
    found = {
        word: [r[0] for r in db.execute(f"SELECT rowid FROM {t} WHERE {t} MATCH ?", [word]).fetchall()]
        for t, word in (("comments_fts", "quokka"), ("comment_versions_fts", "zebra"))
    }
    assert len(found["quokka"]) == 1 and len(found["zebra"]) == 1
    total = db.execute("SELECT count(*) FROM comments").fetchone()[0]
    assert db.execute("SELECT count(*) FROM comments_fts").fetchone()[0] == total


def test_a_lone_surrogate_from_the_api_is_archived_as_a_replacement_character(db, account, rsps, fb):
    """JSON may carry half of a UTF-16 pair ("\\ud83d", an emoji cut off); UTF-8 cannot hold it.
    The text is kept with U+FFFD in its place instead of the poll failing on it every time."""
    cut = "see you there \ud83d"
    FakePage(
        rsps,
        [FakePost(POST, "post \udc4b", comments=[FakeComment("1_1", cut, author="Dana \ud83d")])],
    )
    result = poll(db, account, fb)
    assert result.complete and result.error is None
    assert db.execute("SELECT message, author_name FROM comments").fetchone() == (
        "see you there \ufffd",
        "Dana \ufffd",
    )
    assert db.execute("SELECT message FROM posts").fetchone() == ("post \ufffd",)
    assert verify_archive(db).ok


def test_a_page_archived_under_one_name_is_refused_under_another(db, account, page, fb):
    """The config renames an account (same page): the poll stops at one line naming the name
    the page is archived under, instead of failing on every post it has already archived."""
    poll(db, account, fb)
    before = kinds(db)
    with pytest.raises(ArchiveError, match="archived as account 'main-page', not 'riverside'"):
        poll_account(db, replace(account, name="riverside"), fb, now=NOW + timedelta(minutes=5))
    assert kinds(db) == before
    assert [r[0] for r in db.execute("SELECT name FROM accounts")] == ["main-page"]
