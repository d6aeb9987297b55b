"""Polls are all or nothing under kill -9: a poller killed at a random moment of a big first
poll leaves either the whole poll or none of it, never a duplicate event, and the chain and
the evidence still verify. (Issue 10, item 6: the full run is 18 kills inside a 40,000-comment
first poll, ``-m slow``; the default suite runs a small one.)"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from collections import Counter

import pytest

from guard.archive.connection import open_archive
from guard.archive.verify import verify_archive
from tests.daemon.conftest import REPO

POLLER = r"""
import sys
from datetime import timedelta
sys.path.insert(0, "bench")
from ingest import ACCOUNT, NOW, SnapshotConnector, churn, make_snapshot
from guard.archive.connection import open_archive
from big_archive import CONFIG
from guard.config import parse_config
from guard.runtime.pipeline import poll_account, run_poll

posts, per_post = int(sys.argv[2]), int(sys.argv[3])
snapshot = make_snapshot(posts, per_post)
db = open_archive(sys.argv[1])
if "churn" in sys.argv[4:]:  # a re-poll with edits, hidden and deleted comments
    snapshot, now = churn(snapshot), NOW + timedelta(minutes=5)
else:
    now = NOW
print("polling", flush=True)
if "run_poll" in sys.argv[4:]:  # the engine after the poll, the WAL checkpointed beside it
    config = parse_config(CONFIG.format(db=sys.argv[1]))
    run_poll(config, db, config.account("bench"), connector=SnapshotConnector(snapshot), now=now)
else:
    poll_account(db, ACCOUNT, SnapshotConnector(snapshot), now=now)
print("done", flush=True)
"""


def _exact_counts_and_search(db) -> None:
    """The comment counts equal the comments, and the search indexes their text."""
    kept = {(a, s): n for a, s, n in db.execute("SELECT account, status, n FROM comment_counts WHERE n != 0")}
    counted = db.execute("SELECT account, status, count(*) FROM comments GROUP BY account, status")
    assert kept == {(a, s): n for a, s, n in counted}
    for table in ("comments_fts", "comment_versions_fts"):
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")


def _killed_after(argv: list[str], seconds: float) -> int:
    """Run the poller, kill -9 it ``seconds`` after it starts polling (if still running);
    its exit code."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout.readline().strip() == "polling", proc.stderr.read()
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return proc.returncode


def _kills(tmp_path, kills: int, posts: int, per_post: int, seed: int) -> None:
    db_path = tmp_path / "archive.db"
    total = posts * per_post
    rng = random.Random(seed)
    completed = 0
    for _ in range(kills):
        argv = [sys.executable, "-c", POLLER, str(db_path), str(posts), str(per_post)]
        if _killed_after(argv, rng.uniform(0.0, 1.5)) == 0:
            completed += 1
        db = open_archive(db_path)
        try:
            added = db.execute("SELECT count(*) FROM events WHERE kind = 'comment_added'").fetchone()[0]
            polls = db.execute("SELECT count(*) FROM polls").fetchone()[0]
            comments = db.execute("SELECT count(*) FROM comments").fetchone()[0]
            assert added in (0, total) and comments == added  # all or nothing
            # a kill after the commit still counts; a later poll of the same data adds no events
            assert completed <= polls and (added == total) == (polls > 0)
            doubled = Counter(
                r[0] for r in db.execute("SELECT object_id FROM events WHERE kind = 'comment_added'")
            )
            assert not [k for k, n in doubled.items() if n > 1]
            assert verify_archive(db).ok
            _exact_counts_and_search(db)
        finally:
            db.conn.close()


def test_kill9_during_a_first_poll_leaves_all_or_nothing(tmp_path):
    """Three kills at random moments of a 2,000-comment first poll: all or nothing each time."""
    _kills(tmp_path, kills=3, posts=20, per_post=100, seed=10)


@pytest.mark.slow
def test_kill9_eighteen_times_inside_a_40000_comment_first_poll(tmp_path):
    """18 kills inside a 40,000-comment first poll: no loss, no duplicate event."""
    _kills(tmp_path, kills=18, posts=200, per_post=200, seed=18)


@pytest.mark.slow
def test_kill9_thirty_random_kills(tmp_path):
    """30 random kills of a 5,000-comment first poll."""
    _kills(tmp_path, kills=30, posts=50, per_post=100, seed=30)


def _churn_kills(
    tmp_path, kills: int, posts: int, per_post: int, seed: int, run: tuple[str, ...] = ()
) -> None:
    """A first poll, then re-polls with churn killed at random moments: each leaves the churn
    poll's edits (versions, search index, counts) all written or none. ``run``: ``("run_poll",)``
    polls through the pipeline (the engine, and the WAL checkpoint beside it)."""
    db_path = tmp_path / "archive.db"
    argv = [sys.executable, "-c", POLLER, str(db_path), str(posts), str(per_post), *run]
    subprocess.run(argv, check=True, capture_output=True, cwd=REPO)
    rng = random.Random(seed)
    for _ in range(kills):
        _killed_after([*argv, "churn"], rng.uniform(0.0, 0.4))
        db = open_archive(db_path)
        try:
            polls = db.execute("SELECT count(*) FROM polls").fetchone()[0]
            edits = db.execute("SELECT count(*) FROM comment_versions WHERE version = 2").fetchone()[0]
            edited = db.execute("SELECT count(*) FROM events WHERE kind = 'comment_edited'").fetchone()[0]
            assert edits == edited and (edits > 0) == (polls > 1)  # the churn poll, whole or not at all
            assert verify_archive(db).ok
            _exact_counts_and_search(db)
        finally:
            db.conn.close()


@pytest.mark.slow
def test_kill9_during_churn_re_polls_leaves_all_or_nothing(tmp_path):
    """Ten kills of a re-poll of 10,000 comments with 2 % churn: the edits' search index and the
    comment counts are the poll's whole or none of it."""
    _churn_kills(tmp_path, kills=10, posts=50, per_post=200, seed=12)


@pytest.mark.slow
def test_kill9_during_run_poll_churn_re_polls_with_the_checkpoint_beside_the_engine(tmp_path):
    """Ten kills of the whole pipeline's churn re-poll, some while the WAL is copied into the
    database beside the engine: the poll stays whole or absent, the archive verifies."""
    _churn_kills(tmp_path, kills=10, posts=50, per_post=200, seed=13, run=("run_poll",))
