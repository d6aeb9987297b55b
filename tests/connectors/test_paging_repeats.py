"""A platform whose "next page" points at a page already read must not keep a poll reading it
forever: the scan stops after one repeat, incomplete, with a line saying why.

Graph did this on comments after Pages moved to the new Pages experience (mobolic/facebook-sdk
issue #510: the same 25 comments page after page; ``tests/fixtures/facebook/
comments_next_repeats_the_page.json``); X users saw ``next_token`` give the same posts again
(plhery/node-twitter-api-v2 issue #404). The fakes stop answering after a few repeats, so a
connector that follows the loop fails these tests instead of hanging them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from connectors.facebook import FacebookConnector
from connectors.instagram import InstagramConnector
from connectors.x import XConnector
from guard.errors import Transient
from guard.runtime.pipeline import poll_account
from tests.conftest import NOW
from tests.support.graph import (
    GRAPH,
    IG_USER_ID,
    PAGE_ID,
    FakeComment,
    FakeIG,
    FakeIGComment,
    FakeMedia,
    FakePage,
    FakePost,
    comment_page,
    fixture,
    ig_time,
)
from tests.support.x import Clock, FakeX

REPEATS_BEFORE_THE_FAKE_GIVES_UP = 5


def serve_repeating(fake: Any, attribute: str, matches, answer) -> list[int]:
    """Wrap ``fake.<attribute>`` (its reader): requests that ``matches`` get ``answer`` instead,
    until the fake gives up with a connection error. Returns the count of those requests."""
    read = getattr(fake, attribute)
    served = [0]

    def repeating(*args: Any):
        if not matches(*args):
            return read(*args)
        served[0] += 1
        if served[0] > REPEATS_BEFORE_THE_FAKE_GIVES_UP:
            return requests.ConnectionError("the fake stopped answering a paging loop")
        return answer(fake, *args)

    setattr(fake, attribute, repeating)
    return served


def recorded_loop() -> dict[str, Any]:
    body = fixture("facebook/comments_next_repeats_the_page.json")
    body.pop("_source")
    return body


def test_a_comments_page_whose_next_repeats_it_stops_that_post_as_incomplete(rsps):
    """Graph's next link names the page just read: one repeat is read, then the post is
    incomplete (never complete: comments past the loop were not read) and the poll says why."""
    loop = recorded_loop()
    page = FakePage(
        rsps,
        [
            FakePost(f"{PAGE_ID}_1", "Meeting Thursday", recorded_comments=loop),
            FakePost(f"{PAGE_ID}_2", "Library hours", comments=[FakeComment("2_1", "open Sunday?")]),
        ],
    )
    served = serve_repeating(
        page, "_read", lambda path, q: path.endswith("/comments"), lambda fake, p, q: fake._reply(200, loop)
    )
    snap = FacebookConnector(PAGE_ID, "EAAB-test-token").fetch(NOW - timedelta(days=14))
    first = snap.posts[0]
    assert served[0] == 1
    assert not first.complete and len(first.comments) == len(loop["data"])
    assert isinstance(snap.error, Transient) and "already read" in str(snap.error)
    assert not snap.posts_complete


def test_a_poll_whose_comment_paging_loops_changes_no_status_and_records_why(rsps, db, account):
    """Through a poll into the archive: comments past the loop were not read, so they stay as
    they were (no suspect, no deletion), and the poll is recorded as incomplete with the reason."""
    post = FakePost(
        f"{PAGE_ID}_1", "Meeting Thursday", comments=[FakeComment(f"1_{i}", f"c{i}") for i in range(105)]
    )
    page = FakePage(rsps, [post])
    connector = FacebookConnector(PAGE_ID, "EAAB-test-token")
    assert poll_account(db, account, connector, now=NOW).complete

    def next_names_itself(fake: FakePage, path: str, q: dict[str, str]):
        body = comment_page(post, 100, int(q["limit"]))
        body["paging"]["next"] = f"{GRAPH}/{path}?{urlencode(q)}"
        return fake._reply(200, body)

    serve_repeating(page, "_read", lambda path, q: path.endswith("/comments"), next_names_itself)
    result = poll_account(db, account, connector, now=NOW + timedelta(minutes=5))
    statuses = {r["status"] for r in db.query("SELECT status FROM comments")}
    assert not result.complete and statuses == {"present"}
    error = db.execute("SELECT error FROM polls ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert "already read" in error


def test_a_post_list_whose_next_repeats_it_stops_the_scan_as_incomplete(rsps):
    """The same on the list of posts: the posts read are kept, the list is not complete."""
    page = FakePage(rsps, [FakePost(f"{PAGE_ID}_{i}", f"post {i}") for i in (1, 2, 3)])
    read = page._read

    def first_page_again(fake: FakePage, path: str, q: dict[str, str]):
        return read(path, {**q, "after": ""})  # its next names the page just asked for

    served = serve_repeating(
        page, "_read", lambda path, q: path == f"{PAGE_ID}/posts" and bool(q.get("after")), first_page_again
    )
    snap = FacebookConnector(PAGE_ID, "EAAB-test-token", post_page_size=2).fetch(NOW - timedelta(days=14))
    assert served[0] == 1
    assert [s.post.id for s in snap.posts] == [f"{PAGE_ID}_1", f"{PAGE_ID}_2"]
    assert isinstance(snap.error, Transient) and "already read" in str(snap.error)
    assert not snap.posts_complete


def test_an_instagram_replies_page_whose_next_repeats_it_leaves_the_media_incomplete(rsps):
    """Instagram's replies edge pages the same way: a repeat stops that media as incomplete."""
    replies = [FakeIGComment(f"178500000000010{i:02d}", f"reply {i}") for i in range(30)]
    media = FakeMedia(
        "17900000000000011",
        "Meeting Thursday",
        timestamp=ig_time(NOW - timedelta(hours=1)),
        comments=[FakeIGComment("17850000000000001", "when?", replies=replies)],
    )
    ig = FakeIG(rsps, [media])
    read = ig._read

    def first_page_again(fake: FakeIG, path: str, q: dict[str, str]):
        return read(path, {**q, "after": ""})  # its next names the page just asked for

    served = serve_repeating(ig, "_read", lambda path, q: path.endswith("/replies"), first_page_again)
    snap = InstagramConnector(IG_USER_ID, "EAAB-test-token").fetch(NOW - timedelta(days=14))
    (scan,) = snap.posts
    assert served[0] == 1
    assert not scan.complete and "already read" in (scan.incomplete_reason or "")
    assert isinstance(snap.error, Transient)


def token_repeats(fake: FakeX, reader: str, param: str) -> list[int]:
    """X answers a request carrying ``param`` with the page it asked for, but hands back that
    same token as ``meta.next_token``."""
    read = getattr(fake, reader)

    def same_token(fake: FakeX, q: dict[str, str], fields: set[str]):
        status, headers, body = read(q, fields)
        answer = json.loads(body)
        answer["meta"]["next_token"] = q[param]
        return status, headers, json.dumps(answer)

    return serve_repeating(fake, reader, lambda q, fields: bool(q.get(param)), same_token)


def test_an_x_search_whose_next_token_repeats_stops_that_post_as_incomplete(rsps, monkeypatch):
    """X hands back the token it was given: the conversation is read once more, then it is
    incomplete with the reason, and no more billed reads are spent on the loop."""
    monkeypatch.setattr("connectors.x.PAGE_SIZE", 2)
    clock = Clock(NOW)
    fake = FakeX(rsps, clock)
    post = fake.post("Meeting Thursday", NOW - timedelta(hours=3))
    for m in range(5):
        fake.reply(post, f"question {m}?", NOW - timedelta(hours=2, minutes=m))
    served = token_repeats(fake, "_search", "next_token")
    snap = XConnector(fake.user_id, "token", clock=clock).fetch(NOW - timedelta(days=1))
    (scan,) = snap.posts
    assert served[0] == 1
    assert not scan.complete and "already read" in (scan.incomplete_reason or "")
    assert isinstance(snap.error, Transient)


def test_an_x_timeline_whose_next_token_repeats_stops_the_scan_as_incomplete(rsps, monkeypatch):
    """The timeline's pagination_token loops: the posts read are kept, the list is incomplete."""
    monkeypatch.setattr("connectors.x.PAGE_SIZE", 2)
    clock = Clock(NOW)
    fake = FakeX(rsps, clock)
    for h in (5, 4, 3):
        fake.post(f"post {h}", NOW - timedelta(hours=h))
    served = token_repeats(fake, "_timeline", "pagination_token")
    snap = XConnector(fake.user_id, "token", clock=clock).fetch(NOW - timedelta(days=1))
    assert served[0] == 1
    assert len(snap.posts) == 3 and not snap.posts_complete
    assert isinstance(snap.error, Transient) and "already read" in str(snap.error)
