"""What every alert channel provides: a ``ChannelSpec``, and the ``OutboxItem`` its senders get.

A sender is any ``Callable[[OutboxItem], Undelivered | None]`` that returns once the channel
accepted the message, or raises ``AlertRetryable`` / ``AlertPermanent``. It returns
``Undelivered`` when the channel took the message for some recipients and deferred others (a
mail server greylisting one address): the outbox then queues a resend to those alone, keyed
``<row key>:deferred-<row id>``. The daemon and tests may swap one in
(``deliver_pending(senders=...)``); the real ones read their secrets at send time, so fixing an
environment variable and restarting is enough, and no secret is ever stored in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, Protocol, TypeVar

from guard.config_reader import Reader

if TYPE_CHECKING:  # rendering (and the rules it names) loads only where alerts are sent
    from guard.alerts.render import AlertMessage

__all__ = ["ChannelSpec", "DEFERRED_KEY", "HasChannels", "OutboxItem", "Sender", "Undelivered"]

DEFERRED_KEY = ":deferred-"  # in the outbox key of a resend to deferred recipients

S = TypeVar("S")


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
    install_id: str = ""  # this archive's random id (meta), for ids unique per install


@dataclass(frozen=True)
class Undelivered:
    """Recipients a channel deferred (temporarily) or refused (for good) while it took the
    message for the others; ``detail`` is the server's words about each."""

    deferred: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    detail: str = ""


Sender = Callable[[OutboxItem], "Undelivered | None"]


class HasChannels(Protocol):
    """Anything with configured channel settings by name (``guard.config.AlertSettings``)."""

    @property
    def channels(self) -> Mapping[str, Any]: ...


def _same_channel(settings: Any, stage: str) -> None:
    return None


@dataclass(frozen=True)
class ChannelSpec(Generic[S]):
    """One alert channel: its ``[alerts.NAME]`` table, secrets, senders and outbox names.

    Outbox channel names are ``name`` or ``name-<suffix>`` (``slack-escalation``): the outbox
    stores and orders rows by them, and finds the spec of a row by that prefix.
    """

    name: str
    # reads the [alerts.NAME] table (r.prefix is "alerts.NAME.") into this channel's settings
    parse: Callable[[Reader], S]
    # (environment variable, config key naming it) for every secret the settings name
    secrets: Callable[[S], list[tuple[str, str]]]
    # outbox channel name -> sender; secrets are read when a sender runs, not here
    senders: Callable[[S], dict[str, Sender]]
    # the outbox channel for a stage when it is not ``name`` (None: use ``name``)
    route_stage: Callable[[S, str], str | None] = _same_channel
    # when a row fails permanently, queue the same alert on this channel, if it is configured,
    # opening with ``fallback_note`` (``{error}`` is replaced by the channel's error)
    fallback: str | None = None
    fallback_note: str = ""

    def owns(self, outbox_channel: str) -> bool:
        """True for ``name`` and ``name-<suffix>``."""
        return outbox_channel == self.name or outbox_channel.startswith(self.name + "-")
