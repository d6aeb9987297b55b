"""Small text helpers shared by the renderers: Slack escaping, length limits, time display.

Slack rejects a whole message (``invalid_payload``, a *permanent* error) when one block is too
long, so every piece of user-controlled text is cut to the documented limit *after* escaping:
cutting first could leave half an entity such as ``&am`` behind.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

from guard.clock import local_time, zone

__all__ = [
    "HEADER_LIMIT",
    "SECTION_LIMIT",
    "BUTTON_TEXT_LIMIT",
    "URL_LIMIT",
    "FALLBACK_LIMIT",
    "escape_mrkdwn",
    "fit",
    "fit_mrkdwn",
    "quote_mrkdwn",
    "show_time",
    "slack_time",
    "safe_url",
    "load_json",
]

# Block Kit limits (https://api.slack.com/reference/block-kit).
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
URL_LIMIT = 3000
FALLBACK_LIMIT = 4000  # the API allows 40k; notifications show a few lines anyway
ELLIPSIS = "…"


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """Cut plain text to ``limit`` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def fit_mrkdwn(raw: str, limit: int) -> str:
    """Escape ``raw`` and cut it so the *escaped* text fits ``limit``, never mid-entity.

    Keeps the longest prefix whose escaped form fits (a binary search: escaping grows text
    unevenly, up to 5x for ``&``), so a comment full of ``<`` keeps as many words as fit.
    """
    out = escape_mrkdwn(raw)
    if len(out) <= limit:
        return out
    lo, hi = 0, len(raw)  # the longest prefix length that fits is in [lo, hi)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(escape_mrkdwn(raw[:mid].rstrip())) + len(ELLIPSIS) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return escape_mrkdwn(raw[:lo].rstrip()) + ELLIPSIS


def quote_mrkdwn(raw: str, limit: int) -> str:
    """Render ``raw`` as a Slack block quote (every line prefixed with ``>``) within ``limit``."""
    lines = (raw.strip() or "(empty)").splitlines() or ["(empty)"]
    body = fit_mrkdwn("\n".join(lines), max(limit - 2 * len(lines), 10))
    return "\n".join(">" + line for line in body.split("\n"))


def show_time(value: Any, tz: str | None = None) -> str:
    """ISO-8601 → "2026-11-25 14:05 CST" in ``tz`` (``[guard] timezone``; default UTC);
    anything unparseable is shown as given."""
    if not value:
        return "unknown time"
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return local_time(dt, zone(tz))


def slack_time(value: Any, tz: str | None = None) -> str | None:
    """A Slack ``<!date^…>`` token: each reader sees the time in their own Slack time zone; the
    fallback (old clients, notifications) is ``show_time`` in ``tz``. None if unparseable."""
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    fallback = show_time(value, tz).replace("|", "¦").replace(">", "›")
    return f"<!date^{int(dt.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def safe_url(value: Any) -> str | None:
    """Return ``value`` if it is a plausible http(s) link Slack will accept, else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url.lower().startswith(("https://", "http://")) or len(url) > URL_LIMIT:
        return None
    if any(c in url for c in "<>| \n\t"):
        return None
    return url


def load_json(value: Any) -> dict[str, Any]:
    """Parse a JSON object column defensively: a bad or missing value becomes ``{}``."""
    if isinstance(value, Mapping):
        return dict(value)
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
