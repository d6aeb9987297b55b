"""account-failing: an account's polls are failing, so its archive has a gap nobody sees.

Unlike the other rules this one reads an account's poll history, not a thread: ``evaluate``
and ``resolve`` (the thread rules' protocol) find nothing, and the poll pipeline calls
``evaluate_polls`` and ``resolve_polls`` after every recorded poll.

It opens on the first poll refused for a token or permission problem (those never heal by
waiting) or after ``failing_after`` consecutive failed polls of any kind, and resolves itself
on the next poll that succeeds, saying how long the gap was. One finding per episode: the key
names the first failed poll of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from guard.clock import iso, parse_iso
from guard.durations import format_duration
from guard.errors import AuthExpired, PermissionMissing
from guard.states import Severity
from policies.records import FindingDraft, OpenFinding

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = [
    "KIND",
    "HEADLINE",
    "COMMENT_LABEL",
    "FailedPoll",
    "PollHistory",
    "evaluate",
    "resolve",
    "evaluate_polls",
    "resolve_polls",
    "is_failing",
]

KIND: str = "account-failing"
HEADLINE: str = "An account is not being archived"
COMMENT_LABEL: str | None = None

# Errors that waiting never fixes: a person has to act, so they alert on the first poll.
URGENT_ERRORS = (AuthExpired.__name__, PermissionMissing.__name__)


@dataclass(frozen=True)
class FailedPoll:
    poll_id: int
    started: str
    error: str
    error_type: str | None = None  # the ConnectorError class name when known


@dataclass(frozen=True)
class PollHistory:
    """One account's recent polls, as the rule needs them."""

    account: str
    platform: str
    token_env: str
    last_ok: str | None  # when the last successful poll started (None: never)
    failed_polls: int = 0  # consecutive failed polls since then
    first_failure: FailedPoll | None = None
    latest_failure: FailedPoll | None = None  # the poll just recorded, when it failed
    signed_in: bool = False  # X: the token comes from `comment-guard auth x`, not token_env


def evaluate(a: Analysis, now: datetime) -> list[FindingDraft]:
    return []  # not a thread rule: see evaluate_polls


def resolve(a: Analysis, finding: OpenFinding) -> str | None:
    return None  # not a thread rule: see resolve_polls


def is_failing(
    h: PollHistory, failing_after: int, *, now: datetime | None = None, poll_every: timedelta | None = None
) -> bool:
    """Whether the history warrants the alert: an urgent error now, enough failures in a row, or
    failures for as long as that many polls would take (``poll_every`` apart). The last one
    catches a platform that throttles for hours: each wait is one failed poll, and three of
    them could leave an account unarchived for a day before anyone heard."""
    latest = h.latest_failure
    if latest is None:
        return False
    if latest.error_type in URGENT_ERRORS or h.failed_polls >= failing_after:
        return True
    first = h.first_failure or latest
    return (
        now is not None
        and poll_every is not None
        and h.failed_polls >= 2
        and now - parse_iso(first.started) >= poll_every * failing_after
    )


def evaluate_polls(
    h: PollHistory, *, failing_after: int, now: datetime, poll_every: timedelta | None = None
) -> FindingDraft | None:
    """The finding for a failing account, or None while it is healthy enough."""
    if not is_failing(h, failing_after, now=now, poll_every=poll_every) or h.latest_failure is None:
        return None
    latest = h.latest_failure
    first = h.first_failure or latest
    since = h.last_ok or first.started
    gap = format_duration(max(now - parse_iso(since), timedelta(0)))
    fix = _fix(h, latest.error_type)
    gap_text = (
        f"nothing has been archived since {since} ({gap})"
        if h.last_ok
        else f"the account has never been archived (first attempt {first.started})"
    )
    return FindingDraft(
        kind=KIND,
        severity=Severity.CRITICAL,
        dedupe_key=f"{KIND}:{h.account}:{first.poll_id}",
        post_id=None,
        comment_id=None,
        evidence={
            "summary": f"{h.failed_polls} poll(s) of {h.account} failed in a row: {latest.error}. "
            f"Deleted comments during this gap are lost for good. Fix: {fix}",
            "platform": h.platform,
            "account": h.account,
            "reasons": [f"reason: {latest.error}", f"gap so far: {gap_text}", f"fix: {fix}"],
            "error": latest.error,
            "error_type": latest.error_type,
            "failed_polls": h.failed_polls,
            "first_failed_poll": first.poll_id,
            "gap_from": since,
            "gap_so_far_seconds": int(max((now - parse_iso(since)).total_seconds(), 0)),
            "fix": fix,
        },
    )


def resolve_polls(evidence: dict[str, Any], *, resumed_at: datetime) -> str:
    """The note that closes the finding once a poll succeeds again."""
    since = evidence.get("gap_from")
    if not since:
        return f"archiving resumed at {iso(resumed_at)}"
    gap = format_duration(max(resumed_at - parse_iso(str(since)), timedelta(0)))
    return f"archiving resumed; gap from {since} to {iso(resumed_at)} ({gap})"


def _fix(h: PollHistory, error_type: str | None) -> str:
    check = "then run `comment-guard check --live`"
    if error_type == AuthExpired.__name__ and h.signed_in:
        return (
            f"the X sign-in was refused or can no longer be refreshed: sign in again with "
            f"`comment-guard auth x --account {h.account}` (the daemon picks it up at its next poll), {check}"
        )
    if error_type == AuthExpired.__name__:
        return (
            f"the token was rejected or has expired: put a new one in ${h.token_env} "
            f"(restart the daemon if it runs), {check}"
        )
    if error_type == PermissionMissing.__name__:
        return (
            f"the token in ${h.token_env} lacks a permission (the message above names it; on "
            f"Facebook the token's user must be able to moderate the page): grant it, {check}"
        )
    return f"see the error above; if it persists, {check} and look at the platform's status page"
