"""A site that moved answers the old address with a 301 (``tests/fixtures/wordpress/
redirect_301_moved_host.json``). Followed, the redirect turns a moderation POST into a GET of
the comment (which succeeds: the action looks done and was not) and drops the application
password on the new host (every read then looks like a rejected password). It must be one
loud line naming the new address instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses

from connectors.wordpress import WordPressConnector
from guard.errors import AuthExpired, ConnectorError
from tests.conftest import NOW
from tests.support.graph import fixture

SITE = "https://blog.example.org"
API = SITE + "/wp-json/wp/v2/"
MOVED = "https://www.blog.example.org/wp-json/wp/v2/"


def moved(rsps: responses.RequestsMock, method: str, route: str) -> None:
    """The old host answers ``route`` with the recorded 301 to the same route on the new one."""
    answer = fixture("wordpress/redirect_301_moved_host.json")
    headers = dict(answer["headers"], Location=MOVED + route)
    content_type = headers.pop("Content-Type")
    rsps.add(method, API + route, body=answer["body"], status=301, headers=headers, content_type=content_type)


@pytest.fixture
def lenient() -> responses.RequestsMock:
    """The new host's answers are registered so that following the redirect "works", as it
    would on the real site; a connector that does not follow leaves them unused."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make() -> WordPressConnector:
    return WordPressConnector(SITE, "editor", "abcd EFGH 1234 ijkl MNOP 6789")


def test_hide_answered_by_a_redirect_fails_loudly_instead_of_reading_the_comment(lenient):
    """hold by POST: the 301 would replay it as a GET of the comment, a 200 that hid nothing."""
    moved(lenient, "POST", "comments/2")
    lenient.get(MOVED + "comments/2", json={"id": 2, "post": 4, "status": "approved"})
    with pytest.raises(ConnectorError, match="www.blog.example.org") as caught:
        make().hide("blog.example.org/comments/2")
    assert "site_url" in str(caught.value) and "\n" not in str(caught.value)
    assert [c.request.method for c in lenient.calls] == ["POST"]


def test_a_redirected_fetch_names_the_new_address_not_a_rejected_password(lenient):
    """The new host sees no password (requests drops it across hosts) and answers 401: that
    is not the password's fault, and the fix is site_url."""
    moved(lenient, "GET", "users/me")
    lenient.get(MOVED + "users/me", json=fixture("wordpress/error_401_rest_not_logged_in.json"), status=401)
    snap = make().fetch(NOW - timedelta(days=14))
    assert snap.posts == () and not snap.posts_complete
    assert not isinstance(snap.error, AuthExpired)
    assert "www.blog.example.org" in str(snap.error) and "site_url" in str(snap.error)
    assert len(lenient.calls) == 1
