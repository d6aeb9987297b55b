"""Alerts read in the page's local time, name the page in the subject, and route per page."""

from __future__ import annotations

import json

import pytest

from guard.alerts.channels.email import EmailSettings
from guard.alerts.channels.slack import SlackSettings
from guard.alerts.render import render_alert
from guard.alerts.routing import routed_channels
from guard.config import AlertSettings, Route, parse_config
from guard.errors import ConfigError
from tests.alerts.helpers import T0
from tests.alerts.test_render import FINDING as RENDER_FINDING

FINDING = {**RENDER_FINDING, "account": "parks-page"}


def test_alert_times_are_in_the_configured_time_zone():
    """11:40 UTC reads 05:40 CST in Chicago in email and the Slack fallback; Slack blocks carry
    a date token so each reader sees their own zone."""
    msg = render_alert(FINDING, "first", now=T0, tz="America/Chicago")
    assert "2026-11-25 05:40 CST" in msg.email_text and "opened 2026-11-25 06:00 CST" in msg.email_text
    assert "05:40 CST" in msg.email_html and "UTC" not in msg.email_text
    blocks = json.dumps(msg.blocks, ensure_ascii=False)
    assert "<!date^1795606800^{date_short_pretty} {time}|2026-11-25 05:40 CST>" in blocks
    assert "2026-11-25 11:40 UTC" in render_alert(FINDING, "first", now=T0).email_text


def test_subject_names_the_page_and_quotes_the_comment():
    """An inbox of alerts says which page and which comment without opening them."""
    subject = render_alert(FINDING, "first", now=T0).subject
    assert subject.startswith("[comment-guard] parks-page: ")
    assert subject.endswith(': "wait, the meeting is TONIGHT?!? <b>& why</b>"')


SLACK = SlackSettings(webhook_url_env="SLACK_WEBHOOK_URL")
EMAIL = EmailSettings(smtp_host="127.0.0.1", from_addr="g@example.org", to=("library@example.org",))


def test_route_with_accounts_sends_a_pages_alert_only_to_its_team():
    """Parks alerts go to the parks team's Slack, library alerts to the library's email."""
    settings = AlertSettings(
        channels={"slack": SLACK, "email": EMAIL},
        routes=(
            Route(channels=("slack",), accounts=("parks-page",)),
            Route(channels=("email",), accounts=("library-page",)),
        ),
    )
    assert routed_channels(FINDING, "first", settings) == ["slack"]
    assert routed_channels({**FINDING, "account": "library-page"}, "first", settings) == ["email"]
    assert routed_channels({**FINDING, "account": "other"}, "first", settings) == []


CONFIG = """
[guard]
database = "x.db"
timezone = "America/Chicago"

[[accounts]]
name = "parks-page"
platform = "facebook"
page_id = "123"
token_env = "FB_PAGE_TOKEN"

[alerts.slack]
webhook_url_env = "SLACK_WEBHOOK_URL"

[alerts]
routes = [{channels = ["slack"], accounts = ["%s"]}]
"""


def test_route_accounts_must_name_configured_accounts():
    """A route to a misspelt account is refused at load, naming the accounts there are."""
    cfg = parse_config(CONFIG % "parks-page")
    assert cfg.alerts.routes[0].accounts == ("parks-page",) and cfg.alerts.timezone == "America/Chicago"
    with pytest.raises(ConfigError, match="accounts names 'parks', but no \\[\\[accounts\\]\\] block"):
        parse_config(CONFIG % "parks")
