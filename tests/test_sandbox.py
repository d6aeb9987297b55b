"""The local fake Graph API speaks the payload shapes, paging and errors of the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from guard.demo._fields import FieldSpec, FieldsSyntaxError, format_fields, parse_fields
from guard.demo.sandbox import Sandbox

TOKEN = "sandbox-token"
T0 = datetime(2026, 11, 12, 18, 4, 11, tzinfo=timezone.utc)
EXPANDED = (
    "id,message,created_time,updated_time,permalink_url,from,"
    "comments.filter(stream).limit(100){id,message,from,created_time,parent,is_hidden}"
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def get(sb: Sandbox, path: str, **params: Any) -> requests.Response:
    params.setdefault("access_token", TOKEN)
    return requests.get(f"{sb.base_url}{sb.version}/{path}", params=params, timeout=5)


def follow(url: str) -> Iterator[dict[str, Any]]:
    """Yield every page of a listing by following ``paging.next``."""
    while url:
        body = requests.get(url, timeout=5).json()
        yield body
        url = body.get("paging", {}).get("next", "")


def error_of(response: requests.Response) -> dict[str, Any]:
    return response.json()["error"]


def test_posts_come_newest_first_and_page_via_next_until_it_is_absent(sandbox: Sandbox) -> None:
    """Following ``next`` yields every post once, newest first; the last page has no ``next``."""
    ids = [sandbox.add_post(f"post {i}", T0 + timedelta(hours=i)) for i in range(7)]
    first = get(sandbox, f"{sandbox.page_id}/posts", fields="id", limit=3).json()
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    pages = [first, *follow(first["paging"]["next"])]
    seen = [post["id"] for page in pages for post in page["data"]]
    assert seen == list(reversed(ids))
    assert [len(page["data"]) for page in pages] == [3, 3, 1]
    assert "next" not in pages[-1]["paging"]
    assert ids[0] == f"{sandbox.page_id}_1"


def test_since_drops_older_posts_and_limit_is_capped_at_100(sandbox: Sandbox) -> None:
    """``since`` (unix seconds) hides older posts; ``limit`` above 100 serves 100."""
    old = sandbox.add_post("old", T0 - timedelta(days=30))
    for i in range(120):
        sandbox.add_post(f"new {i}", T0 + timedelta(minutes=i))
    since = int((T0 - timedelta(days=1)).timestamp())
    body = get(sandbox, f"{sandbox.page_id}/posts", since=since, limit=500).json()
    assert len(body["data"]) == 100
    rest = [p for page in follow(body["paging"]["next"]) for p in page["data"]]
    assert len(rest) == 20 and old not in {p["id"] for p in rest}


def test_default_page_size_applies_without_limit() -> None:
    """Without ``limit`` a page holds ``page_size`` posts."""
    with Sandbox(page_size=2) as sb:
        for i in range(3):
            sb.add_post(f"p{i}", T0 + timedelta(minutes=i))
        assert len(get(sb, f"{sb.page_id}/posts").json()["data"]) == 2


def test_max_page_size_forces_paging_even_when_client_asks_for_more() -> None:
    """``max_page_size`` caps every edge, so tests can exercise paging with few objects."""
    with Sandbox(max_page_size=2) as sb:
        post = sb.add_post("p", T0)
        for i in range(5):
            sb.add_comment(post, f"c{i}", created_time=T0 + timedelta(minutes=i))
        first = get(sb, f"{post}/comments", limit=100).json()
        pages = [first, *follow(first["paging"]["next"])]
        assert [len(p["data"]) for p in pages] == [2, 2, 1]


def test_nested_expansion_embeds_first_comment_page_with_next_to_the_comments_edge(
    sandbox: Sandbox,
) -> None:
    """``comments.limit(N){...}`` embeds N comments and a ``next`` URL to /{post}/comments."""
    post = sandbox.add_post("Pool closes early on Friday", T0)
    made = [sandbox.add_comment(post, f"c{i}", created_time=T0 + timedelta(minutes=i)) for i in range(5)]
    fields = "id,message,comments.filter(stream).limit(2){id,message,is_hidden}"
    item = get(sandbox, f"{sandbox.page_id}/posts", fields=fields).json()["data"][0]
    assert set(item) == {"id", "message", "comments"}
    comments = item["comments"]
    assert [c["id"] for c in comments["data"]] == made[:2]
    assert set(comments["data"][0]) == {"id", "message", "is_hidden"}
    nxt = comments["paging"]["next"]
    assert nxt.startswith(f"{sandbox.base_url}v24.0/{post}/comments?")
    assert "after=" in nxt and "filter=stream" in nxt and "limit=2" in nxt
    rest = [c["id"] for page in follow(nxt) for c in page["data"]]
    assert rest == made[2:]


def test_full_post_shape_matches_graph(sandbox: Sandbox) -> None:
    """A post carries Graph's timestamp format, permalink and the Page as ``from``."""
    post = sandbox.add_post("Hello", T0)
    sandbox.add_comment(post, "Hi", author="Sam Critic", created_time=T0)
    item = get(sandbox, f"{sandbox.page_id}/posts", fields=EXPANDED).json()["data"][0]
    assert item["created_time"] == "2026-11-12T18:04:11+0000"
    assert item["updated_time"] == item["created_time"]
    assert item["permalink_url"] == f"https://www.facebook.com/{sandbox.page_id}/posts/1"
    assert item["from"] == {"name": "Riverside Community Center", "id": sandbox.page_id}
    comment = item["comments"]["data"][0]
    assert set(comment) == {"id", "message", "from", "created_time", "is_hidden"}
    assert comment["from"]["name"] == "Sam Critic" and comment["from"]["id"].isdigit()
    assert "next" not in item["comments"]["paging"]


def test_post_without_comments_has_no_comments_key(sandbox: Sandbox) -> None:
    """Like Graph, a post with no comments omits ``comments`` from the expansion entirely."""
    sandbox.add_post("quiet post", T0)
    item = get(sandbox, f"{sandbox.page_id}/posts", fields=EXPANDED).json()["data"][0]
    assert "comments" not in item


def test_stream_lists_replies_with_parent_and_toplevel_does_not(sandbox: Sandbox) -> None:
    """``filter(stream)`` is flat with ``parent`` on replies; default toplevel omits replies."""
    post = sandbox.add_post("p", T0)
    top = sandbox.add_comment(post, "Why is the pool closed?", created_time=T0)
    reply = sandbox.add_comment(
        post, "Staff shortage.", parent_id=top, from_page=True, created_time=T0 + timedelta(minutes=1)
    )
    fields = "id,comments.filter(stream){id,parent}"
    stream = get(sandbox, f"{sandbox.page_id}/posts", fields=fields).json()["data"][0]["comments"]
    assert [c["id"] for c in stream["data"]] == [top, reply]
    assert "parent" not in stream["data"][0]
    parent = stream["data"][1]["parent"]
    assert parent["id"] == top and parent["message"] == "Why is the pool closed?"
    assert set(parent) == {"id", "from", "message", "created_time"}
    toplevel = get(sandbox, f"{post}/comments").json()
    assert [c["id"] for c in toplevel["data"]] == [top]
    replies = get(sandbox, f"{top}/comments", fields="id,from").json()["data"]
    assert replies == [{"id": reply, "from": {"name": sandbox.page_name, "id": sandbox.page_id}}]


def test_reply_to_a_reply_is_attached_to_the_top_level_comment(sandbox: Sandbox) -> None:
    """Facebook threads are two levels deep, so the sandbox flattens deeper replies."""
    post = sandbox.add_post("p", T0)
    top = sandbox.add_comment(post, "a")
    reply = sandbox.add_comment(post, "b", parent_id=top)
    deeper = sandbox.add_comment(post, "c", parent_id=reply)
    assert get(sandbox, deeper, fields="parent{id}").json()["parent"] == {"id": top}


def test_comment_ids_follow_the_postnumber_commentnumber_shape(sandbox: Sandbox) -> None:
    """Comment ids look like real ones: ``{post number}_{comment number}``."""
    post = sandbox.add_post("p", T0)
    comment = sandbox.add_comment(post, "hi")
    assert comment.split("_")[0] == post.split("_")[1]


def test_get_object_returns_only_requested_fields_plus_id(sandbox: Sandbox) -> None:
    """A node GET honours ``fields`` and always includes ``id``, as Graph does."""
    post = sandbox.add_post("Hello", T0)
    assert get(sandbox, post, fields="message").json() == {"message": "Hello", "id": post}
    assert get(sandbox, sandbox.page_id).json() == {"name": sandbox.page_name, "id": sandbox.page_id}


def test_unknown_field_is_rejected_like_graph(sandbox: Sandbox) -> None:
    """A field no node has gets code 100; a real but unmodelled field is just omitted."""
    post = sandbox.add_post("Hello", T0)
    bad = get(sandbox, post, fields="id,mesage")
    assert bad.status_code == 400
    assert error_of(bad)["code"] == 100 and "(mesage)" in error_of(bad)["message"]
    assert get(sandbox, post, fields="id,story").json() == {"id": post}


def test_malformed_fields_get_a_syntax_error(sandbox: Sandbox) -> None:
    """Unbalanced braces in ``fields`` get Graph's 2500 syntax error."""
    post = sandbox.add_post("Hello", T0)
    response = get(sandbox, post, fields="id,comments{id")
    assert response.status_code == 400 and error_of(response)["code"] == 2500


def test_deleted_comment_reads_as_100_33_while_its_post_still_reads(sandbox: Sandbox) -> None:
    """A deleted comment leaves the list and its GET answers GraphMethodException 100/33."""
    post = sandbox.add_post("p", T0)
    keep = sandbox.add_comment(post, "fine")
    gone = sandbox.add_comment(post, "critical")
    sandbox.delete_comment(gone)
    response = get(sandbox, gone)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
    error = error_of(response)
    assert error["type"] == "GraphMethodException"
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert error["message"].startswith(f"Unsupported get request. Object with ID '{gone}'")
    assert error["fbtrace_id"]
    assert get(sandbox, post).status_code == 200
    assert [c["id"] for c in get(sandbox, f"{post}/comments").json()["data"]] == [keep]


def test_deleting_a_post_hides_its_comments_and_a_comment_its_replies(sandbox: Sandbox) -> None:
    """Deleted parents take their children with them, as on Facebook."""
    post = sandbox.add_post("p", T0)
    top = sandbox.add_comment(post, "a")
    reply = sandbox.add_comment(post, "b", parent_id=top)
    sandbox.delete_comment(top)
    assert error_of(get(sandbox, reply))["error_subcode"] == 33
    other = sandbox.add_comment(post, "c")
    sandbox.delete_post(post)
    assert error_of(get(sandbox, other))["error_subcode"] == 33
    assert error_of(get(sandbox, f"{post}/comments"))["error_subcode"] == 33
    assert "unknown_1" in error_of(get(sandbox, "unknown_1"))["message"]


def test_hiding_flips_is_hidden_and_keeps_the_comment_listed(sandbox: Sandbox) -> None:
    """Hidden comments stay in the stream with ``is_hidden`` true, set from Python or HTTP."""
    post = sandbox.add_post("p", T0)
    comment = sandbox.add_comment(post, "rude")

    def hidden() -> bool:
        data = get(sandbox, f"{post}/comments", fields="id,is_hidden", filter="stream").json()
        return data["data"][0]["is_hidden"]

    assert hidden() is False
    sandbox.hide_comment(comment)
    assert hidden() is True
    url = f"{sandbox.base_url}v24.0/{comment}"
    response = requests.post(url, data={"is_hidden": "false", "access_token": TOKEN}, timeout=5)
    assert response.json() == {"success": True}
    assert hidden() is False


def test_page_reply_and_delete_over_http(sandbox: Sandbox) -> None:
    """POST /{post}/comments creates a Page comment; DELETE /{comment} removes it."""
    post = sandbox.add_post("p", T0)
    url = f"{sandbox.base_url}v24.0/{post}/comments"
    created = requests.post(url, data={"message": "Thanks!", "access_token": TOKEN}, timeout=5)
    new_id = created.json()["id"]
    assert get(sandbox, new_id, fields="from,message").json() == {
        "from": {"name": sandbox.page_name, "id": sandbox.page_id},
        "message": "Thanks!",
        "id": new_id,
    }
    gone = requests.delete(f"{sandbox.base_url}v24.0/{new_id}", params={"access_token": TOKEN}, timeout=5)
    assert gone.json() == {"success": True}
    again = requests.delete(f"{sandbox.base_url}v24.0/{new_id}", params={"access_token": TOKEN}, timeout=5)
    assert error_of(again)["message"].startswith("Unsupported delete request.")


def test_edit_post_bumps_updated_time_and_edit_comment_changes_message(sandbox: Sandbox) -> None:
    """Edits show up on the next read; ``updated_time`` moves forward even within one second."""
    post = sandbox.add_post("Pool opens 9am")
    comment = sandbox.add_comment(post, "great")
    before = get(sandbox, post, fields="updated_time").json()["updated_time"]
    sandbox.edit_post(post, "Pool opens 10am")
    sandbox.edit_comment(comment, "great!!")
    after = get(sandbox, post, fields="message,updated_time").json()
    assert after["message"] == "Pool opens 10am" and after["updated_time"] > before
    assert get(sandbox, comment).json()["message"] == "great!!"


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_wrong_or_missing_token_gets_190_oauth_exception(sandbox: Sandbox, token: str | None) -> None:
    """Any token but the current one is answered with 190/463 and ``WWW-Authenticate``."""
    response = requests.get(
        f"{sandbox.base_url}v24.0/{sandbox.page_id}", params={"access_token": token}, timeout=5
    )
    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["code"], error["error_subcode"]) == ("OAuthException", 190, 463)
    assert error["message"].startswith("Error validating access token: Session has expired")
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_set_token_rotates_the_accepted_token(sandbox: Sandbox) -> None:
    """After ``set_token`` the old token fails and the new one works."""
    sandbox.set_token("fresh")
    assert error_of(get(sandbox, sandbox.page_id))["code"] == 190
    assert get(sandbox, sandbox.page_id, access_token="fresh").status_code == 200


def test_injected_buc_rate_limit_carries_regain_access_header(sandbox: Sandbox) -> None:
    """Code 80001 comes back as JSON with a default X-Business-Use-Case-Usage header."""
    sandbox.fail_next(code=80001)
    response = get(sandbox, sandbox.page_id)
    assert response.status_code == 400
    assert error_of(response)["code"] == 80001 and error_of(response)["is_transient"] is True
    usage = json.loads(response.headers["X-Business-Use-Case-Usage"])
    assert usage[sandbox.page_id][0]["estimated_time_to_regain_access"] == 5
    assert get(sandbox, sandbox.page_id).status_code == 200


def test_injected_error_uses_given_status_message_and_headers(sandbox: Sandbox) -> None:
    """``fail_next`` passes status, code, subcode, message and headers through."""
    buc = json.dumps(
        {
            sandbox.page_id: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 10,
                    "total_time": 10,
                    "estimated_time_to_regain_access": 7,
                }
            ]
        }
    )
    sandbox.fail_next(
        2, status=403, code=613, subcode=1996, message="slow down", headers={"X-Business-Use-Case-Usage": buc}
    )
    for _ in range(2):
        response = get(sandbox, sandbox.page_id)
        error = error_of(response)
        assert response.status_code == 403
        assert (error["code"], error["error_subcode"], error["message"]) == (613, 1996, "slow down")
        assert response.headers["X-Business-Use-Case-Usage"] == buc
    assert get(sandbox, sandbox.page_id).status_code == 200


def test_injected_plain_500_is_html_not_json(sandbox: Sandbox) -> None:
    """Without a code the injected failure is an HTTP 500 text/html page."""
    sandbox.fail_next()
    response = get(sandbox, sandbox.page_id)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_injection_with_path_contains_skips_other_requests(sandbox: Sandbox) -> None:
    """A rule with ``path_contains`` fires only on matching paths and leaves others alone."""
    post = sandbox.add_post("p", T0)
    sandbox.fail_next(code=190, path_contains="/comments")
    assert get(sandbox, post).status_code == 200
    assert get(sandbox, f"{sandbox.page_id}/posts", fields=EXPANDED).status_code == 200
    assert error_of(get(sandbox, f"{post}/comments"))["code"] == 190
    assert get(sandbox, f"{post}/comments").status_code == 200


def test_every_response_is_json_with_small_app_usage(sandbox: Sandbox) -> None:
    """Successes and errors alike carry the JSON content type and X-App-Usage percentages."""
    for response in (
        get(sandbox, sandbox.page_id),
        get(sandbox, "nope_1"),
        get(sandbox, sandbox.page_id, access_token="bad"),
    ):
        assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
        usage = json.loads(response.headers["X-App-Usage"])
        assert set(usage) == {"call_count", "total_cputime", "total_time"}
        assert all(0 <= value < 50 for value in usage.values())


def test_request_log_records_params_without_the_token(sandbox: Sandbox) -> None:
    """``requests`` logs method, path and merged params with ``access_token`` removed."""
    post = sandbox.add_post("p", T0)
    comment = sandbox.add_comment(post, "c")
    get(sandbox, f"{post}/comments", limit=5)
    requests.post(
        f"{sandbox.base_url}v24.0/{comment}?access_token={TOKEN}", data={"is_hidden": "true"}, timeout=5
    )
    assert sandbox.requests == [
        ("GET", f"/v24.0/{post}/comments", {"limit": "5"}),
        ("POST", f"/v24.0/{comment}", {"is_hidden": "true"}),
    ]
    assert sandbox.request_count == 2


def test_concurrent_clients_are_all_served(sandbox: Sandbox) -> None:
    """Parallel reads and Python-side writes neither fail nor lose a request."""
    post = sandbox.add_post("p", T0)

    def work(i: int) -> int:
        sandbox.add_comment(post, f"c{i}")
        with requests.Session() as session:
            url = f"{sandbox.base_url}v24.0/{post}/comments"
            return session.get(url, params={"access_token": TOKEN}, timeout=5).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(work, range(64))) == {200}
    assert sandbox.request_count == 64
    assert len(get(sandbox, f"{post}/comments").json()["data"]) == 64


def test_stop_frees_the_port_and_base_url_needs_start() -> None:
    """A stopped sandbox refuses connections; before start there is no base URL."""
    sb = Sandbox()
    with pytest.raises(RuntimeError):
        _ = sb.base_url
    sb.start()
    url = sb.base_url
    with requests.Session() as session:
        assert session.get(f"{url}v24.0/{sb.page_id}", params={"access_token": TOKEN}).ok
        sb.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(f"{url}v24.0/{sb.page_id}", params={"access_token": TOKEN}, timeout=2)


def test_fields_parser_reads_modifiers_and_nesting_and_round_trips() -> None:
    """The parser keeps modifiers and nested children, and formats back to the same text."""
    text = "id,comments.filter(stream).limit(100){id,from{name},parent},message"
    fields = parse_fields(text)
    assert [f.name for f in fields] == ["id", "comments", "message"]
    comments = fields[1]
    assert comments.modifier("filter") == "stream" and comments.modifier("limit") == "100"
    assert comments.children is not None
    assert comments.children[1] == FieldSpec("from", (), (FieldSpec("name"),))
    assert format_fields(fields) == text
    with pytest.raises(FieldsSyntaxError):
        parse_fields("id,{")
