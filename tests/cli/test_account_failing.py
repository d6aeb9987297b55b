"""A failing account is an alert: a rejected token reaches Slack and email, `status` fails
until a poll succeeds again, and the recovery is announced with the length of the gap."""

from __future__ import annotations

import json

import pytest
import time_machine

from tests.cli.conftest import account_toml, email_toml, run, write_config
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture
from tests.support.http import free_port
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink

POST = f"{PAGE_ID}_1"


@pytest.fixture
def slack(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeSlack()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.url)
    yield fake
    fake.close()


@pytest.fixture
def smtp():
    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def alerting(config, slack, smtp):
    config.write_text(
        config.read_text().replace('database = "archive.db"', 'database = "archive.db"\nfailing_after = 3')
        + '\n[alerts.slack]\nwebhook_url_env = "SLACK_WEBHOOK_URL"\n'
        + email_toml(smtp.port)
    )
    return config


@pytest.fixture
def page(rsps):
    return FakePage(rsps, [FakePost(POST, "The meeting is Thursday.", comments=[FakeComment("1_1", "ok")])])


def _slack_texts(slack: FakeSlack) -> list[str]:
    return [json.dumps(m) for m in slack.accepted()]


def test_rejected_token_alerts_slack_and_email_and_recovery_resolves_it(capsys, alerting, page, slack, smtp):
    """A 190 on a poll opens account-failing, delivered by `poll --once` to Slack and SMTP;
    `status` exits 1; the next good poll resolves it and says the gap."""
    with time_machine.travel("2026-11-21T10:00:00Z", tick=False):
        code, out, err = run(capsys, "poll", "--once")
    assert code == 0, err
    page.fail(PAGE_ID, 400, fixture("facebook/error_expired_token.json"))
    with time_machine.travel("2026-11-21T12:00:00Z", tick=False):
        code, out, err = run(capsys, "poll", "--once")
    assert code == 1 and "FAILED" in out
    assert "1 new finding(s)" in out and "alerts: sent 2" in out
    assert "EAAB-very-secret" not in out + err
    texts = _slack_texts(slack)
    assert len(texts) == 1 and "not being archived" in texts[0]
    assert "main-page" in texts[0] and "FB_PAGE_TOKEN" in texts[0] and "2026-11-21T10:00:00" in texts[0]
    (_, _, mail) = smtp.messages[0]
    assert "not being archived" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "gap so far" in body and "check --live" in body

    code, out, _ = run(capsys, "findings", "--kind", "account-failing", "--json")
    assert [f["state"] for f in json.loads(out)] == ["open"]
    code, out, _ = run(capsys, "status")
    assert code == 1 and "FAILING" in out

    with time_machine.travel("2026-11-21T13:00:00Z", tick=False):
        code, out, err = run(capsys, "poll", "--once")
    assert code == 0, err
    assert "archiving resumed" in out
    assert "gap from 2026-11-21T10:00:00" in _slack_texts(slack)[-1]
    assert len(smtp.messages) == 2 and "Resolved" in smtp.messages[1][2]["Subject"]
    code, out, _ = run(capsys, "findings", "--kind", "account-failing", "--state", "all", "--json")
    (finding,) = json.loads(out)
    assert finding["state"] == "resolved" and "gap from 2026-11-21T10:00:00" in finding["note"]
    code, out, _ = run(capsys, "status")
    assert code == 0, out


def test_transient_failures_alert_only_after_failing_after_polls(capsys, alerting, page, slack):
    """Two 500s in a row stay quiet; the third consecutive failed poll opens the finding, once."""
    run(capsys, "poll", "--once")
    for n in range(4):
        page.fail(PAGE_ID, 500, {"error": {"message": "An unknown error occurred", "code": 1}})
        page.fail(PAGE_ID, 500, {"error": {"message": "An unknown error occurred", "code": 1}})
        page.fail(PAGE_ID, 500, {"error": {"message": "An unknown error occurred", "code": 1}})
        code, out, _ = run(capsys, "poll", "--once")
        assert code == 1
        opened = json.loads(run(capsys, "findings", "--kind", "account-failing", "--json")[1])
        assert len(opened) == (0 if n < 2 else 1)
    assert len(slack.accepted()) == 1


def test_two_installs_send_distinct_message_ids_for_their_finding_1(
    capsys, tmp_path, monkeypatch, rsps, smtp
):
    """Two archives each alert their finding #1: the Message-IDs differ (install id) and carry
    the sender's domain, so mail clients never merge the two pages' alerts into one."""
    page = FakePage(rsps, [FakePost(POST, "The meeting is Thursday.")])
    monkeypatch.setenv("FB_PAGE_TOKEN", "EAAB-very-secret")
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        write_config(
            tmp_path / name / "cg.toml",
            monkeypatch,
            account_toml(),
            email_toml(smtp.port, sender=f"guard@{name}.example.org"),
        )
        page.fail(PAGE_ID, 400, fixture("facebook/error_expired_token.json"))
        code, out, err = run(capsys, "poll", "--once")
        assert code == 1 and "#1" in out and "alerts: sent 1" in out, err
    ids = [mail["Message-ID"] for _, _, mail in smtp.messages]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert ids[0].endswith("@one.example.org>") and ids[1].endswith("@two.example.org>")
