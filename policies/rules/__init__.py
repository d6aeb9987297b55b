"""The rules: one module per finding kind, and the registry that lists them.

Each rule module owns everything about its kind: ``KIND``, ``HEADLINE`` (what an alert says),
``COMMENT_LABEL`` (how an alert labels the quoted comment, or None), ``evaluate(analysis,
now)`` (pure: the findings this thread warrants) and ``resolve(analysis, finding)`` (pure: a
note when an open finding of its kind has resolved itself, else None). The engine and the
alert renderer look rules up here; nothing else switches on a kind. Adding a rule is one
module plus one line in ``RULES``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from policies.records import FindingDraft, OpenFinding
from policies.rules import (
    account_failing,
    hidden_critical,
    override,
    post_removed,
    removed_critical,
    silent_correction,
    token_expiring,
    unanswered,
)

if TYPE_CHECKING:  # annotations only: the classifier loads where analyses are made
    from policies.analysis import Analysis

__all__ = [
    "Rule",
    "RULES",
    "run_rules",
    "rule_for",
    "finding_kinds",
    "headline",
    "comment_label",
    "resolution",
]


class Rule(Protocol):
    """What a rule module provides; mypy checks each module in ``RULES`` against it."""

    KIND: str
    HEADLINE: str
    COMMENT_LABEL: str | None

    def evaluate(self, a: Analysis, now: datetime) -> list[FindingDraft]: ...

    def resolve(self, a: Analysis, finding: OpenFinding) -> str | None: ...


RULES: tuple[Rule, ...] = (
    removed_critical,
    hidden_critical,
    unanswered,
    silent_correction,
    post_removed,
    override,
    account_failing,
    token_expiring,
)
_BY_KIND = {rule.KIND: rule for rule in RULES}


def finding_kinds() -> tuple[str, ...]:
    return tuple(_BY_KIND)


def rule_for(kind: str) -> Rule | None:
    return _BY_KIND.get(kind)


def run_rules(a: Analysis, now: datetime) -> list[FindingDraft]:
    drafts: list[FindingDraft] = []
    for rule in RULES:
        drafts.extend(rule.evaluate(a, now))
    return drafts


def resolution(a: Analysis, finding: OpenFinding) -> str | None:
    rule = _BY_KIND.get(finding.kind)
    return rule.resolve(a, finding) if rule is not None else None


def headline(kind: str) -> str:
    rule = _BY_KIND.get(kind)
    return rule.HEADLINE if rule is not None else f"New finding: {kind}"


def comment_label(kind: str) -> str | None:
    rule = _BY_KIND.get(kind)
    return rule.COMMENT_LABEL if rule is not None else None
