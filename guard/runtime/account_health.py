"""After every recorded poll: is the account failing (open ``account-failing``), or has it
recovered (resolve it and say how long the archive gap was)?

The decision is the rule's (``policies.rules.account_failing``); this module feeds it the
account's poll history and stores what it decides, finding and alerts in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from guard.alerts._text import load_json
from guard.alerts.outbox import enqueue
from guard.alerts.stages import Stage
from guard.archive import findings as store
from guard.archive.account_health import open_account_finding, poll_history
from guard.archive.connection import Archive
from guard.config import Account, Config
from guard.engine import open_finding, set_state
from guard.errors import AuthExpired, ConnectorError, PermissionMissing
from guard.states import FindingState
from policies.rules import account_failing

__all__ = ["AccountHealth", "track_account"]

log = structlog.get_logger("guard.account_health")


@dataclass(frozen=True)
class AccountHealth:
    opened: int | None = None
    resolved: int | None = None


def track_account(
    config: Config,
    db: Archive,
    account: Account,
    *,
    poll_id: int,
    failed: bool,
    error: ConnectorError | None,
    now: datetime,
) -> AccountHealth:
    """Open or resolve the account's ``account-failing`` finding after poll ``poll_id``.

    ``failed``: the poll read nothing because of ``error``; a token or permission error fails
    the account even when part of the scan got through (the rest of the page is not archived).
    """
    failing_now = failed or isinstance(error, (AuthExpired, PermissionMissing))
    history = poll_history(
        db,
        account=account.name,
        platform=account.platform,
        token_env=account.token_env,
        poll_id=poll_id,
        failed=failing_now,
        error_type=type(error).__name__ if error is not None else None,
        signed_in=account.platform == "x" and account.signed_in(),
    )
    current = open_account_finding(db, account.name)
    if current is not None:
        if failing_now:
            return AccountHealth()
        note = account_failing.resolve_polls(load_json(current["evidence"]), resumed_at=now)
        with db.atomic():
            set_state(db, current["id"], FindingState.RESOLVED, now=now, note=note, actor="comment-guard")
            enqueue(db, store.require_finding(db, current["id"]), Stage.RESOLVED, config.alerts, now=now)
        log.info("account_recovered", account=account.name, finding_id=current["id"], note=note)
        return AccountHealth(resolved=current["id"])
    draft = account_failing.evaluate_polls(
        history, failing_after=config.guard.failing_after, now=now, poll_every=account.poll_every
    )
    if draft is None:
        return AccountHealth()
    with db.atomic():
        fid = open_finding(db, config, draft, now, remind=False, account=account.name)
    if fid is not None:
        log.warning(
            "account_failing",
            account=account.name,
            finding_id=fid,
            failed_polls=history.failed_polls,
            error=str(error) if error else None,
            error_type=type(error).__name__ if error else None,
        )
    return AccountHealth(opened=fid)
