"""The daily digest: open findings and response times, once a day, silent on quiet days."""

from __future__ import annotations

from datetime import timedelta

from guard.alerts.channels.slack import SlackSettings
from guard.alerts.digest import build_digest, enqueue_digest
from guard.alerts.health import list_outbox
from guard.config import AlertSettings
from tests.alerts.helpers import T0, add_finding

SETTINGS = AlertSettings(channels={"slack": SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL")})


def test_digest_counts_open_findings_and_time_to_resolve(db):
    """Open findings are listed and resolved ones give a median time to resolve."""
    add_finding(db, dedupe_key="open", opened_at=(T0 - timedelta(hours=5)).isoformat())
    add_finding(
        db,
        dedupe_key="done",
        state="resolved",
        opened_at=T0.isoformat(),
        resolved_at=(T0 + timedelta(minutes=90)).isoformat(),
    )
    msg = build_digest(db, T0 + timedelta(hours=3))
    assert "1 open finding" in msg.subject
    assert "Time to resolve: median 1h30m" in msg.email_text
    assert "#1 critical removed-critical (main-page), open 8h" in msg.email_text
    assert msg.blocks[0]["type"] == "header"


def test_digest_is_enqueued_once_per_day(db):
    """A second call on the same day adds nothing; the next day gets its own digest."""
    add_finding(db)
    assert enqueue_digest(db, SETTINGS, now=T0) == [1]
    assert enqueue_digest(db, SETTINGS, now=T0 + timedelta(hours=1)) == []
    assert enqueue_digest(db, SETTINGS, now=T0 + timedelta(days=1)) == [2]
    assert [r["dedupe_key"] for r in list_outbox(db)] == [
        "digest:2026-11-25:slack",
        "digest:2026-11-26:slack",
    ]


def test_quiet_day_sends_no_digest(db):
    """With nothing open and nothing happening, there is no digest to ignore."""
    assert enqueue_digest(db, SETTINGS, now=T0) == []
