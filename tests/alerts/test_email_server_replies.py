"""Email through the outbox against the replies real mail servers give (aiosmtpd on loopback):
temporary 4xx, permanent 5xx, greylisting, a missing STARTTLS, a silent server, and a server that
has taken the message but answers QUIT oddly. Reply texts are RFC 5321 section 4.2.3's codes as
Postfix words them (and postgrey's greylisting line, ``tests.support.smtp.GREYLISTED``)."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest

from guard.alerts.health import channel_health, list_outbox
from guard.alerts.outbox import deliver_pending, enqueue
from guard.config import AlertSettings
from tests.alerts.conftest import email_settings
from tests.alerts.helpers import STORY_EVIDENCE, T0, add_finding
from tests.support.smtp import SmtpSink

QUESTION = "Ça commence CE SOIR ?!? 🙀"


def _queue(db, settings) -> None:
    with db.atomic():
        enqueue(db, add_finding(db), "first", settings, now=T0)


@pytest.fixture
def server(smtp_port):
    sinks: list[SmtpSink] = []

    def start(**handler_kwargs) -> SmtpSink:
        sinks.append(SmtpSink(smtp_port, handler_kwargs=handler_kwargs).start())
        return sinks[-1]

    yield start
    for sink in sinks:
        sink.stop()


@pytest.mark.parametrize(
    "quit_reply",
    ["421 4.4.2 mail.example.org Error: timeout exceeded", "500 5.5.2 Error: bad syntax"],
)
def test_a_message_taken_at_data_is_sent_once_whatever_quit_answers(db, server, email_only, quit_reply):
    """The server's 250 to DATA is the moment it takes the message (RFC 5321 section 4.1.1.4);
    an odd answer to QUIT afterwards is neither a reason to send again nor a failure."""
    sink = server(answers={"QUIT": quit_reply})
    _queue(db, email_only)
    report = deliver_pending(db, email_only, now=T0)
    assert report.sent == [1] and report.errors == {}
    deliver_pending(db, email_only, now=T0 + timedelta(hours=1))
    assert len(sink.messages) == 1
    assert channel_health(db)["email"]["status"] == "ok"


@pytest.mark.parametrize(
    "handler,outcome",
    [
        ({"answers": {"DATA": "451 4.3.0 Error: queue file write error"}}, "retrying"),
        ({"defer": ("comms@example.org",)}, "retrying"),  # greylisted: the only recipient
        ({"answers": {"DATA": "554 5.7.1 Service unavailable; Client host blocked"}}, "failed"),
        ({"answers": {"DATA": "552 5.3.4 Message size exceeds fixed limit"}}, "failed"),
    ],
)
def test_reply_codes_decide_between_waiting_and_failing(db, server, email_only, handler, outcome):
    """RFC 5321 section 4.2.1: 4yz is transient (the alert waits and goes out once the server
    takes it), 5yz permanent (failed once, the channel shows failing, no retry)."""
    sink = server(**handler)
    _queue(db, email_only)
    report = deliver_pending(db, email_only, now=T0)
    assert getattr(report, outcome) == [1], report.errors
    assert channel_health(db)["email"]["status"] == ("failing" if outcome == "failed" else "retrying")
    sink.handler.answers.clear()
    sink.handler.defer = ()
    later = deliver_pending(db, email_only, now=T0 + timedelta(minutes=5))
    assert later.sent == ([1] if outcome == "retrying" else [])
    assert len(sink.messages) == (1 if outcome == "retrying" else 0)


def test_starttls_asked_for_but_not_offered_fails_without_sending_in_clear(db, server, smtp_port):
    """A server that does not offer STARTTLS when the config asks for it: the alert is not sent
    unencrypted; it fails once, saying so."""
    sink = server()
    settings = AlertSettings(channels={"email": email_settings(smtp_port, starttls=True)})
    _queue(db, settings)
    report = deliver_pending(db, settings, now=T0)
    assert report.failed == [1] and "STARTTLS" in report.errors[1]
    assert sink.messages == []


def test_a_server_that_never_greets_is_a_timeout_and_a_retry(db, smtp_port):
    """Connected, but no 220 greeting ever comes: the send gives up after `timeout` and the alert
    waits for the next attempt instead of holding the delivery job."""
    settings = AlertSettings(channels={"email": email_settings(smtp_port, timeout=0.2)})
    _queue(db, settings)
    with socket.create_server(("127.0.0.1", smtp_port)):  # listens, never accepts or greets
        report = deliver_pending(db, settings, now=T0)
    assert report.retrying == [1] and "timed out" in report.errors[1]


def test_a_utf8_subject_and_body_arrive_intact_over_a_7bit_wire(db, server, smtp_port):
    """A French page's comment with an emoji: the server needs no SMTPUTF8 or 8BITMIME, and the
    reader sees the words unchanged."""
    sink = server()
    settings = AlertSettings(channels={"email": email_settings(smtp_port)})
    evidence = {**STORY_EVIDENCE, "comment": {**STORY_EVIDENCE["comment"], "message": QUESTION}}
    with db.atomic():
        finding = add_finding(db, account="Mairie-Évry", evidence=json.dumps(evidence))
        enqueue(db, finding, "first", settings, now=T0)
    assert deliver_pending(db, settings, now=T0).sent == [1]
    ((_, _, msg),) = sink.messages
    assert msg["Subject"].startswith("[comment-guard] Mairie-Évry: ") and QUESTION in msg["Subject"]
    assert QUESTION in msg.get_body(("plain",)).get_content()
    assert max(sink.handler.raw[0]) < 128


def test_a_greylisted_recipient_of_two_gets_the_alert_later_and_the_other_gets_it_once(db, server, smtp_port):
    """Postgrey defers boss@ (450) while comms@ is accepted: the alert is sent again to boss@ alone,
    with the same Message-ID, until the server takes it; comms@ is not mailed twice."""
    sink = server(defer=("boss@example.org",))
    to = ("comms@example.org", "boss@example.org")
    settings = AlertSettings(channels={"email": email_settings(smtp_port, to=to)})
    _queue(db, settings)
    assert deliver_pending(db, settings, now=T0).sent == [1]
    assert [rcpts for _, rcpts, _ in sink.messages] == [["comms@example.org"]]
    deliver_pending(db, settings, now=T0 + timedelta(seconds=30))  # still greylisted
    sink.handler.defer = ()  # postgrey's delay is over
    deliver_pending(db, settings, now=T0 + timedelta(minutes=5))
    deliver_pending(db, settings, now=T0 + timedelta(hours=1))
    assert [rcpts for _, rcpts, _ in sink.messages] == [["comms@example.org"], ["boss@example.org"]]
    first, second = (msg for _, _, msg in sink.messages)
    assert first["Message-ID"] == second["Message-ID"] and second["To"] == "boss@example.org"
    assert {r["status"] for r in list_outbox(db)} == {"sent"}


def test_a_recipient_refused_for_good_while_another_takes_the_alert_shows_the_channel_failing(
    db, server, smtp_port
):
    """550 for one of two addresses (a typo, someone who left): the other still gets the alert,
    once, but the channel shows failing with the server's words until a send reaches everyone,
    instead of only a log line that says nothing to `status`."""
    sink = server(reject=("gone@example.org",))
    to = ("comms@example.org", "gone@example.org")
    settings = AlertSettings(channels={"email": email_settings(smtp_port, to=to)})
    _queue(db, settings)
    assert deliver_pending(db, settings, now=T0).sent == [1]
    health = channel_health(db)["email"]
    assert health["status"] == "failing" and "gone@example.org: 550" in health["last_error"]
    deliver_pending(db, settings, now=T0 + timedelta(hours=1))
    assert [rcpts for _, rcpts, _ in sink.messages] == [["comms@example.org"]]
    sink.handler.reject = ()
    with db.atomic():
        enqueue(db, add_finding(db, n=2, dedupe_key="second"), "first", settings, now=T0)
    deliver_pending(db, settings, now=T0 + timedelta(hours=2))
    assert channel_health(db)["email"]["status"] == "ok"
