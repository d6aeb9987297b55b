"""The daily digest: what is still open, and how fast staff answered in the last day.

One digest per day per channel (dedupe key ``digest:<date>:<channel>``), and none on a quiet
day: a digest that says "nothing happened" every morning teaches people to ignore alerts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from guard.alerts._text import SECTION_LIMIT, fit, fit_mrkdwn, load_json, show_time
from guard.alerts.channels import configured_channels
from guard.alerts.outbox import enqueue_message
from guard.alerts.render import AlertMessage
from guard.alerts.stages import Stage
from guard.archive import outbox as store
from guard.archive.verify import chain_head
from guard.config import AlertSettings
from guard.durations import format_duration

if TYPE_CHECKING:  # the archive handle, a type only: SQL runs in guard.archive
    from guard.archive.connection import Archive

__all__ = ["build_digest", "enqueue_digest"]


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _digest_facts(db: Archive, now: datetime, window: timedelta) -> dict[str, Any]:
    since = (now - window).isoformat()
    open_rows = store.open_findings(db)
    resolved = store.resolved_since(db, since)
    opened_today = store.opened_since(db, since)
    durations = [
        b - a
        for a, b in ((_parse(o), _parse(r)) for o, r in resolved)
        if a is not None and b is not None and b >= a
    ]
    return {
        "open": open_rows,
        "resolved": len(resolved),
        "opened": opened_today,
        "median": _median(durations) if durations else None,
        "slowest": max(durations) if durations else None,
    }


def _median(values: list[timedelta]) -> timedelta:
    """``statistics.median`` for durations (its type hints only admit numbers)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def build_digest(
    db: Archive, now: datetime, *, window: timedelta = timedelta(days=1), tz: str | None = None
) -> AlertMessage:
    """Summarise open findings and response times over the last ``window``."""
    f = _digest_facts(db, now, window)
    title = f"comment-guard daily digest: {len(f['open'])} open finding(s)"
    stats = [f"Opened in the last day: {f['opened']}", f"Resolved in the last day: {f['resolved']}"]
    if f["median"] is not None:
        stats.append(
            f"Time to resolve: median {format_duration(f['median'])}, slowest {format_duration(f['slowest'])}"
        )
    items = []
    for row in f["open"][:15]:
        opened = _parse(row["opened_at"])
        age = format_duration(now - opened) if opened and opened.tzinfo else "?"
        summary = str(load_json(row["evidence"]).get("summary") or row["kind"])
        items.append(
            f"#{row['id']} {row['severity']} {row['kind']} ({row['account']}), "
            f"open {age}, {row['state']}: {fit(summary, 140)}"
        )
    more = len(f["open"]) - len(items)
    if more > 0:
        items.append(f"…and {more} more: run `comment-guard findings`")
    # The chain head leaves the machine here: a copy the archive's owner cannot rewrite, so
    # `verify --head` later catches even a rewrite of the whole chain (README: What verify proves).
    count, head = chain_head(db)
    if head:
        stats.append(f"Archive head: {head} ({count} events); `comment-guard verify --head {head}`")
    text = "\n".join([title, ""] + stats + ([""] + items if items else []))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit(title, 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fit_mrkdwn("\n".join(stats), SECTION_LIMIT)}},
    ]
    if items:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": fit_mrkdwn("\n".join("• " + i for i in items), SECTION_LIMIT),
                },
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"as of {show_time(now.isoformat(), tz)}"}],
        }
    )
    html_items = "".join(f"<li>{_e(i)}</li>" for i in items)
    html_stats = "<br>".join(_e(s) for s in stats)
    email_html = (
        f'<!DOCTYPE html>\n<html><body style="font-family:sans-serif">'
        f"<h2>{_e(title)}</h2><p>{html_stats}</p>"
        f"{f'<ul>{html_items}</ul>' if items else ''}</body></html>\n"
    )
    return AlertMessage(
        subject=f"[comment-guard] {title}",
        text=fit(text, 4000),
        blocks=blocks,
        email_text=text + "\n",
        email_html=email_html,
    )


def _e(value: str) -> str:
    return escape(value, quote=True)


def enqueue_digest(db: Archive, settings: AlertSettings, *, now: datetime) -> list[int]:
    """Queue today's digest on every configured channel, once; nothing on a quiet day."""
    facts = _digest_facts(db, now, timedelta(days=1))
    if not facts["open"] and not facts["opened"] and not facts["resolved"]:
        return []
    with db.atomic():
        return enqueue_message(
            db,
            build_digest(db, now, tz=settings.timezone),
            stage=Stage.DIGEST,
            channels=configured_channels(settings),
            # Once per local day: keyed on the UTC date, 19:30 on the days either side of a
            # spring-forward (00:30 and 23:30 UTC) shared a date, and the second was dropped.
            key_prefix=f"digest:{now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()}",
            now=now,
        )
