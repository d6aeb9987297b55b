"""Answers that are partly errors, as the platforms send them: a page with a partial error is
still read, and a listing cut short is never called complete (so nothing absent from it can
count as deleted). Both held when written; they guard those promises."""

from __future__ import annotations

import json
from datetime import timedelta

from connectors.wordpress import WordPressConnector
from connectors.x import XConnector
from guard.errors import ConnectorError
from tests.conftest import NOW
from tests.support.graph import fixture
from tests.support.x import Clock, FakeX

SITE = "https://blog.example.org"
API = SITE + "/wp-json/wp/v2/"


def without_source(name: str) -> dict:
    body = fixture(name)
    body.pop("_source")
    return body


def test_an_x_search_page_with_a_partial_error_keeps_its_replies_and_stays_complete(rsps):
    """``errors`` beside ``data`` (an object X may not show) is not a failed read of the page."""
    clock = Clock(NOW)
    fake = FakeX(rsps, clock)
    post = fake.post("Meeting Thursday", NOW - timedelta(hours=3))
    reply = fake.reply(post, "which day?", NOW - timedelta(hours=2))
    search = fake._search

    def with_partial_error(q: dict[str, str], fields: set[str]):
        status, headers, body = search(q, fields)
        return (
            status,
            headers,
            json.dumps({**json.loads(body), **without_source("x/search_partial_error.json")}),
        )

    fake._search = with_partial_error
    snap = XConnector(fake.user_id, "token", clock=clock).fetch(NOW - timedelta(days=1))
    (scan,) = snap.posts
    assert snap.error is None and scan.complete and [c.id for c in scan.comments] == [reply]


def test_a_wordpress_page_past_the_last_one_leaves_the_posts_incomplete(rsps):
    """Comments deleted between two page requests: WordPress refuses page 2 with a 400. The
    post is incomplete and the fetch says why."""
    post = dict(fixture("wordpress/posts_context_edit.json")[0])
    post["modified_gmt"] = post["date_gmt"]
    comment = fixture("wordpress/comments_every_status.json")[0]
    rsps.get(API + "users/me", json={"id": 2})
    rsps.get(API + "posts", json=[post], headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    first = [dict(comment, id=n) for n in range(100)]
    rsps.get(API + "comments", json=first, headers={"X-WP-Total": "101", "X-WP-TotalPages": "2"})
    refused = without_source("wordpress/error_400_rest_comment_invalid_page_number.json")
    rsps.get(API + "comments", json=refused, status=400)
    snap = WordPressConnector(SITE, "editor", "abcd EFGH 1234").fetch(NOW - timedelta(days=14))
    (scan,) = snap.posts
    assert isinstance(snap.error, ConnectorError) and "rest_comment_invalid_page_number" in str(snap.error)
    assert not scan.complete and "rest_comment_invalid_page_number" in (scan.incomplete_reason or "")
