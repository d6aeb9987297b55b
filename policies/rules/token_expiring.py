"""token-expiring: an account's token stops working within a week, and the archive with it.

Like ``account-failing`` this rule reads an account record, not a thread: ``evaluate`` and
``resolve`` (the thread rules' protocol) find nothing; the daemon's daily token check stores
what the platform said about the token (``TokenDates``) and calls ``evaluate_token`` and
``resolve_token``.

It opens ``WARN_BEFORE`` (7 days) before either date: the token's own expiry, or the end of
the app's data access (after which the token reads nothing its user granted until they log in
to the app again). It resolves itself when the dates change, which only a new token does
(replacing the token in the environment and restarting the daemon): one finding per token
and date, so a replacement that expires soon too opens a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from guard.clock import parse_iso
from guard.states import Severity
from policies.records import FindingDraft, OpenFinding

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = [
    "KIND",
    "HEADLINE",
    "COMMENT_LABEL",
    "WARN_BEFORE",
    "TokenDates",
    "evaluate",
    "resolve",
    "evaluate_token",
    "resolve_token",
]

KIND: str = "token-expiring"
HEADLINE: str = "An account's token expires soon"
COMMENT_LABEL: str | None = None
WARN_BEFORE = timedelta(days=7)


@dataclass(frozen=True)
class TokenDates:
    """What the platform last said about an account's token (ISO-8601 UTC; None = never)."""

    account: str
    platform: str
    token_env: str
    token_type: str
    expires_at: str | None
    data_access_expires_at: str | None
    checked_at: str


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    return []  # not a thread rule: see evaluate_token


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    return None  # not a thread rule: see resolve_token


def evaluate_token(t: TokenDates, now: datetime) -> FindingDraft | None:
    """The warning for a token that expires (or loses data access) within ``WARN_BEFORE``."""
    soon = [
        (what, moment)
        for what, moment in (
            ("expires", t.expires_at),
            ("loses data access", t.data_access_expires_at),
        )
        if moment is not None and parse_iso(moment) - now <= WARN_BEFORE
    ]
    if not soon:
        return None
    what, first = min(soon, key=lambda pair: parse_iso(pair[1]))
    left = parse_iso(first) - now
    when = f"on {first}" + (f" (in {_days(left)})" if left > timedelta(0) else " (already passed)")
    fix = (
        f"generate a new long-lived Page token (from a long-lived user token, or a system-user token, "
        f"which do not expire), put it in ${t.token_env}, restart the daemon, then run "
        "`comment-guard check --live`"
    )
    if what == "loses data access" and len(soon) == 1:
        fix = (
            "the person who generated the token must log in to the app again (that renews data "
            f"access for 90 days), or {fix}"
        )
    reasons = [f"the {t.token_type} token {w} on {m}" for w, m in soon] + [f"fix: {fix}"]
    return FindingDraft(
        kind=KIND,
        severity=Severity.WARNING,
        dedupe_key=f"{KIND}:{t.account}:{t.expires_at or 'never'}:{t.data_access_expires_at or 'never'}",
        post_id=None,
        comment_id=None,
        evidence={
            "summary": f"The token of {t.account} {what} {when}; after that nothing of this account "
            f"is archived and deleted comments are lost for good. Fix: {fix}",
            "platform": t.platform,
            "account": t.account,
            "reasons": reasons,
            "token_type": t.token_type,
            "expires_at": t.expires_at,
            "data_access_expires_at": t.data_access_expires_at,
            "checked_at": t.checked_at,
            "fix": fix,
        },
    )


def resolve_token(evidence: dict[str, Any], t: TokenDates) -> str | None:
    """The note that closes the warning once the token was replaced (its dates changed)."""
    if (evidence.get("expires_at"), evidence.get("data_access_expires_at")) == (
        t.expires_at,
        t.data_access_expires_at,
    ):
        return None
    return (
        f"token replaced: it now expires {t.expires_at or 'never'}, data access "
        f"{t.data_access_expires_at or 'never'} (checked {t.checked_at})"
    )


def _days(left: timedelta) -> str:
    if left >= timedelta(days=2):
        return f"{left.days} days"
    hours = int(left.total_seconds() // 3600)
    return f"{hours} hours" if hours >= 1 else "less than an hour"
