"""Shared fixtures: an in-memory archive, a Facebook account, and environment hygiene."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import responses
import sqlite_utils
import structlog

from guard.archive.schema import migrate
from guard.config import Account
from tests.support.graph import PAGE_ID

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _reset_logging_and_env(monkeypatch):
    """Every test starts with default structlog config and no real secrets in the environment."""
    for name in ("FB_PAGE_TOKEN", "SLACK_WEBHOOK_URL", "SMTP_USER", "SMTP_PASSWORD", "COMMENT_GUARD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    yield
    structlog.reset_defaults()


@pytest.fixture
def db() -> sqlite_utils.Database:
    database = sqlite_utils.Database(memory=True)
    migrate(database)
    return database


@pytest.fixture
def account() -> Account:
    return Account(
        name="main-page", platform="facebook", page_id=PAGE_ID, token_env="FB_PAGE_TOKEN", watch_days=14
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Mocked ``requests`` transport; strict: a test fails if a response it registered (a fake
    included) was never requested, so stale registrations cannot pile up."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
