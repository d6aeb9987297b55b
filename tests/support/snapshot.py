"""A connector double that hands the poller prepared snapshots (the shape a real connector's
``fetch`` returns) and confirms every comment it no longer lists as deleted: for tests of the
poller and the engine that need many comments without an HTTP fake in between."""

from __future__ import annotations

from datetime import datetime

from connectors.base import GoneTarget, Snapshot

__all__ = ["SnapshotConnector"]


class SnapshotConnector:
    """Returns ``snapshot`` from every fetch; every suspect is confirmed deleted."""

    platform = "facebook"
    absences_before_confirm = 1

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.api_calls = 0

    def fetch(self, since: datetime) -> Snapshot:
        return self.snapshot

    def confirm_gone(self, targets: list[GoneTarget]) -> dict[str, str]:
        return {t.id: "deleted" for t in targets}
