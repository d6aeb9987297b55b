"""The daemon's daily token check: ask the platform when each account's token expires, keep
the dates in the archive's ``meta``, and warn a week ahead (``token-expiring``).

A daily job rather than a step of every poll: the dates move only when the token is replaced,
a 7-day warning needs no finer grain, and polls keep costing exactly their pages of posts
(``bench/api_calls.py``). The daemon reads tokens at start, so a replaced token is live only
after a restart, and the job runs at start: the warning resolves on the first check with the
new token. The decision is the rule's (``policies.rules.token_expiring``); this module feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from connectors.base import Connector, TokenLifetimeReader
from guard.alerts._text import load_json
from guard.alerts.outbox import enqueue
from guard.alerts.stages import Stage
from guard.archive import findings as store
from guard.archive.connection import Archive
from guard.archive.token_health import open_token_finding, store_token_dates
from guard.clock import iso
from guard.config import Account, Config
from guard.engine import open_finding, set_state
from guard.errors import ConnectorError
from guard.states import FindingState
from policies.rules import token_expiring
from policies.rules.token_expiring import TokenDates

__all__ = ["TokenWatch", "check_token"]

log = structlog.get_logger("guard.token_watch")


@dataclass(frozen=True)
class TokenWatch:
    dates: TokenDates | None = None  # None: the platform cannot say, or could not be asked
    opened: int | None = None
    resolved: int | None = None


def check_token(
    config: Config, db: Archive, account: Account, connector: Connector, *, now: datetime
) -> TokenWatch:
    """Read the token's dates (one platform call, outside any transaction), store them, and
    resolve or open the account's ``token-expiring`` finding. A failed read changes nothing:
    polls report a token the platform refuses (``account-failing``)."""
    if not isinstance(connector, TokenLifetimeReader):
        return TokenWatch()
    try:
        info = connector.token_lifetime()
    except ConnectorError as exc:
        log.warning("token_check_failed", account=account.name, error=str(exc), error_type=type(exc).__name__)
        return TokenWatch()
    dates = TokenDates(
        account=account.name,
        platform=account.platform,
        token_env=account.token_env,
        token_type=info.token_type,
        expires_at=iso(info.expires_at) if info.expires_at else None,
        data_access_expires_at=iso(info.data_access_expires_at) if info.data_access_expires_at else None,
        checked_at=iso(now),
    )
    resolved = opened = None
    with db.atomic():
        store_token_dates(db, dates)
        current = open_token_finding(db, account.name)
        if current is not None:
            note = token_expiring.resolve_token(load_json(current["evidence"]), dates)
            if note is not None:
                set_state(db, current["id"], FindingState.RESOLVED, now=now, note=note, actor="comment-guard")
                enqueue(db, store.require_finding(db, current["id"]), Stage.RESOLVED, config.alerts, now=now)
                resolved = current["id"]
        draft = token_expiring.evaluate_token(dates, now)
        if draft is not None and (current is None or resolved is not None):
            opened = open_finding(db, config, draft, now, remind=False, account=account.name)
    log.info(
        "token_checked",
        account=account.name,
        token_type=dates.token_type,
        expires_at=dates.expires_at,
        data_access_expires_at=dates.data_access_expires_at,
        finding_opened=opened,
        finding_resolved=resolved,
    )
    return TokenWatch(dates=dates, opened=opened, resolved=resolved)
