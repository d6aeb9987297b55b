"""What a poll writes besides the rows themselves stays exact, whatever the poll changed: the
per-account, per-status comment counts `status` reads (schema step 14: kept by the poll, filled
by the migration, rolled back with a failed poll), and the search index, which a poll updates
for edits in bulk (schema step 13). And the poller's one read of each page's archived comments
(in ``plan``) still sees what the poll itself wrote before (``pages``)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.base import Comment, Post, PostScan, Snapshot
from connectors.facebook import FacebookConnector
from guard.archive import poller, queries
from guard.archive.accounts import archived_data, list_bindings
from guard.archive.schema import SCHEMA_VERSION, migrate
from guard.runtime.pipeline import poll_account
from guard.text import sha256_text
from tests.conftest import NOW
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture
from tests.support.schema import older_archive
from tests.support.snapshot import SnapshotConnector

POST = f"{PAGE_ID}_1"


def kept(db) -> dict[tuple[str, str], int]:
    """What the counts table says (zero rows are a status an account no longer has)."""
    return {(a, s): n for a, s, n in db.execute("SELECT account, status, n FROM comment_counts WHERE n != 0")}


def counted(db) -> dict[tuple[str, str], int]:
    return {
        (a, s): n
        for a, s, n in db.execute("SELECT account, status, count(*) FROM comments GROUP BY account, status")
    }


def assert_exact(db) -> None:
    """The counts equal a GROUP BY over the comments, and every search index holds exactly the
    archived text (FTS5's integrity-check against the content tables)."""
    assert kept(db) == counted(db)
    for table in ("comments_fts", "comment_versions_fts", "posts_fts", "post_versions_fts"):
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")


def matches(db, word: str) -> set[str]:
    return {
        r[0]
        for r in db.execute(
            "SELECT id FROM comments WHERE rowid IN"
            " (SELECT rowid FROM comments_fts WHERE comments_fts MATCH ?)",
            [word],
        )
    }


def test_counts_follow_new_edited_hidden_unhidden_deleted_and_reappeared_comments(db, account, rsps):
    """Real polls through the Facebook connector, each changing comments in another way: after
    every one the counts equal a count of the comments, and `status` shows them."""
    fb = FacebookConnector(PAGE_ID, "EAAB-test-token")
    page = FakePage(
        rsps,
        [
            FakePost(
                POST, "Meeting Thursday", comments=[FakeComment(f"1_{i}", f"comment {i}") for i in range(8)]
            )
        ],
    )
    steps = [
        lambda: None,  # first poll: all new
        lambda: page.post(POST).comments.append(FakeComment("1_8", "a late one", is_hidden=True)),
        lambda: setattr(page.comment("1_1"), "message", "comment one, edited"),
        lambda: setattr(page.comment("1_2"), "is_hidden", True),
        lambda: page.remove_comment("1_3"),  # confirmed deleted (the fake answers 100/33)
        lambda: setattr(page.comment("1_2"), "is_hidden", False),  # unhidden
        lambda: setattr(page.comment("1_8"), "is_hidden", False),
    ]
    for minutes, step in enumerate(steps):
        step()
        poll_account(db, account, fb, now=NOW + timedelta(minutes=minutes))
        assert_exact(db)
    # unknown (the platform's answer failed), then back in the list: reappeared
    saved = page.comment("1_4")
    page.remove_comment("1_4")
    page.deleted.discard("1_4")
    page.fail("/1_4", 400, fixture("facebook/error_unknown_1.json"))
    poll_account(db, account, fb, now=NOW + timedelta(minutes=20))
    assert_exact(db)
    assert kept(db)[account.name, "unknown"] == 1
    page.post(POST).comments.append(saved)
    poll_account(db, account, fb, now=NOW + timedelta(minutes=25))
    assert_exact(db)
    kinds = {r[0] for r in db.execute("SELECT kind FROM events")}
    assert {"comment_edited", "comment_hidden", "comment_unhidden", "comment_deleted"} <= kinds
    assert {"comment_missing", "comment_reappeared"} <= kinds
    (status,) = queries.account_status(db)
    assert (status["comments"], status["comments_present"], status["comments_deleted"]) == (9, 8, 1)
    assert (status["comments_hidden"], status["comments_unknown"]) == (0, 0)
    assert matches(db, "edited") == {"1_1"} and not matches(db, '"1"')  # its old text: "comment 1"


def scan(post: str, comments: list[Comment]) -> PostScan:
    return PostScan(Post(post, f"post {post}", NOW.isoformat()), tuple(comments), True)


def comment(cid: str, post: str, text: str, hidden: bool = False) -> Comment:
    return Comment(cid, post, None, text, NOW.isoformat(), "u1", "Sam Reader", hidden)


def churned(snapshot: Snapshot, every: int) -> Snapshot:
    """Every ``every``-th comment edited, the next one hidden, the one after that gone."""
    scans = []
    for s in snapshot.posts:
        out = []
        for i, c in enumerate(s.comments):
            if i % every == 0:
                c = replace(c, message=c.message + " walrus")
            elif i % every == 1:
                c = replace(c, hidden=True)
            elif i % every == 2:
                continue
            out.append(c)
        scans.append(replace(s, comments=tuple(out)))
    return replace(snapshot, posts=tuple(scans))


def test_counts_and_search_stay_exact_over_many_pages_and_two_accounts(db, account, monkeypatch):
    """Two accounts polled page by page (a page of 25 comments): edits, hidden and deleted
    comments on every page; the counts are each account's, the search index exact."""
    monkeypatch.setattr(poller, "PAGE_COMMENTS", 25)
    other = replace(account, name="other-page", page_id="999")
    snaps = {
        acc.name: Snapshot(
            tuple(
                scan(
                    f"{prefix}_{p}",
                    [comment(f"{prefix}_{p}_{c}", f"{prefix}_{p}", f"hello {c}") for c in range(20)],
                )
                for p in range(6)
            ),
            True,
        )
        for acc, prefix in ((account, "a"), (other, "b"))
    }
    for acc in (account, other):
        poll_account(db, acc, SnapshotConnector(snaps[acc.name]), now=NOW)
        assert_exact(db)
    poll_account(
        db, account, SnapshotConnector(churned(snaps[account.name], 5)), now=NOW + timedelta(minutes=5)
    )
    assert_exact(db)
    poll_account(
        db, other, SnapshotConnector(churned(snaps["other-page"], 4)), now=NOW + timedelta(minutes=5)
    )
    assert_exact(db)
    assert kept(db) == {
        ("main-page", "present"): 72,
        ("main-page", "hidden"): 24,
        ("main-page", "deleted"): 24,
        ("other-page", "present"): 60,
        ("other-page", "hidden"): 30,
        ("other-page", "deleted"): 30,
    }
    assert len(matches(db, "walrus")) == 24 + 30
    # back to the first texts: edited back, unhidden, the deleted ones listed again (reappeared)
    poll_account(db, account, SnapshotConnector(snaps[account.name]), now=NOW + timedelta(minutes=10))
    assert_exact(db)
    assert kept(db)["main-page", "present"] == 120 and len(matches(db, "walrus")) == 30


def test_accounts_count_their_comments_from_the_kept_counts_not_the_comments_table(db, account):
    """`accounts` and the rename/forget check count each account's comments from comment_counts
    (the comments table has no index led by the account since schema step 15 dropped the
    (status, account) one: a count there would read the whole archive)."""
    other = replace(account, name="other-page", page_id="999")
    for acc, prefix, n in ((account, "a", 30), (other, "b", 12)):
        snap = Snapshot(
            (scan(f"{prefix}_1", [comment(f"{prefix}_{c}", f"{prefix}_1", "hi") for c in range(n)]),), True
        )
        poll_account(db, acc, SnapshotConnector(snap), now=NOW)
        poll_account(db, acc, SnapshotConnector(churned(snap, 3)), now=NOW + timedelta(minutes=5))
    assert "comments_status_account" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    read: list[str] = []

    def reads(action: int, table: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and table is not None:
            read.append(table)
        return sqlite3.SQLITE_OK

    db.conn.set_authorizer(reads)
    try:
        listed = {row["name"]: row["comments"] for row in list_bindings(db)}
        held = {name: archived_data(db, name)["comments"] for name in listed}
    finally:
        db.conn.set_authorizer(None)
    assert "comment_counts" in read and "comments" not in read
    assert listed == held == {"main-page": 30, "other-page": 12}  # deleted ones are still archived


def test_a_comment_listed_under_two_posts_is_indexed_once_with_its_last_text(db, account, monkeypatch):
    """A comment the scan lists on two pages, with another text the second time, is edited
    twice in one poll: it leaves the search index once and comes back once, with the text
    written last; as a new comment too. Counted once."""
    monkeypatch.setattr(poller, "PAGE_COMMENTS", 1)  # a page per post
    first = Snapshot(
        (
            scan("p1", [comment("dup", "p1", "first text"), comment("c1", "p1", "plain")]),
            scan("p2", [comment("dup", "p2", "second text")]),
        ),
        True,
    )
    poll_account(db, account, SnapshotConnector(first), now=NOW)
    assert_exact(db)
    assert matches(db, "second") == {"dup"} and not matches(db, "first")
    poll_account(db, account, SnapshotConnector(first), now=NOW + timedelta(minutes=5))
    assert_exact(db)
    assert matches(db, "second") == {"dup"} and not matches(db, "first")
    assert kept(db) == {("main-page", "present"): 2}


def test_a_poll_rolled_back_by_an_error_leaves_the_counts_as_they_were(db, account):
    """An error at the poll's last write, after its counts and search index are written,
    rolls them back with the rest: as they were, and still exact."""
    snap = Snapshot((scan("p1", [comment(f"c{i}", "p1", f"text {i}") for i in range(10)]),), True)
    poll_account(db, account, SnapshotConnector(snap), now=NOW)
    before = kept(db)
    db.execute(
        "CREATE TEMP TRIGGER fail_poll BEFORE UPDATE OF counts ON polls"
        " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    )
    with pytest.raises(sqlite3.DatabaseError, match="disk on fire"):
        poll_account(db, account, SnapshotConnector(churned(snap, 3)), now=NOW + timedelta(minutes=5))
    assert kept(db) == before == counted(db) == {("main-page", "present"): 10}
    assert_exact(db)
    assert not matches(db, "walrus")
    db.execute("DROP TRIGGER fail_poll")
    poll_account(db, account, SnapshotConnector(churned(snap, 3)), now=NOW + timedelta(minutes=5))
    assert_exact(db)
    assert kept(db) == {("main-page", "present"): 4, ("main-page", "hidden"): 3, ("main-page", "deleted"): 3}


def test_migration_fills_the_counts_of_an_older_archive_and_polls_keep_them(account):
    """A schema-12 archive (two accounts, every status, indexed as that code did) is migrated:
    the counts equal its comments, the edit trigger is gone, and a poll on top keeps the counts
    and the search index exact."""
    db = older_archive(12)
    assert "comments_au" in {
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    stamp = NOW.isoformat()
    statuses = ["present", "present", "hidden", "deleted", "unknown", "present"]
    for name in ("main-page", "other-page"):
        db.execute("INSERT INTO accounts VALUES (?, 'facebook', ?, ?)", [name, name, stamp])
        db.execute(
            "INSERT INTO posts (id, account, message, created_time, sha256, first_seen, last_seen)"
            " VALUES (?, ?, 'post', ?, ?, ?, ?)",
            [f"{name}-p", name, stamp, sha256_text("post"), stamp, stamp],
        )
        for i, status in enumerate(statuses if name == "main-page" else statuses[:3]):
            cid, text = f"{name}-{i}", f"old words {i}"
            db.execute(
                "INSERT INTO comments (id, account, post_id, message, created_time, author_id, author_name,"
                " hidden, status, sha256, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, 'u1', 'Sam Reader',"
                " ?, ?, ?, ?, ?)",
                [
                    cid,
                    name,
                    f"{name}-p",
                    text,
                    stamp,
                    int(status == "hidden"),
                    status,
                    sha256_text(text),
                    stamp,
                    stamp,
                ],
            )
            db.execute(
                "INSERT INTO comment_versions (comment_id, version, message, sha256, seen_at)"
                " VALUES (?, 1, ?, ?, ?)",
                [cid, text, sha256_text(text), stamp],
            )
    db.execute(
        "INSERT INTO comments_fts (rowid, message, author_name)"
        " SELECT rowid, message, author_name FROM comments"
    )
    db.execute("INSERT INTO comment_versions_fts (rowid, message) SELECT id, message FROM comment_versions")
    assert migrate(db) == SCHEMA_VERSION - 12
    assert "comments_au" not in {
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    assert (
        kept(db)
        == counted(db)
        == {
            ("main-page", "present"): 3,
            ("main-page", "hidden"): 1,
            ("main-page", "deleted"): 1,
            ("main-page", "unknown"): 1,
            ("other-page", "present"): 2,
            ("other-page", "hidden"): 1,
        }
    )
    assert_exact(db)
    # A poll of main-page: 0 edited, 1 unhidden, 4 (unknown) reappeared, 5 gone, a new one.
    listed = [
        comment("main-page-0", "main-page-p", "new words 0"),
        comment("main-page-1", "main-page-p", "old words 1"),
        comment("main-page-2", "main-page-p", "old words 2"),
        comment("main-page-4", "main-page-p", "old words 4"),
        comment("main-page-6", "main-page-p", "brand new words"),
    ]
    snap = Snapshot((PostScan(Post("main-page-p", "post", stamp), tuple(listed), True),), True)
    poll_account(
        db, replace(account, page_id="main-page"), SnapshotConnector(snap), now=NOW + timedelta(minutes=5)
    )
    assert_exact(db)
    assert kept(db)["main-page", "present"] == 5 and kept(db)["main-page", "deleted"] == 2
    assert matches(db, "new") == {"main-page-0", "main-page-6"}
    assert "main-page-0" not in matches(db, "old")


TRICKY = [
    'quote " and back\\slash',
    "line\nbreak\ttab",
    "emoji 🎉👍🏽 and 中文评论",
    "nul \x00 inside",
    "e\u0301 combining, \u200f rtl mark, \u2028 separator",
    "",
]


def test_edits_of_any_text_leave_the_search_index_exact(db, account):
    """The text an edited row was indexed with goes out of the index through JSON: quotes,
    control characters, emoji, NUL, combining marks and empty text come back exactly."""
    snap = Snapshot((scan("p1", [comment(f"c{i}", "p1", t) for i, t in enumerate(TRICKY)]),), True)
    poll_account(db, account, SnapshotConnector(snap), now=NOW)
    edited = Snapshot(
        (scan("p1", [comment(f"c{i}", "p1", t + " zebra") for i, t in enumerate(TRICKY)]),), True
    )
    poll_account(db, account, SnapshotConnector(edited), now=NOW + timedelta(minutes=5))
    assert_exact(db)
    assert matches(db, "zebra") == {f"c{i}" for i in range(len(TRICKY))}
    assert not matches(db, "emoji") - {"c2"} and not matches(db, "tab") - {"c1"}
    poll_account(db, account, SnapshotConnector(snap), now=NOW + timedelta(minutes=10))
    assert_exact(db)
    assert not matches(db, "zebra")


def test_a_post_listed_twice_is_compared_with_what_the_poll_wrote_before(db, account, monkeypatch):
    """A post the scan lists twice (paging shifted under new posts), its comment edited in
    between: the second listing is compared with the row the first one wrote, not with the
    archive as it was when the poll began (that comparison is made before the writes)."""
    monkeypatch.setattr(poller, "PAGE_COMMENTS", 1)  # a page per post
    original = [comment("c", "p1", "original text"), comment("d", "p1", "other")]
    poll_account(db, account, SnapshotConnector(Snapshot((scan("p1", original),), True)), now=NOW)
    edited = [comment("c", "p1", "edited text"), original[1]]
    twice = Snapshot((scan("p1", edited), scan("p2", [comment("e", "p2", "x")]), scan("p1", original)), True)
    poll_account(db, account, SnapshotConnector(twice), now=NOW + timedelta(minutes=5))
    history = queries.history(db, "c")
    assert [v["message"] for v in history["versions"]] == ["original text", "edited text", "original text"]
    assert [e["kind"] for e in history["events"]] == ["comment_added", "comment_edited", "comment_edited"]
    assert_exact(db)
    assert matches(db, "original") == {"c"} and not matches(db, "edited")
