"""The alert channel registry: every channel comment-guard can send to, and helpers over it.

Each channel is one module here that owns its ``[alerts.NAME]`` settings and how they are
parsed, the environment variables they name, and its senders, and exports them as
``SPEC`` (a ``ChannelSpec``). ``REGISTRY`` lists the specs; config parsing, routing, delivery,
``comment-guard check``, the daemon's start-up and ``test-alert --channel`` all read it, so
adding a channel is one module plus one line below.
"""

from __future__ import annotations

from typing import Any

from guard.alerts.channels import email, slack_app
from guard.alerts.channels.base import ChannelSpec, HasChannels, OutboxItem, Sender, Undelivered
from guard.config_reader import Reader

__all__ = [
    "REGISTRY",
    "ChannelSpec",
    "OutboxItem",
    "Sender",
    "Undelivered",
    "channel_names",
    "channel_spec",
    "configured_channels",
    "default_senders",
    "channel_secrets",
    "outbox_channel",
    "parse_channels",
]

REGISTRY: tuple[ChannelSpec[Any], ...] = (
    slack_app.SPEC,  # [alerts.slack]: incoming webhooks (slack.py) or, with mode = "app", the app
    email.SPEC,
)


def channel_names() -> tuple[str, ...]:
    """The ``[alerts.NAME]`` names, in registry order."""
    return tuple(spec.name for spec in REGISTRY)


def channel_spec(channel: str) -> ChannelSpec[Any] | None:
    """The spec of a channel or outbox channel name (``slack-escalation`` -> slack)."""
    return next((spec for spec in REGISTRY if spec.owns(channel)), None)


def parse_channels(r: Reader) -> dict[str, Any]:
    """Each registered channel's ``[alerts.NAME]`` table, by name; absent tables are left out."""
    out: dict[str, Any] = {}
    for spec in REGISTRY:
        settings = r.section(spec.name, spec.parse)
        if settings is not None:
            out[spec.name] = settings
    return out


def configured_channels(settings: HasChannels) -> list[str]:
    """The base channels that have settings, in a stable (registry) order."""
    return [spec.name for spec in REGISTRY if settings.channels.get(spec.name) is not None]


def _configured(settings: HasChannels) -> list[tuple[ChannelSpec[Any], Any]]:
    return [
        (spec, settings.channels[spec.name])
        for spec in REGISTRY
        if settings.channels.get(spec.name) is not None
    ]


def default_senders(settings: HasChannels) -> dict[str, Sender]:
    """The real channels: secrets are read at send time, so a fixed env var takes effect."""
    senders: dict[str, Sender] = {}
    for spec, own in _configured(settings):
        senders.update(spec.senders(own))
    return senders


def channel_secrets(settings: HasChannels) -> list[tuple[str, str]]:
    """(environment variable, config key naming it) for every configured channel's secrets."""
    return [pair for spec, own in _configured(settings) for pair in spec.secrets(own)]


def outbox_channel(channel: str, stage: str, settings: HasChannels) -> str:
    """The outbox channel a configured base ``channel`` uses for ``stage``."""
    spec = channel_spec(channel)
    own = settings.channels.get(channel)
    if spec is None or own is None:
        return channel
    return spec.route_stage(own, stage) or channel
