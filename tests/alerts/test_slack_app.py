"""Slack app mode end to end: an alert with buttons over the Web API, presses over Socket Mode,
the reply through the sandbox Graph API, all on loopback stand-ins."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from guard.alerts.channels.slack_app import (
    ACTION_ACK,
    ACTION_NOT_CRITICAL,
    ACTION_REPLY,
    REPLY_CALLBACK,
    REPLY_INPUT,
    SlackAppSettings,
)
from guard.alerts.outbox import deliver_pending
from guard.archive.connection import open_archive
from guard.archive.findings import get_finding
from guard.clock import utcnow
from guard.config import load_config, parse_config
from guard.demo.sandbox import Sandbox
from guard.errors import ConfigError
from guard.runtime.pipeline import run_poll
from guard.runtime.slack_app import SlackApp, app_settings
from tests.support.slack_app import APP_TOKEN, BOT_TOKEN, FakeSlackApp

CHANNEL = "C0ALERTS"
QUESTION = "wait, the meeting is TONIGHT?!?"
DANA, SAM, MALLORY = "U0DANA", "U0SAM", "U0MALLORY"


@pytest.fixture
def world(tmp_path, monkeypatch) -> Iterator[dict]:
    """The sandbox page with the Thursday story played, a fake Slack, and a config in app mode
    whose first poll has opened the removed-critical finding."""
    slack = FakeSlackApp()
    with Sandbox(token="page-token") as sandbox:
        monkeypatch.setenv("PAGE_TOKEN", "page-token")
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
        path = tmp_path / "cg.toml"
        path.write_text(
            f"""
[guard]
database = "archive.db"

[[accounts]]
name = "page"
platform = "facebook"
page_id = "100200300"
token_env = "PAGE_TOKEN"
api_base_url = "{sandbox.base_url}"

[alerts.slack]
mode = "app"
bot_token_env = "SLACK_BOT_TOKEN"
app_token_env = "SLACK_APP_TOKEN"
channel = "{CHANNEL}"
allowed_users = ["{DANA}", "{SAM}"]
api_base_url = "{slack.base_url}"
"""
        )
        config = load_config(path)
        db = open_archive(config.guard.database)
        account = config.account("page")
        post = sandbox.add_post("Reminder: our community meeting is Thursday at 7pm in the library.")
        run_poll(config, db, account)
        question = sandbox.add_comment(post, QUESTION, author="Dana Reader")
        run_poll(config, db, account)
        sandbox.edit_post(post, "Reminder: our community meeting is the Thirteenth at 7pm in the library.")
        run_poll(config, db, account)
        sandbox.delete_comment(question)
        outcome = run_poll(config, db, account)
        (finding_id,) = outcome.findings_opened
        app = SlackApp(config, app_settings(config))
        try:
            yield {
                "slack": slack,
                "sandbox": sandbox,
                "config": config,
                "db": db,
                "account": account,
                "post": post,
                "question": question,
                "finding_id": finding_id,
                "app": app,
            }
        finally:
            app.stop()
            slack.close()
            db.conn.close()


def _deliver_alert(w: dict) -> dict:
    report = deliver_pending(w["db"], w["config"].alerts, now=utcnow())
    assert not report.failed and not report.retrying, report.errors
    (posted,) = w["slack"].called("chat.postMessage")
    return posted


def _click(
    w: dict, action_id: str, user: str, *, action_ts: str = "1700000000.000100", channel: str = CHANNEL
):
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()[2:]},
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": "1000.000001", "channel_id": channel},
        "trigger_id": "trig-1",
        "actions": [
            {"action_id": action_id, "value": str(w["finding_id"]), "action_ts": action_ts, "type": "button"}
        ],
    }


def _submission(w: dict, user: str, text: str, *, view_id: str = "V0REPLY1") -> dict:
    return {
        "type": "view_submission",
        "user": {"id": user, "username": user.lower()[2:]},
        "view": {
            "id": view_id,
            "callback_id": REPLY_CALLBACK,
            "private_metadata": json.dumps(
                {"finding_id": w["finding_id"], "channel": CHANNEL, "ts": "1000.000001"}
            ),
            "state": {"values": {"reply": {REPLY_INPUT: {"type": "plain_text_input", "value": text}}}},
        },
    }


def _parsed(value):
    """A Web API argument as sent: JSON text in a form body, or already a value in a JSON body."""
    return json.loads(value) if isinstance(value, str) else value


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _replies_posted(sandbox: Sandbox) -> list[dict[str, str]]:
    return [p for m, path, p in sandbox.requests if m == "POST" and path.endswith("/comments")]


def _wait(condition, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _events(db, kind: str) -> list[dict]:
    return [
        json.loads(r["data"]) | {"account": r["account"]}
        for r in db.query("SELECT account, data FROM events WHERE kind = ? ORDER BY seq", [kind])
    ]


def test_alert_is_posted_with_buttons_to_the_configured_channel(world):
    """chat.postMessage to the channel, with the bot token, carrying Post reply, Acknowledge,
    Not critical and Open post buttons that name the finding."""
    posted = _deliver_alert(world)
    assert posted["channel"] == CHANNEL
    actions = [b for b in json.loads(posted["blocks"]) if b["type"] == "actions"]
    (buttons,) = actions
    ids = [e["action_id"] for e in buttons["elements"]]
    assert ids == [ACTION_REPLY, ACTION_ACK, ACTION_NOT_CRITICAL, "open_post"]
    assert {e.get("value") for e in buttons["elements"][:3]} == {str(world["finding_id"])}
    assert QUESTION in posted["blocks"]


def test_reply_submitted_twice_posts_once_updates_the_message_and_resolves_on_next_poll(world):
    """Over the real websocket: the Post reply button opens the modal with the suggested reply;
    the submission delivered twice (Slack's retry) posts to the Graph API exactly once; the
    message shows who replied; the next poll sees the page reply and resolves the finding."""
    w = world
    _deliver_alert(w)
    w["app"].start()
    w["slack"].wait_connected()
    envelope = w["slack"].deliver(_click(w, ACTION_REPLY, SAM))
    _wait(lambda: w["slack"].called("views.open"), "the modal")
    (opened,) = w["slack"].called("views.open")
    view = _parsed(opened["view"])
    suggested = get_finding(w["db"], w["finding_id"])["suggested_reply"]
    assert view["blocks"][1]["element"]["initial_value"] == suggested
    text = "We made a mistake: the meeting is on the 13th, not Thursday. Sorry, Dana!"
    first = w["slack"].deliver(_submission(w, SAM, text))
    again = w["slack"].deliver(_submission(w, SAM, text), retry=1)
    w["slack"].wait_acks([envelope, first, again])
    _wait(lambda: len(w["slack"].called("chat.update")) >= 1, "the message update")
    _wait(
        lambda: (
            w["db"].execute("SELECT count(*) FROM interactions WHERE outcome = 'done'").fetchone()[0] == 1
        ),
        "the reply to be recorded",
    )
    replies = _replies_posted(w["sandbox"])
    assert [r["message"] for r in replies] == [text]
    assert len(_events(w["db"], "reply_posted")) == 1
    update = w["slack"].called("chat.update")[-1]
    assert update["channel"] == CHANNEL and update["ts"] == "1000.000001"
    assert f"Replied by <@{SAM}>" in _text(update["blocks"])
    (action,) = _events(w["db"], "slack_action")
    assert (action["action"], action["user_id"], action["user_name"]) == ("reply", SAM, "sam")
    assert get_finding(w["db"], w["finding_id"])["state"] == "acknowledged"
    run_poll(w["config"], w["db"], w["account"])
    row = get_finding(w["db"], w["finding_id"])
    assert row["state"] == "resolved" and "answered publicly" in row["note"]


def test_acknowledge_records_who_and_a_double_click_acts_once(world):
    """Acknowledge stores the Slack user id and name on the finding, once, however often the
    same click is delivered, and the message says who acknowledged it."""
    w = world
    _deliver_alert(w)
    click = _click(w, ACTION_ACK, DANA)
    assert w["app"].handle(click) == "done"
    assert w["app"].handle(click) == "duplicate"
    row = get_finding(w["db"], w["finding_id"])
    assert row["state"] == "acknowledged"
    acks = _events(w["db"], "finding_acknowledged")
    assert len(acks) == 1 and DANA in json.dumps(acks[0]) and "@dana" in json.dumps(acks[0])
    (update,) = w["slack"].called("chat.update")
    assert f"Acknowledged by <@{DANA}>" in _text(update["blocks"])
    assert ACTION_ACK in _text(update["blocks"])  # still open: the buttons stay


def test_not_critical_stores_a_staff_label_and_closes_the_finding(world):
    """Not critical: a not-critical label on the comment (by the Slack user), the finding
    resolved, the message updated without buttons."""
    w = world
    _deliver_alert(w)
    assert w["app"].handle(_click(w, ACTION_NOT_CRITICAL, DANA)) == "done"
    labels = list(w["db"].query("SELECT comment_id, label, labelled_by FROM labels"))
    assert labels == [
        {"comment_id": w["question"], "label": "not-critical", "labelled_by": "@dana (Slack U0DANA)"}
    ]
    assert get_finding(w["db"], w["finding_id"])["state"] == "resolved"
    (update,) = w["slack"].called("chat.update")
    assert "Not critical" in _text(update["blocks"]) and ACTION_ACK not in _text(update["blocks"])


def test_a_click_or_reply_from_outside_the_allowed_list_is_refused_and_audited(world):
    """Mallory is not in allowed_users: her reply posts nothing, her acknowledge changes
    nothing, each refusal is an event, and she is told privately."""
    w = world
    _deliver_alert(w)
    assert w["app"].handle(_submission(w, MALLORY, "we deleted it, deal with it")) == "refused"
    assert w["app"].handle(_click(w, ACTION_ACK, MALLORY)) == "refused"
    assert _replies_posted(w["sandbox"]) == []
    assert get_finding(w["db"], w["finding_id"])["state"] == "open"
    refused = _events(w["db"], "slack_action_refused")
    assert [(e["action"], e["user_id"]) for e in refused] == [("reply", MALLORY), ("acknowledge", MALLORY)]
    assert all("allowed_users" in e["reason"] for e in refused)
    assert w["slack"].called("chat.update") == []
    assert len(w["slack"].called("chat.postEphemeral")) == 2


def test_a_click_from_another_channel_is_refused(world):
    """A button payload from a channel other than the alert channel acts on nothing."""
    w = world
    assert w["app"].handle(_click(w, ACTION_ACK, DANA, channel="C0OTHER")) == "refused"
    assert get_finding(w["db"], w["finding_id"])["state"] == "open"


def test_app_mode_config_needs_both_tokens_and_a_channel():
    """mode = "app" without bot_token_env, app_token_env or channel is one ConfigError naming
    the key; webhook mode still parses as before."""
    base = '[guard]\ndatabase = "a.db"\n[[accounts]]\nname = "p"\nplatform = "facebook"\npage_id = "1"\n'
    base += 'token_env = "T"\n[alerts.slack]\n'
    with pytest.raises(ConfigError, match="alerts.slack.app_token_env"):
        parse_config(base + 'mode = "app"\nbot_token_env = "B"\nchannel = "C1"\n')
    with pytest.raises(ConfigError, match="alerts.slack.channel"):
        parse_config(base + 'mode = "app"\nbot_token_env = "B"\napp_token_env = "A"\n')
    with pytest.raises(ConfigError, match="alerts.slack.mode"):
        parse_config(base + 'mode = "bot"\n')
    config = parse_config(base + 'mode = "app"\nbot_token_env = "B"\napp_token_env = "A"\nchannel = "C1"\n')
    assert isinstance(config.alerts.channels["slack"], SlackAppSettings)
    webhook = parse_config(base + 'webhook_url_env = "W"\n')
    assert app_settings(webhook) is None
    assert webhook.alerts.channels["slack"].webhook_url_env == "W"
