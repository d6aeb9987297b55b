"""The daemon spaces out the polls of an account whose monthly read budget (X) runs low, as
`poll --once` reports and the README promises: 2x from 75 %, 4x from 90 %."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine

from connectors.base import ReadBudget, Snapshot
from guard.archive.connection import open_archive
from guard.archive.meta import meta_get
from guard.config import load_config
from guard.runtime.daemon import Daemon, next_poll_key
from guard.runtime.pipeline import run_poll
from guard.runtime.status import status_report

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


class MeteredConnector:
    """Reads ``per_poll`` posts a poll against a 1,000-read monthly budget, like XConnector."""

    platform = "x"
    absences_before_confirm = 1
    api_calls = 0

    def __init__(self, per_poll: int) -> None:
        self.per_poll = per_poll
        self.read_budget = ReadBudget(1000, lambda: datetime.now(timezone.utc), platform="X")

    def fetch(self, since):
        self.read_budget.check()
        self.read_budget.add(self.per_poll)
        return Snapshot(posts=(), posts_complete=True)

    def confirm_gone(self, targets):
        return {}

    def close(self) -> None:
        pass


def _config(tmp_path, monkeypatch):
    """One X account polled every 10 minutes with a 1,000-read monthly budget."""
    monkeypatch.setenv("CG_TEST_X_TOKEN", "x-token-for-the-budget-test")
    path = tmp_path / "comment-guard.toml"
    path.write_text(
        '[guard]\ndatabase = "archive.db"\n\n[[accounts]]\nname = "x-main"\nplatform = "x"\n'
        'page_id = "42"\ntoken_env = "CG_TEST_X_TOKEN"\npoll_every = "10m"\nmonthly_read_budget = 1000\n'
    )
    return load_config(path)


def test_polls_are_spaced_out_as_the_monthly_read_budget_runs_out(tmp_path, monkeypatch):
    """400 reads a poll of a 1,000 budget: the first poll keeps the 10-minute pace, the second
    (80 %) puts the next poll 20 minutes out, the third (120 %) 40 minutes out."""
    config = _config(tmp_path, monkeypatch)
    account = config.account("x-main")
    daemon = Daemon(config, connectors={"x-main": MeteredConnector(400)})
    daemon._db = open_archive(config.guard.database)
    with time_machine.travel(NOW, tick=False):
        daemon._add_jobs()
        gaps = []
        for _ in range(3):
            daemon._poll(account)
            gaps.append(datetime.fromisoformat(meta_get(daemon._db, next_poll_key("x-main"))) - NOW)
    assert gaps[0] <= timedelta(minutes=10, seconds=30)
    assert gaps[1] >= timedelta(minutes=20)
    assert gaps[2] >= timedelta(minutes=40)


def test_status_fails_once_the_monthly_read_budget_is_spent(tmp_path, monkeypatch):
    """The budget spent, the next poll is refused and moved to the 1st: the account archives
    nothing for the rest of the month, which one failed poll never makes account-failing; the
    health check says so instead of exiting 0."""
    config = _config(tmp_path, monkeypatch)
    db = open_archive(config.guard.database)
    account = config.account("x-main")
    connector = MeteredConnector(600)
    with time_machine.travel(NOW, tick=False):
        run_poll(config, db, account, connector=connector)
        assert not status_report(config, db)["unhealthy"]  # 60 %: slower, still archiving
        run_poll(config, db, account, connector=connector)
        refused = run_poll(config, db, account, connector=connector)
        report = status_report(config, db)
    assert refused.poll.failed
    assert report["unhealthy"] and report["budget_spent_accounts"] == ["x-main"]
    assert any("x-main: READ BUDGET SPENT" in line for line in report["lines"])
