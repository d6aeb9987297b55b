"""The WordPress connector against REST API responses recorded from a real WordPress
(tests/fixtures/wordpress/README.md cites the handbook page of each shape)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.base import GoneTarget, ProtectionMarks
from connectors.wordpress import WordPressConnector
from guard.errors import AuthExpired, ConfigError, ConnectorError, PermissionMissing, RateLimited, Transient
from tests.conftest import NOW
from tests.support.graph import fixture

SITE = "https://blog.example.org"
API = SITE + "/wp-json/wp/v2/"
ME = {"id": 2}


def wp(name: str) -> Any:
    return copy.deepcopy(fixture(f"wordpress/{name}.json"))


def make() -> WordPressConnector:
    return WordPressConnector(SITE, "editor", "abcd EFGH 1234 ijkl MNOP 6789")


def page(
    rsps: responses.RequestsMock, route: str, body: Any, total: int | None = None, pages: int = 1
) -> None:
    headers = {} if total is None else {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    rsps.get(API + route, json=body, headers=headers)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def test_every_moderation_status_is_read_and_mapped_to_the_archive(rsps):
    """approved is shown; hold, spam and trash are hidden with WordPress's status and a note."""
    rsps.get(API + "users/me", json=ME)
    page(rsps, "posts", wp("posts_context_edit"), 1)
    page(rsps, "posts/4/revisions", wp("revisions_context_edit"), 1)
    page(rsps, "comments", wp("comments_every_status"), 5)
    snap = make().fetch(NOW - timedelta(days=14))
    assert snap.error is None and snap.posts_complete and snap.api_calls == 4
    (scan,) = snap.posts
    assert scan.complete and scan.post.id == "blog.example.org/posts/4"
    assert scan.post.message == "Town meeting\n\nThe meeting is on the 13th"
    by_status = {c.platform_status: c for c in scan.comments}
    assert set(by_status) == {"approved", "hold", "spam", "trash"}
    assert not by_status["approved"].hidden and all(by_status[s].hidden for s in ("hold", "spam", "trash"))
    assert "recoverable" in (by_status["trash"].moderation_note or "")
    comments_query = query(rsps.calls[3])
    assert comments_query["status"] == ["any"] and comments_query["context"] == ["edit"]
    assert comments_query["per_page"] == ["100"] and comments_query["post"] == ["4"]


def test_staff_reply_keeps_its_parent_and_is_marked_as_the_sites_own(rsps):
    """A reply by the post's author (or the connector's user) is the organisation's reply."""
    rsps.get(API + "users/me", json=ME)
    page(rsps, "posts", wp("posts_context_edit"), 1)
    page(rsps, "posts/4/revisions", wp("revisions_context_edit"), 1)
    page(rsps, "comments", wp("comments_every_status")[:2], 2)
    question, answer = make().fetch(NOW - timedelta(days=14)).posts[0].comments
    assert not question.from_page and question.author_name == "Subscriber"
    assert answer.from_page and answer.parent_id == "blog.example.org/comments/2"
    assert question.created_time == "2026-11-25T21:44:10+00:00"


def test_comments_are_paged_by_the_total_pages_header_in_one_query_for_all_posts(rsps):
    """Three posts with 250 comments between them cost three comment pages, not one per post."""
    posts = []
    for i in (7, 8, 9):
        p = wp("posts_context_edit")[0]
        p.update(id=i, modified_gmt=p["date_gmt"])  # never edited: no revisions call
        posts.append(p)
    base = wp("comments_every_status")[0]
    comments = [dict(base, id=100 + n, post=7 + n % 3) for n in range(250)]
    rsps.get(API + "users/me", json=ME)
    page(rsps, "posts", posts, 3)
    for n in range(3):
        page(rsps, "comments", comments[n * 100 : (n + 1) * 100], 250, 3)
    snap = make().fetch(NOW - timedelta(days=14))
    assert snap.api_calls == 1 + 1 + 3
    assert sum(len(s.comments) for s in snap.posts) == 250 and all(s.complete for s in snap.posts)
    assert [query(c)["page"] for c in rsps.calls[2:]] == [["1"], ["2"], ["3"]]
    assert query(rsps.calls[2])["post"] == ["7,8,9"]


def test_a_total_that_moves_while_paging_leaves_the_posts_incomplete(rsps):
    """A comment deleted mid-paging can let another slip between pages: absence counts for nothing."""
    post = dict(wp("posts_context_edit")[0], modified_gmt=wp("posts_context_edit")[0]["date_gmt"])
    base = wp("comments_every_status")[0]
    rsps.get(API + "users/me", json=ME)
    page(rsps, "posts", [post], 1)
    page(rsps, "comments", [dict(base, id=n) for n in range(100)], 150, 2)
    page(rsps, "comments", [dict(base, id=n) for n in range(100, 149)], 149, 2)
    (scan,) = make().fetch(NOW - timedelta(days=14)).posts
    assert not scan.complete and scan.incomplete_reason == "comments changed while paging"


@pytest.mark.parametrize(
    "status,body,error",
    [
        (500, "<html><body><h1>Internal Server Error</h1></body></html>", Transient),
        (403, "<html><title>Blocked by Wordfence</title></html>", Transient),
        (429, {"code": "too_many_requests", "message": "Slow down", "data": {"status": 429}}, RateLimited),
        (403, wp("error_403_rest_forbidden_context"), PermissionMissing),
    ],
)
def test_a_failed_comment_page_keeps_the_posts_and_marks_them_incomplete(rsps, status, body, error):
    """An HTML page, a security plugin's block, throttling or a missing capability is never a deletion."""
    post = dict(wp("posts_context_edit")[0], modified_gmt=wp("posts_context_edit")[0]["date_gmt"])
    rsps.get(API + "users/me", json=ME)
    page(rsps, "posts", [post], 1)
    if isinstance(body, str):
        rsps.get(API + "comments", body=body, status=status, content_type="text/html")
    else:
        rsps.get(API + "comments", json=body, status=status, headers={"Retry-After": "120"})
    snap = make().fetch(NOW - timedelta(days=14))
    assert isinstance(snap.error, error)
    assert len(snap.posts) == 1 and not snap.posts[0].complete
    if error is RateLimited:
        assert snap.error.retry_after == 120
    if isinstance(body, str):
        assert "not the REST API" in str(snap.error) and "security plugin" in str(snap.error)


def test_revisions_become_the_posts_versions_and_are_read_once_per_modification(rsps):
    """An edited post's revisions (time and author) ride along; an unchanged post costs no call."""
    rsps.get(API + "users/me", json=ME)
    for _ in range(2):
        page(rsps, "posts", wp("posts_context_edit"), 1)
        page(rsps, "comments", [], 0)
    page(rsps, "posts/4/revisions", wp("revisions_context_edit"), 1)
    wpc = make()
    first = wpc.fetch(NOW - timedelta(days=14))
    second = wpc.fetch(NOW - timedelta(days=14))
    (rev,) = first.posts[0].post.revisions
    assert rev.id == "5" and rev.author_id == "2" and rev.created_time == "2026-11-25T21:44:10+00:00"
    assert second.posts[0].post.revisions == (rev,) and second.api_calls == 2


def test_wrong_application_password_is_auth_expired_with_the_fix(rsps):
    """WordPress 6.1 answers a wrong application password with 401 rest_not_logged_in."""
    rsps.get(API + "users/me", json=wp("error_401_rest_not_logged_in"), status=401)
    snap = make().fetch(NOW - timedelta(days=14))
    assert isinstance(snap.error, AuthExpired) and snap.posts == ()
    assert "Application Passwords" in str(snap.error) and "abcd" not in str(snap.error)


def test_check_requires_moderate_comments(rsps):
    """check --live names the missing capability instead of failing later."""
    me = wp("users_me_editor")
    me["capabilities"]["moderate_comments"] = False
    rsps.get(API + "users/me", json=me)
    with pytest.raises(PermissionMissing, match="moderate_comments"):
        make().check()


def test_check_reports_the_credentials_and_whether_the_plugin_is_active(rsps):
    """users/me with context=edit proves the capability; the plugin's route proves it is active."""
    rsps.get(API + "users/me", json=wp("users_me_editor"))
    rsps.get(API + "comments", json=[{"id": 1}], headers={"X-WP-Total": "12", "X-WP-TotalPages": "12"})
    rsps.get(
        SITE + "/wp-json/comment-guard/v1/status",
        json={"code": "rest_no_route", "message": "No route was found", "data": {"status": 404}},
        status=404,
    )
    lines = make().check()
    assert "moderate_comments" in lines[1] and "12 on the site" in lines[2]
    assert "not active" in lines[3]


def test_confirm_gone_needs_invalid_id_and_a_successful_control_read(rsps):
    """404 rest_comment_invalid_id plus a readable post is deleted; a failed control is unknown."""
    gone = wp("error_404_rest_comment_invalid_id")
    rsps.get(API + "comments/5", json=gone, status=404)
    rsps.get(API + "posts/4", json={"id": 4})
    rsps.get(API + "comments/6", json=gone, status=404)
    rsps.get(API + "posts/9", body="<html>502 Bad Gateway</html>", status=502, content_type="text/html")
    rsps.get(API + "comments/7", json={"id": 7, "status": "trash"})
    answers = make().confirm_gone(
        [
            GoneTarget("blog.example.org/comments/5", "blog.example.org/posts/4"),
            GoneTarget("blog.example.org/comments/6", "blog.example.org/posts/9"),
            GoneTarget("blog.example.org/comments/7", "blog.example.org/posts/4"),
        ]
    )
    assert answers == {
        "blog.example.org/comments/5": "deleted",
        "blog.example.org/comments/6": "unknown",
        "blog.example.org/comments/7": "present",
    }


def test_forbidden_read_of_a_comment_is_never_a_deletion(rsps):
    """401/403 on the comment (no rights, or a trashed one seen without them) stays unknown."""
    rsps.get(API + "comments/5", json=wp("error_403_rest_forbidden_param"), status=403)
    answers = make().confirm_gone([GoneTarget("blog.example.org/comments/5", "blog.example.org/posts/4")])
    assert answers == {"blog.example.org/comments/5": "unknown"}


def test_actions_hold_approve_trash_and_reply_under_the_comment(rsps):
    """hide = hold, unhide = approve, delete = trash (never force), reply = comment with parent."""
    for _ in range(2):
        rsps.post(API + "comments/2", json={"id": 2})
    rsps.delete(API + "comments/2", json={"id": 2, "status": "trash"})
    rsps.get(API + "comments/2", json={"id": 2, "post": 4})
    rsps.post(API + "comments", json={"id": 31}, status=201)
    wpc = make()
    wpc.hide("blog.example.org/comments/2")
    wpc.unhide("blog.example.org/comments/2")
    wpc.delete("blog.example.org/comments/2")
    new_id = wpc.reply("blog.example.org/comments/2", "Sorry: the meeting is on the 13th.")
    bodies = [json.loads(c.request.body) for c in rsps.calls if c.request.method == "POST"]
    assert bodies[0] == {"status": "hold"} and bodies[1] == {"status": "approve"}
    assert bodies[2] == {"post": 4, "parent": 2, "content": "Sorry: the meeting is on the 13th."}
    assert "force" not in rsps.calls[2].request.url and new_id == "blog.example.org/comments/31"


def test_the_plugins_refusal_is_passed_on_word_for_word(rsps):
    """A protected comment the must-use plugin refuses to trash says to reply publicly."""
    body = {
        "code": "comment_guard_protected",
        "message": "comment-guard: this comment is protected (a question or complaint the public "
        "should see answered). Reply publicly instead.",
        "data": {"status": 403},
    }
    rsps.delete(API + "comments/2", json=body, status=403)
    with pytest.raises(ConnectorError, match="Reply publicly instead") as caught:
        make().delete("blog.example.org/comments/2")
    assert not isinstance(caught.value, PermissionMissing)


def test_protection_marks_change_only_what_differs_and_only_with_the_plugin(rsps):
    """The connector is a ProtectionMarks; it writes the meta only where the mark changes."""
    rsps.get(API + "users/me", json=ME)
    post = dict(wp("posts_context_edit")[0], modified_gmt=wp("posts_context_edit")[0]["date_gmt"])
    page(rsps, "posts", [post], 1)
    page(rsps, "comments", wp("comments_every_status")[:2], 2)
    rsps.post(API + "comments/2", json={"id": 2})
    wpc = make()
    assert isinstance(wpc, ProtectionMarks)
    wpc.fetch(NOW - timedelta(days=14))
    changed = wpc.sync_protection({"blog.example.org/comments/2": True, "blog.example.org/comments/3": False})
    assert changed == 1
    assert json.loads(rsps.calls[-1].request.body) == {"meta": {"comment_guard_protected": True}}


def test_an_id_of_another_site_is_refused():
    """Archive ids carry the site, so an id of another blog cannot reach this one."""
    with pytest.raises(ConnectorError, match="not an id of the WordPress site"):
        make().hide("other.example.org/comments/2")


def _config(account: str) -> str:
    return f'[guard]\ndatabase = "x.db"\n\n[[accounts]]\nname = "blog"\nplatform = "wordpress"\n{account}'


def test_config_reads_a_wordpress_account():
    """site_url, username and password_env make a WordPress account; page_id is the site."""
    from guard.config import parse_config

    cfg = parse_config(
        _config(
            'site_url = "https://blog.example.org/"\nusername = "editor"\npassword_env = "WP_APP_PASSWORD"\n'
        )
    )
    (acc,) = cfg.accounts
    assert acc.page_id == "blog.example.org" and acc.site_url == "https://blog.example.org"
    assert acc.username == "editor" and acc.token_env == "WP_APP_PASSWORD"


@pytest.mark.parametrize(
    "keys,message",
    [
        ('site_url = "http://blog.example.org"\nusername = "e"\npassword_env = "P"\n', "https://"),
        ('site_url = "https://blog.example.org"\npassword_env = "P"\n', "username"),
        ('site_url = "https://b.example.org"\nusername = "e"\ntoken_env = "T"\n', "password_env"),
    ],
)
def test_config_errors_for_wordpress_are_one_clear_line(keys, message):
    """Plain http (outside loopback), a missing username or a token_env are refused with the fix."""
    from guard.config import parse_config

    with pytest.raises(ConfigError, match=message) as caught:
        parse_config(_config(keys))
    assert "\n" not in str(caught.value)


def test_config_allows_plain_http_on_loopback_only():
    """A local test site on 127.0.0.1 may use http://, as WordPress itself allows there."""
    from guard.config import parse_config

    cfg = parse_config(_config('site_url = "http://127.0.0.1:8080"\nusername = "e"\npassword_env = "P"\n'))
    assert cfg.accounts[0].page_id == "127.0.0.1:8080"
