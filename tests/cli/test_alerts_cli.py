"""The alert commands through the CLI: a finding's alert reaches a real SMTP server."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import email_toml, run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost
from tests.support.http import free_port
from tests.support.smtp import SmtpSink

POST = f"{PAGE_ID}_1"


@pytest.fixture
def smtp():
    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def email_config(config, smtp):
    config.write_text(config.read_text() + email_toml(smtp.port))
    return config


def test_test_alert_is_delivered_through_the_real_smtp_path(capsys, email_config, smtp):
    """test-alert sends a sample through the outbox to the configured mail server."""
    code, out, err = run(capsys, "test-alert", "--channel", "email")
    assert code == 0, err
    assert "delivered" in out and len(smtp.messages) == 1


def test_finding_alert_is_queued_listed_and_delivered(capsys, email_config, smtp, rsps):
    """A deleted question queues an alert; `alerts --pending` lists it; `deliver` sends it."""
    page = FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The meeting is Thursday.",
                comments=[FakeComment("1_1", "wait, the meeting is TONIGHT?!?")],
            )
        ],
    )
    run(capsys, "poll", "--once")
    page.post(POST).message = "The meeting is the Thirteenth."
    run(capsys, "poll", "--once")
    page.remove_comment("1_1")
    run(capsys, "poll", "--once", "--no-deliver")
    code, out, _ = run(capsys, "alerts", "--pending", "--json")
    pending = json.loads(out)["outbox"]
    assert [(r["stage"], r["channel"]) for r in pending] == [("first", "email"), ("reminder", "email")]
    code, out, _ = run(capsys, "deliver")
    assert code == 0 and "sent 1" in out
    (_, rcpts, message) = smtp.messages[0]
    assert rcpts == ["comms@example.org"]
    body = message.get_body(("plain",)).get_content()
    assert "wait, the meeting is TONIGHT?!?" in body and "Thursday" in body


def test_test_alert_without_channels_is_a_clear_error(capsys, config):
    """No [alerts] section: test-alert says what to add."""
    code, _, err = run(capsys, "test-alert")
    assert code == 2 and "no alert channel is configured" in err
