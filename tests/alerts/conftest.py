"""Fixtures for alert tests: a loopback Slack webhook, a loopback SMTP server, settings."""

from __future__ import annotations

import pytest

from guard.alerts.channels.email import EmailSettings
from guard.alerts.channels.slack import SlackSettings
from guard.config import AlertSettings
from tests.support.http import free_port
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """No proxy may divert loopback traffic; the webhook URL comes from the fake server."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def slack(monkeypatch):
    fake = FakeSlack()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.url)
    yield fake
    fake.close()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    sink = SmtpSink(smtp_port)
    yield sink
    sink.stop()


def email_settings(port: int, **overrides) -> EmailSettings:
    values = dict(
        smtp_host="127.0.0.1",
        smtp_port=port,
        starttls=False,
        from_addr="guard@example.org",
        to=("comms@example.org",),
        timeout=2.0,
    )
    values.update(overrides)
    return EmailSettings(**values)


@pytest.fixture
def slack_only() -> AlertSettings:
    return AlertSettings(channels={"slack": SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL")})


@pytest.fixture
def slack_and_email(smtp_port) -> AlertSettings:
    return AlertSettings(
        channels={
            "slack": SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL"),
            "email": email_settings(smtp_port),
        }
    )


@pytest.fixture
def email_only(smtp_port) -> AlertSettings:
    return AlertSettings(channels={"email": email_settings(smtp_port)})
