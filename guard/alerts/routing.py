"""Which channels an alert goes to, from ``[alerts]`` routes (DESIGN §2, issue 4 item 4).

Channel names are what the outbox stores and orders by: ``slack``, ``email``, and
``slack-escalation`` (the second webhook). Escalations use the second webhook, and email
escalations go to ``escalation_to``, when configured; otherwise they use the normal ones.
"""

from __future__ import annotations

from typing import Any, Mapping

from guard.config import AlertSettings, EmailSettings, Route

__all__ = ["CHANNELS", "SEVERITY_RANK", "configured_channels", "routed_channels",
           "email_recipients"]

CHANNELS = ("slack", "slack-escalation", "email")
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def configured_channels(settings: AlertSettings) -> list[str]:
    """The base channels that have settings, in a stable order."""
    return [name for name, s in (("slack", settings.slack), ("email", settings.email)) if s]


def _matches(route: Route, finding: Mapping[str, Any]) -> bool:
    kind = str(finding.get("kind") or "")
    severity = SEVERITY_RANK.get(str(finding.get("severity") or ""), 0)
    kind_ok = "*" in route.kinds or kind in route.kinds
    return kind_ok and severity >= SEVERITY_RANK.get(route.min_severity, 0)


def routed_channels(finding: Mapping[str, Any], stage: str, settings: AlertSettings) -> list[str]:
    """The outbox channels for ``finding`` at ``stage``; empty when no route matches.

    With no routes configured every finding goes to every configured channel: an operator who
    configured a channel and nothing else expects alerts on it.
    """
    configured = configured_channels(settings)
    if settings.routes and stage not in ("digest", "test"):
        wanted = {ch for route in settings.routes if _matches(route, finding)
                  for ch in route.channels}
        base = [ch for ch in configured if ch in wanted]
    else:
        base = configured
    if stage == "escalation" and settings.slack and settings.slack.escalation_webhook_url_env:
        base = ["slack-escalation" if ch == "slack" else ch for ch in base]
    return base


def email_recipients(email: EmailSettings, stage: str) -> tuple[str, ...]:
    """``escalation_to`` for escalations when set, else ``to``."""
    if stage == "escalation" and email.escalation_to:
        return email.escalation_to
    return email.to
