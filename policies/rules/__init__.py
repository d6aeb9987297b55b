"""Rules: pure functions ``(Analysis, now) -> list[FindingDraft]``, one module each."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from policies.analysis import Analysis
from policies.records import FindingDraft
from policies.rules import (hidden_critical, post_removed, removed_critical, silent_correction,
                            unanswered)

__all__ = ["RULES", "Rule", "run_rules"]

Rule = Callable[[Analysis, datetime], list[FindingDraft]]
RULES: tuple[Rule, ...] = (removed_critical.evaluate, hidden_critical.evaluate,
                           unanswered.evaluate, silent_correction.evaluate, post_removed.evaluate)


def run_rules(a: Analysis, now: datetime) -> list[FindingDraft]:
    return [draft for rule in RULES for draft in rule(a, now)]
