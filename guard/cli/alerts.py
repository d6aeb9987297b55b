"""CLI for the alert outbox: list it, send a test through the real path, deliver, requeue."""

from __future__ import annotations

import sys

import click

from guard.alerts.channels import channel_names
from guard.alerts.health import channel_health, list_outbox
from guard.cli.context import Context, pass_ctx
from guard.cli.output import echo, emit_json, emit_table, limited, listing_options, row_limit, writer_lock
from guard.clock import utcnow

__all__ = ["COMMANDS"]


@click.command()
@click.option("--pending", is_flag=True, help="Only alerts not yet delivered.")
@click.option("--json", "as_json", is_flag=True)
@listing_options
@pass_ctx
def alerts(ctx: Context, pending: bool, as_json: bool, limit: int | None, show_all: bool) -> None:
    """List the alert outbox (newest last) and the health of each channel."""
    rows = list_outbox(ctx.read_db, pending_only=pending)
    n = row_limit(limit, show_all)
    if n is not None and len(rows) > n:  # the newest n
        rows = limited(rows[::-1], n)[::-1]
    health = channel_health(ctx.read_db)
    if as_json:
        emit_json({"outbox": rows, "channels": health})
        return
    emit_table(
        rows,
        ["id", "finding_id", "stage", "channel", "status", "attempts", "next_attempt_at", "last_error"],
        empty="no pending alerts" if pending else "no alerts yet",
        tz=ctx.tz,
    )
    for name, h in sorted(health.items()):
        line = f"channel {name}: {h.get('status', '?')}"
        if h.get("last_error"):
            line += f" (last error: {h['last_error']})"
        echo(line)


@click.command("test-alert")
@click.option(
    "--channel", type=click.Choice(list(channel_names())), help="Default: every configured channel."
)
@pass_ctx
def test_alert(ctx: Context, channel: str | None) -> None:
    """Send a sample alert through the real outbox and channel."""
    from guard.alerts.outbox import send_test_alert  # rendering: only where alerts are sent

    report = send_test_alert(ctx.db, ctx.config.alerts, now=utcnow(), channel=channel)
    for row_id in report.sent:
        echo(f"test alert {row_id} delivered")
    for row_id, error in report.errors.items():
        echo(f"error: test alert {row_id} not delivered: {error}", err=True)
    if report.failed or report.retrying:
        sys.exit(1)


@click.command()
@click.option(
    "--retry-failed",
    "requeue",
    is_flag=True,
    help="First requeue alerts that failed permanently (after fixing the channel).",
)
@pass_ctx
def deliver(ctx: Context, requeue: bool) -> None:
    """Deliver due alerts now (the daemon does this every 30 s).

    Takes the archive's writer lock: waits behind a `poll --once`, refuses while the daemon
    runs (it delivers on its own)."""
    from guard.alerts.outbox import deliver_pending, release_stale_claims, retry_failed

    with writer_lock(ctx.config.guard.database, "deliver"):
        now = utcnow()
        if requeue:
            echo(f"requeued {retry_failed(ctx.db, now=now)} failed alert(s)")
        release_stale_claims(ctx.db)
        report = deliver_pending(ctx.db, ctx.config.alerts, now=now)
    echo(f"sent {len(report.sent)}, retrying {len(report.retrying)}, failed {len(report.failed)}")
    if report.unrecorded:
        echo(
            f"error: {len(report.unrecorded)} alert(s) were delivered but the archive could not "
            "record it (disk full?); free space and run `deliver` again",
            err=True,
        )
        sys.exit(1)


COMMANDS = [alerts, test_alert, deliver]
