"""Email through the outbox against the replies real mail servers give (aiosmtpd on loopback):
temporary 4xx, permanent 5xx, greylisting, a missing STARTTLS, a silent server, and a server that
has taken the message but answers QUIT oddly. Reply texts are RFC 5321 section 4.2.3's codes as
Postfix words them (and postgrey's greylisting line, ``tests.support.smtp.GREYLISTED``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from guard.alerts.health import channel_health
from guard.alerts.outbox import deliver_pending, enqueue
from tests.alerts.helpers import T0, add_finding
from tests.support.smtp import SmtpSink


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
