"""The daemon's Slack app (buttons over Socket Mode) comes up even when Slack could not be
reached when the daemon started: a boot before the network, a Slack incident."""

from __future__ import annotations

import threading

import structlog

from guard.config import load_config
from guard.runtime.daemon import Daemon
from tests.daemon.conftest import TOKEN, TOKEN_ENV, account_toml, write_config
from tests.support.slack_app import APP_TOKEN, BOT_TOKEN, FakeSlackApp


def test_socket_mode_refused_at_start_is_tried_again_until_it_connects(tmp_path, monkeypatch):
    """apps.connections.open fails twice (Slack's internal_error), then works: the daemon keeps
    trying and the buttons work without a restart, instead of staying dead for its whole life."""
    slack = FakeSlackApp()
    slack.open_errors = ["internal_error", "internal_error"]
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    path = write_config(tmp_path, [account_toml("main", "http://127.0.0.1:9", every="5m")])
    path.write_text(
        path.read_text()
        + f"""
[alerts.slack]
mode = "app"
bot_token_env = "SLACK_BOT_TOKEN"
app_token_env = "SLACK_APP_TOKEN"
channel = "C0ALERTS"
api_base_url = "{slack.base_url}"
"""
    )
    daemon = Daemon(load_config(path), slack_app_retry_every=0.05)
    try:
        with structlog.testing.capture_logs() as logs:
            thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
            thread.start()
            try:
                slack.wait_connected(timeout=15)
            finally:
                daemon.stop()
                thread.join(10)
    finally:
        slack.close()
    assert len(slack.called("apps.connections.open")) == 3
    assert [e["error"] for e in logs if e["event"] == "slack_app_not_connected"] == ["internal_error"] * 2
    assert any(e["event"] == "slack_app_connected" for e in logs)
