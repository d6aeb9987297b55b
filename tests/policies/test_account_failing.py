"""account-failing's trigger (``policies.rules.account_failing``): enough failed polls in a row,
or failures for as long as that many polls would take, so a platform that throttles for hours
(each wait one failed poll) cannot leave an account unarchived for a day unheard."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from guard.clock import iso
from policies.rules.account_failing import FailedPoll, PollHistory, evaluate_polls

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
EVERY = timedelta(minutes=5)
THROTTLED = "RateLimited"


def _history(*failed_at: timedelta, last_ok: datetime | None = T0 - timedelta(minutes=5)) -> PollHistory:
    polls = [
        FailedPoll(n + 1, iso(T0 + at), "rate limited by Graph API", THROTTLED)
        for n, at in enumerate(failed_at)
    ]
    return PollHistory(
        "main-page",
        "facebook",
        "FB_PAGE_TOKEN",
        last_ok=iso(last_ok) if last_ok else None,
        failed_polls=len(polls),
        first_failure=polls[0],
        latest_failure=polls[-1],
    )


def test_two_failed_polls_hours_apart_open_the_finding_before_the_third():
    h = _history(timedelta(0), timedelta(hours=8))
    draft = evaluate_polls(h, failing_after=3, now=T0 + timedelta(hours=8), poll_every=EVERY)
    assert draft is not None and draft.evidence["failed_polls"] == 2


def test_two_failed_polls_at_the_usual_pace_wait_for_the_third():
    h = _history(timedelta(0), EVERY)
    assert evaluate_polls(h, failing_after=3, now=T0 + EVERY, poll_every=EVERY) is None


def test_one_failed_poll_after_a_long_pause_is_not_yet_failing():
    """The daemon was stopped for a day; its first poll back fails once: the pause was not a failure."""
    h = _history(timedelta(0), last_ok=T0 - timedelta(days=1))
    assert evaluate_polls(h, failing_after=3, now=T0, poll_every=EVERY) is None
