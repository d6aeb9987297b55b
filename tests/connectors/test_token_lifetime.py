"""check --live reads the token's lifetime and permissions from Graph's debug_token, for the
Facebook Page and for Instagram through the same Page token (fixtures:
tests/fixtures/facebook/debug_token_*.json, shaped like Meta's documented answer)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine

from connectors.facebook import FacebookConnector
from connectors.instagram import InstagramConnector
from guard.errors import AuthExpired, PermissionMissing
from tests.support.graph import IG_USER_ID, PAGE_ID, FakeIG, FakePage, FakePost, fixture

TOKEN = "EAAB-page-token-secret"


def fb() -> FacebookConnector:
    return FacebookConnector(PAGE_ID, TOKEN)


def test_check_live_shows_a_never_expiring_page_token_with_every_permission(rsps):
    """A long-lived Page token: type PAGE, expires never, data access date, all permissions granted."""
    page = FakePage(rsps, [FakePost(f"{PAGE_ID}_1", "hello")])
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc), tick=False):
        lines = fb().check()
    assert lines[0] == (
        "token type PAGE; expires never; data access expires 2027-02-20 09:30 UTC (in 86 days)"
    )
    assert "permissions for reading posts and comments: all granted" in lines
    assert "permissions for reply, hide, delete and enforce mode: all granted" in lines
    assert not any(line.startswith("WARNING") for line in lines)
    method, path, query = page.requests[0]
    assert (method, path, query["input_token"]) == ("GET", "debug_token", TOKEN)
    assert not any(TOKEN in line for line in lines)


def test_check_live_warns_of_an_expiry_within_a_week_and_missing_manage_permissions(rsps):
    """A token expiring in 5 days without pages_manage_* is two WARNING lines, not a failure."""
    page = FakePage(rsps, [FakePost(f"{PAGE_ID}_1", "hello")])
    page.token_debug = fixture("facebook/debug_token_expiring.json")
    with time_machine.travel(datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc), tick=False):
        lines = fb().check()
    assert "expires 2026-12-10 12:00 UTC (in 5 days)" in lines[0]
    assert any(line.startswith("WARNING: the token expires 2026-12-10") for line in lines)
    assert (
        "WARNING: permissions for reply, hide, delete and enforce mode missing: pages_manage_engagement"
        in lines
    )
    assert any("webhooks" in line and "pages_manage_metadata" in line for line in lines)


def test_check_live_fails_on_a_token_debug_token_calls_invalid(rsps):
    """is_valid false is AuthExpired with Graph's reason, and nothing else is read."""
    page = FakePage(rsps, [])
    page.token_debug = fixture("facebook/debug_token_invalid.json")
    with pytest.raises(AuthExpired, match="Session has expired") as err:
        fb().check()
    assert TOKEN not in str(err.value) and page.calls == 1


def test_check_live_fails_when_a_read_permission_is_missing(rsps):
    """Without pages_read_user_content the archive cannot be complete: PermissionMissing names it."""
    page = FakePage(rsps, [])
    page.token_debug["data"]["scopes"].remove("pages_read_user_content")
    with pytest.raises(PermissionMissing, match="lacks pages_read_user_content, needed for reading posts"):
        fb().check()


def test_token_lifetime_reads_both_dates_and_zero_as_never(rsps):
    """expires_at 0 is None (never); data_access_expires_at is a UTC datetime."""
    FakePage(rsps, [])
    info = fb().token_lifetime()
    assert (info.token_type, info.is_valid, info.expires_at) == ("PAGE", True, None)
    assert info.data_access_expires_at == datetime(2027, 2, 20, 9, 30, tzinfo=timezone.utc)


def test_instagram_check_reuses_the_page_token_check_with_instagram_permissions(rsps):
    """Instagram asks debug_token about the same Page token and needs instagram_manage_comments."""
    ig = FakeIG(rsps, [])
    ig.token_debug["data"]["scopes"].remove("instagram_manage_comments")
    with pytest.raises(PermissionMissing, match="lacks instagram_manage_comments"):
        InstagramConnector(IG_USER_ID, TOKEN).check()
    assert ig.requests[0][1] == "debug_token"
