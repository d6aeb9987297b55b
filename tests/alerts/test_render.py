"""Rendering a finding into Slack Block Kit, notification text and email."""

from __future__ import annotations

import json
import re
import shlex
from datetime import timedelta

from guard.alerts.render import AlertMessage, render_alert
from tests.alerts.helpers import STORY_EVIDENCE, STORY_REPLY, T0

FINDING = {
    "id": 3,
    "account": "main-page",
    "kind": "removed-critical",
    "severity": "critical",
    "post_id": "111",
    "comment_id": "111_222",
    "opened_at": T0.isoformat(),
    "evidence": json.dumps(STORY_EVIDENCE),
    "suggested_reply": STORY_REPLY,
}


def _sections(msg: AlertMessage) -> list[str]:
    return [b["text"]["text"] for b in msg.blocks if b["type"] == "section"]


def test_render_survives_missing_or_broken_evidence():
    """A finding with no evidence, or evidence that is not JSON, still renders a usable alert."""
    for evidence in (None, "", "not json", "[1, 2]", "{}"):
        msg = render_alert({"id": 1, "kind": "unanswered", "evidence": evidence}, "first")
        assert msg.blocks[0]["type"] == "header"
        assert "no public reply" in msg.subject and msg.text and msg.email_html
        assert not any(b["type"] == "actions" for b in msg.blocks)


def test_unknown_kind_gets_a_generic_headline():
    """A kind added later by the policy engine still produces a readable header."""
    msg = render_alert({"id": 1, "kind": "brand-new-rule"}, "first")
    assert msg.blocks[0]["text"]["text"] == "New finding: brand-new-rule"


def test_long_hostile_comment_respects_slack_limits_and_escaping():
    """Huge text full of &, <, > is escaped and cut to 3000 chars without a broken entity."""
    evidence = dict(
        STORY_EVIDENCE,
        summary="<!channel> " * 500,
        comment={"message": "a & b <c> " * 2000, "status": "hidden"},
    )
    msg = render_alert(
        dict(FINDING, kind="hidden-critical" + "x" * 200, evidence=json.dumps(evidence)), "first"
    )
    assert len(msg.blocks[0]["text"]["text"]) <= 150
    for text in _sections(msg):
        assert len(text) <= 3000
        assert "<!channel>" not in text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), "a raw or cut entity slipped through"
        assert not re.search(r"<(?!https://)", text)


def test_cli_command_is_shell_quoted_and_round_trips():
    """The suggested command, pasted into a shell, passes the reply text unchanged."""
    reply = "We're sorry: it's the 13th, not \"Thursday\"; $HOME `x`"
    msg = render_alert(
        dict(
            FINDING,
            kind="hidden-critical",
            suggested_reply=reply,
            evidence=json.dumps(dict(STORY_EVIDENCE, comment={"id": "111_222", "status": "hidden"})),
        ),
        "first",
    )
    line = re.search(r"comment-guard reply .*", msg.email_text).group(0)
    assert shlex.split(line) == ["comment-guard", "reply", "111_222", reply]


def test_deleted_comment_reply_goes_to_the_post():
    """A deleted comment cannot take replies, so the command targets the post."""
    assert "comment-guard reply 111 " in render_alert(FINDING, "first").email_text


def test_reminder_says_how_long_it_has_been_open():
    """Reminders and escalations are labelled and state the age of the finding."""
    msg = render_alert(FINDING, "reminder", now=T0 + timedelta(hours=2))
    assert msg.blocks[0]["text"]["text"].startswith("Reminder: ")
    assert "Open for 2h without a public reply." in _sections(msg)[0]
    assert render_alert(FINDING, "escalation").subject.startswith("[comment-guard] main-page: Escalation: ")


def test_non_http_permalink_is_not_linked():
    """Only http(s) permalinks become links or buttons."""
    ev = dict(STORY_EVIDENCE, post={"permalink_url": "javascript:alert(1)", "message": "m"})
    msg = render_alert(dict(FINDING, evidence=json.dumps(ev)), "first")
    assert not any(b["type"] == "actions" for b in msg.blocks)
    assert "javascript:" not in msg.email_html


def test_correction_summary_is_built_from_removed_and_added_words():
    """Without a summary, the correction reads "removed → added"."""
    ev = dict(STORY_EVIDENCE, correction={"removed": ["Thursday"], "added": ["Thirteenth"]})
    msg = render_alert(dict(FINDING, evidence=json.dumps(ev)), "first")
    assert "What was corrected: Thursday → Thirteenth" in msg.email_text


def test_message_round_trips_through_outbox_payload_json():
    """What the outbox stores is exactly what the sender gets back."""
    msg = render_alert(FINDING, "first")
    assert AlertMessage.from_json(msg.to_json()) == msg


def test_html_escapes_comment_text():
    """Comment text written by strangers cannot inject HTML into the email."""
    ev = dict(STORY_EVIDENCE, comment={"message": "<script>alert(1)</script>"})
    html = render_alert(dict(FINDING, evidence=json.dumps(ev)), "first").email_html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_bidi_overrides_and_controls_in_archived_text_are_shown_not_obeyed():
    """A right-to-left override makes "photo\u202egnp.exe" read "photoexe.png" in Slack or a
    mail client; archived texts reach every channel inert, the override shown as <U+202E>."""
    evidence = dict(
        STORY_EVIDENCE,
        comment={
            "message": "see photo\u202egnp.exe\x1b[2J",
            "author_name": "Dana\u202e\nReader",
            "status": "deleted",
        },
    )
    msg = render_alert(dict(FINDING, evidence=json.dumps(evidence)), "first")
    for text in (*_sections(msg), msg.text, msg.email_text, msg.email_html):
        assert "\u202e" not in text and "\x1b" not in text
    assert any("photo&lt;U+202E&gt;gnp.exe" in s for s in _sections(msg))  # mrkdwn-escaped
    assert "photo<U+202E>gnp.exe" in msg.email_text
