"""A plugin's PHP notice printed before the REST API's JSON (``tests/fixtures/wordpress/
php_notice_before_json.json``): a failed read, as any body that is not JSON, but the line must
name the cause the admin can fix (the site prints PHP messages), not a firewall."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from connectors.wordpress import WordPressConnector
from guard.errors import Transient
from tests.conftest import NOW
from tests.support.graph import fixture

SITE = "https://blog.example.org"
API = SITE + "/wp-json/wp/v2/"


def test_a_php_notice_before_the_json_is_a_failed_read_that_names_the_notice(rsps):
    answer = fixture("wordpress/php_notice_before_json.json")
    post = copy.deepcopy(fixture("wordpress/posts_context_edit.json")[0])
    post["modified_gmt"] = post["date_gmt"]
    rsps.get(API + "users/me", json={"id": 2})
    rsps.get(API + "posts", json=[post], headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    rsps.get(
        API + "comments",
        body=answer["prefix"] + json.dumps(fixture("wordpress/comments_every_status.json")),
        status=answer["status"],
        content_type=answer["headers"]["Content-Type"],
    )
    snap = WordPressConnector(SITE, "editor", "abcd EFGH 1234 ijkl MNOP 6789").fetch(NOW - timedelta(days=14))
    (scan,) = snap.posts
    assert not scan.complete and isinstance(snap.error, Transient)
    line = str(snap.error)
    assert "PHP message" in line and "Deprecated: Optional parameter $args" in line
    assert "old-share-buttons.php on line 214" in line
    assert "WP_DEBUG_DISPLAY" in line and "security plugin" not in line and "\n" not in line
