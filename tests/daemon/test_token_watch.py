"""The daemon's daily token check: debug_token's dates are kept in the archive's meta, a
token-expiring finding (with its alert) opens a week ahead and resolves once the token is
replaced. Graph is the responses fake answering tests/fixtures/facebook/debug_token_*.json."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import time_machine

from connectors.facebook import FacebookConnector
from guard.archive.connection import open_archive
from guard.archive.meta import meta_get
from guard.clock import utcnow
from guard.config import parse_config
from guard.runtime.token_watch import check_token
from tests.support.graph import PAGE_ID, FakePage, fixture

CONFIG = f"""
[guard]
database = "archive.db"

[[accounts]]
name = "main-page"
platform = "facebook"
page_id = "{PAGE_ID}"
token_env = "FB_PAGE_TOKEN"

[alerts.slack]
webhook_url_env = "SLACK_WEBHOOK_URL"
"""


def at(*when: int):
    return time_machine.travel(datetime(*when, tzinfo=timezone.utc), tick=False)


def test_token_expiry_opens_a_week_ahead_and_resolves_when_replaced(rsps, tmp_path):
    """8 days ahead: dates stored, no finding; 7 days: finding + alert; new token: resolved."""
    config = parse_config(CONFIG, tmp_path / "cg.toml")
    account = config.accounts[0]
    db = open_archive(tmp_path / "archive.db")
    page = FakePage(rsps, [])
    page.token_debug = fixture("facebook/debug_token_expiring.json")
    connector = FacebookConnector(PAGE_ID, "EAAB-secret")

    with at(2026, 12, 2, 11, 0):
        first = check_token(config, db, account, connector, now=utcnow())
    assert first.opened is None
    stored = json.loads(meta_get(db, "token_lifetime:main-page") or "{}")
    assert stored["expires_at"] == "2026-12-10T12:00:00+00:00"
    assert stored["data_access_expires_at"] == "2027-02-20T09:30:00+00:00"

    with at(2026, 12, 3, 12, 0):
        second = check_token(config, db, account, connector, now=utcnow())
        again = check_token(config, db, account, connector, now=utcnow())
    assert second.opened is not None and again.opened is None  # once per token
    finding = db["findings"].get(second.opened)
    assert (finding["kind"], finding["account"], finding["state"]) == ("token-expiring", "main-page", "open")
    assert [
        r["stage"] for r in db.query("SELECT stage FROM outbox WHERE finding_id = ?", [second.opened])
    ] == ["first"]

    page.token_debug = fixture("facebook/debug_token_page.json")  # a long-lived token replaces it
    with at(2026, 12, 4, 9, 0):
        third = check_token(config, db, account, connector, now=utcnow())
    assert third.resolved == second.opened and third.opened is None
    resolved = db["findings"].get(second.opened)
    assert resolved["state"] == "resolved" and "token replaced: it now expires never" in resolved["note"]
    assert "EAAB-secret" not in (meta_get(db, "token_lifetime:main-page") or "")


def test_a_failed_token_check_changes_nothing(rsps, tmp_path):
    """debug_token failing (a 5xx) stores no dates and opens nothing: polls report real trouble."""
    config = parse_config(CONFIG, tmp_path / "cg.toml")
    db = open_archive(tmp_path / "archive.db")
    page = FakePage(rsps, [])
    page.fail("debug_token", 500, fixture("facebook/error_unknown_1.json"))
    watch = check_token(config, db, config.accounts[0], FacebookConnector(PAGE_ID, "t"), now=utcnow())
    assert watch.dates is None and meta_get(db, "token_lifetime:main-page") is None


def test_the_daemons_token_job_checks_every_account(rsps, tmp_path):
    """Daemon._check_tokens (the daily job) runs the check with the account's own connector."""
    from guard.runtime.daemon import Daemon

    config = parse_config(CONFIG, tmp_path / "cg.toml")
    page = FakePage(rsps, [])
    page.token_debug = fixture("facebook/debug_token_expiring.json")
    daemon = Daemon(config, connectors={"main-page": FacebookConnector(PAGE_ID, "EAAB-secret")})
    daemon._db = open_archive(tmp_path / "archive.db")
    with at(2026, 12, 5, 12, 0):
        daemon._check_tokens()
    (finding,) = daemon._db.query("SELECT kind, account FROM findings")
    assert finding == {"kind": "token-expiring", "account": "main-page"}
    daemon._db.conn.close()
