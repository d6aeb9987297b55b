"""The Facebook connector against Graph-shaped HTTP responses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.base import GoneTarget
from connectors.facebook import FacebookConnector
from guard.errors import AuthExpired, PermissionMissing, RateLimited, Transient
from tests.conftest import NOW
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture


def make(post_limit: int = 25) -> FacebookConnector:
    return FacebookConnector(PAGE_ID, "EAAB-test-token", post_page_size=post_limit)


def story_posts(n_comments: int = 3) -> list[FakePost]:
    comments = [FakeComment(f"1_{i}", f"comment {i}") for i in range(n_comments)]
    return [FakePost(f"{PAGE_ID}_1", "The meeting is Thursday", comments=comments)]


def test_nested_expansion_reads_posts_and_comments_in_one_request(rsps):
    """A page whose comments fit in the embedded first page costs exactly one request."""
    page = FakePage(rsps, story_posts(3))
    snap = make().fetch(NOW - timedelta(days=14))
    assert page.calls == 1
    assert snap.posts_complete and snap.error is None
    (scan,) = snap.posts
    assert scan.complete and [c.message for c in scan.comments] == ["comment 0", "comment 1", "comment 2"]
    req = rsps.calls[0].request.url
    assert "comments.filter%28stream%29.limit%28100%29" in req and "since=" in req


def test_replies_keep_their_parent_and_page_replies_are_marked(rsps):
    """filter(stream) returns replies flat; the parent id and page authorship are kept."""
    post = FakePost(
        f"{PAGE_ID}_1",
        "hello",
        comments=[
            FakeComment("1_1", "question"),
            FakeComment(
                "1_2", "answer", author="Riverside Community Center", author_id=PAGE_ID, parent="1_1"
            ),
        ],
    )
    FakePage(rsps, [post])
    scan = make().fetch(NOW - timedelta(days=14)).posts[0]
    reply = scan.comments[1]
    assert reply.parent_id == "1_1" and reply.from_page and not scan.comments[0].from_page
    assert scan.comments[0].created_time == "2026-11-20T16:02:11+00:00"


def test_posts_and_comment_overflow_are_paged_by_cursor(rsps):
    """Posts page by cursor; a post with more than 100 comments pages its comments edge."""
    posts = [FakePost(f"{PAGE_ID}_{i}", f"post {i}") for i in range(3)]
    posts[1].comments = [FakeComment(f"2_{i}", f"c{i}") for i in range(250)]
    page = FakePage(rsps, posts, post_limit=2)
    snap = make(post_limit=2).fetch(NOW - timedelta(days=14))
    assert [s.post.id for s in snap.posts] == [p.id for p in posts]
    assert len(snap.posts[1].comments) == 250 and snap.posts[1].complete
    assert page.calls == 2 + 2  # two post pages, two extra comment pages
    assert snap.api_calls == 4


@pytest.mark.parametrize(
    "status,body",
    [
        (500, "<html><body>Internal Server Error</body></html>"),
        (400, fixture("facebook/error_rate_limit_613.json")),
        (400, fixture("facebook/error_unknown_1.json")),
    ],
)
def test_error_in_comment_paging_marks_only_that_post_incomplete(rsps, status, body):
    """A failed comment page leaves the post incomplete, keeps what was read and records why."""
    posts = story_posts(150)
    page = FakePage(rsps, posts)
    page.fail("/comments", status, body)
    snap = make().fetch(NOW - timedelta(days=14))
    (scan,) = snap.posts
    assert not scan.complete and len(scan.comments) == 100
    assert not snap.posts_complete and snap.error is not None


def test_rate_limit_reads_retry_after_from_business_usage_header(rsps):
    """Throttling code 32 with a BUC header becomes RateLimited with that many minutes."""
    page = FakePage(rsps, story_posts())
    header = (
        '{"%s":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":20,'
        '"estimated_time_to_regain_access":7}]}' % PAGE_ID
    )
    page.fail(
        "/posts", 400, fixture("facebook/error_page_throttled_32.json"), {"x-business-use-case-usage": header}
    )
    snap = make().fetch(NOW - timedelta(days=14))
    assert isinstance(snap.error, RateLimited) and snap.error.retry_after == 7 * 60
    assert snap.posts == () and not snap.posts_complete


def test_expired_token_is_auth_expired_and_never_prints_the_token(rsps):
    """Code 190 becomes AuthExpired whose message tells the user what to do, without the token."""
    page = FakePage(rsps, story_posts())
    page.fail("/posts", 400, fixture("facebook/error_expired_token.json"))
    snap = make().fetch(NOW - timedelta(days=14))
    assert isinstance(snap.error, AuthExpired)
    assert "new token" in str(snap.error) and "EAAB-test-token" not in str(snap.error)


def test_permission_error_is_permission_missing(rsps):
    """Code 10 means a missing permission, not a transient failure."""
    page = FakePage(rsps, story_posts())
    page.fail("/posts", 400, fixture("facebook/error_permission_10.json"))
    assert isinstance(make().fetch(NOW).error, PermissionMissing)


def test_timeout_is_transient(rsps):
    """A network timeout becomes Transient, never an empty page."""
    import requests

    rsps.add(
        "GET", "https://graph.facebook.com/v24.0/100200300/posts", body=requests.Timeout("read timed out")
    )
    assert isinstance(make().fetch(NOW).error, Transient)


def test_confirm_gone_needs_not_found_and_a_successful_control_read(rsps):
    """100/33 on the comment plus a readable parent post is the only way to 'deleted'."""
    page = FakePage(rsps, story_posts(2))
    page.remove_comment("1_1")
    got = make().confirm_gone([GoneTarget("1_1", f"{PAGE_ID}_1"), GoneTarget("1_0", f"{PAGE_ID}_1")])
    assert got == {"1_1": "deleted", "1_0": "present"}


def test_confirm_gone_is_unknown_when_the_control_read_fails(rsps):
    """If the parent post cannot be read with the same token, 100/33 proves nothing."""
    page = FakePage(rsps, story_posts(2))
    page.remove_comment("1_1")
    page.fail(f"/{PAGE_ID}_1", 400, fixture("facebook/error_unknown_1.json"))
    assert make().confirm_gone([GoneTarget("1_1", f"{PAGE_ID}_1")]) == {"1_1": "unknown"}


def test_hide_unhide_reply_delete_send_the_documented_requests(rsps):
    """Moderation calls are POST is_hidden, POST /comments with message, and DELETE."""
    page = FakePage(rsps, story_posts(1))
    fb = make()
    fb.hide("1_0")
    fb.unhide("1_0")
    new_id = fb.reply("1_0", "We made a mistake: it is the 13th.")
    fb.delete("1_0")
    assert [(m, p, f.get("is_hidden") or f.get("message")) for m, p, f in page.writes] == [
        ("POST", "1_0", ["true"]),
        ("POST", "1_0", ["false"]),
        ("POST", "1_0/comments", ["We made a mistake: it is the 13th."]),
        ("DELETE", "1_0", None),
    ]
    assert new_id.startswith("1_0_")


def test_too_much_data_halves_the_post_page_and_retries(rsps):
    """Code 1 "reduce the amount of data" is answered with a smaller page, not a failed poll."""
    page = FakePage(rsps, story_posts(2))
    page.fail(
        "/posts",
        500,
        {
            "error": {
                "message": "Please reduce the amount of data you're asking for, then retry your request",
                "type": "OAuthException",
                "code": 1,
                "fbtrace_id": "Ez9",
            }
        },
    )
    snap = make(post_limit=100).fetch(NOW - timedelta(days=14))
    assert snap.error is None and snap.posts_complete and len(snap.posts) == 1
    assert "limit=50" in rsps.calls[-1].request.url
