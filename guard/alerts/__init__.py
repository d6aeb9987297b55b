"""Alerts: render a finding, queue it in the outbox with the finding, deliver it to Slack/email.

The public API the engine, daemon and CLI call:

- ``enqueue(db, finding, stage, settings, now=...)`` inside the engine's transaction;
- ``cancel_for_finding(db, finding_id, stages)`` when a finding is resolved early;
- ``deliver_pending(db, settings, now=...)`` from the daemon every 30 s (commits per send);
- ``list_outbox`` / ``channel_health`` for ``comment-guard alerts`` and ``status``;
- ``send_test_alert`` for ``comment-guard test-alert``; ``enqueue_digest`` for the digest job;
- ``retry_failed`` to requeue failed rows once a channel is fixed.
"""

from __future__ import annotations

from guard.alerts.digest import build_digest, enqueue_digest
from guard.alerts.channels.email import message_id_for, send_email
from guard.alerts.health import channel_health, list_outbox
from guard.alerts.outbox import (
    DeliveryReport,
    cancel_for_finding,
    deliver_pending,
    enqueue,
    enqueue_message,
    retry_failed,
    send_test_alert,
)
from guard.alerts.render import AlertMessage, render_alert, render_test
from guard.alerts.routing import routed_channels
from guard.alerts.channels import OutboxItem, Sender, default_senders
from guard.alerts.channels.slack import send_slack

__all__ = [
    "AlertMessage",
    "DeliveryReport",
    "OutboxItem",
    "Sender",
    "build_digest",
    "cancel_for_finding",
    "channel_health",
    "default_senders",
    "deliver_pending",
    "enqueue",
    "enqueue_digest",
    "enqueue_message",
    "list_outbox",
    "message_id_for",
    "render_alert",
    "render_test",
    "retry_failed",
    "routed_channels",
    "send_email",
    "send_slack",
    "send_test_alert",
]
