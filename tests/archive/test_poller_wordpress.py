"""What WordPress shows that the social platforms hide, kept by the poller: a comment moved
between hidden states (hold → spam → trash) is an event with WordPress's status, and post
revisions the archive missed (an edit before the first poll, several edits between polls)
become versions, in order, with their own time and author, only ever inserted.

HTTP through ``responses`` with the recorded shapes of tests/fixtures/wordpress/ (see its
README for the handbook page of each)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from connectors.wordpress import WordPressConnector
from guard.archive.verify import verify_archive
from guard.config import Account
from guard.runtime.pipeline import poll_account
from tests.conftest import NOW
from tests.support.graph import fixture

SITE = "https://blog.example.org"
API = SITE + "/wp-json/wp/v2/"
POST = "blog.example.org/posts/4"
HELD = "blog.example.org/comments/10"
ACCOUNT = Account(
    name="blog",
    platform="wordpress",
    page_id="blog.example.org",
    token_env="WP_APP_PASSWORD",
    site_url=SITE,
    username="editor",
)


def wp(name: str) -> Any:
    return copy.deepcopy(fixture(f"wordpress/{name}.json"))


def connector() -> WordPressConnector:
    return WordPressConnector(SITE, "editor", "abcd EFGH 1234 ijkl MNOP 6789")


def post(text: str, modified: str) -> list[dict[str, Any]]:
    body = wp("posts_context_edit")
    body[0]["content"] = {"raw": text, "rendered": f"<p>{text}</p>\n"}
    body[0]["modified_gmt"] = modified
    return body


def revision(rid: int, text: str, at: str, author: int) -> dict[str, Any]:
    rev = wp("revisions_context_edit")[0]
    rev.update(id=rid, author=author, date_gmt=at, modified_gmt=at)
    rev["content"] = {"raw": text, "rendered": f"<p>{text}</p>\n"}
    return rev


def serve(rsps, posts: list[dict[str, Any]], comments: list[dict[str, Any]], revisions=None) -> None:
    rsps.get(API + "posts", json=posts, headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    if revisions is not None:
        rsps.get(
            API + "posts/4/revisions", json=revisions, headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"}
        )
    n = str(len(comments))
    rsps.get(API + "comments", json=comments, headers={"X-WP-Total": n, "X-WP-TotalPages": "1"})


def events(db, kind: str) -> list[dict[str, Any]]:
    return [
        {**row, "data": json.loads(row["data"] or "{}")}
        for row in db.query("SELECT * FROM events WHERE kind = ? ORDER BY seq", [kind])
    ]


def test_a_held_comment_moved_to_spam_then_trash_records_each_move(rsps, db):
    """hold → spam → trash: still hidden, but two comment_moderated events name each status."""
    rsps.get(API + "users/me", json={"id": 2})
    held = [c for c in wp("comments_every_status") if c["id"] == 10]
    unedited = post("The meeting is on the 13th", "2026-11-25T21:40:27")
    unedited[0]["date_gmt"] = "2026-11-25T21:40:27"
    wpc = connector()
    for status in ("hold", "spam", "trash", "trash"):
        held[0]["status"] = status
        serve(rsps, copy.deepcopy(unedited), copy.deepcopy(held))
        poll_account(db, ACCOUNT, wpc, now=NOW)
    moves = events(db, "comment_moderated")
    assert [
        (e["object_id"], e["data"]["previous_platform_status"], e["data"]["platform_status"]) for e in moves
    ] == [
        (HELD, "hold", "spam"),
        (HELD, "spam", "trash"),
    ]
    assert "recoverable" in moves[1]["data"]["note"]
    row = db["comments"].get(HELD)
    assert (row["status"], row["platform_status"]) == ("hidden", "trash")
    assert len(events(db, "comment_hidden")) == 1  # hidden once, moved twice
    assert verify_archive(db).ok


def test_two_edits_between_polls_become_two_versions_with_their_time_and_author(rsps, db):
    """Published "Thursday", then edited twice before the next poll: versions 2 and 3, in order."""
    rsps.get(API + "users/me", json={"id": 2})
    first = post("The meeting is Thursday", "2026-11-25T21:40:27")
    first[0]["date_gmt"] = "2026-11-25T21:40:27"
    serve(rsps, first, [])
    wpc = connector()
    poll_account(db, ACCOUNT, wpc, now=NOW)
    revisions = [  # the REST API lists newest first
        revision(7, "The meeting is on the 13th", "2026-11-26T09:15:00", 3),
        revision(6, "The meeting is on the 12th", "2026-11-26T09:00:00", 2),
    ]
    serve(rsps, post("The meeting is on the 13th", "2026-11-26T09:15:00"), [], revisions)
    poll_account(db, ACCOUNT, wpc, now=NOW + timedelta(hours=1))
    versions = list(db.query("SELECT * FROM post_versions WHERE post_id = ? ORDER BY version", [POST]))
    assert [(v["version"], v["message"].splitlines()[-1], v["updated_time"]) for v in versions] == [
        (1, "The meeting is Thursday", "2026-11-25T21:40:27+00:00"),
        (2, "The meeting is on the 12th", "2026-11-26T09:00:00+00:00"),
        (3, "The meeting is on the 13th", "2026-11-26T09:15:00+00:00"),
    ]
    edits = events(db, "post_edited")
    assert [(e["data"]["version"], e["data"]["revised_by"], e["data"]["revision_id"]) for e in edits] == [
        (2, "2", "6"),
        (3, "3", "7"),
    ]
    assert edits[1]["data"]["previous_sha256"] == versions[1]["sha256"]
    row = db["posts"].get(POST)
    assert (row["version"], row["sha256"]) == (3, versions[2]["sha256"])
    assert verify_archive(db).ok  # every inserted version has the event that records it


def test_an_edit_before_the_first_poll_is_an_earlier_version(rsps, db):
    """First seen already edited: each saved revision is a version, oldest first, the current last."""
    rsps.get(API + "users/me", json={"id": 2})
    revisions = [
        revision(6, "The meeting is on the 13th", "2026-11-25T21:44:10", 3),
        revision(5, "The meeting is Thursday", "2026-11-25T21:40:27", 2),
    ]
    serve(rsps, post("The meeting is on the 13th", "2026-11-25T21:44:10"), [], revisions)
    poll_account(db, ACCOUNT, connector(), now=NOW)
    versions = list(
        db.query("SELECT version, message FROM post_versions WHERE post_id = ? ORDER BY version", [POST])
    )
    assert [v["message"].splitlines()[-1] for v in versions] == [
        "The meeting is Thursday",
        "The meeting is on the 13th",
    ]
    assert [e["data"]["revised_by"] for e in events(db, "post_added") + events(db, "post_edited")] == [
        "2",
        "3",
    ]


def test_revisions_already_archived_are_never_written_again(rsps, db):
    """A later poll that lists the same revisions adds nothing: versions are only inserted."""
    rsps.get(API + "users/me", json={"id": 2})
    revisions = [
        revision(6, "The meeting is on the 13th", "2026-11-25T21:44:10", 3),
        revision(5, "The meeting is Thursday", "2026-11-25T21:40:27", 2),
    ]
    wpc = connector()
    serve(rsps, post("The meeting is on the 13th", "2026-11-25T21:44:10"), [], revisions)
    poll_account(db, ACCOUNT, wpc, now=NOW)
    serve(rsps, post("The meeting is on the 13th", "2026-11-25T21:44:10"), [])
    poll_account(db, ACCOUNT, wpc, now=NOW + timedelta(minutes=5))
    assert db.execute("SELECT count(*) FROM post_versions").fetchone()[0] == 2
    assert len(events(db, "post_edited")) == 1
