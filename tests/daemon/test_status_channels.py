"""`status` is the health check: an alert channel that a human must fix (a revoked Slack webhook)
makes it say so and exit 1, like a failing account, until a send on that channel succeeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from guard.alerts.outbox import deliver_pending, enqueue, retry_failed
from guard.archive.connection import open_archive
from guard.clock import utcnow
from guard.config import load_config
from tests.alerts.helpers import add_finding
from tests.cli.conftest import run
from tests.daemon.conftest import TOKEN, TOKEN_ENV, account_toml, write_config
from tests.support.slack import FakeSlack

SLACK = '\n[alerts.slack]\nwebhook_url_env = "SLACK_WEBHOOK_URL"\n'


@pytest.fixture
def slack(monkeypatch) -> Iterator[FakeSlack]:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeSlack()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.url)
    yield fake
    fake.close()


@pytest.fixture
def world(tmp_path, monkeypatch, slack):
    path = write_config(tmp_path, [account_toml("main", "http://127.0.0.1:9", every="5m")])
    path.write_text(path.read_text() + SLACK)
    monkeypatch.setenv("COMMENT_GUARD_CONFIG", str(path))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = load_config(path)
    db = open_archive(config.guard.database)
    with db.atomic():
        enqueue(db, add_finding(db), "first", config.alerts, now=utcnow() - timedelta(hours=3))
    yield config, db
    db.conn.close()


def test_status_fails_while_slack_refuses_alerts_and_recovers_after_a_success(capsys, world, slack):
    """A 404 no_service marks the channel failing: `status` names it with Slack's words and exits
    1; once the webhook works and the alert is requeued and sent, `status` is healthy again."""
    config, db = world
    code, _, _ = run(capsys, "status")
    assert code == 0
    slack.add(404, "no_service")
    assert deliver_pending(db, config.alerts, now=utcnow()).failed == [1]

    code, out, _ = run(capsys, "status")
    assert code == 1, out
    line = next(x for x in out.splitlines() if x.startswith("alerts on slack: FAILING"))
    assert "no_service" in line and "--retry-failed" in line
    assert "/services/" not in out
    code, out, _ = run(capsys, "status", "--json")
    assert code == 1 and json.loads(out)["failing_channels"] == ["slack"]

    retry_failed(db, now=utcnow())
    assert deliver_pending(db, config.alerts, now=utcnow()).sent == [1]
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert "FAILING" not in out


def test_status_ignores_a_failure_of_a_channel_no_longer_configured(capsys, world, slack, tmp_path):
    """After [alerts.slack] is removed from the config, its old failure no longer fails `status`."""
    config, db = world
    slack.add(404, "no_service")
    deliver_pending(db, config.alerts, now=utcnow())
    path = tmp_path / "comment-guard.toml"
    path.write_text(path.read_text().replace(SLACK, ""))
    code, out, _ = run(capsys, "status")
    assert code == 0, out


def test_status_fails_when_a_channel_has_delivered_nothing_for_an_hour_of_retries(capsys, world, slack):
    """Temporary errors for two hours (Slack 503s; an unreachable mail server or an unset variable
    look the same) leave the alert pending, never failed: `status` says since when and exits 1."""
    config, db = world
    slack.default = (503, "service_unavailable", {})
    started = utcnow() - timedelta(hours=2)
    for minutes in (0, 1, 3, 7, 15, 31, 61, 91):
        deliver_pending(db, config.alerts, now=started + timedelta(minutes=minutes))
    code, out, _ = run(capsys, "status")
    assert code == 1, out
    line = next(x for x in out.splitlines() if x.startswith("alerts on slack: NOT DELIVERED"))
    assert "HTTP 503 service_unavailable" in line


def test_status_shows_a_short_retry_without_failing(capsys, world, slack):
    """A few minutes of 503s is an outage being waited out: visible, but the check still passes."""
    config, db = world
    slack.add(503, "service_unavailable")
    deliver_pending(db, config.alerts, now=utcnow() - timedelta(minutes=5))
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert any(x.startswith("alerts on slack: retrying since") for x in out.splitlines())
