"""One poll cycle for one account, wired end to end: connector → poller → archive.

Both the CLI (`poll --once`) and the daemon call ``run_poll``, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from guard.clock import utcnow
from guard.config import Account, Config
from guard.connect import make_connector
from guard.engine import run_engine
from guard.poller import PollResult, poll_account

__all__ = ["PollOutcome", "run_poll"]


@dataclass(frozen=True)
class PollOutcome:
    poll: PollResult
    findings_opened: list[int] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        if not self.findings_opened:
            return []
        return [f"{len(self.findings_opened)} new finding(s): "
                + ", ".join(f"#{i}" for i in self.findings_opened)
                + " (see `comment-guard findings`)"]


def run_poll(config: Config, db: sqlite_utils.Database, account: Account, *,
             connector=None, now: datetime | None = None) -> PollOutcome:
    connector = connector or make_connector(account)
    moment = now or utcnow()
    result = poll_account(db, account, connector, now=moment)
    engine = run_engine(db, config, now=moment, poll_id=result.poll_id,
                        connectors={account.name: connector})
    return PollOutcome(poll=result, findings_opened=engine.opened)
