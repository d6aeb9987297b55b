"""The connectors against real payloads nobody here wrote: recorded Graph comments without ids,
a proxy's empty 502, an nginx error page, a JSON list, posts repeated across list pages, X's
``api.x.com`` problem types and its ``edit_history_post_ids`` chain.

Each shape comes from a fixture that cites where it was recorded or published.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors.base import GoneTarget
from connectors.facebook import FacebookConnector
from connectors.instagram import InstagramConnector
from connectors.x import TWEET_FIELDS, XConnector
from guard.errors import PermissionMissing, Transient
from tests.conftest import NOW
from tests.support.graph import (
    IG_USER_ID,
    PAGE_ID,
    FakeComment,
    FakeIG,
    FakeIGComment,
    FakeMedia,
    FakePage,
    FakePost,
    fixture,
    ig_time,
)
from tests.support.x import Clock, FakeX

FIXTURES = Path(__file__).parent.parent / "fixtures"
BODIES = json.loads((FIXTURES / "unexpected_bodies.json").read_text())
UNEXPECTED = [
    "proxy_502_empty",
    "proxy_503_empty",
    "nginx_502_html",
    "json_list",
    "json_without_content_type",
]
SAYS = {  # what the one-line error names, per recorded body
    "proxy_502_empty": "HTTP 502 with an empty body and no Content-Type",
    "proxy_503_empty": "HTTP 503 with an empty body and no Content-Type",
    "nginx_502_html": 'HTTP 502 with an HTML page ("502 Bad Gateway") (text/html)',
    "json_list": "HTTP 200 with a JSON list instead of an object",
    "json_without_content_type": "HTTP 200 with a body that is not JSON and no Content-Type",
}


def recorded(name: str) -> dict[str, Any]:
    """A fixture with its ``_source`` note taken off, as the platform sent it."""
    body = fixture(name)
    body.pop("_source", None)
    return body


def fail_raw(fake: Any, path: str, name: str) -> None:
    entry = BODIES[name]
    fake.fail(path, entry["status"], entry["body"], dict(entry["headers"]), raw=True)


def fb() -> FacebookConnector:
    return FacebookConnector(PAGE_ID, "EAAB-test-token", post_page_size=2)


def missing_id_page(rsps: responses.RequestsMock) -> FakePage:
    """Post 1 carries the recorded comments without ids; post 2 ordinary ones."""
    return FakePage(
        rsps,
        [
            FakePost(
                f"{PAGE_ID}_1",
                "Meeting Thursday",
                recorded_comments=recorded("facebook/comments_without_ids.json"),
            ),
            FakePost(f"{PAGE_ID}_2", "Library hours", comments=[FakeComment("2_1", "open Sunday?")]),
        ],
    )


# -- Facebook: comments without ids ------------------------------------------------------------


def test_comments_without_ids_make_that_post_incomplete_with_the_moderate_fix(rsps):
    """Graph v11+ comments without id leave that post incomplete (PermissionMissing, how to fix);
    the other posts are still read in full."""
    missing_id_page(rsps)
    snap = fb().fetch(NOW - timedelta(days=14))
    first, second = snap.posts
    assert not first.complete and first.comments == ()
    assert "must be able to moderate the page" in (first.incomplete_reason or "")
    assert second.complete and [c.id for c in second.comments] == ["2_1"]
    assert isinstance(snap.error, PermissionMissing) and "moderate the page" in str(snap.error)
    assert "\n" not in str(snap.error)


def test_check_live_fails_on_a_post_whose_comments_come_without_ids(rsps):
    """check() reads a post with comments and refuses a token whose user cannot moderate."""
    missing_id_page(rsps)
    with pytest.raises(PermissionMissing, match="must be able to moderate the page"):
        fb().check()


def test_check_live_confirms_comment_ids_on_the_latest_post_with_comments(rsps):
    """A post without comments is skipped; the next one's comments prove the ids are there."""
    FakePage(
        rsps,
        [
            FakePost(f"{PAGE_ID}_1", "no comments yet"),
            FakePost(f"{PAGE_ID}_2", "hours", comments=[FakeComment("2_1", "open Sunday?")]),
        ],
    )
    lines = fb().check()
    assert any(f"comments with their ids (post {PAGE_ID}_2)" in line for line in lines)


# -- Facebook: bodies that are not Graph's ------------------------------------------------------


@pytest.mark.parametrize("name", UNEXPECTED)
def test_an_unexpected_body_on_the_post_list_is_transient(rsps, name):
    """Empty 502/503, an nginx page, a JSON list, no Content-Type: Transient, one clear line."""
    page = FakePage(rsps, [FakePost(f"{PAGE_ID}_1", "hello")])
    fail_raw(page, "/posts", name)
    snap = fb().fetch(NOW - timedelta(days=14))
    assert isinstance(snap.error, Transient) and snap.posts == () and not snap.posts_complete
    assert SAYS[name] in str(snap.error) and "\n" not in str(snap.error)


@pytest.mark.parametrize("name", UNEXPECTED)
def test_an_unexpected_body_in_confirm_gone_leaves_the_target_unknown(rsps, name):
    """The direct GET answered by a proxy proves nothing: "unknown", and nothing escapes."""
    page = FakePage(rsps, [FakePost(f"{PAGE_ID}_1", "hello", comments=[FakeComment("1_1", "hi")])])
    fail_raw(page, "/1_1", name)
    assert fb().confirm_gone([GoneTarget("1_1", f"{PAGE_ID}_1")]) == {"1_1": "unknown"}


def test_an_unexpected_body_on_a_comment_page_marks_only_that_post_incomplete(rsps):
    """A proxy's empty 502 while paging comments: that post incomplete, the read kept."""
    posts = [FakePost(f"{PAGE_ID}_1", "busy", comments=[FakeComment(f"1_{i}", f"c{i}") for i in range(150)])]
    page = FakePage(rsps, posts)
    fail_raw(page, "/comments", "proxy_502_empty")
    (scan,) = fb().fetch(NOW - timedelta(days=14)).posts
    assert not scan.complete and len(scan.comments) == 100 and "empty body" in (scan.incomplete_reason or "")


# -- repeated across pages ----------------------------------------------------------------------


def shift_after_first_list(fake: Any, model: list[Any], new: Any, path: str) -> None:
    """A new item is published right after the first page of ``path`` is served: the cursor
    shifts and the next page starts with the last item of the first one again."""
    read = fake._read

    def shifting(p: str, q: dict[str, str]):
        answer = read(p, q)
        if p == path and not q.get("after"):
            model.insert(0, new)
        return answer

    fake._read = shifting


def test_a_post_repeated_across_post_pages_is_merged(rsps):
    """A cursor shift that lists a post twice yields it once, with its comments once."""
    posts = [
        FakePost(f"{PAGE_ID}_{i}", f"post {i}", comments=[FakeComment(f"{i}_1", "question?")])
        for i in (1, 2, 3)
    ]
    page = FakePage(rsps, posts)
    shift_after_first_list(page, page.posts, FakePost(f"{PAGE_ID}_9", "new"), f"{PAGE_ID}/posts")
    snap = fb().fetch(NOW - timedelta(days=14))
    ids = [s.post.id for s in snap.posts]
    assert ids == [f"{PAGE_ID}_1", f"{PAGE_ID}_2", f"{PAGE_ID}_3"]
    assert all(s.complete and len(s.comments) == 1 for s in snap.posts)


def test_a_media_repeated_across_media_pages_is_merged(rsps):
    """Instagram gets the same merge: a media listed on two pages is scanned once."""
    media = [
        FakeMedia(
            f"1790000000000001{i}",
            f"media {i}",
            timestamp=ig_time(NOW - timedelta(hours=i)),
            comments=[FakeIGComment(f"1785000000000001{i}", "when?")],
        )
        for i in (1, 2, 3)
    ]
    ig = FakeIG(rsps, media)
    newest = FakeMedia("17900000000000019", "new", timestamp=ig_time(NOW))
    shift_after_first_list(ig, ig.media, newest, f"{IG_USER_ID}/media")
    snap = InstagramConnector(IG_USER_ID, "EAAB-test-token", media_page_size=2).fetch(
        NOW - timedelta(days=14)
    )
    assert [s.post.id for s in snap.posts] == ["17900000000000011", "17900000000000012", "17900000000000013"]
    assert len(snap.posts) == 3 and all(s.complete for s in snap.posts)


# -- Instagram: bodies that are not Graph's -----------------------------------------------------


@pytest.mark.parametrize("name", ["proxy_502_empty", "nginx_502_html", "json_list"])
def test_an_unexpected_body_on_the_media_list_is_transient(rsps, name):
    """The media edge answered by a proxy: Transient, nothing read, nothing escapes."""
    ig = FakeIG(rsps, [FakeMedia("17900000000000011", "hello", timestamp=ig_time(NOW))])
    fail_raw(ig, "/media", name)
    snap = InstagramConnector(IG_USER_ID, "EAAB-test-token").fetch(NOW - timedelta(days=14))
    assert isinstance(snap.error, Transient) and SAYS[name].split(" with ")[0] in str(snap.error)


def test_an_unexpected_body_in_instagram_confirm_gone_leaves_the_target_unknown(rsps):
    """IG's confirm_gone shares Graph's: a proxy's 503 on the direct GET is "unknown"."""
    ig = FakeIG(
        rsps, [FakeMedia("17900000000000011", "hello", comments=[FakeIGComment("17850000000000021", "hi")])]
    )
    fail_raw(ig, "/17850000000000021", "proxy_503_empty")
    got = InstagramConnector(IG_USER_ID, "EAAB-test-token").confirm_gone(
        [GoneTarget("17850000000000021", "17900000000000011")]
    )
    assert got == {"17850000000000021": "unknown"}


# -- X ------------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def test_api_x_com_problem_types_confirm_deleted_and_unavailable(rsps, clock):
    """resource-not-found and not-authorized-for-resource under https://api.x.com/2/problems/
    mean what they meant under api.twitter.com."""
    fake = FakeX(rsps, clock, problems="https://api.x.com/2/problems/")
    post = fake.post("Meeting Thursday", NOW - timedelta(hours=3))
    gone = fake.reply(post, "which day?", NOW - timedelta(hours=2))
    hidden = fake.reply(post, "private question", NOW - timedelta(hours=2), author="99", username="locked")
    fake.delete(gone)
    fake.protect("99")
    got = XConnector(fake.user_id, "token", clock=clock).confirm_gone(
        [GoneTarget(gone, post), GoneTarget(hidden, post)]
    )
    assert got == {gone: "deleted", hidden: "unavailable"}


def test_recorded_api_x_com_lookup_is_read_by_the_last_path_segment(rsps):
    """The recorded lookup in X's current naming: deleted, unavailable and present alike."""
    body = recorded("x/lookup_mixed_api_x_com.json")
    ids = ["1788495372088250368", "1788496630379450368", "1788499146961850368", "1788524312785850368"]
    rsps.get("https://api.x.com/2/tweets", json=body)
    control = "1788496630379450368"
    got = XConnector("1234567890", "token").confirm_gone(
        [GoneTarget(i, control) for i in ids if i != control]
    )
    assert got == {ids[0]: "deleted", ids[2]: "present", ids[3]: "unavailable"}
    assert TWEET_FIELDS  # the lookup asked for the fields the connector reads


def test_edit_history_post_ids_is_read_as_the_edit_chain(rsps, clock):
    """X's current name for the chain keeps the archive key on the first id after an edit."""
    fake = FakeX(rsps, clock, edit_field="edit_history_post_ids")
    first = fake.post("Meeting Thursday", NOW - timedelta(hours=3))
    live = fake.edit(first, "Meeting on the 13th", NOW - timedelta(hours=2, minutes=50))
    (scan,) = XConnector(fake.user_id, "token", clock=clock).fetch(NOW - timedelta(days=1)).posts
    assert scan.post.id == first and scan.post.previous_ids == (live,)
    assert scan.post.message == "Meeting on the 13th"


@pytest.mark.parametrize("name", UNEXPECTED)
def test_an_unexpected_body_on_the_x_timeline_is_transient(rsps, clock, name):
    """X behind a failing proxy: Transient with a clear line, in fetch."""
    fake = FakeX(rsps, clock)
    fake.post("hello", NOW - timedelta(hours=1))
    fail_raw(fake, f"/users/{fake.user_id}/tweets", name)
    snap = XConnector(fake.user_id, "token", clock=clock).fetch(NOW - timedelta(days=1))
    assert isinstance(snap.error, Transient) and snap.posts == ()
    assert SAYS[name].replace("HTTP", "X API answered HTTP") in str(snap.error)


def test_an_unexpected_body_in_x_confirm_gone_leaves_targets_unknown(rsps, clock):
    """A proxy's empty 502 on the lookup: every target "unknown", nothing escapes."""
    fake = FakeX(rsps, clock)
    post = fake.post("hello", NOW - timedelta(hours=1))
    reply = fake.reply(post, "hi?", NOW - timedelta(minutes=30))
    fail_raw(fake, "/2/tweets", "proxy_502_empty")
    got = XConnector(fake.user_id, "token", clock=clock).confirm_gone([GoneTarget(reply, post)])
    assert got == {reply: "unknown"}


def test_an_x_post_repeated_across_timeline_pages_is_merged(rsps, clock, monkeypatch):
    """A post published while the timeline is paged comes back once, not twice."""
    monkeypatch.setattr("connectors.x.PAGE_SIZE", 2)
    fake = FakeX(rsps, clock)
    for h in (5, 4, 3):
        fake.post(f"post {h}", NOW - timedelta(hours=h))
    timeline = fake._timeline
    shifted: list[str] = []

    def shifting(q: dict[str, str], fields: set[str]):
        answer = timeline(q, fields)
        if not shifted:
            shifted.append(fake.post("new", NOW - timedelta(minutes=1)))
        return answer

    fake._timeline = shifting
    result = XConnector(fake.user_id, "token", clock=clock).fetch(NOW - timedelta(days=1))
    ids = [s.post.id for s in result.posts]
    assert len(ids) == len(set(ids)) == 3 and result.error is None
