"""What ``comment-guard status`` and ``comment-guard alerts`` show about alert delivery.

A channel that fails permanently must be visible: the outbox never drops a row, so a revoked
webhook shows up here as "failing" with Slack's own words, until a later send succeeds. Per
channel state lives in the ``meta`` table under ``alerts.channel.<name>`` (JSON), so no
schema migration was needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guard.archive import outbox as store
from guard.redact import scrub

if TYPE_CHECKING:  # the archive handle, a type only: SQL runs in guard.archive
    from guard.archive.connection import Archive

__all__ = ["list_outbox", "channel_health", "record_channel", "record_retry"]


def list_outbox(db: Archive, pending_only: bool = False) -> list[dict[str, Any]]:
    """Outbox rows in id order, without the rendered payload (it is long)."""
    return store.list_rows(db, pending_only=pending_only)


def record_channel(db: Archive, channel: str, *, at: str, ok: bool, error: str | None = None) -> None:
    """Remember the last success or permanent failure of ``channel``; no commit (caller's)."""
    state = store.load_channel_state(db, channel)
    if ok:
        state["last_success_at"] = at
        state.pop("retrying_since", None)
    else:
        state["last_failure_at"] = at
        state["last_error"] = scrub(error) if error else error  # as the row's own last_error
        state["permanent_failures"] = int(state.get("permanent_failures", 0)) + 1
    store.save_channel_state(db, channel, state)


def record_retry(db: Archive, channel: str, *, at: str, first_attempt: bool) -> None:
    """Remember when ``channel`` began failing temporarily, until its next success; no commit.
    ``status`` fails once that is long ago: retries that never end are an outage too.

    A row's first attempt failing while no other row of the channel is retrying starts a new
    run of retries (the last one ended in a success, a failure or a cancelled row)."""
    state = store.load_channel_state(db, channel)
    new_run = first_attempt and store.retry_head(db, channel) is None
    if "retrying_since" not in state or new_run:
        state["retrying_since"] = at
        store.save_channel_state(db, channel, state)


def channel_health(db: Archive) -> dict[str, dict[str, Any]]:
    """Per channel: ``status`` (ok | retrying | failing) and the counts behind it.

    ``failing``: the last permanent failure is newer than the last success (Slack said
    ``no_service``, the mail server said 550, ...): a human must fix something.
    ``retrying``: rows are waiting out a backoff after temporary errors.
    """
    out: dict[str, dict[str, Any]] = {}
    stats = store.channel_stats(db)
    channels = {r["channel"] for r in stats} | set(store.channels_with_state(db))
    by_channel = {r["channel"]: r for r in stats}
    for channel in sorted(channels):
        s = by_channel.get(channel, {})
        state = store.load_channel_state(db, channel)
        head = store.retry_head(db, channel)
        failing = bool(state.get("last_failure_at")) and (
            state.get("last_failure_at", "") > state.get("last_success_at", "")
        )
        status = "failing" if failing else "retrying" if head else "ok"
        out[channel] = {
            "status": status,
            "pending": int(s.get("pending") or 0),
            "retrying": int(s.get("retrying") or 0),
            "failed": int(s.get("failed") or 0),
            "sent": int(s.get("sent") or 0),
            "oldest_pending_at": s.get("oldest_pending_at"),
            "last_success_at": state.get("last_success_at"),
            "last_failure_at": state.get("last_failure_at"),
            "last_error": state.get("last_error"),
            "retry_error": head[0] if head else None,
            "retrying_since": state.get("retrying_since") if head else None,
            "next_attempt_at": head[1] if head else None,
        }
    return out
