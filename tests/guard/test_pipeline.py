"""The poll cycle's bookkeeping around the connector: read budget and status."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors.base import ReadBudget, Snapshot
from guard.config import parse_config
from guard.runtime.pipeline import run_poll
from guard.runtime.status import status_report

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
