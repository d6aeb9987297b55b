"""Email delivery against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.smtp import AuthResult

from guard.alerts.channels.email import message_id_for, send_email
from guard.alerts.health import list_outbox
from guard.alerts.outbox import deliver_pending, enqueue
from guard.alerts.render import render_alert
from guard.archive.meta import install_id
from guard.config import AlertSettings
from guard.errors import AlertPermanent, AlertRetryable
from tests.alerts.conftest import email_settings
from tests.alerts.helpers import STORY_REPLY, T0, add_finding
from tests.support.smtp import SmtpSink


def _queue(db, settings, stage="first", **finding):
    f = add_finding(db, **finding)
    with db.atomic():
        enqueue(db, f, stage, settings, now=T0)
    return f


def test_email_arrives_with_subject_recipients_text_html_and_message_id(db, smtp, email_only):
    """The server receives one multipart/alternative message built from the finding."""
    smtp.start()
    _queue(db, email_only)
    assert deliver_pending(db, email_only, now=T0).sent == [1]
    ((mail_from, rcpts, msg),) = smtp.messages
    assert mail_from == "guard@example.org" and rcpts == ["comms@example.org"]
    assert msg["Subject"] == (
        "[comment-guard] main-page: A critical comment on a corrected post was deleted: "
        '"wait, the meeting is TONIGHT?!? <b>& why</b>"'
    )
    assert msg["To"] == "comms@example.org"
    ids = {"install_id": install_id(db), "from_addr": "guard@example.org"}
    assert msg["Message-ID"] == message_id_for("1:first:email", **ids)
    assert msg["Message-ID"].endswith("@example.org>")
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "What was corrected: Thursday → Thirteenth" in text
    assert "> wait, the meeting is TONIGHT?!? <b>& why</b>" in text
    assert STORY_REPLY in text and "comment-guard reply 111 " in text
    assert "TONIGHT?!? &lt;b&gt;&amp; why&lt;/b&gt;" in html
    assert 'href="https://www.facebook.com/111/posts/333?a=1&amp;b=2"' in html


def test_message_id_is_deterministic_per_dedupe_key_and_install():
    """The same outbox key of one install always yields the same Message-ID; another key or
    another install a different one; the domain is the sender's, else a safe default."""
    mine = {"install_id": "a" * 32, "from_addr": "Guard <guard@Example.org>"}
    assert message_id_for("7:first:email", **mine) == message_id_for("7:first:email", **mine)
    assert message_id_for("7:first:email", **mine) != message_id_for("7:reminder:email", **mine)
    theirs = {**mine, "install_id": "b" * 32}
    assert message_id_for("7:first:email", **mine) != message_id_for("7:first:email", **theirs)
    assert message_id_for("7:first:email", **mine).endswith("@example.org>")
    assert message_id_for("7:first:email", from_addr="not an address>").endswith("@comment-guard>")


def test_email_server_down_is_retried_and_delivered_when_it_comes_back(db, smtp, email_only):
    """Connection refused keeps the row pending; once the server listens it is delivered."""
    _queue(db, email_only)
    report = deliver_pending(db, email_only, now=T0)
    assert report.retrying == [1] and "cannot deliver to mail server" in report.errors[1]
    row = list_outbox(db)[0]
    assert row["next_attempt_at"] == (T0 + timedelta(seconds=30)).isoformat()
    smtp.start()
    assert deliver_pending(db, email_only, now=T0 + timedelta(seconds=10)).sent == []
    assert deliver_pending(db, email_only, now=T0 + timedelta(seconds=30)).sent == [1]
    assert len(smtp.messages) == 1


def test_email_550_recipient_rejected_is_permanent(db, smtp_port):
    """A 5xx refusal of every recipient marks the row failed with the server's words."""
    sink = SmtpSink(smtp_port, handler_kwargs={"reject": ("comms@example.org",)}).start()
    try:
        settings = AlertSettings(channels={"email": email_settings(smtp_port)})
        _queue(db, settings)
        report = deliver_pending(db, settings, now=T0)
        assert report.failed == [1]
        assert "550" in report.errors[1] and "comms@example.org" in report.errors[1]
        assert sink.messages == []
    finally:
        sink.stop()


def test_email_partly_rejected_recipients_still_counts_as_sent(db, smtp_port):
    """When the server takes the message for some recipients, the alert was delivered."""
    sink = SmtpSink(smtp_port, handler_kwargs={"reject": ("gone@example.org",)}).start()
    try:
        settings = AlertSettings(
            channels={"email": email_settings(smtp_port, to=("comms@example.org", "gone@example.org"))}
        )
        _queue(db, settings)
        assert deliver_pending(db, settings, now=T0).sent == [1]
        assert sink.messages[0][1] == ["comms@example.org"]
    finally:
        sink.stop()


def test_escalation_goes_to_escalation_addresses_threaded_under_first_alert(db, smtp, smtp_port):
    """Escalations use escalation_to and reference the first alert's Message-ID."""
    smtp.start()
    settings = AlertSettings(
        channels={"email": email_settings(smtp_port, escalation_to=("boss@example.org",))}
    )
    _queue(db, settings, stage="escalation")
    deliver_pending(db, settings, now=T0)
    ((_, rcpts, msg),) = smtp.messages
    assert rcpts == ["boss@example.org"]
    assert msg["Subject"].startswith("[comment-guard] main-page: Escalation: ")
    assert msg["References"] == message_id_for(
        "1:first:email", install_id=install_id(db), from_addr="guard@example.org"
    )


def test_email_login_uses_credentials_from_environment(smtp_port, monkeypatch):
    """username_env/password_env are read from the environment and used for SMTP AUTH."""
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    sink = SmtpSink(smtp_port, authenticator=authenticator, auth_require_tls=False).start()
    monkeypatch.setenv("SMTP_USER", "guard")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    try:
        settings = email_settings(smtp_port, username_env="SMTP_USER", password_env="SMTP_PASSWORD")
        send_email(
            settings,
            render_alert({"id": 1, "kind": "unanswered"}, "first"),
            to=settings.to,
            message_id=message_id_for("x"),
        )
        assert seen == [(b"guard", b"s3cret")] and len(sink.messages) == 1
    finally:
        sink.stop()


def test_email_wrong_password_is_permanent(smtp_port, monkeypatch):
    """A 535 authentication failure is not retried forever: it needs a human."""

    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    sink = SmtpSink(smtp_port, authenticator=refuse, auth_require_tls=False).start()
    monkeypatch.setenv("SMTP_USER", "guard")
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    try:
        settings = email_settings(smtp_port, username_env="SMTP_USER", password_env="SMTP_PASSWORD")
        with pytest.raises(AlertPermanent, match="535"):
            send_email(
                settings,
                render_alert({"id": 1, "kind": "unanswered"}, "first"),
                to=settings.to,
                message_id=message_id_for("x"),
            )
    finally:
        sink.stop()


def test_send_email_to_closed_port_raises_retryable(smtp_port):
    """Nothing listening is a temporary condition."""
    with pytest.raises(AlertRetryable):
        send_email(
            email_settings(smtp_port),
            render_alert({"id": 1}, "first"),
            to=("comms@example.org",),
            message_id=message_id_for("x"),
        )
