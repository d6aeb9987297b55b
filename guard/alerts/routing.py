"""Which channels an alert goes to, from ``[alerts]`` routes.

Channel names are what the outbox stores and orders by: the registered channels (``slack``,
``email``) and the per-stage names a channel chooses (``slack-escalation``, the second
webhook: escalations use it when configured; email escalations go to ``escalation_to``).
"""

from __future__ import annotations

from typing import Any, Mapping

from guard.alerts.channels import configured_channels, outbox_channel
from guard.alerts.stages import Stage
from guard.config import AlertSettings, Route
from guard.states import Severity

__all__ = ["SEVERITY_RANK", "configured_channels", "routed_channels"]

SEVERITY_RANK: dict[str, int] = {severity: severity.rank for severity in Severity}


def _matches(route: Route, finding: Mapping[str, Any]) -> bool:
    kind = str(finding.get("kind") or "")
    severity = SEVERITY_RANK.get(str(finding.get("severity") or ""), 0)
    kind_ok = "*" in route.kinds or kind in route.kinds
    account_ok = "*" in route.accounts or str(finding.get("account") or "") in route.accounts
    return kind_ok and account_ok and severity >= SEVERITY_RANK.get(route.min_severity, 0)


def routed_channels(finding: Mapping[str, Any], stage: str, settings: AlertSettings) -> list[str]:
    """The outbox channels for ``finding`` at ``stage``; empty when no route matches.

    With no routes configured every finding goes to every configured channel: an operator who
    configured a channel and nothing else expects alerts on it.
    """
    configured = configured_channels(settings)
    if settings.routes and stage not in (Stage.DIGEST, Stage.TEST):
        wanted = {ch for route in settings.routes if _matches(route, finding) for ch in route.channels}
        base = [ch for ch in configured if ch in wanted]
    else:
        base = configured
    return [outbox_channel(ch, stage, settings) for ch in base]
