"""Slack app mode (chat.postMessage) against the answers Slack and the network in between really
send: rate limits with every form of Retry-After, a captive portal's 200, workspace migrations,
a revoked token. Raw answers come from ``tests/fixtures/slack/chat_postMessage.json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
import time_machine

from guard.alerts.channels.slack_app import SlackAppSettings
from guard.alerts.health import channel_health, list_outbox
from guard.alerts.outbox import deliver_pending, enqueue
from guard.config import AlertSettings, Route
from tests.alerts.conftest import email_settings
from tests.alerts.helpers import T0, add_finding
from tests.support.slack_app import APP_TOKEN, BOT_TOKEN, FakeSlackApp

ANSWERS = json.loads((Path(__file__).parents[1] / "fixtures/slack/chat_postMessage.json").read_text())


@pytest.fixture
def app(monkeypatch) -> Iterator[FakeSlackApp]:
    fake = FakeSlackApp()
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    yield fake
    fake.close()


def _settings(app: FakeSlackApp, **channels) -> AlertSettings:
    slack = SlackAppSettings(
        bot_token_env="SLACK_BOT_TOKEN",
        app_token_env="SLACK_APP_TOKEN",
        channel="C0ALERTS",
        api_base_url=app.base_url,
    )
    return AlertSettings(channels={"slack": slack, **channels}, routes=(Route(channels=("slack",)),))


def _answer(app: FakeSlackApp, name: str) -> None:
    raw = ANSWERS[name]
    app.add(raw["status"], raw["headers"], raw["body"])


def _queue(db, settings) -> None:
    with db.atomic():
        enqueue(db, add_finding(db), "first", settings, now=T0)


@time_machine.travel(T0, tick=False)
def test_app_429_with_an_http_date_waits_until_that_date(db, app):
    """Retry-After as an HTTP date (two minutes after T0) schedules the row then, with no crash."""
    settings = _settings(app)
    _queue(db, settings)
    _answer(app, "ratelimited_http_date")
    with structlog.testing.capture_logs() as logs:
        report = deliver_pending(db, settings, now=T0)
    assert report.retrying == [1] and "rate-limited" in report.errors[1]
    assert not [e for e in logs if e["event"] == "alert_sender_crashed"]
    assert list_outbox(db)[0]["next_attempt_at"] == (T0 + timedelta(minutes=2)).isoformat()
    assert deliver_pending(db, settings, now=T0 + timedelta(minutes=2)).sent == [1]


def test_app_429_with_a_junk_retry_after_backs_off_and_is_not_left_claimed(db, app):
    """Retry-After: inf falls back to the normal backoff; the alert stays queued, then goes out."""
    settings = _settings(app)
    _queue(db, settings)
    _answer(app, "ratelimited_junk")
    report = deliver_pending(db, settings, now=T0)
    row = list_outbox(db)[0]
    assert report.retrying == [1]
    assert (row["status"], row["next_attempt_at"]) == ("pending", (T0 + timedelta(seconds=30)).isoformat())
    assert deliver_pending(db, settings, now=T0 + timedelta(seconds=30)).sent == [1]
    assert len(app.called("chat.postMessage")) == 2


def test_app_200_that_is_not_slacks_json_is_retried_not_failed(db, app):
    """A captive portal's 200 login page never reached Slack: the alert waits and is retried, as in
    webhook mode, instead of failing for good and needing `deliver --retry-failed`."""
    settings = _settings(app)
    _queue(db, settings)
    _answer(app, "captive_portal_200")
    report = deliver_pending(db, settings, now=T0)
    row = list_outbox(db)[0]
    assert report.retrying == [1] and report.failed == []
    assert row["status"] == "pending" and "not Slack's" in row["last_error"]
    assert channel_health(db)["slack"]["status"] == "retrying"
    assert deliver_pending(db, settings, now=T0 + timedelta(seconds=30)).sent == [1]


@pytest.mark.parametrize("answer", ["team_added_to_org", "org_login_required"])
def test_app_workspace_migration_is_temporary(db, app, answer):
    """Slack documents these as "unavailable until the migration is complete": the alert waits on
    Slack and is posted afterwards, never failed for good."""
    settings = _settings(app)
    _queue(db, settings)
    _answer(app, answer)
    report = deliver_pending(db, settings, now=T0)
    assert report.retrying == [1] and report.failed == [] and answer in report.errors[1]
    assert deliver_pending(db, settings, now=T0 + timedelta(seconds=30)).sent == [1]


def test_app_revoked_token_fails_once_falls_back_to_email_and_never_shows_the_token(db, app, smtp, smtp_port):
    """token_revoked needs a human: one attempt, the channel shows failing with what to do, the
    alert comes by email, and neither the stored error nor the log carries the bot token."""
    smtp.start()
    settings = _settings(app, email=email_settings(smtp_port))
    _queue(db, settings)
    _answer(app, "token_revoked")
    with structlog.testing.capture_logs() as logs:
        report = deliver_pending(db, settings, now=T0)
        deliver_pending(db, settings, now=T0 + timedelta(hours=1))
    rows = list_outbox(db)
    assert [(r["channel"], r["status"]) for r in rows] == [("slack", "failed"), ("email", "sent")]
    assert report.failed == [1] and "reinstall the app" in rows[0]["last_error"]
    health = channel_health(db)["slack"]
    assert health["status"] == "failing" and "token_revoked" in health["last_error"]
    assert len(app.called("chat.postMessage")) == 1 and len(smtp.messages) == 1
    assert BOT_TOKEN not in repr(logs) + repr(rows) + repr(health)


def test_app_invalid_blocks_says_which_block_slack_refused(db, app):
    """Slack names the offending block in response_metadata.messages; the failed alert keeps it, so
    the report of the bug says what to fix."""
    settings = _settings(app)
    _queue(db, settings)
    _answer(app, "invalid_blocks")
    report = deliver_pending(db, settings, now=T0)
    assert report.failed == [1]
    assert "must be less than 3001 characters [json-pointer:/blocks/2/text/text]" in report.errors[1]
    assert "comment-guard bug" in report.errors[1]


def test_app_ok_with_a_warning_is_delivered_once(db, app):
    """`ok: true` with a warning is a delivery: sent, not retried."""
    settings = _settings(app)
    _queue(db, settings)
    _answer(app, "ok_with_warning")
    assert deliver_pending(db, settings, now=T0).sent == [1]
    deliver_pending(db, settings, now=T0 + timedelta(hours=1))
    assert len(app.called("chat.postMessage")) == 1
