"""Alerts survive what real networks and real comments send: odd Retry-After values, a 200
that is not Slack's, and comments whose escaping outgrows Slack's limits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from slack_sdk.models.blocks import Block

from guard.alerts._text import SECTION_LIMIT, fit_mrkdwn, quote_mrkdwn
from guard.alerts.channels.slack import parse_retry_after
from guard.alerts.health import list_outbox
from guard.alerts.outbox import deliver_pending, enqueue
from guard.alerts.render import render_alert
from tests.alerts.helpers import STORY_EVIDENCE, T0, add_finding


def _queue(db, settings, **finding):
    f = add_finding(db, **finding)
    with db.atomic():
        enqueue(db, f, "first", settings, now=T0)
    return f


@pytest.mark.parametrize(
    "value,seconds",
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 25 Nov 2026 12:02:00 GMT", 120.0),  # an HTTP date, two minutes after T0
        ("Wed, 25 Nov 2026 11:00:00 GMT", 0.0),  # a date in the past: now
        ("1e300", 7 * 24 * 3600.0),  # capped, never an overflow
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_parsed_defensively(value, seconds):
    """Numbers and HTTP dates give a delay; nan, inf and junk give None (the default backoff)."""
    assert parse_retry_after(value, now=T0) == seconds


@pytest.mark.parametrize("header", ["nan", "inf", "tomorrow", "1e999"])
def test_slack_429_with_junk_retry_after_backs_off_and_the_pass_goes_on(db, slack, slack_only, header):
    """A 429 whose Retry-After is junk reschedules with the default backoff; nothing crashes."""
    _queue(db, slack_only)
    _queue(db, slack_only, n=2, dedupe_key="removed-critical:111_222:2")
    slack.add(429, "rate_limited", {"Retry-After": header})
    report = deliver_pending(db, slack_only, now=T0)
    assert report.retrying == [1] and report.sent == []
    rows = list_outbox(db)
    assert rows[0]["next_attempt_at"] == (T0 + timedelta(seconds=30)).isoformat()
    assert deliver_pending(db, slack_only, now=T0 + timedelta(seconds=30)).sent == [1, 2]


def test_slack_200_without_ok_is_not_a_delivery(db, slack, slack_only):
    """A captive portal's 200 HTML page keeps the alert pending and says why; Slack's ok sends it."""
    _queue(db, slack_only)
    slack.add(200, "<html><body>Please log in to the hotel Wi-Fi</body></html>")
    report = deliver_pending(db, slack_only, now=T0)
    assert report.sent == [] and report.retrying == [1]
    row = list_outbox(db)[0]
    assert row["status"] == "pending" and "captive portal" in row["last_error"]
    assert deliver_pending(db, slack_only, now=T0 + timedelta(seconds=30)).sent == [1]


@pytest.mark.parametrize("filler", ["<", ">", "&", "<&>"])
def test_quote_keeps_the_deleted_words_when_escaping_outgrows_the_limit(filler):
    """A comment made mostly of characters Slack escapes still shows its words, within the limit."""
    raw = "wait, the meeting is TONIGHT?!? " + filler * 2000
    quoted = quote_mrkdwn(raw, SECTION_LIMIT)
    assert len(quoted) <= SECTION_LIMIT
    assert "TONIGHT?!?" in quoted and quoted.endswith("…")
    assert "&a…" not in quoted and "&l…" not in quoted  # never cut mid-entity
    assert len(fit_mrkdwn(filler * 10, 12)) <= 12


def test_rendered_alert_with_a_hostile_comment_is_valid_block_kit():
    """Every block of an alert quoting 3,000 escaped characters passes slack_sdk's validation."""
    evidence = json.loads(json.dumps(STORY_EVIDENCE))
    evidence["comment"]["message"] = "is it TONIGHT? " + "<&>" * 1500
    evidence["post"]["message"] = "&" * 5000
    finding = {
        "id": 1,
        "account": "main-page",
        "kind": "removed-critical",
        "severity": "critical",
        "opened_at": T0.isoformat(),
        "comment_id": "111_222",
        "post_id": "111",
        "evidence": json.dumps(evidence),
        "suggested_reply": "<b>" * 2000,
    }
    message = render_alert(finding, "first", now=T0)
    for raw in message.blocks:
        block = Block.parse(raw)
        assert block is not None
        block.validate_json()  # raises SlackObjectFormationError past a limit
    assert "is it TONIGHT?" in json.dumps(message.blocks)
