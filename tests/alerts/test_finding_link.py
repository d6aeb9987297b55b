"""With ``[web] base_url`` every alert links to its finding's page on `comment-guard serve`:
a Slack button, a line in the plain text and the email text, a link in the email HTML."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from guard.alerts.render import AlertMessage, render_alert
from guard.archive.connection import open_archive
from guard.config import parse_config
from guard.engine import open_finding
from guard.states import Severity
from policies.records import FindingDraft

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
URL = "https://guard.example.org/archive/findings/7"
FINDING = {
    "id": 7,
    "kind": "removed-critical",
    "account": "main-page",
    "severity": "critical",
    "evidence": json.dumps(
        {"summary": "A question was removed.", "post": {"permalink_url": "https://fb.example/1"}}
    ),
}
CONFIG = """
[guard]
database = "archive.db"

[[accounts]]
name = "main-page"
platform = "facebook"
page_id = "100200300"
token_env = "FB_PAGE_TOKEN"

[alerts.slack]
webhook_url_env = "SLACK_WEBHOOK_URL"
"""


def buttons(message: AlertMessage) -> dict[str, str]:
    return {e["action_id"]: e["url"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]}


def test_an_alert_with_a_finding_url_links_it_in_every_form():
    """Slack button next to "Open post", plain-text line, email text and HTML link."""
    message = render_alert({**FINDING, "finding_url": URL}, "first", now=NOW)
    assert buttons(message) == {"open_post": "https://fb.example/1", "open_finding": URL}
    assert f"Finding: {URL}" in message.text and f"Finding: {URL}" in message.email_text
    assert f'<a href="{URL}">' in message.email_html


def test_without_base_url_an_alert_has_no_finding_link():
    """No [web] base_url: nothing links to a page that is not served."""
    message = render_alert(FINDING, "first", now=NOW)
    assert buttons(message) == {"open_post": "https://fb.example/1"}
    assert "Finding:" not in message.email_text and "findings/" not in message.email_html


def test_enqueued_alerts_link_the_findings_page_under_web_base_url(tmp_path):
    """parse_config carries [web] base_url to the alerts; the queued payload links /archive/findings/ID."""
    config = parse_config(CONFIG + '\n[web]\nbase_url = "https://guard.example.org/"\n', tmp_path / "cg.toml")
    db = open_archive(tmp_path / "archive.db")
    draft = FindingDraft(
        "override", Severity.WARNING, "override:x", None, None, {"summary": "staff override"}
    )
    with db.atomic():
        fid = open_finding(db, config, draft, NOW, remind=False, account="main-page")
    (row,) = db.query("SELECT payload FROM outbox WHERE finding_id = ?", [fid])
    message = AlertMessage.from_json(row["payload"])
    link = f"https://guard.example.org/archive/findings/{fid}"
    assert buttons(message) == {"open_finding": link} and f"Finding: {link}" in message.email_text


def test_a_finding_url_that_is_not_http_is_dropped():
    """Only http(s) links reach Slack (a bad base URL is refused at load; this is the last guard)."""
    message = render_alert({**FINDING, "finding_url": "javascript:alert(1)"}, "first", now=NOW)
    assert "open_finding" not in buttons(message)
