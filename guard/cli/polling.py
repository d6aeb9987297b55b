"""Polling by hand and watching health: ``poll --once`` (cron-friendly) and ``status``."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from guard.cli.context import Context, pass_ctx
from guard.cli.output import echo, emit_json, progress, writer_lock

if TYPE_CHECKING:
    from connectors.base import Connector

__all__ = ["COMMANDS"]


@click.command()
@click.option("--once", is_flag=True, help="Poll once and exit (the daemon is `comment-guard run`).")
@click.option("--account", "account_name", metavar="NAME", help="Only this account.")
@click.option(
    "--no-deliver",
    is_flag=True,
    help="Leave the alerts this poll queued in the outbox (`deliver` sends them).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object with each account's poll.")
@pass_ctx
def poll(ctx: Context, once: bool, account_name: str | None, no_deliver: bool, as_json: bool) -> None:
    """Poll accounts once: archive new posts, comments, versions and confirmed deletions, then
    send the alerts that are due (cron users get them without `deliver`; `--no-deliver` skips).

    Takes the archive's writer lock: waits behind another `poll --once` or `deliver`, and
    refuses while the daemon runs (it polls on its own schedule)."""
    if not once:
        raise click.UsageError("poll needs --once; to poll on a schedule run `comment-guard run`")
    with writer_lock(ctx.config.guard.database, "poll"):
        _poll_once(ctx, account_name, deliver=not no_deliver, as_json=as_json)


def _poll_once(
    ctx: Context, account_name: str | None, *, deliver: bool = True, as_json: bool = False
) -> None:
    from connectors.registry import connect
    from guard.clock import utcnow
    from guard.runtime.pipeline import one_line_error, run_poll, sweep

    config = ctx.config
    accounts = [config.account(account_name)] if account_name else list(config.accounts)
    failed = False
    results: list[dict[str, Any]] = []
    say = (lambda line: None) if as_json else echo
    connectors = {a.name: connect(a.connector_settings()) for a in accounts}
    for account in accounts:
        try:
            with _api_call_ticker(account.name, connectors[account.name]):
                outcome = run_poll(config, ctx.db, account, connector=connectors[account.name])
        except Exception as exc:  # contained: one account's failure never stops the others
            failed = True
            echo(f"error: {account.name}: poll failed: {one_line_error(exc)}", err=True)
            results.append({"account": account.name, "state": "failed", "error": one_line_error(exc)})
            continue
        r = outcome.poll
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())) or "no changes"
        state = "complete" if r.complete else "FAILED" if r.failed else "INCOMPLETE"
        say(f"{account.name}: poll {r.poll_id} {state}, {r.api_calls} API calls, {r.items} items; {counts}")
        for line in outcome.summary_lines():
            say(f"{account.name}: {line}")
        results.append(
            {
                "account": account.name,
                "poll_id": r.poll_id,
                "state": state.lower(),
                "api_calls": r.api_calls,
                "items": r.items,
                "counts": dict(r.counts),
                "notes": list(outcome.summary_lines()),
                "error": r.error,
            }
        )
        if r.error is not None:
            failed = True
            echo(f"error: {account.name}: {r.error}", err=True)
    # Time-based rules (reply deadlines, escalation) for people who poll from cron.
    swept = sweep(config, ctx.db, connectors, now=utcnow())
    if swept.opened:
        say(
            f"{len(swept.opened)} finding(s) from reply deadlines: "
            + ", ".join(f"#{i}" for i in swept.opened)
        )
    if deliver:
        _deliver_due(ctx, say)
    if as_json:
        emit_json({"ok": not failed, "polls": results, "deadline_findings": list(swept.opened)})
    if failed:
        sys.exit(1)


def _deliver_due(ctx: Context, say: Any = echo) -> None:
    """Send what is due now, as the daemon's delivery job would, and say what happened."""
    from guard.alerts.channels import configured_channels
    from guard.alerts.outbox import deliver_pending
    from guard.clock import utcnow

    settings = ctx.config.alerts
    if not configured_channels(settings):
        return
    report = deliver_pending(ctx.db, settings, now=utcnow())
    if report.sent or report.retrying or report.failed:
        say(f"alerts: sent {len(report.sent)}, retrying {len(report.retrying)}, failed {len(report.failed)}")
    for outbox_id, error in sorted(report.errors.items()):
        echo(f"error: alert {outbox_id}: {error}", err=True)


@click.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Per account: last poll, its outcome, and what the archive holds."""
    from guard.runtime.status import status_report

    report = status_report(ctx.config, ctx.read_db)
    if as_json:
        emit_json(report)
    else:
        for line in report["lines"]:
            echo(line)
    if report.get("unhealthy"):
        sys.exit(1)


COMMANDS = [poll, status]


@contextmanager
def _api_call_ticker(name: str, connector: Connector, every: float = 0.5) -> Iterator[None]:
    """On a terminal, a running count of the API calls a long poll has made so far (a first
    poll of a big page takes minutes); nothing when stderr is piped or logged."""
    tick = progress(f"polling {name}", unit="API calls")
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            tick(connector.api_calls)

    thread = threading.Thread(target=run, name="poll-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        tick(connector.api_calls, done=True)
