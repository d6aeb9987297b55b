"""The alert outbox: alerts are rows first, messages second, so none is lost or sent twice.

Writing: ``enqueue`` inserts one row per routed channel *inside the caller's transaction*
(the policy engine's ``with db.atomic():`` that writes the finding), so a finding and its
alerts exist together or not at all. The dedupe key ``<finding>:<stage>:<channel>`` with
``INSERT OR IGNORE`` means a finding produces one first alert, one reminder and one escalation
per channel, however often the engine runs.

Sending: ``deliver_pending`` sends due rows in id order per channel, **claiming** each row
(``pending`` → ``sending``, committed) before sending it and recording the outcome after, so two
deliverers never send the same row. Delivery is **at least once**: if the process dies after
claiming a row but before recording the outcome, the next deliverer that takes the archive's
writer lock (the daemon at start, ``deliver``) releases the claim (``release_stale_claims``)
and the row is sent again, once.

Faults never multiply alerts: when the outcome of a send cannot be written (disk full, I/O
error), the pass stops at once, the row stays claimed, the outcome is kept in memory and written
first thing on the next pass; nothing else is sent until it is. So a full disk delays alerts
but never re-posts one every tick, and the rest of the outbox is attempted after recovery.

Email repeats carry the same ``Message-ID`` (derived from the dedupe key), so mail clients
show one message; Slack webhooks have no idempotency key, so Slack may show it twice.
That is the trade we chose: a duplicate is better than a lost alert about a deleted question.

Failures: a temporary error (``AlertRetryable``) reschedules the row, honouring Slack's
``Retry-After`` or else backing off exponentially (30 s · 2^attempts, capped), and holds later
rows of that channel back so they arrive in order. A permanent error (``AlertPermanent``)
marks the row ``failed``, records the channel as failing (``channel_health``) and, for a
channel with a fallback (Slack), queues the same alert on it (email) when that is configured.
A send the channel took for some recipients and not others is sent: those deferred (a mail
server greylisting one address) get a resend of their own; one refused for good leaves the
channel failing, so ``status`` shows it, until a send reaches everyone.

The SQL behind all this is in ``guard.archive.outbox``; this module decides.

Every function takes ``now``; nothing here reads the clock, so tests drive time.
"""

from __future__ import annotations

import html
import math
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import structlog

from guard.alerts.channels import (
    OutboxItem,
    Sender,
    channel_names,
    channel_spec,
    configured_channels,
    default_senders,
)
from guard.alerts.channels.base import DEFERRED_KEY
from guard.alerts.health import record_channel, record_retry
from guard.alerts.render import AlertMessage, render_alert, render_test
from guard.alerts.routing import routed_channels
from guard.alerts.stages import FOLLOW_UP_STAGES, Stage
from guard.archive import outbox as store
from guard.archive.meta import install_id
from guard.clock import iso, utcnow
from guard.config import AlertSettings
from guard.errors import AlertPermanent, AlertRetryable, ArchiveError, ConfigError, GuardError
from guard.states import FindingState
from guard.web import finding_url

if TYPE_CHECKING:  # the archive handle, a type only: SQL runs in guard.archive
    from guard.archive.connection import Archive

__all__ = [
    "DeliveryReport",
    "enqueue",
    "enqueue_message",
    "deliver_pending",
    "cancel_for_finding",
    "retry_failed",
    "release_stale_claims",
    "send_test_alert",
    "iso",
]

log = structlog.get_logger(__name__)

BASE_BACKOFF = timedelta(seconds=30)
MAX_RETRY_AFTER = timedelta(days=1)


@dataclass
class DeliveryReport:
    """Row ids by outcome of one ``deliver_pending`` run."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    fallbacks: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    # delivered (or failed) but the archive could not record it yet: kept in memory, retried
    unrecorded: list[int] = field(default_factory=list)
    stopped: str | None = None  # why the pass stopped early (the archive cannot be written)


class _WriteFailed(Exception):
    """The archive could not record a delivery step; the pass stops."""


# Outcomes sent but not yet written, per archive handle: {row id: write}. Written before
# anything else on the next pass; a claimed row in here is never sent again.
_unrecorded: weakref.WeakKeyDictionary[Any, dict[int, Callable[[], None]]] = weakref.WeakKeyDictionary()


def _write(db: Archive, what: str, item_id: int, fn: Callable[[], None]) -> None:
    """Run ``fn`` in one transaction; a failure (disk full, I/O error) becomes ``_WriteFailed``."""
    try:
        with db.atomic():
            fn()
    except Exception as exc:  # sqlite3.OperationalError "database or disk is full", OSError, ...
        log.error("alert_outcome_not_recorded", outbox_id=item_id, step=what, error=str(exc))
        raise _WriteFailed(f"{what} of alert {item_id} could not be recorded: {exc}") from exc


def enqueue(
    db: Archive,
    finding: Mapping[str, Any],
    stage: str,
    settings: AlertSettings,
    *,
    now: datetime,
    not_before: datetime | None = None,
) -> list[int]:
    """Queue ``finding``'s alert for ``stage`` on every routed channel; returns new row ids.

    Does not commit: call it inside the transaction that writes the finding. ``not_before``
    schedules the row (e.g. a reminder at ``opened_at + reminder_after``); ``cancel_for_finding``
    withdraws it if the finding is resolved first.
    """
    if finding.get("id") is None:
        raise ValueError("enqueue needs a finding row with an id")
    if settings.finding_base_url:  # [web] base_url: every form of the alert links to its page
        finding = {**finding, "finding_url": finding_url(settings.finding_base_url, int(finding["id"]))}
    channels = routed_channels(finding, stage, settings)
    if not channels:
        log.info(
            "alert_not_routed",
            finding_id=finding["id"],
            kind=finding.get("kind"),
            severity=finding.get("severity"),
            stage=stage,
        )
        return []
    message = render_alert(
        finding, stage, now=max(not_before or now, now), tz=settings.timezone
    )  # age at send
    return enqueue_message(
        db,
        message,
        stage=stage,
        channels=channels,
        key_prefix=f"{finding['id']}:{stage}",
        now=now,
        finding_id=int(finding["id"]),
        not_before=not_before,
    )


def enqueue_message(
    db: Archive,
    message: AlertMessage,
    *,
    stage: str,
    channels: Iterable[str],
    key_prefix: str,
    now: datetime,
    finding_id: int | None = None,
    not_before: datetime | None = None,
) -> list[int]:
    """Queue a rendered message as ``<key_prefix>:<channel>`` rows; duplicates are ignored."""
    ids = []
    for channel in channels:
        row_id = _insert(
            db,
            message,
            stage=stage,
            channel=channel,
            key=f"{key_prefix}:{channel}",
            now=now,
            finding_id=finding_id,
            not_before=not_before,
        )
        if row_id is not None:
            ids.append(row_id)
    return ids


def _insert(
    db: Archive,
    message: AlertMessage,
    *,
    stage: str,
    channel: str,
    key: str,
    now: datetime,
    finding_id: int | None,
    not_before: datetime | None = None,
) -> int | None:
    row_id = store.insert_row(
        db,
        finding_id=finding_id,
        stage=stage,
        channel=channel,
        dedupe_key=key,
        subject=message.subject,
        payload=message.to_json(),
        next_attempt_at=_due_at(now, not_before),
        created_at=iso(now),
    )
    if row_id is None:
        return None
    log.info("alert_enqueued", outbox_id=row_id, finding_id=finding_id, stage=stage, channel=channel)
    return row_id


def _due_at(now: datetime, not_before: datetime | None) -> str:
    """Due now (to the second, rounded down so "now" is due at once), or at ``not_before``
    rounded up so a reminder never fires early."""
    if not_before is not None and not_before > now:
        return iso(not_before, round_up=True)
    return iso(now)


def cancel_for_finding(db: Archive, finding_id: int, stages: Iterable[str] = FOLLOW_UP_STAGES) -> int:
    """Withdraw pending rows of ``stages`` (a resolved finding needs no reminder); no commit."""
    stages = list(stages)
    count = store.cancel_pending_for_finding(db, finding_id, stages)
    if count:
        log.info("alert_cancelled", finding_id=finding_id, stages=stages, rows=count)
    return count


def deliver_pending(
    db: Archive,
    settings: AlertSettings,
    *,
    now: datetime,
    senders: Mapping[str, Sender] | None = None,
    only_ids: Iterable[int] | None = None,
) -> DeliveryReport:
    """Send every due row, in id order per channel, committing after each; see module doc.

    Must be called outside a transaction. ``senders`` overrides channels (tests, the demo's
    mail sink); ``only_ids`` sends just those rows (``test-alert``), ignoring queue order.
    """
    if db.conn.in_transaction:
        raise ArchiveError(
            "deliver_pending must run outside a transaction: it commits after "
            "every send so a crash cannot lose a delivery record"
        )
    all_senders = {**default_senders(settings), **(senders or {})}
    wanted = set(only_ids) if only_ids is not None else None
    report = DeliveryReport()
    if not _record_held_outcomes(db, report):
        return report  # the archive still cannot be written: send nothing more
    while True:  # a second pass sends the email fallbacks queued by the first
        fallbacks_before = len(report.fallbacks)
        try:
            _deliver_pass(db, settings, now, all_senders, wanted, report)
        except _WriteFailed as exc:
            report.stopped = str(exc)
            report.unrecorded = sorted(_unrecorded.get(db, {}))
            return report
        if len(report.fallbacks) == fallbacks_before:
            return report
        if wanted is not None:
            wanted |= set(report.fallbacks)


def _record_held_outcomes(db: Archive, report: DeliveryReport) -> bool:
    """Write the outcomes a previous pass could not; False (and stop) while that still fails."""
    held = _unrecorded.get(db)
    while held:
        row_id, write = next(iter(held.items()))
        try:
            _write(db, "held outcome", row_id, write)
        except _WriteFailed as exc:
            report.stopped = str(exc)
            report.unrecorded = sorted(held)
            return False
        del held[row_id]
        log.info("alert_outcome_recorded_late", outbox_id=row_id)
    return True


def release_stale_claims(db: Archive, *, now: datetime | None = None) -> list[int]:
    """Put rows claimed by a deliverer that died back in the queue (sent again: at least once).

    Call only while holding the archive's writer lock (the daemon at start, ``deliver``): then no
    other deliverer is alive, and the only live claims are this process's own held outcomes.
    """
    held = _unrecorded.get(db, {})
    stale = [i for i in store.claimed_ids(db) if i not in held]
    if stale:
        with db.atomic():
            store.release_claims(db, stale, next_attempt_at=iso(now or utcnow()))
        log.warning("alert_claims_released", outbox_ids=stale, note="a deliverer died mid-send; sent again")
    return stale


def _deliver_pass(
    db: Archive,
    settings: AlertSettings,
    now: datetime,
    senders: Mapping[str, Sender],
    wanted: set[int] | None,
    report: DeliveryReport,
) -> None:
    now_s = iso(now)
    blocked: set[str] = set()
    install = install_id(db)
    for row in store.pending_rows(db):
        if wanted is not None and row.id not in wanted:
            continue
        if row.channel in blocked:
            continue
        if row.next_attempt_at > now_s:
            if row.attempts > 0 and wanted is None:
                blocked.add(row.channel)  # an earlier alert is backing off: keep the order
            continue
        if row.finding_state == FindingState.RESOLVED and row.stage in FOLLOW_UP_STAGES:
            _write(db, "cancellation", row.id, partial(store.mark_cancelled, db, row.id, at=now_s))
            log.info(
                "alert_cancelled",
                outbox_id=row.id,
                finding_id=row.finding_id,
                stage=row.stage,
                reason="finding_resolved",
            )
            report.cancelled.append(row.id)
            continue
        try:
            message = AlertMessage.from_json(row.payload)
        except Exception as exc:  # one unreadable row must not starve the rest of the outbox
            error = f"the queued message cannot be read: {type(exc).__name__}: {exc}"
            _write(db, "failure", row.id, partial(store.mark_failed, db, row.id, error=error, at=now_s))
            log.error("alert_unreadable", outbox_id=row.id, error=error)
            report.failed.append(row.id)
            report.errors[row.id] = error
            continue
        item = OutboxItem(
            id=row.id,
            finding_id=row.finding_id,
            stage=row.stage,
            channel=row.channel,
            dedupe_key=row.dedupe_key,
            attempts=row.attempts,
            message=message,
            install_id=install,
        )
        claimed: list[bool] = []

        def take(row_id: int = row.id, out: list[bool] = claimed) -> None:
            out.append(store.claim(db, row_id))

        _write(db, "claim", row.id, take)
        if not claimed or not claimed[0]:
            continue  # another deliverer has it
        if not _deliver_one(db, settings, item, senders.get(row.channel), now, report):
            blocked.add(row.channel)


def _deliver_one(
    db: Archive,
    settings: AlertSettings,
    item: OutboxItem,
    sender: Sender | None,
    now: datetime,
    report: DeliveryReport,
) -> bool:
    """Send one row and record the outcome; False when the channel should wait."""
    try:
        if sender is None:
            spec = channel_spec(item.channel)
            table = spec.name if spec is not None else item.channel.split("-")[0]
            raise ConfigError(
                f"alert channel {item.channel!r} is not configured; add [alerts.{table}] to the config"
            )
        undelivered = sender(item)
    except AlertPermanent as exc:
        _fail(db, settings, item, str(exc), now, report)
        return True
    except AlertRetryable as exc:
        _reschedule(db, settings, item, str(exc), exc.retry_after, now, report)
        return False
    except GuardError as exc:  # e.g. the webhook's environment variable is not set
        _reschedule(db, settings, item, str(exc), None, now, report)
        return False
    except Exception as exc:  # a bug in a sender must not stop the other channels
        log.exception("alert_sender_crashed", outbox_id=item.id, channel=item.channel)
        _reschedule(db, settings, item, f"{type(exc).__name__}: {exc}", None, now, report)
        return False

    resend: list[int] = []

    def record() -> None:
        resend.clear()
        store.mark_sent(db, item.id, sent_at=iso(now))
        if undelivered is not None and undelivered.refused:  # a recipient a human must fix
            error = f"some recipients refused the alert for good: {undelivered.detail}"
            record_channel(db, item.channel, at=now.isoformat(), ok=False, error=error)
        else:
            record_channel(db, item.channel, at=now.isoformat(), ok=True)
        if undelivered is not None and undelivered.deferred:  # the same alert, to them alone, later
            row_id = _insert(
                db,
                replace(item.message, to=undelivered.deferred),
                stage=item.stage,
                channel=item.channel,
                key=f"{item.dedupe_key.split(DEFERRED_KEY)[0]}{DEFERRED_KEY}{item.id}",
                now=now,
                finding_id=item.finding_id,
                not_before=now + BASE_BACKOFF,
            )
            resend.extend([row_id] if row_id is not None else [])

    _record_outcome(db, item.id, "sent mark", record)
    if undelivered is not None:
        log.warning(
            "alert_recipients_refused",
            outbox_id=item.id,
            resend_id=resend[0] if resend else None,
            error=undelivered.detail,
        )
    log.info(
        "alert_sent",
        outbox_id=item.id,
        finding_id=item.finding_id,
        stage=item.stage,
        channel=item.channel,
        attempts=item.attempts + 1,
    )
    report.sent.append(item.id)
    return True


def _reschedule(
    db: Archive,
    settings: AlertSettings,
    item: OutboxItem,
    error: str,
    retry_after: float | None,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Retry later: at the channel's ``Retry-After`` when it gave one, else 30 s · 2^attempts."""
    if retry_after is not None and math.isfinite(retry_after):
        # capped before timedelta: a sender's inf or 1e300 would raise here with the row claimed
        delay = timedelta(seconds=min(max(retry_after, 1.0), MAX_RETRY_AFTER.total_seconds()))
    else:
        factor = 2 ** min(item.attempts, 20)
        delay = min(BASE_BACKOFF * factor, max(settings.max_backoff, BASE_BACKOFF))
    next_at = iso(now + delay, round_up=True)

    def record() -> None:
        record_retry(db, item.channel, at=now.isoformat(), first_attempt=item.attempts == 0)
        store.reschedule(db, item.id, next_attempt_at=next_at, error=error)

    _record_outcome(db, item.id, "retry", record)
    log.warning(
        "alert_retry_scheduled",
        outbox_id=item.id,
        channel=item.channel,
        attempts=item.attempts + 1,
        next_attempt_at=next_at,
        error=error,
    )
    report.retrying.append(item.id)
    report.errors[item.id] = error


def _fail(
    db: Archive, settings: AlertSettings, item: OutboxItem, error: str, now: datetime, report: DeliveryReport
) -> None:
    """Mark the row failed, surface the channel, and fall back (Slack: to email) if configured.

    No fallback when the alert was routed to the fallback channel anyway (its sibling row).
    """
    fallback_ids: list[int] = []
    spec = channel_spec(item.channel)
    fallback = spec.fallback if spec is not None else None

    def record() -> None:
        fallback_ids.clear()
        store.mark_failed(db, item.id, error=error, at=iso(now))
        record_channel(db, item.channel, at=now.isoformat(), ok=False, error=error)
        if spec is not None and fallback and settings.channels.get(fallback) is not None:
            sibling = item.dedupe_key.rsplit(":", 1)[0] + ":" + fallback
            if not store.dedupe_key_exists(db, sibling):
                note = spec.fallback_note.format(error=error)
                row_id = _insert(
                    db,
                    _fallback_message(item.message, note),
                    stage=item.stage,
                    channel=fallback,
                    key=f"{item.dedupe_key}:fallback-{fallback}",
                    now=now,
                    finding_id=item.finding_id,
                )
                if row_id is not None:
                    fallback_ids.append(row_id)

    _record_outcome(db, item.id, "failure", record)
    log.error(
        "alert_failed_permanently",
        outbox_id=item.id,
        channel=item.channel,
        error=error,
        fallback_ids=fallback_ids,
    )
    report.failed.append(item.id)
    report.errors[item.id] = error
    report.fallbacks.extend(fallback_ids)


def _record_outcome(db: Archive, row_id: int, what: str, write: Callable[[], None]) -> None:
    """Write a claimed row's outcome; if the archive refuses, hold it for the next pass (the
    row stays claimed, so it is not sent again) and stop this pass."""
    try:
        _write(db, what, row_id, write)
    except _WriteFailed:
        _unrecorded.setdefault(db, {})[row_id] = write
        raise


def _fallback_message(message: AlertMessage, note: str) -> AlertMessage:
    """The same alert for email, opening with why it did not arrive in Slack (``note``)."""
    body_html = message.email_html
    start = body_html.find("<body")
    end = body_html.find(">", start) + 1 if start >= 0 else 0
    banner = f'\n<p style="color:#cf222e"><strong>{html.escape(note)}</strong></p>'
    return replace(
        message,
        email_text=f"{note}\n\n{message.email_text or message.text}",
        email_html=body_html[:end] + banner + body_html[end:] if body_html else "",
    )


def retry_failed(db: Archive, *, now: datetime, channel: str | None = None) -> int:
    """Put failed rows back in the queue (after fixing a webhook); commits. Returns the count.

    A Slack row whose email fallback was already delivered is then posted to Slack as well:
    a deliberate operator action, so the duplicate is accepted.
    """
    with db.atomic():
        count = store.requeue_failed(db, next_attempt_at=iso(now), channel=channel)
    log.info("alert_failed_requeued", rows=count, channel=channel)
    return count


def send_test_alert(
    db: Archive,
    settings: AlertSettings,
    *,
    now: datetime,
    channel: str | None = None,
    senders: Mapping[str, Sender] | None = None,
) -> DeliveryReport:
    """Queue a sample alert on ``channel`` (default: all configured) and send it right away."""
    channels = configured_channels(settings) if channel is None else [channel]
    if channel is not None and channel not in configured_channels(settings):
        raise ConfigError(f"alert channel {channel!r} is not configured; add [alerts.{channel}]")
    if not channels:
        tables = " or ".join(f"[alerts.{name}]" for name in channel_names())
        raise ConfigError(f"no alert channel is configured; add {tables}")
    with db.atomic():
        ids = enqueue_message(
            db,
            render_test(now, settings.timezone),
            stage=Stage.TEST,
            channels=channels,
            key_prefix=f"test:{now.isoformat()}",
            now=now,
        )
    return deliver_pending(db, settings, now=now, senders=senders, only_ids=ids)
