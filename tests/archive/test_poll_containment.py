"""A poll that reads something broken records why and changes no status: comments without ids,
a proxy's 502, a post listed twice, and a connector that raises what it should not."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.facebook import FacebookConnector
from guard.runtime.pipeline import poll_account
from tests.conftest import NOW
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture

POST = f"{PAGE_ID}_1"
BODIES = json.loads((Path(__file__).parent.parent / "fixtures" / "unexpected_bodies.json").read_text())


@pytest.fixture
def page(rsps) -> FakePage:
    comments = [FakeComment("1_1", "wait, the meeting is TONIGHT?!?"), FakeComment("1_2", "See you there!")]
    return FakePage(rsps, [FakePost(POST, "The meeting is Thursday.", comments=comments)])


@pytest.fixture
def fb() -> FacebookConnector:
    return FacebookConnector(PAGE_ID, "EAAB-test-token")


def statuses(db) -> dict[str, str]:
    return {r["id"]: r["status"] for r in db.query("SELECT id, status FROM comments")}


def last_poll(db) -> dict:
    return next(db.query("SELECT * FROM polls ORDER BY id DESC LIMIT 1"))


def test_comments_without_ids_leave_statuses_and_record_an_incomplete_poll(db, account, page, fb):
    """The token loses moderation: the next poll is incomplete with the fix, nothing is deleted."""
    poll_account(db, account, fb, now=NOW)
    recorded = fixture("facebook/comments_without_ids.json")
    recorded.pop("_source")
    page.post(POST).recorded_comments = recorded
    result = poll_account(db, account, fb, now=NOW + timedelta(minutes=5))
    assert statuses(db) == {"1_1": "present", "1_2": "present"}
    row = last_poll(db)
    assert not row["complete"] and "must be able to moderate the page" in row["error"]
    assert not result.complete and result.items == 1


def test_a_proxy_502_records_a_failed_poll_and_changes_no_status(db, account, page, fb):
    """An empty 502 without Content-Type: the poll row says why, every comment stays present."""
    poll_account(db, account, fb, now=NOW)
    entry = BODIES["proxy_502_empty"]
    page.fail("/posts", entry["status"], entry["body"], entry["headers"], raw=True)
    result = poll_account(db, account, fb, now=NOW + timedelta(minutes=5))
    assert result.failed and statuses(db) == {"1_1": "present", "1_2": "present"}
    row = last_poll(db)
    assert not row["complete"] and "HTTP 502 with an empty body and no Content-Type" in row["error"]


def test_a_post_listed_on_two_pages_is_archived_once(db, account, rsps, fb):
    """A cursor shift that repeats a post no longer fails the poll with UNIQUE constraint."""
    posts = [
        FakePost(f"{PAGE_ID}_{i}", f"post {i}", comments=[FakeComment(f"{i}_1", "when?")]) for i in (1, 2, 3)
    ]
    page = FakePage(rsps, posts)
    read = page._read

    def shifting(path, q):
        answer = read(path, q)
        if path.endswith("/posts") and not q.get("after"):
            page.posts.insert(0, FakePost(f"{PAGE_ID}_9", "new"))
        return answer

    page._read = shifting
    connector = FacebookConnector(PAGE_ID, "EAAB-test-token", post_page_size=2)
    result = poll_account(db, account, connector, now=NOW)
    assert result.complete and result.error is None
    assert sorted(statuses(db)) == ["1_1", "2_1", "3_1"]


class Broken:
    """A connector that breaks its promise and raises something that is not a ConnectorError."""

    platform = "facebook"
    absences_before_confirm = 1
    api_calls = 3
    read_budget = None

    def __init__(self, inner: FacebookConnector, *, in_fetch: bool) -> None:
        self.inner, self.in_fetch = inner, in_fetch

    def fetch(self, since):
        if self.in_fetch:
            raise KeyError("id")
        return self.inner.fetch(since)

    def confirm_gone(self, targets):
        raise AttributeError("'list' object has no attribute 'get'")


def test_an_exception_escaping_fetch_is_recorded_as_a_failed_poll(db, account, page, fb):
    """KeyError out of fetch: a poll row with a one-line reason, statuses unchanged."""
    poll_account(db, account, fb, now=NOW)
    result = poll_account(db, account, Broken(fb, in_fetch=True), now=NOW + timedelta(minutes=5))
    assert result.failed and statuses(db) == {"1_1": "present", "1_2": "present"}
    error = last_poll(db)["error"]
    assert error.startswith("reading facebook failed in fetch (KeyError: 'id')") and "\n" not in error
    assert "unexpected" not in error and "report" not in error


def test_an_exception_escaping_confirm_gone_leaves_the_suspect_unknown(db, account, page, fb):
    """A comment gone from a complete scan whose confirmation crashes is unknown, never deleted."""
    poll_account(db, account, fb, now=NOW)
    page.remove_comment("1_1")
    result = poll_account(db, account, Broken(fb, in_fetch=False), now=NOW + timedelta(minutes=5))
    assert statuses(db)["1_1"] != "deleted" and not result.complete
    assert "failed in confirm_gone (AttributeError" in last_poll(db)["error"]
