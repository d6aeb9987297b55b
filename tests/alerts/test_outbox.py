"""The outbox contract: dedupe, routing, transactions, cancellation, ordering, health."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guard.alerts.channels.email import EmailSettings
from guard.alerts.channels.slack import SlackSettings
from guard.alerts.health import channel_health, list_outbox
from guard.alerts.outbox import (
    cancel_for_finding,
    deliver_pending,
    enqueue,
    retry_failed,
    send_test_alert,
)
from guard.alerts.routing import routed_channels
from guard.config import AlertSettings, Route
from guard.errors import AlertPermanent, AlertRetryable, ArchiveError
from tests.alerts.helpers import T0, add_finding

SLACK = SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL")
EMAIL = EmailSettings(
    smtp_host="127.0.0.1",
    from_addr="g@example.org",
    to=("a@example.org",),
    escalation_to=("boss@example.org",),
)


class Recorder:
    """A sender that records what it was given and can fail on demand."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.items = []
        self.fail = fail

    def __call__(self, item) -> None:
        if self.fail is not None:
            raise self.fail
        self.items.append(item)


def _enqueue(db, finding, stage, settings, **kw):
    with db.atomic():
        return enqueue(db, finding, stage, settings, now=T0, **kw)


def test_same_finding_stage_and_channel_is_queued_once(db):
    """Enqueueing the same (finding, stage) again adds nothing: one alert per stage."""
    settings = AlertSettings(channels={"slack": SLACK, "email": EMAIL})
    f = add_finding(db)
    assert _enqueue(db, f, "first", settings) == [1, 2]
    assert _enqueue(db, f, "first", settings) == []
    assert _enqueue(db, f, "reminder", settings) == [3, 4]
    assert [r["dedupe_key"] for r in list_outbox(db)] == [
        "1:first:slack",
        "1:first:email",
        "1:reminder:slack",
        "1:reminder:email",
    ]


def test_enqueue_joins_the_callers_transaction(db):
    """If the engine's transaction rolls back, the finding's alert rows vanish with it."""
    f = add_finding(db)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with db.atomic():
            enqueue(db, f, "first", AlertSettings(channels={"slack": SLACK}), now=T0)
            raise Boom
    assert list_outbox(db) == []


def test_routes_filter_by_kind_and_severity():
    """Routes send kinds at or above min_severity to their channels; no match means no alert."""
    settings = AlertSettings(
        channels={"slack": SLACK, "email": EMAIL},
        routes=(
            Route(channels=("slack",), min_severity="warning"),
            Route(channels=("email",), kinds=("removed-critical",), min_severity="critical"),
        ),
    )
    crit = {"kind": "removed-critical", "severity": "critical"}
    assert routed_channels(crit, "first", settings) == ["slack", "email"]
    assert routed_channels({"kind": "unanswered", "severity": "critical"}, "first", settings) == ["slack"]
    assert routed_channels({"kind": "unanswered", "severity": "info"}, "first", settings) == []


def test_no_routes_means_every_configured_channel():
    """Without [[alerts.routes]] every finding goes everywhere that is configured."""
    assert routed_channels(
        {"kind": "x", "severity": "info"}, "first", AlertSettings(channels={"slack": SLACK, "email": EMAIL})
    ) == ["slack", "email"]
    assert routed_channels({"kind": "x", "severity": "info"}, "first", AlertSettings()) == []


def test_escalation_uses_the_escalation_webhook_when_configured(db):
    """An escalation goes to the second Slack webhook; other stages use the first."""
    settings = AlertSettings(
        channels={
            "slack": SlackSettings(
                webhook_url_env="SLACK_WEBHOOK_URL", escalation_webhook_url_env="SLACK_ESCALATION"
            )
        }
    )
    f = add_finding(db)
    _enqueue(db, f, "first", settings)
    _enqueue(db, f, "escalation", settings)
    assert [r["channel"] for r in list_outbox(db)] == ["slack", "slack-escalation"]
    main, second = Recorder(), Recorder()
    deliver_pending(db, settings, now=T0, senders={"slack": main, "slack-escalation": second})
    assert [i.stage for i in main.items] == ["first"]
    assert [i.stage for i in second.items] == ["escalation"]


def test_finding_resolved_before_reminder_sends_no_reminder(db):
    """cancel_for_finding withdraws a scheduled reminder, so it is never delivered."""
    settings = AlertSettings(channels={"slack": SLACK})
    f = add_finding(db)
    _enqueue(db, f, "first", settings)
    _enqueue(db, f, "reminder", settings, not_before=T0 + timedelta(hours=2))
    sent = Recorder()
    deliver_pending(db, settings, now=T0, senders={"slack": sent})
    with db.atomic():
        db.execute(
            "UPDATE findings SET state = 'resolved', resolved_at = ? WHERE id = ?",
            [(T0 + timedelta(hours=1)).isoformat(), f["id"]],
        )
        assert cancel_for_finding(db, f["id"], ["reminder", "escalation"]) == 1
    deliver_pending(db, settings, now=T0 + timedelta(hours=3), senders={"slack": sent})
    assert [i.stage for i in sent.items] == ["first"]
    assert [r["status"] for r in list_outbox(db)] == ["sent", "cancelled"]


def test_reminder_of_resolved_finding_is_cancelled_even_without_cancel_call(db):
    """Delivery itself refuses to remind about a finding that is already resolved."""
    settings = AlertSettings(channels={"slack": SLACK})
    f = add_finding(db)
    _enqueue(db, f, "reminder", settings)
    db["findings"].update(f["id"], {"state": "resolved"})
    sent = Recorder()
    report = deliver_pending(db, settings, now=T0, senders={"slack": sent})
    assert sent.items == [] and report.cancelled == [1]


def test_scheduled_reminder_does_not_hold_back_later_alerts(db):
    """A reminder waiting for its time is not a backlog: newer first alerts go out now."""
    settings = AlertSettings(channels={"slack": SLACK})
    _enqueue(db, add_finding(db, dedupe_key="a"), "reminder", settings, not_before=T0 + timedelta(hours=2))
    _enqueue(db, add_finding(db, dedupe_key="b"), "first", settings)
    sent = Recorder()
    assert deliver_pending(db, settings, now=T0, senders={"slack": sent}).sent == [2]


def test_a_retrying_channel_does_not_delay_the_other_channel(db):
    """Slack backing off holds back only Slack rows; email keeps flowing."""
    settings = AlertSettings(channels={"slack": SLACK, "email": EMAIL})
    for key in ("a", "b"):
        _enqueue(db, add_finding(db, dedupe_key=key), "first", settings)
    mail = Recorder()
    report = deliver_pending(
        db, settings, now=T0, senders={"slack": Recorder(fail=AlertRetryable("down")), "email": mail}
    )
    assert report.retrying == [1] and report.sent == [2, 4]
    assert [r["attempts"] for r in list_outbox(db) if r["channel"] == "slack"] == [1, 0]


def test_deliver_refuses_to_run_inside_a_transaction(db):
    """Delivery commits per send, so it must not be nested in someone else's transaction."""
    with pytest.raises(ArchiveError, match="outside a transaction"):
        with db.atomic():
            deliver_pending(db, AlertSettings(channels={"slack": SLACK}), now=T0)


def test_a_crashing_sender_is_retried_not_fatal(db):
    """A bug in one sender (plain Exception) reschedules the row and the job keeps going."""
    settings = AlertSettings(channels={"slack": SLACK, "email": EMAIL})
    _enqueue(db, add_finding(db), "first", settings)
    mail = Recorder()
    report = deliver_pending(
        db, settings, now=T0, senders={"slack": Recorder(fail=KeyError("bug")), "email": mail}
    )
    assert report.retrying == [1] and "KeyError" in report.errors[1] and len(mail.items) == 1


@pytest.mark.parametrize("retry_after", [float("inf"), float("nan"), 1e300])
def test_a_retry_after_no_clock_can_hold_backs_off_and_keeps_the_row_queued(db, retry_after):
    """Whatever delay a sender reports, the row goes back to the queue (never left claimed, which
    would hide it until a restart) and the other channel is still served in the same pass."""
    settings = AlertSettings(channels={"slack": SLACK, "email": EMAIL})
    _enqueue(db, add_finding(db), "first", settings)
    mail = Recorder()
    throttled = Recorder(fail=AlertRetryable("rate-limited", retry_after=retry_after))
    report = deliver_pending(db, settings, now=T0, senders={"slack": throttled, "email": mail})
    assert report.retrying == [1] and len(mail.items) == 1
    slack_row = list_outbox(db)[0]
    assert slack_row["status"] == "pending"
    assert slack_row["next_attempt_at"] <= (T0 + timedelta(days=1)).isoformat()


def test_failed_rows_can_be_requeued_after_fixing_the_channel(db):
    """retry_failed puts failed rows back; they are then delivered."""
    settings = AlertSettings(channels={"slack": SLACK})
    _enqueue(db, add_finding(db), "first", settings)
    deliver_pending(db, settings, now=T0, senders={"slack": Recorder(AlertPermanent("no_service"))})
    assert channel_health(db)["slack"]["failed"] == 1
    assert retry_failed(db, now=T0 + timedelta(minutes=5)) == 1
    ok = Recorder()
    assert deliver_pending(db, settings, now=T0 + timedelta(minutes=5), senders={"slack": ok}).sent == [1]
    assert channel_health(db)["slack"]["status"] == "ok"


def test_list_outbox_pending_only(db):
    """list_outbox(pending_only=True) shows just the rows still to send, without payloads."""
    settings = AlertSettings(channels={"slack": SLACK})
    _enqueue(db, add_finding(db, dedupe_key="a"), "first", settings)
    _enqueue(db, add_finding(db, dedupe_key="b"), "first", settings)
    deliver_pending(db, settings, now=T0, senders={"slack": Recorder()}, only_ids=[1])
    assert [r["id"] for r in list_outbox(db, pending_only=True)] == [2]
    assert "payload" not in list_outbox(db)[0]


def test_test_alert_goes_through_the_real_path_immediately(db, slack):
    """send_test_alert posts a labelled sample to the webhook right away."""
    report = send_test_alert(db, AlertSettings(channels={"slack": SLACK}), now=T0, channel="slack")
    assert report.sent == [1]
    assert slack.calls[0]["json"]["blocks"][0]["text"]["text"].startswith("Test: ")
    assert list_outbox(db)[0]["stage"] == "test"


def test_health_reports_retrying_channel_with_its_error(db):
    """A channel waiting out a backoff shows retrying, the error and the next attempt."""
    settings = AlertSettings(channels={"slack": SLACK})
    _enqueue(db, add_finding(db), "first", settings)
    deliver_pending(db, settings, now=T0, senders={"slack": Recorder(AlertRetryable("HTTP 503"))})
    h = channel_health(db)["slack"]
    assert (h["status"], h["pending"], h["retry_error"]) == ("retrying", 1, "HTTP 503")
    assert h["next_attempt_at"] == (T0 + timedelta(seconds=30)).isoformat()


def test_scheduled_reminder_states_the_age_at_its_send_time(db):
    """A reminder queued at opening time for two hours later says "Open for 2h"."""
    settings = AlertSettings(channels={"slack": SLACK})
    f = add_finding(db)
    _enqueue(db, f, "reminder", settings, not_before=T0 + timedelta(hours=2))
    sent = Recorder()
    deliver_pending(db, settings, now=T0 + timedelta(hours=2), senders={"slack": sent})
    assert "Open for 2h without a public reply." in sent.items[0].message.email_text


def test_a_new_run_of_retries_starts_its_own_clock_after_the_last_one_was_withdrawn(db):
    """A reminder that retried and was then cancelled (its finding resolved) leaves no retrying
    row; a temporary error a day later starts a new episode, not one "since yesterday", so
    `status` does not call the channel down at its first 503."""
    settings = AlertSettings(channels={"slack": SLACK})
    f = add_finding(db)
    _enqueue(db, f, "reminder", settings)
    busy = Recorder(fail=AlertRetryable("Slack had a server error (HTTP 503)"))
    deliver_pending(db, settings, now=T0, senders={"slack": busy})
    with db.atomic():
        cancel_for_finding(db, f["id"], ["reminder"])
    later = T0 + timedelta(days=1)
    with db.atomic():
        enqueue(db, add_finding(db, n=2, dedupe_key="second"), "first", settings, now=later)
    deliver_pending(db, settings, now=later, senders={"slack": busy})
    assert channel_health(db)["slack"]["retrying_since"] == later.isoformat()
