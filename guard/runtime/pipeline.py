"""One poll cycle for one account, wired end to end: connector → diff → archive → engine →
actions.

Both the CLI (`poll --once`) and the daemon call ``run_poll``, so they cannot drift apart.
``poll_account`` is the archive half alone (no policies), which the benchmarks measure.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from connectors.base import Connector, GoneStatus, ProtectionMarks, Snapshot
from connectors.registry import connect
from guard.actions import enforce, mark_protection
from guard.archive.connection import Archive, archive_version, autocheckpoint_off, checkpoint_alongside
from guard.archive.meta import billed_key, budget_key, meta_get, meta_set
from guard.archive.poller import PollDiff
from guard.archive.polls import ensure_account, write_poll
from guard.clock import iso, utcnow
from guard.config import Account, Config
from guard.engine import EngineResult, run_engine
from guard.errors import ConnectorError, GuardError, NotFound
from guard.runtime.account_health import track_account

__all__ = ["PollResult", "PollOutcome", "poll_account", "run_poll", "sweep", "one_line_error"]

log = structlog.get_logger("guard.pipeline")


@dataclass(frozen=True)
class PollResult:
    poll_id: int
    account: str
    complete: bool
    api_calls: int
    items: int
    counts: dict[str, int] = field(default_factory=dict)
    error: ConnectorError | None = None
    duration: float = 0.0
    touched_posts: tuple[str, ...] = ()  # the posts this poll wrote events about, sorted

    @property
    def failed(self) -> bool:
        return self.error is not None and self.items == 0


def poll_account(
    db: Archive,
    account: Account,
    connector: Connector,
    *,
    now: datetime | None = None,
    post_id: str | None = None,
) -> PollResult:
    """The archive half of a poll: fetch, diff, ask about suspects, write one poll atomically.

    Every platform call happens here, before the write: ``PollDiff`` decides, the connector
    answers. A failed ``confirm_gone`` leaves the suspects ``unknown``, never deleted.
    ``post_id``: a targeted scan of that one post (a webhook said it changed), written through
    the same diff and transaction; the deletion rule is the same (complete scan, then by id).
    """
    t0 = time.perf_counter()
    started = now or utcnow()
    since = started - timedelta(days=account.watch_days)
    calls_before = connector.api_calls
    snapshot = _fetch(connector, account, since, post_id)
    stamp = iso(started)
    # A first pass outside the write lock, only to learn which objects to ask the platform
    # about: network calls never run inside a transaction.
    seen_version = archive_version(db)
    diff = PollDiff(db, account, snapshot, iso(since), stamp)
    suspects = diff.plan(connector.absences_before_confirm)
    answers: dict[str, GoneStatus] = {}
    error: ConnectorError | None = None
    if suspects:
        try:
            answers = connector.confirm_gone(suspects)
        except ConnectorError as exc:
            error = exc
        except Exception as exc:  # a connector bug: the suspects stay unknown, the poll is kept
            error = _contained(exc, account, "confirm_gone")
    with db.atomic():  # BEGIN IMMEDIATE: no other writer until this poll is written
        if archive_version(db) != seen_version:
            # Another process wrote since the first pass (a poll beside ours): diff again against
            # the archive as it is now, under the lock, so nothing is recorded twice. Suspects
            # that are new to this pass were not asked about: they stay "unknown" until next poll.
            diff = PollDiff(db, account, snapshot, iso(since), stamp)
            diff.plan(connector.absences_before_confirm)
            log.info("poll_rediffed", account=account.name, reason="archive changed during the poll")
        batch = diff.settle(answers, error)
        batch.finished = iso(utcnow()) if now is None else stamp
        batch.api_calls = connector.api_calls - calls_before
        # A poll that read nothing (a mistyped page id, a refused token) must not bind the
        # account name to that page: it is bound by its first poll that succeeds.
        read_something = batch.error is None or batch.items > 0
        ensure_account(db, account.name, account.platform, account.page_id, stamp, bind=read_something)
        poll_id = write_poll(db, batch, diff.pages())
    result = PollResult(
        poll_id=poll_id,
        account=account.name,
        complete=batch.complete,
        api_calls=batch.api_calls,
        items=batch.items,
        counts=batch.counts(),
        error=diff.error,
        duration=time.perf_counter() - t0,
        touched_posts=tuple(sorted(batch.touched)),
    )
    _log_poll(result)
    return result


def _log_poll(r: PollResult) -> None:
    c = r.counts
    fields = dict(
        account=r.account,
        poll_id=r.poll_id,
        api_calls=r.api_calls,
        items=r.items,
        complete=r.complete,
        new=c.get("comment_added", 0) + c.get("post_added", 0),
        edited=c.get("comment_edited", 0) + c.get("post_edited", 0),
        hidden=c.get("comment_hidden", 0),
        deleted=c.get("comment_deleted", 0) + c.get("post_deleted", 0),
        duration=round(r.duration, 3),
    )
    if r.error is not None:
        fields.update(error=str(r.error), error_type=type(r.error).__name__)
    # A failed or partial poll is a warning here; the daemon adds an error line for a failed one.
    (log.warning if r.error is not None else log.info)("poll_done", **fields)


@dataclass(frozen=True)
class PollOutcome:
    poll: PollResult
    findings_opened: list[int] = field(default_factory=list)
    # >1 when the account should be polled less often (X read budget nearly spent).
    interval_factor: float = 1.0
    budget_spent: int | None = None
    account_resolved: int | None = None  # the account-failing finding this poll resolved

    def summary_lines(self) -> list[str]:
        lines = []
        if self.account_resolved is not None:
            lines.append(f"archiving resumed: finding #{self.account_resolved} resolved")
        if self.findings_opened:
            lines.append(
                f"{len(self.findings_opened)} new finding(s): "
                + ", ".join(f"#{i}" for i in self.findings_opened)
                + " (see `comment-guard findings`)"
            )
        if self.interval_factor > 1:
            lines.append(
                f"read budget {self.budget_spent} used: polling {self.interval_factor:g}x "
                "less often until the month ends"
            )
        return lines


def run_poll(
    config: Config,
    db: Archive,
    account: Account,
    *,
    connector: Connector | None = None,
    now: datetime | None = None,
    post_id: str | None = None,
) -> PollOutcome:
    """One poll end to end (``post_id``: a targeted scan of that post only)."""
    connector = connector or connect(account.connector_settings())
    moment = now or utcnow()
    budget = connector.read_budget if account.monthly_read_budget is not None else None
    if budget is not None:
        budget.set_spent(int(meta_get(db, budget_key(account.name, moment)) or 0))
        billed = json.loads(meta_get(db, billed_key(account.name)) or "{}")
        budget.set_billed_today(billed.get("day", ""), billed.get("ids", ()))
    # The poll's commit leaves its WAL pages where they are; they are copied into the database
    # on another core while the engine runs, and run_poll waits for the copy before it returns.
    with autocheckpoint_off(db):
        result = poll_account(db, account, connector, now=moment, post_id=post_id)
        with checkpoint_alongside(db):
            spent = None
            if budget is not None:
                spent = budget.spent
                day, ids = budget.billed_today()
                with db.atomic():
                    meta_set(db, budget_key(account.name, moment), str(spent))
                    meta_set(db, billed_key(account.name), json.dumps({"day": day, "ids": ids}))
            # The poll is recorded: a failing account is an alert, a recovered one says so.
            health = track_account(
                config,
                db,
                account,
                poll_id=result.poll_id,
                failed=result.failed,
                error=result.error,
                now=moment,
            )
            # The platform itself can refuse a deletion: mark every comment of the touched posts.
            marks = isinstance(connector, ProtectionMarks)
            engine = run_engine(
                db,
                config,
                now=moment,
                poll_id=result.poll_id,
                post_ids=result.touched_posts,
                whole_threads=marks,
            )
            enforce(db, engine.to_unhide, {account.name: connector}, now=moment)
            if isinstance(connector, ProtectionMarks):
                mark_protection(engine.analyses, connector)
    return PollOutcome(
        poll=result,
        findings_opened=([health.opened] if health.opened else []) + engine.opened,
        account_resolved=health.resolved,
        interval_factor=_slowdown(spent, account.monthly_read_budget),
        budget_spent=spent,
    )


def sweep(
    config: Config, db: Archive, connectors: Mapping[str, Connector], *, now: datetime | None = None
) -> EngineResult:
    """The time-based rules (reply deadlines, escalation) over the whole archive; in enforce
    mode, un-hide through ``connectors`` what they found hidden."""
    moment = now or utcnow()
    result = run_engine(db, config, now=moment)
    enforce(db, result.to_unhide, connectors, now=moment)
    return result


def _slowdown(spent: int | None, budget: int | None) -> float:
    """Poll less often as the monthly read budget runs out, instead of stopping dead."""
    if spent is None or not budget:
        return 1.0
    used = spent / budget
    return 4.0 if used >= 0.9 else 2.0 if used >= 0.75 else 1.0


def _fetch(connector: Connector, account: Account, since: datetime, post_id: str | None = None) -> Snapshot:
    """``connector.fetch``, contained: whatever it raises becomes a failed read that the poll
    records (so ``status`` shows it) and that changes no status.

    With ``post_id``, ``fetch_post``; a post that is gone (``NotFound``) or a platform that
    cannot read one post alone gets the whole poll instead: only a complete list of posts may
    make a post's absence mean anything."""
    try:
        if post_id is not None:
            try:
                one = connector.fetch_post(post_id)
            except NotFound:
                one = None
            if one is not None:
                return one
            log.info("targeted_scan_widened", account=account.name, post_id=post_id)
        return connector.fetch(since)
    except ConnectorError as exc:
        return Snapshot(posts=(), posts_complete=False, error=exc)
    except Exception as exc:  # a connector bug must not lose the poll or stop the other accounts
        return Snapshot(posts=(), posts_complete=False, error=_contained(exc, account, "fetch"))


def _contained(exc: Exception, account: Account, call: str) -> ConnectorError:
    """One line for an exception a connector should not have raised; no token in it."""
    log.warning("connector_failed", account=account.name, call=call, error_type=type(exc).__name__)
    return ConnectorError(
        f"reading {account.platform} failed in {call} ({one_line_error(exc)}); "
        "nothing changed status, the next poll tries again"
    )


def one_line_error(exc: BaseException) -> str:
    """The message on one line (``Type: message`` unless it is one of ours), at most 200
    characters, tokens masked."""
    text = " ".join(str(exc).split())
    text = re.sub(r"(?i)((?:access_token|appsecret_proof|token)=)[^&\s'\"]+", r"\1***", text)
    text = re.sub(r"(?i)(bearer\s+)\S+", r"\1***", text)
    if not isinstance(exc, GuardError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
