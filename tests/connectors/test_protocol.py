"""Every connector satisfies ``connectors.base.Connector`` (mypy checks the annotated
assignments here and in ``connectors/registry.py``) and is built through the registry."""

from __future__ import annotations

import pytest

from connectors.base import Connector, ConnectorSettings, ReadBudget
from connectors.facebook import FacebookConnector
from connectors.instagram import InstagramConnector
from connectors.registry import PLATFORMS, connect
from connectors.x import XConnector


def settings(platform: str, budget: int | None = None) -> ConnectorSettings:
    return ConnectorSettings(
        platform=platform,
        account_id="42",
        token="not-a-real-token",
        monthly_read_budget=budget,
        site_url="https://blog.example.org",  # WordPress only
        username="editor",  # WordPress only
    )


def test_each_connector_is_a_connector() -> None:
    built: list[Connector] = [
        FacebookConnector("42", "t"),
        InstagramConnector("42", "t"),
        XConnector("42", "t"),
    ]
    assert [c.platform for c in built] == ["facebook", "instagram", "x"]
    for connector in built:
        assert connector.api_calls == 0
        connector.close()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_registry_builds_the_named_platform(platform: str) -> None:
    connector = connect(settings(platform))
    assert connector.platform == platform
    assert connector.read_budget is None  # no budget configured
    connector.close()


def test_only_x_meters_reads_when_a_budget_is_configured() -> None:
    graph = [connect(settings(p, budget=500)) for p in ("facebook", "instagram")]
    assert all(c.read_budget is None for c in graph)
    budget = connect(settings("x", budget=500)).read_budget
    assert isinstance(budget, ReadBudget) and budget.limit == 500 and budget.spent == 0
