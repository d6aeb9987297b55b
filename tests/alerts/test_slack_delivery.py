"""Slack delivery through slack_sdk's real transport against a loopback webhook."""

from __future__ import annotations

from datetime import timedelta

import structlog

from guard.alerts.channels.slack import SlackSettings
from guard.alerts.health import channel_health, list_outbox
from guard.alerts.outbox import deliver_pending, enqueue
from guard.config import AlertSettings, Route
from tests.alerts.conftest import email_settings
from tests.alerts.helpers import STORY_REPLY, T0, add_finding
from tests.support.slack import WEBHOOK_PATH


def _queue(db, settings, **finding):
    f = add_finding(db, **finding)
    with db.atomic():
        enqueue(db, f, "first", settings, now=T0)
    return f


def test_slack_200_ok_marks_row_sent(db, slack, slack_only):
    """A webhook answering 200 ok gets exactly one POST and the row becomes sent."""
    _queue(db, slack_only)
    report = deliver_pending(db, slack_only, now=T0)
    assert len(slack.calls) == 1 and report.sent == [1]
    row = list_outbox(db)[0]
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 1, T0.isoformat())
    assert deliver_pending(db, slack_only, now=T0 + timedelta(hours=1)).sent == []
    assert len(slack.calls) == 1


def test_slack_message_has_header_quoted_comment_reply_command_and_button(db, slack, slack_only):
    """The posted Block Kit carries what happened, the quoted comment, the reply and the link."""
    _queue(db, slack_only)
    deliver_pending(db, slack_only, now=T0)
    body = slack.calls[0]["json"]
    blocks = body["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "emoji": True,
            "text": "A critical comment on a corrected post was deleted",
        },
    }
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    post = next(t for t in texts if t.startswith("*Post:*"))
    assert "<https://www.facebook.com/111/posts/333?a=1&amp;b=2|Town meeting on Thirteenth" in post
    assert "*What was corrected:* Thursday → Thirteenth" in post
    comment = next(t for t in texts if "Comment by" in t)
    assert "Pat Reader" in comment and "DELETED" in comment
    assert ">wait, the meeting is TONIGHT?!? &lt;b&gt;&amp; why&lt;/b&gt;" in comment
    reply = next(t for t in texts if t.startswith("*Suggested public reply:*"))
    assert ">" + STORY_REPLY in reply
    command = next(t for t in texts if "```" in t)
    assert f"comment-guard reply 111 '{STORY_REPLY}'" in command
    actions = next(b for b in blocks if b["type"] == "actions")
    assert actions["elements"][0]["url"] == "https://www.facebook.com/111/posts/333?a=1&b=2"
    assert "A question on a corrected post was deleted" in body["text"]
    assert "TONIGHT?!? &lt;b&gt;&amp; why" in body["text"]  # no mentions or links smuggled in


def test_slack_429_reschedules_at_retry_after_then_sends(db, slack, slack_only):
    """A 429 with Retry-After: 7 moves the row 7 s later instead of sleeping, then it is sent."""
    _queue(db, slack_only)
    slack.add(429, "rate_limited", {"Retry-After": "7"})
    report = deliver_pending(db, slack_only, now=T0)
    row = list_outbox(db)[0]
    assert report.retrying == [1]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["next_attempt_at"] == (T0 + timedelta(seconds=7)).isoformat()
    assert deliver_pending(db, slack_only, now=T0 + timedelta(seconds=6)).sent == []
    assert deliver_pending(db, slack_only, now=T0 + timedelta(seconds=7)).sent == [1]
    assert [c["status"] for c in slack.calls] == [429, 200]


def test_slack_500_is_retried_with_exponential_backoff(db, slack, slack_only):
    """Server errors back off 30 s, 60 s, 120 s... and the row is sent once Slack recovers."""
    _queue(db, slack_only)
    slack.add(500, "rollup_error", times=3)
    deliver_pending(db, slack_only, now=T0)
    schedule = [list_outbox(db)[0]["next_attempt_at"]]
    for now in (T0 + timedelta(seconds=30), T0 + timedelta(seconds=90)):
        deliver_pending(db, slack_only, now=now)
        schedule.append(list_outbox(db)[0]["next_attempt_at"])
    assert schedule == [(T0 + timedelta(seconds=s)).isoformat() for s in (30, 90, 210)]
    assert "HTTP 500 rollup_error" in list_outbox(db)[0]["last_error"]
    assert deliver_pending(db, slack_only, now=T0 + timedelta(seconds=210)).sent == [1]


def test_slack_backoff_is_capped_by_max_backoff(db, slack):
    """However long Slack fails, the wait between attempts never exceeds alerts.max_backoff."""
    settings = AlertSettings(
        channels={"slack": SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL")},
        max_backoff=timedelta(minutes=2),
    )
    _queue(db, settings)
    slack.default = (503, "service_unavailable", {})
    now = T0
    for _ in range(6):
        deliver_pending(db, settings, now=now)
        nxt = list_outbox(db)[0]["next_attempt_at"]
        assert nxt <= (now + timedelta(minutes=2)).isoformat()
        now += timedelta(minutes=2)
    assert list_outbox(db)[0]["attempts"] == 6


def test_slack_404_no_service_fails_permanently_and_falls_back_to_email(db, slack, smtp, smtp_port):
    """A revoked webhook is not retried; the channel shows failing and the alert arrives by mail."""
    settings = AlertSettings(
        channels={
            "slack": SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL"),
            "email": email_settings(smtp_port),
        },
        routes=(Route(channels=("slack",)),),
    )
    smtp.start()
    _queue(db, settings)
    slack.add(404, "no_service")
    report = deliver_pending(db, settings, now=T0)
    rows = list_outbox(db)
    assert [(r["channel"], r["status"]) for r in rows] == [("slack", "failed"), ("email", "sent")]
    assert rows[1]["dedupe_key"] == "1:first:slack:fallback-email"
    assert report.failed == [1] and report.fallbacks == [2] and report.sent == [2]
    assert "no_service" in rows[0]["last_error"]
    health = channel_health(db)
    assert health["slack"]["status"] == "failing" and "no_service" in health["slack"]["last_error"]
    assert health["email"]["status"] == "ok"
    ((_, rcpts, msg),) = smtp.messages
    assert rcpts == ["comms@example.org"]
    text = msg.get_body(("plain",)).get_content()
    assert "could not be posted to Slack" in text and "no_service" in text
    assert STORY_REPLY in text
    deliver_pending(db, settings, now=T0 + timedelta(hours=1))
    assert len(slack.calls) == 1 and len(smtp.messages) == 1


def test_slack_permanent_error_without_email_is_surfaced_not_dropped(db, slack, slack_only):
    """With no email configured, a channel_is_archived row stays as failed and health says so."""
    _queue(db, slack_only)
    slack.add(410, "channel_is_archived")
    deliver_pending(db, slack_only, now=T0)
    row = list_outbox(db)[0]
    assert row["status"] == "failed" and "archived" in row["last_error"]
    assert channel_health(db)["slack"]["status"] == "failing"


def test_slack_success_after_failure_clears_failing_status(db, slack, slack_only):
    """Once the webhook works again, the channel reports ok."""
    _queue(db, slack_only, dedupe_key="a")
    _queue(db, slack_only, dedupe_key="b")
    slack.add(404, "channel_not_found")
    deliver_pending(db, slack_only, now=T0)
    assert channel_health(db)["slack"]["status"] == "ok"
    assert [r["status"] for r in list_outbox(db)] == ["failed", "sent"]


def test_slack_unreachable_is_retryable(db, slack_only, monkeypatch):
    """Connection refused (nothing listening) keeps the row pending with a backoff."""
    from tests.support.http import free_port

    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/services/T/B/X")
    _queue(db, slack_only)
    report = deliver_pending(db, slack_only, now=T0)
    assert report.retrying == [1]
    assert "cannot reach Slack" in report.errors[1]
    assert channel_health(db)["slack"]["status"] == "retrying"


def test_missing_webhook_env_var_keeps_alert_pending_with_a_clear_error(db, slack_only, monkeypatch):
    """An unset SLACK_WEBHOOK_URL is a retry with an error naming the variable, not a loss."""
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    _queue(db, slack_only)
    report = deliver_pending(db, slack_only, now=T0)
    assert report.retrying == [1] and "SLACK_WEBHOOK_URL" in report.errors[1]


def test_webhook_url_never_appears_in_logs_or_errors(db, slack, slack_only):
    """The webhook URL is a secret: no log event and no stored error contains it."""
    _queue(db, slack_only, dedupe_key="a")
    _queue(db, slack_only, dedupe_key="b")
    slack.add(500, "rollup_error")
    with structlog.testing.capture_logs() as logs:
        deliver_pending(db, slack_only, now=T0)
        deliver_pending(db, slack_only, now=T0 + timedelta(minutes=5))
    assert logs and all("/services/" not in repr(e) for e in logs)
    assert all("/services/" not in (r["last_error"] or "") for r in list_outbox(db))


def test_webhook_url_with_a_space_fails_once_without_quoting_the_url(db, slack, slack_only, monkeypatch):
    """An EnvironmentFile line with an inline comment (systemd keeps it in the value) gives a URL
    urllib refuses, quoting its path, the secret part. The alert fails once with a message saying
    where to look (it will never work as it is); no log line or stored error carries the path."""
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url + " # alerts channel")
    _queue(db, slack_only)
    with structlog.testing.capture_logs() as logs:
        report = deliver_pending(db, slack_only, now=T0)
    assert report.failed == [1] and "not a valid URL" in report.errors[1]
    assert channel_health(db)["slack"]["status"] == "failing"
    stored = repr(list_outbox(db)) + repr(channel_health(db))
    assert "/services/" not in repr(logs) + stored and "XXXX" not in stored
    assert slack.calls == []


def test_a_refusal_quoting_the_webhook_url_is_scrubbed_in_the_channel_state_too(db, slack, slack_only):
    """A corporate proxy's 403 page that echoes the URL it blocked: the failed row and the channel
    state that `status` and `alerts` read both keep the error without the URL's secret part."""
    _queue(db, slack_only)
    slack.add(403, f"<html>Access to https://hooks.slack.com{WEBHOOK_PATH} denied</html>")
    assert deliver_pending(db, slack_only, now=T0).failed == [1]
    health = channel_health(db)["slack"]
    assert health["status"] == "failing" and "HTTP 403" in health["last_error"]
    assert "XXXX" not in health["last_error"] and "XXXX" not in list_outbox(db)[0]["last_error"]
