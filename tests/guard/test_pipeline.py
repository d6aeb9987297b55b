"""The poll cycle's bookkeeping around the connector and the archive: read budget, status, and
the WAL checkpoint that runs beside the engine."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from structlog.testing import capture_logs

from connectors.base import Comment, Post, PostScan, ReadBudget, Snapshot
from guard.archive.connection import open_archive
from guard.archive.polls import ensure_account
from guard.clock import iso
from guard.config import parse_config
from guard.errors import ArchiveError
from guard.runtime import pipeline
from guard.runtime.pipeline import run_poll
from guard.runtime.status import status_report
from tests.support.snapshot import SnapshotConnector
from tests.support.wal import wal_state

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
CONFIG = """
[guard]
database = "unused.db"

[[accounts]]
name = "x-main"
platform = "x"
page_id = "42"
token_env = "X_TOKEN"
monthly_read_budget = 1000
"""


class MeteredConnector:
    """A connector double that reads ``per_poll`` posts per poll, like XConnector's budget API."""

    platform = "x"
    absences_before_confirm = 1

    def __init__(self, per_poll: int) -> None:
        self.api_calls = 0
        self.per_poll = per_poll
        self.read_budget = ReadBudget(1000, lambda: NOW, platform="X")

    def fetch(self, since):
        self.read_budget.add(self.per_poll)
        return Snapshot(posts=(), posts_complete=True)

    def confirm_gone(self, targets):
        return {}


def test_read_budget_survives_restarts_and_slows_polling_near_the_cap(db):
    """Spend is stored per month; at 75 % polls are spaced 2x, at 90 % 4x; status shows it."""
    cfg = parse_config(CONFIG)
    account = cfg.accounts[0]
    factors = []
    for _ in range(10):  # a fresh connector each poll, as after a daemon restart
        outcome = run_poll(cfg, db, account, connector=MeteredConnector(100), now=NOW)
        factors.append(outcome.interval_factor)
    assert factors == [1, 1, 1, 1, 1, 1, 1, 2, 4, 4]  # 800 reads = 80 %, 900 = 90 %
    assert outcome.budget_spent == 1000
    report = status_report(cfg, db)
    assert any("1,000 of 1,000 monthly reads used (100%)" in line for line in report["lines"])
    next_month = run_poll(
        cfg,
        db,
        account,
        connector=MeteredConnector(100),
        now=datetime(2026, 12, 1, 0, 5, tzinfo=timezone.utc),
    )
    assert next_month.budget_spent == 100 and next_month.interval_factor == 1


class BilledConnector:
    """A connector double whose every poll returns the same ``posts`` post ids, like X."""

    platform = "x"
    absences_before_confirm = 1

    def __init__(self, posts: int, now: datetime) -> None:
        self.api_calls = 0
        self.ids = [f"p{i}" for i in range(posts)]
        self.read_budget = ReadBudget(100_000, lambda: now, platform="X")

    def fetch(self, since):
        self.read_budget.add_posts(self.ids)
        return Snapshot(posts=(), posts_complete=True)

    def confirm_gone(self, targets):
        return {}


def test_read_budget_counts_distinct_posts_per_utc_day_across_restarts(db):
    """Three polls of a 210-post account in one UTC day cost 210 reads, not 630, even with a
    fresh connector each poll; the next day's first poll bills them again."""
    cfg = parse_config(CONFIG)
    account = cfg.accounts[0]
    spent = [
        run_poll(cfg, db, account, connector=BilledConnector(210, at), now=at).budget_spent
        for at in (NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=10), NOW + timedelta(days=1))
    ]
    assert spent == [210, 210, 210, 420]


FACEBOOK = """
[guard]
database = "unused.db"

[[accounts]]
name = "main-page"
platform = "facebook"
page_id = "1"
token_env = "FB_PAGE_TOKEN"
"""


def _posts(n: int = 5, per_post: int = 40) -> Snapshot:
    created = (NOW - timedelta(hours=1)).isoformat()
    return Snapshot(
        tuple(
            PostScan(
                Post(f"1_{p}", f"post {p}", created, created, f"https://x/{p}"),
                tuple(
                    Comment(f"{p}_{c}", f"1_{p}", None, f"comment {c} on post {p}", created)
                    for c in range(per_post)
                ),
                True,
            )
            for p in range(n)
        ),
        True,
    )


def test_run_poll_returns_with_the_polls_pages_copied_from_the_wal_into_the_database(tmp_path, monkeypatch):
    """The poll's commit does not checkpoint; a checkpoint beside the engine does, and
    run_poll waits for it: every WAL frame the poll wrote is in the database file."""
    path = tmp_path / "archive.db"
    db = open_archive(path)
    cfg = parse_config(FACEBOOK)
    after_poll = []
    poll_account = pipeline.poll_account

    def recorded(*args, **kwargs):
        result = poll_account(*args, **kwargs)
        after_poll.append((wal_state(path), db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]))
        return result

    monkeypatch.setattr(pipeline, "poll_account", recorded)
    run_poll(cfg, db, cfg.accounts[0], connector=SnapshotConnector(_posts()), now=NOW)
    (poll_frames, copied_at_commit, poll_salt), autocheckpoint = after_poll[0]
    assert poll_frames > 0 and copied_at_commit == 0 and autocheckpoint == 0
    _, copied, salt = wal_state(path)
    # the WAL starts again from its beginning (a new salt) only once every frame was copied
    assert copied >= poll_frames or salt != poll_salt
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def _binding_elsewhere(db, monkeypatch) -> None:
    """The account name is archived as another page: the poll's write raises ArchiveError."""
    ensure_account(db, "main-page", "facebook", "2", iso(NOW))


def _engine_fails(db, monkeypatch) -> None:
    def failing(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(pipeline, "run_engine", failing)


@pytest.mark.parametrize("failure", [_binding_elsewhere, _engine_fails])
def test_a_poll_that_raises_restores_the_autocheckpoint_setting(tmp_path, monkeypatch, failure):
    db = open_archive(tmp_path / "archive.db")
    db.execute("PRAGMA wal_autocheckpoint = 777")
    failure(db, monkeypatch)
    cfg = parse_config(FACEBOOK)
    with pytest.raises((ArchiveError, RuntimeError)):
        run_poll(cfg, db, cfg.accounts[0], connector=SnapshotConnector(_posts()), now=NOW)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 777


def test_a_failed_checkpoint_neither_fails_nor_hides_the_poll(tmp_path, monkeypatch):
    """The checkpoint's own connection cannot open (an I/O error): the poll is written and
    reported, the failure is logged, and the WAL keeps the pages for a later checkpoint."""
    path = tmp_path / "archive.db"
    db = open_archive(path)
    cfg = parse_config(FACEBOOK)

    def failing(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite3, "connect", failing)
    with capture_logs() as logs:
        outcome = run_poll(cfg, db, cfg.accounts[0], connector=SnapshotConnector(_posts()), now=NOW)
    assert outcome.poll.items == 5 * 41 and outcome.poll.error is None
    assert db.execute("SELECT count(*) FROM comments").fetchone()[0] == 200
    assert [e["error"] for e in logs if e["event"] == "wal_checkpoint_failed"] == [
        "OperationalError: disk I/O error"
    ]
    assert wal_state(path)[1] == 0


def test_a_staff_reader_holding_a_snapshot_neither_blocks_the_poll_nor_loses_its_view(tmp_path):
    """The README promises the checkpoint beside the engine never waits for a reader: a
    command holding a read transaction open (a long export, the web page) all through a poll
    keeps reading what it saw, and the poll finishes and is visible to the next reader."""
    path = tmp_path / "archive.db"
    db = open_archive(path)
    cfg = parse_config(FACEBOOK)
    run_poll(cfg, db, cfg.accounts[0], connector=SnapshotConnector(_posts(1)), now=NOW)
    reader = sqlite3.connect(path, timeout=0)  # a reader that would fail at once if it had to wait
    reader.execute("BEGIN")
    before = reader.execute("SELECT count(*) FROM comments").fetchone()[0]
    with capture_logs() as logs:
        outcome = run_poll(
            cfg, db, cfg.accounts[0], connector=SnapshotConnector(_posts()), now=NOW + timedelta(minutes=5)
        )
    assert outcome.poll.error is None
    # the checkpoint copied what it could without waiting for the reader (busy: it had to wait)
    assert [e["busy"] for e in logs if e["event"] == "wal_checkpointed"] == [0]
    assert reader.execute("SELECT count(*) FROM comments").fetchone()[0] == before == 40
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM comments").fetchone()[0] == 200
    reader.close()
