"""token-expiring: opens 7 days before the token (or its data access) expires, once per token,
and resolves when the token is replaced."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from policies.rules import finding_kinds, token_expiring
from policies.rules.token_expiring import TokenDates, evaluate_token, resolve_token

EXPIRES = datetime(2026, 12, 10, 12, 0, tzinfo=timezone.utc)


def dates(expires: str | None = "2026-12-10T12:00:00+00:00", data: str | None = None) -> TokenDates:
    return TokenDates(
        "main-page", "facebook", "FB_PAGE_TOKEN", "PAGE", expires, data, "2026-12-01T00:00:00+00:00"
    )


def test_token_expiring_is_a_registered_kind():
    """The rule is in the registry, so `findings --kind token-expiring` and alerts know it."""
    assert token_expiring.KIND in finding_kinds()


def test_nothing_opens_eight_days_before_expiry():
    """A week and a day ahead is too early to warn."""
    assert evaluate_token(dates(), EXPIRES - timedelta(days=8)) is None


def test_opens_seven_days_before_expiry_with_the_fix():
    """At 7 days the warning opens, naming the date, the variable and check --live."""
    draft = evaluate_token(dates(), EXPIRES - timedelta(days=7))
    assert draft is not None and draft.kind == "token-expiring" and draft.post_id is None
    assert "in 7 days" in draft.evidence["summary"] and "$FB_PAGE_TOKEN" in draft.evidence["fix"]
    assert draft.dedupe_key == "token-expiring:main-page:2026-12-10T12:00:00+00:00:never"


def test_a_token_that_never_expires_opens_nothing():
    """expires never and data access never: no warning, ever."""
    assert evaluate_token(dates(None, None), EXPIRES) is None


def test_data_access_ending_soon_says_to_log_in_again():
    """Only the data-access date is near: the fix is to log in to the app again (or a new token)."""
    draft = evaluate_token(dates(None, "2026-12-12T00:00:00+00:00"), EXPIRES)
    assert draft is not None and "loses data access" in draft.evidence["summary"]
    assert draft.evidence["fix"].startswith("the person who generated the token must log in")


def test_resolves_when_the_dates_change_and_not_before():
    """Same dates: still open. A replaced token (new dates, or never): resolved with a note."""
    draft = evaluate_token(dates(), EXPIRES - timedelta(days=3))
    assert draft is not None
    assert resolve_token(draft.evidence, dates()) is None
    note = resolve_token(draft.evidence, dates(None, "2027-03-01T00:00:00+00:00"))
    assert note is not None and note.startswith("token replaced: it now expires never")
