"""The SMTP fake: a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message.

``SmtpSink(port)`` can be started late (server down, then up), can reject chosen
recipients with 550, defer others with 450 (greylisting), and answer DATA or QUIT with a
scripted reply (``answers``). The demo has its own standard-library mail sink
(``guard.demo.sinks.MailSink``); tests use this one.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["Collector", "SmtpSink"]


# Postgrey's answer to a first delivery attempt (postgrey's README, "greylisted" reply text)
GREYLISTED = (
    "450 4.2.0 <%s>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/%s.html"
)


class Collector:
    """aiosmtpd handler that keeps every message; can reject chosen recipients with 550, defer
    others with 450, and answer DATA or QUIT with ``answers[command]`` instead of accepting."""

    def __init__(
        self, reject: tuple[str, ...] = (), defer: tuple[str, ...] = (), answers: dict[str, str] | None = None
    ) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.raw: list[bytes] = []  # each message's bytes as they came over the wire
        self.reject = reject
        self.defer = defer
        self.answers = answers or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        if address in self.defer:
            return GREYLISTED % (address, address.rpartition("@")[2])
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        return self.answers.get("QUIT", "221 Bye")

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if "DATA" in self.answers:
            return self.answers["DATA"]
        self.raw.append(envelope.original_content or envelope.content)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1:``port`` that can be started late (server down, then up)."""

    def __init__(self, port: int, **kwargs: Any) -> None:
        self.port = port
        self.handler = Collector(**kwargs.pop("handler_kwargs", {}))
        self.kwargs = kwargs
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[tuple[str, list[str], EmailMessage]]:
        return self.handler.messages

    def start(self) -> SmtpSink:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
