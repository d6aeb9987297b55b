"""The channels' senders: how an outbox row reaches Slack or a mail server.

A sender is any ``Callable[[OutboxItem], None]`` that returns once the channel accepted the
message, or raises ``AlertRetryable`` / ``AlertPermanent``. The daemon and tests may swap one
in (``deliver_pending(senders=...)``); the real ones read their secrets at send time, so fixing
an environment variable and restarting is enough, and no secret is ever stored in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from guard.alerts.channels.email import message_id_for, send_email
from guard.alerts.render import AlertMessage
from guard.alerts.routing import email_recipients
from guard.alerts.channels.slack import send_slack
from guard.config import AlertSettings, read_secret

__all__ = ["OutboxItem", "Sender", "default_senders", "FOLLOW_UP_STAGES"]

FOLLOW_UP_STAGES = ("reminder", "escalation")


@dataclass(frozen=True)
class OutboxItem:
    """One outbox row as a sender sees it."""

    id: int
    finding_id: int | None
    stage: str
    channel: str
    dedupe_key: str
    attempts: int
    message: AlertMessage


Sender = Callable[[OutboxItem], None]


def default_senders(settings: AlertSettings) -> dict[str, Sender]:
    """The real channels: secrets are read at send time, so a fixed env var takes effect."""
    senders: dict[str, Sender] = {}
    slack, email = settings.slack, settings.email
    if slack is not None:
        senders["slack"] = lambda item: send_slack(
            read_secret(slack.webhook_url_env, "alerts.slack.webhook_url_env"), item.message)
        if slack.escalation_webhook_url_env:
            env = slack.escalation_webhook_url_env
            senders["slack-escalation"] = lambda item: send_slack(
                read_secret(env, "alerts.slack.escalation_webhook_url_env"), item.message)
    if email is not None:
        def _email(item: OutboxItem) -> None:
            thread = (message_id_for(f"{item.finding_id}:first:email")
                      if item.finding_id is not None and item.stage in FOLLOW_UP_STAGES else None)
            send_email(email, item.message, to=email_recipients(email, item.stage),
                       message_id=message_id_for(item.dedupe_key), references=thread)
        senders["email"] = _email
    return senders
