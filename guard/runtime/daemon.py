"""``comment-guard run``: poll every account on its schedule, sweep policies, deliver alerts.

One APScheduler 3.x ``BlockingScheduler`` (UTC) drives five kinds of job:

- ``poll:<account>`` every ``poll_every`` (jitter: 10 % of the interval, at most 30 s), the
  first one at start-up; a rate-limited poll moves that account's next run to the platform's
  retry-after time, and one whose monthly read budget (X) is 75 % / 90 % spent moves it 2x / 4x
  ``poll_every`` out;
- ``sweep`` every 60 s: the time-based policy rules (reply deadlines, escalations);
- ``deliver`` every 30 s, and right after any job that left due alerts in the outbox;
- ``heartbeat`` every 30 s: ``meta[daemon_heartbeat]``, which ``comment-guard status`` checks;
- ``digest`` at ``alerts.digest_at`` (local time), when configured.

Every job runs on **one worker thread** with **one SQLite connection**: jobs never race for the
archive and a connection is never shared between threads. The cost is that a slow poll delays
the other jobs; each connector call has a timeout, and a poll writes in one short transaction
after all its network calls, so the delay is bounded by the platform's timeouts.

A job that raises is logged (``job_failed``) and runs again on its next tick: one broken
account, channel or bug never stops the scheduler. SIGTERM/SIGINT stop scheduling, let the
running job finish (a poll commits or rolls back as a whole) and return within ``stop_timeout``
seconds; a second signal exits at once. A second daemon on the same archive is refused by
:class:`guard.lock.DaemonLock`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta, timezone
from threading import TIMEOUT_MAX
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors.base import Connector
from connectors.registry import connect
from guard.archive.connection import Archive, open_archive
from guard.archive.meta import HEARTBEAT_KEY, meta_set
from guard.archive.outbox import next_pending_at
from guard.clock import iso, parse_iso, utcnow
from guard.config import Account, Config, read_secret
from guard.errors import ConfigError, GuardError, RateLimited
from guard.runtime import liveness
from guard.runtime.lock import DaemonLock
from guard.runtime.logs import bridge_scheduler_logs, scrub_secrets
from guard.runtime.pipeline import run_poll, sweep
from guard.runtime.webhooks import Change, ScanQueue, Scope, WebhookApp, WebhookServer, accounts_by_page

__all__ = ["Daemon", "poll_jitter", "next_poll_key", "hard_exit"]

log = structlog.get_logger("guard.daemon")

HEARTBEAT_EVERY = 30.0
DELIVERY_EVERY = 30.0
SWEEP_EVERY = 60.0
TOKEN_CHECK_EVERY = 24 * 3600.0  # debug_token once a day, first a minute after start
SLACK_APP_RETRY_EVERY = 300.0  # Socket Mode refused at start (no network yet): try again this often
STOP_TIMEOUT = 8.0  # systemd's TimeoutStopSec is 15 s; the brief promises exit within 10 s
MAX_JITTER = 30.0
CLOCK_CHECK_EVERY = 1.0  # how often the scheduler loop looks for a wall-clock step
CLOCK_STEP_TOLERANCE = 2.0  # seconds of wall-vs-monotonic drift that count as a step


def _wall_offset() -> float:
    """Wall clock minus monotonic clock: constant until someone steps the wall clock."""
    return time.time() - time.monotonic()


def poll_jitter(interval: timedelta) -> float:
    """10 % of the interval, at most 30 s: spreads many accounts without delaying any much."""
    return min(interval.total_seconds() * 0.1, MAX_JITTER)


def next_poll_key(account: str) -> str:
    """The ``meta`` key ``comment-guard status`` reads for an account's next poll."""
    return f"next_poll:{account}"


class _Scheduler(BlockingScheduler):
    """A BlockingScheduler whose main loop a signal handler can end safely.

    Calling ``shutdown()`` from a signal handler can interrupt ``_process_jobs`` half-way, and
    the stock loop then submits due jobs to an executor that is already shut down. Here the
    handler only sets ``stop_requested`` and wakes the loop; ``Daemon.run`` shuts down from
    ordinary code once the loop has returned.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_requested = threading.Event()

    def _main_loop(self) -> None:
        wait_seconds: float | None = TIMEOUT_MAX
        offset = _wall_offset()
        while self.state != STATE_STOPPED and not self.stop_requested.is_set():
            self._event.wait(
                min(wait_seconds if wait_seconds is not None else TIMEOUT_MAX, CLOCK_CHECK_EVERY)
            )
            self._event.clear()
            if self.stop_requested.is_set():
                break
            now_offset = _wall_offset()
            if abs(now_offset - offset) > CLOCK_STEP_TOLERANCE:
                self._follow_clock_step(now_offset - offset)
            offset = now_offset
            wait_seconds = self._process_jobs()

    def _follow_clock_step(self, step: float) -> None:
        """The wall clock jumped by ``step`` seconds while the monotonic clock did not: move
        every job by the same amount, so each still runs after the interval it was given
        (APScheduler 3 schedules on the wall clock: stepped back an hour, it would wait an
        hour; stepped forward, it would run everything at once). Not the digest: ``digest_at``
        is a time of day on the wall clock, the corrected one."""
        log.warning("clock_stepped", seconds=round(step, 1), note="the schedule follows the monotonic clock")
        delta = timedelta(seconds=step)
        for job in self.get_jobs():
            if job.next_run_time is not None and not isinstance(job.trigger, CronTrigger):
                job.modify(next_run_time=job.next_run_time + delta)

    def wakeup(self) -> None:
        if self._event is not None:
            self._event.set()


class Daemon:
    """The scheduler, its jobs and their one archive connection. ``run()`` blocks."""

    def __init__(
        self,
        config: Config,
        *,
        senders: Mapping[str, Any] | None = None,
        connectors: Mapping[str, Connector] | None = None,
        stop_timeout: float = STOP_TIMEOUT,
        heartbeat_every: float = HEARTBEAT_EVERY,
        delivery_every: float = DELIVERY_EVERY,
        sweep_every: float = SWEEP_EVERY,
        slack_app_retry_every: float = SLACK_APP_RETRY_EVERY,
    ) -> None:
        self.config = config
        self.stop_timeout = stop_timeout
        self._senders = dict(senders) if senders else None
        self._connectors: dict[str, Connector] = dict(connectors or {})
        self._every = {
            "heartbeat": heartbeat_every,
            "deliver": delivery_every,
            "sweep": sweep_every,
            "slack-app": slack_app_retry_every,
        }
        self._lock = DaemonLock(config.guard.database, on_wait=_log_wait)
        self._db: Archive | None = None
        self._scheduler = _Scheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._idle = threading.Condition()
        self._scan_queue = ScanQueue()  # filled by the webhook receiver, drained by the worker
        self._scan_jobs = 0
        self.webhooks: WebhookServer | None = None
        self._running: str | None = None
        self._signals = 0
        self._slack_app: Any = None  # guard.runtime.slack_app.SlackApp in [alerts.slack] app mode

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self, *, install_signals: bool = True) -> bool:
        """Run until :meth:`stop` or SIGTERM/SIGINT. Returns False if the running job was still
        busy after ``stop_timeout`` seconds (the caller should then exit without waiting)."""
        scrub_secrets(self._read_secrets())
        self._lock.acquire()
        previous: dict[int, Any] = {}
        bridge = bridge_scheduler_logs()
        clean = True
        try:
            self._db = open_archive(self.config.guard.database)
            self._release_stale_claims()
            self._add_jobs()
            self._start_webhooks()
            self._start_slack_app()
            if install_signals:
                previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
            log.info(
                "daemon_started",
                database=str(self.config.guard.database),
                accounts=[a.name for a in self.config.accounts],
                jobs=sorted(j.id for j in self._scheduler.get_jobs()),
            )
            self._scheduler.start()  # returns once stop is requested
            clean = self._shut_down()
        finally:
            if self.webhooks is not None:
                self.webhooks.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            bridge()
            if clean:
                self._close()
        return clean

    def stop(self) -> None:
        """Ask the daemon to stop; safe from any thread and before ``run`` has started."""
        self._scheduler.stop_requested.set()
        self._scheduler.wakeup()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("daemon_forced_stop", signal=signal.Signals(signum).name)
            hard_exit(1)
        log.info("daemon_stopping", signal=signal.Signals(signum).name, running=self._running)
        self.stop()

    def _shut_down(self) -> bool:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)  # queued jobs see stop_requested and return
        with self._idle:
            idle = self._idle.wait_for(lambda: self._running is None, timeout=self.stop_timeout)
        if not idle:
            log.warning(
                "daemon_stop_timeout",
                running=self._running,
                waited_seconds=self.stop_timeout,
                note="nothing of the unfinished job was written; it reruns next start",
            )
            return False
        log.info("daemon_stopped")
        return True

    def _close(self) -> None:
        if self._slack_app is not None:
            self._slack_app.stop()
        for connector in self._connectors.values():
            connector.close()
        if self._db is not None:
            self._db.conn.close()
            self._db = None
        self._lock.release()

    def _release_stale_claims(self) -> None:
        """Alerts claimed by a deliverer that died mid-send go back to the queue (we hold the
        writer lock, so no other deliverer is alive)."""
        from guard.alerts.outbox import release_stale_claims

        release_stale_claims(self._require_db())

    def _read_secrets(self) -> list[str]:
        """Read every account token now: a missing variable stops start-up with one clear line
        (systemd then shows it) instead of failing one poll job forever."""
        from guard.alerts.channels import channel_secrets

        values = [account.token() for account in self.config.accounts]
        hooks = self.config.webhooks
        if hooks is not None:
            values += [
                read_secret(hooks.app_secret_env, "webhooks.app_secret_env"),
                read_secret(hooks.verify_token_env, "webhooks.verify_token_env"),
            ]
        for name, key in channel_secrets(self.config.alerts):
            try:
                values.append(read_secret(name, key))
            except ConfigError:
                log.warning(
                    "alert_secret_missing",
                    variable=name,
                    note="alerts on this channel are retried until it is set",
                )
        return values

    # -- scheduling ------------------------------------------------------------------------

    def _add_jobs(self) -> None:
        now = utcnow()
        add = self._scheduler.add_job
        for account in self.config.accounts:
            interval = account.poll_every.total_seconds()
            add(
                self._job,
                IntervalTrigger(
                    seconds=interval, jitter=poll_jitter(account.poll_every), timezone=timezone.utc
                ),
                args=(f"poll:{account.name}", self._poll, account),
                id=f"poll:{account.name}",
                name=f"poll {account.name}",
                next_run_time=now,
            )
            self._write_meta({next_poll_key(account.name): iso(now)})
        add(
            self._job,
            IntervalTrigger(seconds=self._every["heartbeat"], timezone=timezone.utc),
            args=("heartbeat", self._heartbeat),
            id="heartbeat",
            next_run_time=now,
        )
        add(
            self._job,
            IntervalTrigger(seconds=self._every["sweep"], timezone=timezone.utc),
            args=("sweep", self._sweep),
            id="sweep",
            next_run_time=now + timedelta(seconds=self._every["sweep"]),
        )
        add(
            self._job,
            IntervalTrigger(seconds=TOKEN_CHECK_EVERY, timezone=timezone.utc),
            args=("tokens", self._check_tokens),
            id="tokens",
            next_run_time=now + timedelta(seconds=self._every["sweep"]),
        )
        if self._alerts_configured():
            add(
                self._job,
                IntervalTrigger(seconds=self._every["deliver"], timezone=timezone.utc),
                args=("deliver", self._deliver),
                id="deliver",
                next_run_time=now,
            )
            digest_at = self.config.alerts.digest_at
            if digest_at:
                hour, minute = (int(x) for x in digest_at.split(":"))
                add(
                    self._job,
                    CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(self.config.guard.timezone)),
                    args=("digest", self._digest),
                    id="digest",
                )
        self._scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    def _alerts_configured(self) -> bool:
        from guard.alerts.channels import configured_channels

        return bool(configured_channels(self.config.alerts))

    def _on_skipped(self, event: JobEvent) -> None:
        log.info(
            "job_skipped",
            job=event.job_id,
            reason="previous run still in progress"
            if event.code == EVENT_JOB_MAX_INSTANCES
            else "missed its run time",
        )

    # -- jobs ------------------------------------------------------------------------------

    def _job(self, name: str, fn: Callable[..., None], *args: Any) -> None:
        """Run one job: log and swallow its failure, never leave a transaction open."""
        with self._idle:  # checked under the lock _shut_down waits on: no job slips past it
            if self._scheduler.stop_requested.is_set():
                return
            self._running = name
        try:
            fn(*args)
        except GuardError as exc:  # expected trouble (config, archive, channel): one line
            log.error("job_failed", job=name, error=str(exc), error_type=type(exc).__name__)
        except Exception as exc:  # a bug: keep the traceback, keep the scheduler
            log.error("job_failed", job=name, error=str(exc), error_type=type(exc).__name__, exc_info=True)
        finally:
            self._end_transaction(name)
            with self._idle:
                self._running = None
                self._idle.notify_all()

    def _end_transaction(self, name: str) -> None:
        db = self._db
        if db is None or not db.conn.in_transaction:
            return
        # Every writer commits its own transaction; one left open would block the next job.
        log.warning("job_left_transaction_open", job=name)
        db.conn.rollback()

    def _poll(self, account: Account, post_id: str | None = None) -> None:
        job_id = f"poll:{account.name}"
        slowdown = 1.0
        try:
            outcome = run_poll(
                self.config, self._require_db(), account, connector=self._connector(account), post_id=post_id
            )
            error, slowdown = outcome.poll.error, outcome.interval_factor
            if outcome.poll.failed:  # an error line: `journalctl -p err` shows a failing account
                log.error(
                    "poll_failed",
                    account=account.name,
                    poll_id=outcome.poll.poll_id,
                    error=str(error),
                    error_type=type(error).__name__,
                )
        except RateLimited as exc:  # raised outside the scan (e.g. building the connector)
            error = exc
        job = self._scheduler.get_job(job_id)
        next_run = job.next_run_time if job else None
        if isinstance(error, RateLimited):
            next_run = utcnow() + timedelta(seconds=max(error.retry_after, 1.0))
            self._scheduler.modify_job(job_id, next_run_time=next_run)
            log.warning(
                "poll_rate_limited",
                account=account.name,
                retry_after=error.retry_after,
                next_poll=iso(next_run),
            )
        elif slowdown > 1:  # the monthly read budget (X) runs low: poll less often, not stop dead
            slowed = utcnow() + account.poll_every * slowdown
            if next_run is None or slowed > next_run:
                next_run = slowed
                self._scheduler.modify_job(job_id, next_run_time=next_run)
                log.info("poll_slowed_down", account=account.name, factor=slowdown, next_poll=iso(next_run))
        if next_run is not None:
            self._write_meta({next_poll_key(account.name): iso(next_run), **self._schedule_record()})
        self._kick_delivery()

    # -- webhooks ----------------------------------------------------------------------------

    def _start_webhooks(self) -> None:
        """Listen for Meta's notifications on their own thread (``[webhooks]``); they only queue."""
        hooks = self.config.webhooks
        if hooks is None:
            return
        app = WebhookApp(
            app_secret=read_secret(hooks.app_secret_env, "webhooks.app_secret_env"),
            verify_token=read_secret(hooks.verify_token_env, "webhooks.verify_token_env"),
            accounts=accounts_by_page(self.config.accounts),
            on_scope=self._on_webhook,
            max_body=hooks.max_body,
        )
        self.webhooks = WebhookServer(app, hooks.host, hooks.port).start()

    def _on_webhook(self, scope: Scope, change: Change) -> None:
        """On the receiver's thread: queue the post, and schedule one drain for a burst."""
        account, post_id = scope
        log.info(
            "webhook_change",
            account=account,
            post_id=post_id,
            comment_id=change.comment_id,
            item=change.item,
            verb=change.verb,
        )
        hooks = self.config.webhooks
        if not self._scan_queue.put(scope) or hooks is None:
            return
        self._scan_jobs += 1
        self._scheduler.add_job(
            self._job,
            "date",
            run_date=utcnow() + hooks.coalesce,
            args=("webhook-scan", self._drain_scans),
            id=f"webhook-scan:{self._scan_jobs}",  # unique: a drain still running never skips the next
        )

    def _drain_scans(self) -> None:
        """On the worker: one targeted scan per queued post; a whole-account scope (a post
        removed) brings that account's poll forward instead."""
        for name, post_id in self._scan_queue.take():
            if post_id is None:
                self._scheduler.modify_job(f"poll:{name}", next_run_time=utcnow())
                continue
            self._poll(self.config.account(name), post_id)

    def _connector(self, account: Account) -> Connector:
        """One connector per account for the daemon's life: its HTTP session (keep-alive) and
        any budget it tracks carry over between polls."""
        connector = self._connectors.get(account.name)
        if connector is None:
            connector = self._connectors[account.name] = connect(account.connector_settings())
        return connector

    def _sweep(self) -> None:
        # The poll connectors let enforce mode un-hide comments from the sweep too.
        sweep(self.config, self._require_db(), dict(self._connectors), now=utcnow())
        self._kick_delivery()

    def _check_tokens(self) -> None:
        """When does each account's token expire? Stored in ``meta``; ``token-expiring`` a
        week ahead (see ``guard.runtime.token_watch`` for why daily and not per poll)."""
        from guard.runtime.token_watch import check_token

        for account in self.config.accounts:
            if self._scheduler.stop_requested.is_set():
                return
            try:
                check_token(self.config, self._require_db(), account, self._connector(account), now=utcnow())
            except GuardError as exc:  # one account's trouble never skips the others
                log.warning(
                    "token_check_failed", account=account.name, error=str(exc), error_type=type(exc).__name__
                )
        self._kick_delivery()

    def _deliver(self) -> None:
        from guard.alerts.outbox import deliver_pending

        report = deliver_pending(self._require_db(), self.config.alerts, now=utcnow(), senders=self._senders)
        if report.sent or report.failed or report.retrying:
            log.info(
                "alerts_delivered",
                sent=len(report.sent),
                retrying=len(report.retrying),
                failed=len(report.failed),
            )

    def _digest(self) -> None:
        from guard.alerts.digest import enqueue_digest

        ids = enqueue_digest(self._require_db(), self.config.alerts, now=utcnow())
        log.info("digest_queued", outbox_ids=ids)
        self._kick_delivery()

    def _start_slack_app(self) -> None:
        """Connect Socket Mode (Slack buttons) when app mode is configured. A refusal at start (the
        network not up yet, a Slack incident) is retried every few minutes by a job that ends
        once connected: otherwise the buttons stayed dead, silently, until the next restart."""
        from guard.runtime.slack_app import app_settings, start_slack_app

        self._slack_app = start_slack_app(self.config)
        if self._slack_app is None and app_settings(self.config) is not None:
            self._scheduler.add_job(
                self._job,
                IntervalTrigger(seconds=self._every["slack-app"], timezone=timezone.utc),
                args=("slack-app", self._retry_slack_app),
                id="slack-app",
            )

    def _retry_slack_app(self) -> None:
        from guard.runtime.slack_app import start_slack_app

        app = start_slack_app(self.config)
        if app is not None:
            self._slack_app = app
            self._scheduler.remove_job("slack-app")

    def _heartbeat(self) -> None:
        self._write_meta({HEARTBEAT_KEY: iso(utcnow()), **self._schedule_record()})

    def _schedule_record(self) -> dict[str, str]:
        """``meta[daemon_schedule]``: the beat and each account's next poll on the monotonic
        clock, which ``status`` compares with its own (see ``guard.runtime.liveness``)."""
        now_wall, now_mono = utcnow(), liveness.monotonic()
        due = {}
        for account in self.config.accounts:
            job = self._scheduler.get_job(f"poll:{account.name}")
            if job is not None and job.next_run_time is not None:
                due[account.name] = now_mono + (job.next_run_time - now_wall).total_seconds()
        return {liveness.SCHEDULE_KEY: liveness.record(now_mono, due)}

    def _kick_delivery(self) -> None:
        """Bring the delivery job forward when a job queued alerts due before its next tick,
        so a new finding is sent within seconds, not up to 30 s later."""
        job = self._scheduler.get_job("deliver") if self._alerts_configured() else None
        if job is None:
            return
        next_at = next_pending_at(self._require_db())
        if next_at is None:
            return
        due = max(parse_iso(next_at), utcnow())
        if job.next_run_time is None or due < job.next_run_time:
            self._scheduler.modify_job("deliver", next_run_time=due)

    # -- archive -----------------------------------------------------------------------------

    def _require_db(self) -> Archive:
        if self._db is None:
            raise RuntimeError("the daemon's archive is not open; call run()")
        return self._db

    def _write_meta(self, values: Mapping[str, str]) -> None:
        db = self._require_db()
        with db.atomic():
            for key, value in values.items():
                meta_set(db, key, value)


def _log_wait(pid: int | None, role: str | None) -> None:
    log.info("waiting_for_writer_lock", holder_pid=pid, holder=role, note="a one-shot command is writing")


def hard_exit(code: int) -> None:
    """Exit now, without joining the worker thread (it may be blocked in a network call).

    Safe for the archive: SQLite rolls back an uncommitted transaction on the next open.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
