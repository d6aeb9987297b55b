"""`comment-guard status`: is everything polling, is anything waiting for a human?"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from guard.alerts._text import load_json
from guard.archive import findings as findings_store
from guard.archive import queries
from guard.archive.connection import Archive
from guard.archive.meta import HEARTBEAT_KEY, budget_key, meta_get
from guard.archive.outbox import count_by_status
from guard.clock import local_time, parse_iso, utcnow
from guard.config import Config
from guard.durations import format_duration
from guard.runtime import liveness
from guard.runtime.lock import running_daemon_pid
from guard.states import FindingState

__all__ = ["status_report"]

STALE_AFTER = timedelta(seconds=120)  # the daemon beats every 30 s; allow a few missed beats
LATE_AFTER = timedelta(seconds=150)  # a due poll not started by then is late (jitter is <= 30 s)
STUCK_AFTER = timedelta(hours=1)  # an alert channel retrying this long with nothing delivered is down
CLOCK_SLACK = 5.0  # seconds a wall-clock heartbeat may be "in the future" (clock skew)


def _liveness(config: Config, db: Archive, wall_age: float) -> tuple[float, list[str], list[str]]:
    """The heartbeat's age, the accounts whose poll is overdue and the configured accounts the
    daemon does not poll at all (it started before they were added: they wait for a restart),
    on the monotonic clock when the daemon's record is from this boot
    (``guard.runtime.liveness``), else on the wall clock."""
    schedule = liveness.parse(meta_get(db, liveness.SCHEDULE_KEY))
    if schedule is None or not schedule.comparable():
        return wall_age, [], []
    now = liveness.monotonic()
    late = [
        acc.name
        for acc in config.accounts
        if acc.name in schedule.polls and now - schedule.polls[acc.name] > LATE_AFTER.total_seconds()
    ]
    unscheduled = [acc.name for acc in config.accounts if acc.name not in schedule.polls]
    return now - schedule.beat, late, unscheduled


def status_report(config: Config, db: Archive) -> dict[str, Any]:
    now = utcnow()
    zone = ZoneInfo(config.guard.timezone)  # lines in local time; the JSON keeps UTC
    archived = {a["account"]: a for a in queries.account_status(db)}
    accounts = []
    lines = []
    budget_spent = []
    for acc in config.accounts:
        a = archived.get(acc.name, {"account": acc.name, "last_poll": None})
        a["next_poll"] = meta_get(db, f"next_poll:{acc.name}")
        accounts.append(a)
        if a["last_poll"] is None:
            lines.append(f"{acc.name} ({acc.platform}): never polled")
            continue
        outcome = a["last_poll_outcome"] + (f": {a['last_error']}" if a["last_error"] else "")
        age = format_duration(now - parse_iso(a["last_poll"]))
        nxt = f", next {local_time(a['next_poll'], zone, seconds=True)}" if a["next_poll"] else ""
        lines.append(
            f"{acc.name} ({acc.platform}): last poll {local_time(a['last_poll'], zone, seconds=True)} "
            f"({age} ago) "
            f"{outcome}{nxt}; {a['posts']} posts, {a['comments']} comments "
            f"({a['comments_deleted']} deleted, {a['comments_hidden']} hidden)"
        )
        if acc.monthly_read_budget:
            spent = int(meta_get(db, budget_key(acc.name, now)) or 0)
            a["reads_this_month"] = spent
            lines.append(
                f"{acc.name}: {spent:,} of {acc.monthly_read_budget:,} monthly reads used "
                f"({spent / acc.monthly_read_budget:.0%})"
            )
            if spent >= acc.monthly_read_budget:  # every poll is refused until the 1st (UTC)
                budget_spent.append(acc.name)
                lines.append(
                    f"{acc.name}: READ BUDGET SPENT: nothing is archived until the 1st (UTC) "
                    "unless monthly_read_budget is raised and the daemon restarted"
                )
    findings = findings_store.count_by_state(db)
    outbox = count_by_status(db)
    lines.append(f"findings: {findings.get('open', 0)} open, {findings.get('acknowledged', 0)} acknowledged")
    lines.append(f"alerts: {outbox.get('pending', 0)} pending, {outbox.get('failed', 0)} failed")
    failing = []
    # With no unresolved finding at all there is no account-failing one either: the rules (what
    # names that kind) are not loaded then (start-up).
    if any(n for state, n in findings.items() if state != FindingState.RESOLVED):
        from guard.archive.account_health import open_account_finding

        for acc in config.accounts:
            f = open_account_finding(db, acc.name)
            if f is not None:
                failing.append(acc.name)
                ev = load_json(f["evidence"])
                lines.append(
                    f"{acc.name}: FAILING since {ev.get('gap_from') or f['opened_at']} "
                    f"(finding #{f['id']}): {ev.get('error') or 'polls fail'}"
                )
    failing_channels = _alert_channels(config, db, zone, now, lines)
    beat = meta_get(db, HEARTBEAT_KEY)
    pid = running_daemon_pid(config.guard.database)
    running = "not running" if pid is None else f"running (pid {pid})" if pid else "running"
    unhealthy = bool(failing) or bool(failing_channels) or bool(budget_spent)
    heartbeat_age = None
    late: list[str] = []
    unscheduled: list[str] = []
    if beat is None:
        lines.append(f"daemon: {running}, no heartbeat yet")
    else:
        heartbeat_age, late, unscheduled = _liveness(config, db, (now - parse_iso(beat)).total_seconds())
        stale = not -CLOCK_SLACK <= heartbeat_age <= STALE_AFTER.total_seconds()
        # A stale record is another matter (a daemon that stopped), said once above
        unscheduled = [] if stale else unscheduled
        unhealthy = unhealthy or stale or bool(late) or bool(unscheduled)
        shown = format_duration(timedelta(seconds=abs(heartbeat_age)))
        lines.append(
            f"daemon: {running}, heartbeat "
            + (
                f"{shown} ago"
                if heartbeat_age >= 0
                else f"{shown} in the future (the clock was stepped back)"
            )
            + (f" (STALE: more than {format_duration(STALE_AFTER)})" if heartbeat_age > 0 and stale else "")
        )
        for name in late:
            lines.append(f"{name}: LATE: its poll is overdue by more than {format_duration(LATE_AFTER)}")
        for name in unscheduled:
            lines.append(
                f"{name}: NOT POLLED: the running daemon started before this account was in the "
                "config; restart it"
            )
    return {
        "accounts": accounts,
        "findings": findings,
        "outbox": outbox,
        "heartbeat": beat,
        "heartbeat_age_seconds": heartbeat_age,
        "daemon_pid": pid,
        "failing_accounts": failing,
        "failing_channels": failing_channels,
        "late_accounts": late,
        "unscheduled_accounts": unscheduled,
        "budget_spent_accounts": budget_spent,
        "unhealthy": unhealthy,
        "lines": lines,
    }


def _alert_channels(
    config: Config, db: Archive, zone: ZoneInfo, now: datetime, lines: list[str]
) -> list[str]:
    """Configured alert channels that reach nobody: failing (the last permanent error is newer
    than the last success: a revoked webhook, a refused recipient) or retrying with nothing
    delivered for ``STUCK_AFTER`` (an unreachable server, an unset variable). A health check
    must not call those healthy. A shorter retry is shown, not failed; a channel since removed
    from the config is left out."""
    from guard.alerts.channels import channel_spec
    from guard.alerts.health import channel_health

    def shown(value: Any) -> str:
        return local_time(value, zone, seconds=True)

    out = []
    for name, health in channel_health(db).items():
        spec = channel_spec(name)
        if spec is None or config.alerts.channels.get(spec.name) is None:
            continue
        if health["status"] == "failing":
            out.append(name)
            lines.append(
                f"alerts on {name}: FAILING since {shown(health['last_failure_at'])}: {health['last_error']}"
                + (
                    f" ({health['failed']} failed; once fixed, `comment-guard deliver --retry-failed` "
                    "sends them (it refuses while the daemon runs))"
                    if health["failed"]
                    else ""
                )
            )
        elif health["status"] == "retrying":
            since = health["retrying_since"]
            stuck = since is not None and now - parse_iso(since) > STUCK_AFTER
            if stuck:
                out.append(name)
            lines.append(
                f"alerts on {name}: {'NOT DELIVERED' if stuck else 'retrying'} since "
                f"{shown(since)}: {health['retry_error']}; "
                f"{health['retrying']} waiting, next attempt {shown(health['next_attempt_at'])}"
            )
    return out
