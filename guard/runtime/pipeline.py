"""One poll cycle for one account, wired end to end: connector → poller → archive → engine.

Both the CLI (`poll --once`) and the daemon call ``run_poll``, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from connectors.base import Connector
from guard.clock import utcnow
from guard.config import Account, Config
from connectors.registry import connect
from guard.engine import run_engine
from guard.archive.meta import budget_key, meta_get, meta_set
from guard.archive.poller import PollResult, poll_account

__all__ = ["PollOutcome", "run_poll"]


@dataclass(frozen=True)
class PollOutcome:
    poll: PollResult
    findings_opened: list[int] = field(default_factory=list)
    # >1 when the account should be polled less often (X read budget nearly spent).
    interval_factor: float = 1.0
    budget_spent: int | None = None

    def summary_lines(self) -> list[str]:
        lines = []
        if self.findings_opened:
            lines.append(f"{len(self.findings_opened)} new finding(s): "
                         + ", ".join(f"#{i}" for i in self.findings_opened)
                         + " (see `comment-guard findings`)")
        if self.interval_factor > 1:
            lines.append(f"read budget {self.budget_spent} used: polling {self.interval_factor:g}x "
                         "less often until the month ends")
        return lines


def run_poll(config: Config, db: sqlite_utils.Database, account: Account, *,
             connector: Connector | None = None, now: datetime | None = None) -> PollOutcome:
    connector = connector or connect(account.connector_settings())
    moment = now or utcnow()
    budget = connector.read_budget if account.monthly_read_budget is not None else None
    if budget is not None:
        budget.set_spent(int(meta_get(db, budget_key(account.name, moment)) or 0))
    result = poll_account(db, account, connector, now=moment)
    spent = None
    if budget is not None:
        spent = budget.spent
        with db.atomic():
            meta_set(db, budget_key(account.name, moment), str(spent))
    engine = run_engine(db, config, now=moment, poll_id=result.poll_id,
                        connectors={account.name: connector})
    return PollOutcome(poll=result, findings_opened=engine.opened,
                       interval_factor=_slowdown(spent, account.monthly_read_budget),
                       budget_spent=spent)


def _slowdown(spent: int | None, budget: int | None) -> float:
    """Poll less often as the monthly read budget runs out, instead of stopping dead."""
    if spent is None or not budget:
        return 1.0
    used = spent / budget
    return 4.0 if used >= 0.9 else 2.0 if used >= 0.75 else 1.0
