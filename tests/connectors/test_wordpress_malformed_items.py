"""Items without an id in a WordPress listing (``comments_every_status.json`` and
``posts_context_edit.json`` with one item's fields removed, or replaced by a non-object).

WordPress core always sends ``id`` and ``post``, but plugins filter REST answers
(``rest_prepare_comment``), and a privacy or caching plugin that drops or mangles a field must
not stop the archive: the item is left out, the scan it belongs to is marked incomplete (so no
absence counts as a deletion), and every other item is still archived.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from connectors.wordpress import WordPressConnector
from tests.conftest import NOW
from tests.support.graph import fixture

SITE = "https://blog.example.org"
API = SITE + "/wp-json/wp/v2/"


def _site(rsps, posts: list, comments: list) -> WordPressConnector:
    rsps.get(API + "users/me", json={"id": 2})
    rsps.get(API + "posts", json=posts, headers={"X-WP-Total": str(len(posts)), "X-WP-TotalPages": "1"})
    rsps.get(
        API + "comments", json=comments, headers={"X-WP-Total": str(len(comments)), "X-WP-TotalPages": "1"}
    )
    return WordPressConnector(SITE, "editor", "abcd EFGH 1234 ijkl MNOP 6789")


def _post() -> dict:
    post = copy.deepcopy(fixture("wordpress/posts_context_edit.json")[0])
    post["modified_gmt"] = post["date_gmt"]  # no revisions to read
    return post


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c.pop("id"),
        lambda c: c.pop("post"),
        lambda c: c.update(id=None),
        lambda c: c.clear(),
    ],
    ids=["no id", "no post", "null id", "empty object"],
)
def test_a_comment_without_id_or_post_is_left_out_and_its_posts_stay_incomplete(rsps, mangle):
    comments = copy.deepcopy(fixture("wordpress/comments_every_status.json"))
    mangle(comments[0])
    snap = _site(rsps, [_post()], comments).fetch(NOW - timedelta(days=14))
    (scan,) = snap.posts
    assert snap.error is None and snap.posts_complete
    assert len(scan.comments) == len(comments) - 1  # the others are archived
    assert not scan.complete
    assert "without an id" in (scan.incomplete_reason or "")


def test_a_listing_item_that_is_not_an_object_is_left_out(rsps):
    comments = copy.deepcopy(fixture("wordpress/comments_every_status.json"))
    posts = [_post(), "not a post", {"title": {"raw": "no id"}}]
    snap = _site(rsps, posts, [*comments, 42]).fetch(NOW - timedelta(days=14))
    (scan,) = snap.posts
    assert len(scan.comments) == len(comments) and not scan.complete
    # A post that cannot be named cannot be archived: the post list is not complete, so no
    # archived post counts as missing from it.
    assert not snap.posts_complete
