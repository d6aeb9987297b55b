"""What the platform last said about each account's token, kept in ``meta``, and the account's
open ``token-expiring`` finding.

Stored as JSON under ``token_lifetime:<account>``: the token type, both expiry dates (ISO-8601
UTC, null = never) and when they were read. Never the token itself.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from guard.archive.account_health import open_account_finding
from guard.archive.meta import meta_get, meta_set
from policies.rules.token_expiring import KIND, TokenDates

__all__ = ["token_key", "store_token_dates", "load_token_dates", "open_token_finding"]


def token_key(account: str) -> str:
    return f"token_lifetime:{account}"


def store_token_dates(db: sqlite_utils.Database, t: TokenDates) -> None:
    """Keep ``t`` for ``status`` and the next check; call inside the caller's transaction."""
    meta_set(
        db,
        token_key(t.account),
        json.dumps(
            {
                "platform": t.platform,
                "token_type": t.token_type,
                "expires_at": t.expires_at,
                "data_access_expires_at": t.data_access_expires_at,
                "checked_at": t.checked_at,
            },
            sort_keys=True,
        ),
    )


def load_token_dates(db: sqlite_utils.Database, account: str, token_env: str) -> TokenDates | None:
    """The dates last stored for ``account``, or None before its first check."""
    raw = meta_get(db, token_key(account))
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return TokenDates(
        account=account,
        platform=str(data.get("platform") or ""),
        token_env=token_env,
        token_type=str(data.get("token_type") or "unknown"),
        expires_at=data.get("expires_at"),
        data_access_expires_at=data.get("data_access_expires_at"),
        checked_at=str(data.get("checked_at") or ""),
    )


def open_token_finding(db: sqlite_utils.Database, account: str) -> dict[str, Any] | None:
    """The account's unresolved ``token-expiring`` finding, if any."""
    return open_account_finding(db, account, KIND)
