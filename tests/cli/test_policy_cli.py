"""Findings and guarded actions through the command line."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"


@pytest.fixture
def page(rsps):
    return FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The meeting is Thursday.",
                comments=[
                    FakeComment("1_1", "wait, the meeting is TONIGHT?!?"),
                    FakeComment("1_2", "Great, see you there", author="Sam Neighbor", author_id="5550002"),
                    FakeComment(
                        "1_3", "Buy followers cheap http://spam.example", author="Promo", author_id="9"
                    ),
                ],
            )
        ],
    )


def test_delete_of_protected_comment_is_refused_and_nothing_is_sent(capsys, config, page):
    """Without --override, a protected comment is not deleted: exit 1, reasons shown, no API write."""
    run(capsys, "poll", "--once")
    code, _, err = run(capsys, "delete", "1_1")
    assert code == 1 and "refused to delete comment 1_1: it is protected" in err
    assert "question" in err and page.writes == []


def test_delete_with_override_sends_delete_logs_event_and_opens_finding(capsys, config, page):
    """--override --reason performs the DELETE, audits it and opens an override finding."""
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "delete", "1_1", "--override", "--reason", "duplicate of 1_5")
    assert code == 0 and "override recorded" in out
    assert page.writes == [("DELETE", "1_1", {})]
    code, out, _ = run(capsys, "findings", "--json")
    (f,) = json.loads(out)
    assert f["kind"] == "override" and f["note"] == "duplicate of 1_5"
    code, out, _ = run(capsys, "history", "1_1", "--json")
    assert "comment_delete_by_guard" in [e["kind"] for e in json.loads(out)["events"]]


def test_override_without_reason_is_a_usage_error(capsys, config, page):
    """An override must say why."""
    run(capsys, "poll", "--once")
    code, _, err = run(capsys, "hide", "1_1", "--override")
    assert code == 2 and "--override needs --reason" in err and page.writes == []


def test_spam_can_be_hidden_without_override(capsys, config, page):
    """Ordinary moderation of unprotected comments is not in the way."""
    run(capsys, "poll", "--once")
    code, _, _ = run(capsys, "hide", "1_3")
    assert code == 0 and page.writes == [("POST", "1_3", {"is_hidden": ["true"]})]


def test_explain_prints_reasons(capsys, config, page):
    """explain says whether a comment is protected and why."""
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "explain", "1_1")
    assert code == 0 and "PROTECTED" in out and "question" in out
    code, out, _ = run(capsys, "explain", "1_3", "--json")
    assert json.loads(out)["protected"] is False


def test_reply_posts_publicly_and_is_recorded(capsys, config, page):
    """reply sends the text to the platform and writes a reply_posted event."""
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "reply", "1_1", "It's the 13th. Sorry for the confusion!")
    assert code == 0 and page.writes == [
        ("POST", "1_1/comments", {"message": ["It's the 13th. Sorry for the confusion!"]})
    ]
    import sqlite3

    conn = sqlite3.connect(config.parent / "archive.db")
    (data,) = conn.execute("SELECT data FROM events WHERE kind = 'reply_posted'").fetchone()
    assert json.loads(data)["target_id"] == "1_1"


def test_findings_ack_resolve_and_mark_corrected(capsys, config, page):
    """A deleted question opens a finding that can be acknowledged and then resolved."""
    run(capsys, "poll", "--once")
    page.remove_comment("1_1")
    code, out, _ = run(capsys, "poll", "--once")
    assert "1 new finding(s): #1" in out
    code, out, _ = run(capsys, "findings")
    assert "#1 removed-critical" in out and "comment-guard reply" in out
    assert run(capsys, "ack", "1")[0] == 0
    assert run(capsys, "resolve", "1", "--note", "answered on the post")[0] == 0
    code, out, _ = run(capsys, "findings", "--state", "resolved", "--json")
    assert json.loads(out)[0]["note"] == "answered on the post"
    code, _, err = run(capsys, "resolve", "1")
    assert code == 1 and "already resolved" in err
    code, out, _ = run(capsys, "mark-corrected", POST, "--note", "Thursday → the 13th")
    assert code == 0 and "marked corrected" in out
