"""Delivery survives crashes (at least once, same Message-ID) and long outages (in order, once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlite_utils

from guard.alerts.channels import default_senders
from guard.alerts.channels.email import message_id_for
from guard.alerts.channels.slack import SlackSettings
from guard.alerts.health import list_outbox
from guard.alerts.outbox import deliver_pending, enqueue, release_stale_claims
from guard.archive.meta import install_id
from guard.archive.schema import migrate
from guard.config import AlertSettings, Route
from tests.alerts.conftest import email_settings
from tests.alerts.helpers import T0, add_finding


class ProcessDied(BaseException):
    """Stands in for SIGKILL / power loss: not an Exception, so nothing may catch it."""


def _open(path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    migrate(db)
    return db


def test_crash_after_send_before_mark_resends_with_same_message_id(tmp_path, smtp, email_only):
    """Dying after the server accepted the mail resends it on restart, with the same Message-ID."""
    smtp.start()
    db = _open(tmp_path / "a.db")
    with db.atomic():
        enqueue(db, add_finding(db), "first", email_only, now=T0)
    real = default_senders(email_only)["email"]

    def send_then_die(item):
        real(item)
        raise ProcessDied

    with pytest.raises(ProcessDied):
        deliver_pending(db, email_only, now=T0, senders={"email": send_then_die})
    db.close()
    assert len(smtp.messages) == 1

    restarted = _open(tmp_path / "a.db")
    assert list_outbox(restarted)[0]["status"] == "sending"  # claimed, outcome unknown
    assert release_stale_claims(restarted) == [1]  # what the daemon and `deliver` do first
    assert list_outbox(restarted)[0]["status"] == "pending"
    assert deliver_pending(restarted, email_only, now=T0 + timedelta(seconds=5)).sent == [1]
    ids = [msg["Message-ID"] for _, _, msg in smtp.messages]
    expected = message_id_for(
        "1:first:email", install_id=install_id(restarted), from_addr="guard@example.org"
    )
    assert ids == [expected] * 2
    assert deliver_pending(restarted, email_only, now=T0 + timedelta(hours=1)).sent == []
    assert len(smtp.messages) == 2


def test_crash_before_send_delivers_after_restart(tmp_path, smtp, email_only):
    """Dying before the send leaves the row claimed; the restarted deliverer releases the claim
    and delivers it once."""
    smtp.start()
    db = _open(tmp_path / "b.db")
    with db.atomic():
        enqueue(db, add_finding(db), "first", email_only, now=T0)

    def die(item):
        raise ProcessDied

    with pytest.raises(ProcessDied):
        deliver_pending(db, email_only, now=T0, senders={"email": die})
    db.close()
    assert smtp.messages == []

    restarted = _open(tmp_path / "b.db")
    assert deliver_pending(restarted, email_only, now=T0).sent == []  # still claimed by the dead one
    assert release_stale_claims(restarted) == [1]
    assert deliver_pending(restarted, email_only, now=T0).sent == [1]
    assert len(smtp.messages) == 1
    assert list_outbox(restarted)[0]["status"] == "sent"


def test_crash_after_first_of_two_sends_keeps_the_first_marked(tmp_path, slack, slack_only):
    """Each send is committed on its own: a crash on the second leaves the first recorded."""
    db = _open(tmp_path / "c.db")
    with db.atomic():
        for key in ("a", "b"):
            enqueue(db, add_finding(db, dedupe_key=key), "first", slack_only, now=T0)
    real = default_senders(slack_only)["slack"]

    def second_dies(item):
        if item.id == 2:
            raise ProcessDied
        real(item)

    with pytest.raises(ProcessDied):
        deliver_pending(db, slack_only, now=T0, senders={"slack": second_dies})
    db.close()
    restarted = _open(tmp_path / "c.db")
    assert [r["status"] for r in list_outbox(restarted)] == ["sent", "sending"]
    assert release_stale_claims(restarted) == [2]
    assert deliver_pending(restarted, slack_only, now=T0).sent == [2]
    assert len(slack.accepted()) == 2


def test_one_hour_of_slack_500s_then_every_alert_delivered_in_order_once(db, slack, slack_only):
    """Through an hour of 500s, ticking every 30 s, nothing is lost, reordered or duplicated."""
    slack.default = (500, "rollup_error", {})
    expected = []
    now = T0
    for tick in range(3600 // 30):
        if tick % 10 == 0:  # a new finding every five minutes during the outage
            f = add_finding(
                db, dedupe_key=f"k{tick}", comment_id=f"111_{tick}", suggested_reply=f"answer number {tick}"
            )
            with db.atomic():
                enqueue(db, f, "first", slack_only, now=now)
            expected.append(f"answer number {tick}")
        assert deliver_pending(db, slack_only, now=now).sent == []
        now += timedelta(seconds=30)
    failed_posts = len(slack.calls)
    assert 0 < failed_posts <= 30  # backoff, not hammering: about one try per backoff step
    slack.default = (200, "ok", {})
    for _ in range(4 * 30 * 2):  # keep ticking until the backoff elapses (max 30 min)
        deliver_pending(db, slack_only, now=now)
        now += timedelta(seconds=30)
    assert slack.replies() == expected
    assert {r["status"] for r in list_outbox(db)} == {"sent"}


def test_outage_on_slack_with_email_fallback_configured_does_not_fall_back(db, slack, smtp, smtp_port):
    """500s are temporary: they are retried on Slack, never diverted to email."""
    smtp.start()
    settings = AlertSettings(
        channels={
            "slack": SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL"),
            "email": email_settings(smtp_port),
        },
        routes=(Route(channels=("slack",)),),
    )
    with db.atomic():
        enqueue(db, add_finding(db), "first", settings, now=T0)
    slack.add(500, "rollup_error", times=2)
    for seconds in (0, 30, 90):
        deliver_pending(db, settings, now=T0 + timedelta(seconds=seconds))
    assert smtp.messages == [] and len(slack.accepted()) == 1
