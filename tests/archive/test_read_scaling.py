"""Read queries that answer from indexes give the same answers as reading everything: search's
newest-comments window, status's comment counts, the posts page, a page of findings, verify."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.base import Comment, Post, PostScan, Snapshot
from guard.archive import queries, records
from guard.archive.findings import list_findings
from guard.archive.verify import verify_archive
from guard.runtime.pipeline import poll_account
from tests.conftest import NOW
from tests.support.snapshot import SnapshotConnector

WORDS = "meeting library thursday tonight parking coffee council rare".split()


def snapshot(posts: int, per_post: int) -> Snapshot:
    """Posts an hour apart, newest first (as Graph lists them), comments minutes apart; one
    comment in 100 says "rare", and posts get older as the archive fills (insertion order is
    not creation order)."""
    rng = random.Random(3)
    scans = []
    for p in range(posts):
        created = NOW - timedelta(hours=p)
        pid = f"1_{p}"
        comments = tuple(
            Comment(
                f"{p}_{c}",
                pid,
                None,
                " ".join(rng.choices(WORDS[:-1], k=6)) + (" rare" if rng.random() < 0.01 else ""),
                (created + timedelta(minutes=c)).isoformat(),
                f"u{c % 7}",
                f"User {c % 7}",
                False,
            )
            for c in range(per_post)
        )
        scans.append(PostScan(Post(pid, "meeting " * 3, created.isoformat()), comments, True))
    return Snapshot(tuple(scans), True)


@pytest.fixture
def big(db, account):
    """3,000 comments over 30 posts, then a re-poll with edits, hidden and deleted ones."""
    snap = snapshot(30, 100)
    poll_account(db, account, SnapshotConnector(snap), now=NOW)
    rng = random.Random(5)
    scans = []
    for scan in snap.posts:
        kept = []
        for c in scan.comments:
            r = rng.random()
            if r < 0.02:
                continue  # deleted
            if r < 0.04:
                c = replace(c, hidden=True)
            elif r < 0.06:
                c = replace(c, message=c.message + " rare thursday")
            kept.append(c)
        scans.append(replace(scan, comments=tuple(kept)))
    poll_account(
        db, account, SnapshotConnector(replace(snap, posts=tuple(scans))), now=NOW + timedelta(hours=1)
    )
    return db


def whole_index(db, query: str, limit: int) -> list[dict]:
    rows = db.query(queries._SEARCH.format(**queries._ALL), {"q": queries.fts_query(query), "limit": limit})
    return [{**r, "current": bool(r["current"])} for r in rows]


@pytest.mark.parametrize("query, limit", [("meeting", 50), ("thursday", 500), ("rare", 20), ("User 3", 10)])
def test_search_answers_as_the_whole_index_does(big, query, limit):
    """A common word answered from the newest comments, a rare one from the whole index: the
    same hits in the same order either way."""
    assert queries.search(big, query, limit=limit) == whole_index(big, query, limit)


def test_search_window_answers_common_words_and_passes_rare_ones_on(big, monkeypatch):
    """The window holds a common word's newest hits; a word too rare for it goes to the index."""
    monkeypatch.setattr(queries, "_WINDOW", 500)
    common = queries._search_recent(big, queries.fts_query("meeting"), 20)
    assert common is not None and common == [r for r in whole_index(big, "meeting", 20)]
    assert queries._search_recent(big, queries.fts_query("rare"), 50) is None


def test_status_counts_follow_every_insert_and_status_change(big):
    """The per-status counts equal a count of the comments after polls that add, hide and
    delete comments."""
    counted = dict(big.execute("SELECT status, count(*) FROM comments GROUP BY status").fetchall())
    (status,) = queries.account_status(big)
    assert status["comments"] == sum(counted.values()) == 3000
    assert {s: status[f"comments_{s}"] for s in counted} == counted
    assert counted["hidden"] > 0 and counted["deleted"] > 0
    assert queries._comment_counts(big, "main-page") == counted


def test_posts_page_counts_comments_of_each_post(big):
    """A page of posts, newest first, with each post's comment and deleted-comment counts."""
    page = queries.list_posts(big, limit=5)
    assert [p["id"] for p in page] == [f"1_{p}" for p in range(5)]
    for p in page:
        counts = big.execute(
            "SELECT count(*), sum(status = 'deleted') FROM comments WHERE post_id = ?", [p["id"]]
        ).fetchone()
        assert (p["comments"], p["deleted_comments"]) == (counts[0], counts[1] or 0)


def test_findings_page_is_the_newest_findings(big):
    """A limit returns the newest findings, as the first rows of the whole list."""
    for i in range(5):
        big.execute(
            "INSERT INTO findings (account, kind, severity, dedupe_key, opened_at, updated_at, evidence)"
            " VALUES ('main-page', 'unanswered', 'info', ?, ?, ?, '{}')",
            [f"k{i}", NOW.isoformat(), NOW.isoformat()],
        )
    assert list_findings(big, limit=2) == list_findings(big)[:2]
    assert [f["id"] for f in list_findings(big, limit=2)] == [5, 4]


def test_verify_streams_a_big_archive_intact(big):
    """verify, object by object, finds an archive with edits, hidden and deleted comments intact."""
    report = verify_archive(big)
    assert report.ok, report.problems
    assert report.objects == 3030 and report.versions > 3030


def test_verify_reports_progress_of_each_pass(big, monkeypatch):
    """Progress is heard for the hashing and for the post and comment checks, in that order."""
    import guard.archive.verify as verify

    monkeypatch.setattr(verify, "PROGRESS_EVERY", 1000)
    heard: list[tuple[str, int]] = []
    verify_archive(big, progress=lambda what, n: heard.append((what, n)))
    assert [w for w, _ in heard if w == "events hashed"] and ("comments checked", 3000) in heard
    assert [w for w, _ in heard].index("comments checked") > [w for w, _ in heard].index("events hashed")


def test_the_engine_loads_an_uncorrected_posts_notable_comments_through_their_own_index(big):
    """A poll's engine reads, of a post that is not corrected, only its comments that are no
    longer plainly present (and the page's own): through the partial index that holds just
    those, not by reading every comment of every touched post."""
    plan = " ".join(r[3] for r in big.execute("EXPLAIN QUERY PLAN " + records._RELEVANT_COMMENTS, ["[]"]))
    assert "USING INDEX comments_notable" in plan
    ids = [r[0] for r in big.execute("SELECT id FROM posts ORDER BY id")]
    loaded = {
        c.id
        for t in records.load_threads(big, ids, every_comment=lambda post, marks: False)
        for c in t.comments
    }
    notable = {
        r[0]
        for r in big.execute(
            "SELECT id FROM comments NOT INDEXED WHERE status != 'present' OR from_page != 0"
        )
    }
    assert loaded == notable and len(notable) > 50


@pytest.mark.parametrize("status", ["hidden", "deleted", "present"])
@pytest.mark.parametrize("since", [None, (NOW - timedelta(hours=12)).isoformat()])
def test_a_status_listing_reads_its_page_in_time_order_and_stops(big, status, since):
    """`comments --status hidden --limit 100` read every hidden comment of the archive and
    sorted them before taking 100: now the index gives them in time order (no sort step), and
    the page is the one the whole table gives."""
    captured = []
    real_query = big.query

    def query(sql, args=()):
        captured.append((sql, args))
        return real_query(sql, args)

    big.query = query
    page = queries.list_comments(big, status=status, since=since, limit=20)
    sql, args = captured[-1]
    plan = " ".join(r[3] for r in big.execute("EXPLAIN QUERY PLAN " + sql, args))
    assert "TEMP B-TREE" not in plan, plan
    expected = [
        r[0]
        for r in big.execute(
            "SELECT id FROM comments NOT INDEXED WHERE status = ? AND created_time >= ?"
            " ORDER BY created_time, id LIMIT 20",
            [status, since or ""],
        )
    ]
    assert [r["id"] for r in page] == expected and len(expected) == 20
