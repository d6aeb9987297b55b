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


def test_a_digest_per_local_day_across_a_spring_forward(db):
    """digest_at = 19:30 in New York: on 7 March 2027 (EST) that is 00:30 UTC on the 8th, on
    the 8th (EDT, after the change) 23:30 UTC on the 8th; two local days, two digests."""
    import dataclasses
    from datetime import datetime, timezone

    add_finding(db)
    local = dataclasses.replace(SETTINGS, timezone="America/New_York")
    before = datetime(2027, 3, 8, 0, 30, tzinfo=timezone.utc)  # 19:30 EST on the 7th
    after = datetime(2027, 3, 8, 23, 30, tzinfo=timezone.utc)  # 19:30 EDT on the 8th
    assert enqueue_digest(db, local, now=before) == [1]
    assert enqueue_digest(db, local, now=after) == [2]
    assert [r["dedupe_key"] for r in list_outbox(db)] == [
        "digest:2027-03-07:slack",
        "digest:2027-03-08:slack",
    ]


def test_quiet_day_sends_no_digest(db):
    """With nothing open and nothing happening, there is no digest to ignore."""
    assert enqueue_digest(db, SETTINGS, now=T0) == []
