"""Instagram connector against recorded Graph API payload shapes (HTTP mocked with responses)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from connectors.base import GoneTarget
from connectors.instagram import MEDIA_FIELDS, InstagramConnector
from guard.errors import AuthExpired, NotFound, RateLimited, Transient

FIXTURES = Path(__file__).parent.parent / "fixtures" / "instagram"
GRAPH = "https://graph.facebook.com/v24.0"
IG = "17841400000000001"
TOKEN = "EAAB-test-token-not-real"
SINCE = datetime(2024, 5, 1, tzinfo=timezone.utc)
MEDIA_A, MEDIA_B, MEDIA_C, MEDIA_OLD = (
    "17900000000000011",
    "17900000000000012",
    "17900000000000013",
    "17900000000000014",
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def after(cursor: str) -> list[Any]:
    return [matchers.query_param_matcher({"after": cursor}, strict_match=False)]


@pytest.fixture
def ig() -> InstagramConnector:
    return InstagramConnector(IG, TOKEN)


def add_user(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/{IG}",
        json=load("user.json"),
        match=[matchers.query_param_matcher({"fields": "id,username"}, strict_match=False)],
    )


def add_media_page_1(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{GRAPH}/{IG}/media",
        json=load("media_page_1.json"),
        match=[matchers.query_param_matcher({"fields": MEDIA_FIELDS, "limit": "25", "access_token": TOKEN})],
    )


def add_full_scan(rsps: responses.RequestsMock, *, user: bool = True) -> None:
    """Two media pages, one extra page of replies and one extra page of comments."""
    if user:
        add_user(rsps)
    add_media_page_1(rsps)
    rsps.get(
        f"{GRAPH}/17850000000000021/replies",
        json=load("replies_page_2.json"),
        match=after("QVFIUjR1cmVwbGllc2FmdGVy"),
    )
    rsps.get(f"{GRAPH}/{IG}/media", json=load("media_page_2.json"), match=after("QVFIUm1lZGlhcGFnZTI"))
    rsps.get(f"{GRAPH}/{MEDIA_C}/comments", json=load("comments_page_2.json"), match=after("QVFIUmMxYWZ0ZXI"))


def by_id(snapshot: Any) -> dict[str, Any]:
    return {scan.post.id: scan for scan in snapshot.posts}


def test_fetch_reads_every_page_of_media_comments_and_replies(rsps, ig):
    """A full scan follows media, comment and reply cursors and marks every media complete."""
    add_full_scan(rsps)
    snap = ig.fetch(SINCE)
    assert snap.error is None and snap.posts_complete
    assert [s.post.id for s in snap.posts] == [MEDIA_A, MEDIA_B, MEDIA_C]
    assert all(s.complete for s in snap.posts)
    scans = by_id(snap)
    assert {c.id for c in scans[MEDIA_A].comments} == {
        "17850000000000021",
        "17850000000000022",
        "17850000000000031",
        "17850000000000032",
    }
    assert {c.id for c in scans[MEDIA_C].comments} == {
        "17850000000000023",
        "17850000000000024",
        "17850000000000033",
    }
    assert snap.api_calls == 5 and ig.api_calls == 5


def test_media_and_comments_map_onto_post_and_comment_records(rsps, ig):
    """Caption, text, username, timestamps and permalink land in the shared records."""
    add_full_scan(rsps)
    scan = by_id(ig.fetch(SINCE))[MEDIA_A]
    assert scan.post.message.startswith("Town meeting Thursday")
    assert scan.post.created_time == "2024-05-08T15:00:00+00:00"
    assert scan.post.permalink_url == "https://www.instagram.com/p/C6vX1aAr2Qe/"
    question = next(c for c in scan.comments if c.id == "17850000000000021")
    assert question.message == "wait, the meeting is TONIGHT?!?"
    assert question.author_name == "reader_one" and question.author_id == "17841400000000101"
    assert question.parent_id is None and question.post_id == MEDIA_A


def test_reply_parent_is_the_top_level_comment(rsps, ig):
    """Replies, inline or from an overflow page, point at the comment they belong to."""
    add_full_scan(rsps)
    comments = {c.id: c for c in by_id(ig.fetch(SINCE))[MEDIA_A].comments}
    assert comments["17850000000000031"].parent_id == "17850000000000021"
    assert comments["17850000000000032"].parent_id == "17850000000000021"


def test_hidden_flag_is_mapped(rsps, ig):
    """The ``hidden`` field becomes Comment.hidden, true and false alike."""
    add_full_scan(rsps)
    comments = {c.id: c for c in by_id(ig.fetch(SINCE))[MEDIA_A].comments}
    assert comments["17850000000000022"].hidden is True
    assert comments["17850000000000021"].hidden is False


def test_account_replies_are_marked_from_page_and_username_is_read_once(rsps, ig):
    """The account's own replies are page replies; its username costs one call per lifetime."""
    add_full_scan(rsps)
    comments = {c.id: c for c in by_id(ig.fetch(SINCE))[MEDIA_A].comments}
    assert comments["17850000000000032"].from_page is True
    assert comments["17850000000000021"].from_page is False
    rsps.reset()
    add_full_scan(rsps, user=False)
    assert ig.fetch(SINCE).api_calls == 4  # no second user read


def test_media_older_than_the_window_ends_the_scan(rsps, ig):
    """Media are newest first: once a page reaches before ``since`` no further page is read."""
    add_full_scan(rsps)  # media_page_2 has a `next` that is not registered and must not be hit
    snap = ig.fetch(SINCE)
    assert MEDIA_OLD not in by_id(snap) and snap.posts_complete


def test_old_pinned_media_at_the_top_is_skipped_not_taken_as_the_end(rsps, ig):
    """An old media first on a page (pinned) is skipped and the newer ones after it are read."""
    page = load("media_page_1.json")
    pinned = dict(page["data"][1], id="17900000000000099", timestamp="2023-01-01T00:00:00+0000")
    page["data"].insert(0, pinned)
    add_user(rsps)
    rsps.get(
        f"{GRAPH}/{IG}/media",
        json=page,
        match=[matchers.query_param_matcher({"fields": MEDIA_FIELDS, "limit": "25", "access_token": TOKEN})],
    )
    rsps.get(f"{GRAPH}/17850000000000021/replies", json=load("replies_page_2.json"))
    rsps.get(f"{GRAPH}/{IG}/media", json=load("media_page_2.json"), match=after("QVFIUm1lZGlhcGFnZTI"))
    rsps.get(f"{GRAPH}/{MEDIA_C}/comments", json=load("comments_page_2.json"))
    snap = ig.fetch(SINCE)
    assert [s.post.id for s in snap.posts] == [MEDIA_A, MEDIA_B, MEDIA_C]
    assert snap.api_calls == 5


def test_failed_replies_page_leaves_the_media_incomplete(rsps, ig):
    """A media is complete only after every reply page: a 613 on the second one leaves it open."""
    add_user(rsps)
    add_media_page_1(rsps)
    rsps.get(f"{GRAPH}/17850000000000021/replies", json=load("error_rate_limit.json"), status=400)
    snap = ig.fetch(SINCE)
    assert isinstance(snap.error, RateLimited) and snap.error.code == 613
    assert not snap.posts_complete
    scan = by_id(snap)[MEDIA_A]
    assert scan.complete is False and "613" in (scan.incomplete_reason or "")
    assert "17850000000000031" in {c.id for c in scan.comments}  # what was read is kept
    # the media later on the same page needs no paging, so it was fully read
    assert by_id(snap)[MEDIA_B].complete is True


def test_server_error_on_a_comment_page_keeps_earlier_media_intact(rsps, ig):
    """HTTP 500 while paging one media's comments: earlier media stay complete, error is set."""
    add_user(rsps)
    add_media_page_1(rsps)
    rsps.get(f"{GRAPH}/17850000000000021/replies", json=load("replies_page_2.json"))
    rsps.get(f"{GRAPH}/{IG}/media", json=load("media_page_2.json"), match=after("QVFIUm1lZGlhcGFnZTI"))
    rsps.get(f"{GRAPH}/{MEDIA_C}/comments", json=load("error_server.json"), status=500)
    snap = ig.fetch(SINCE)
    assert isinstance(snap.error, Transient)
    scans = by_id(snap)
    assert scans[MEDIA_A].complete and scans[MEDIA_B].complete
    assert scans[MEDIA_C].complete is False
    assert [c.id for c in scans[MEDIA_C].comments] == ["17850000000000023"]


def test_rate_limit_on_the_media_list_returns_what_was_read(rsps, ig):
    """A 613 on the second media page ends the scan with the first page's media intact."""
    add_user(rsps)
    add_media_page_1(rsps)
    rsps.get(f"{GRAPH}/17850000000000021/replies", json=load("replies_page_2.json"))
    rsps.get(
        f"{GRAPH}/{IG}/media",
        json=load("error_rate_limit.json"),
        status=400,
        match=after("QVFIUm1lZGlhcGFnZTI"),
    )
    snap = ig.fetch(SINCE)
    assert isinstance(snap.error, RateLimited) and not snap.posts_complete
    assert [s.post.id for s in snap.posts] == [MEDIA_A, MEDIA_B]
    assert all(s.complete for s in snap.posts)


def test_expired_token_is_auth_expired(rsps, ig):
    """Code 190 on the first read is AuthExpired, and the snapshot is empty and incomplete."""
    rsps.get(f"{GRAPH}/{IG}", json=load("error_token_expired.json"), status=400)
    snap = ig.fetch(SINCE)
    assert isinstance(snap.error, AuthExpired) and snap.posts == () and not snap.posts_complete


def test_absence_needs_two_complete_scans_before_confirm():
    """Restricted users' comments drop out of lists, so the poller waits for two absences."""
    assert InstagramConnector.absences_before_confirm == 2


def test_confirm_gone_needs_100_33_and_a_successful_control_read(rsps, ig):
    """100/33 on the comment plus a readable media is "deleted"; a readable comment is "present"."""
    rsps.get(f"{GRAPH}/17850000000000022", json=load("error_does_not_exist.json"), status=400)
    rsps.get(f"{GRAPH}/{MEDIA_A}", json={"id": MEDIA_A})
    rsps.get(f"{GRAPH}/17850000000000021", json={"id": "17850000000000021"})
    result = ig.confirm_gone(
        [GoneTarget("17850000000000022", MEDIA_A), GoneTarget("17850000000000021", MEDIA_A)]
    )
    assert result == {"17850000000000022": "deleted", "17850000000000021": "present"}


def test_confirm_gone_is_unknown_when_the_control_read_fails(rsps, ig):
    """100/33 with the media also unreadable proves nothing: the answer is "unknown"."""
    rsps.get(f"{GRAPH}/17850000000000022", json=load("error_does_not_exist.json"), status=400)
    rsps.get(f"{GRAPH}/{MEDIA_A}", json=load("error_does_not_exist.json"), status=400)
    assert ig.confirm_gone([GoneTarget("17850000000000022", MEDIA_A)]) == {"17850000000000022": "unknown"}


def test_confirm_gone_server_error_is_unknown_never_deleted(rsps, ig):
    """A 500 on the comment lookup is a failed read, not evidence of deletion."""
    rsps.get(f"{GRAPH}/17850000000000022", json=load("error_server.json"), status=500)
    assert ig.confirm_gone([GoneTarget("17850000000000022", MEDIA_A)]) == {"17850000000000022": "unknown"}


def test_hide_sends_hide_true(rsps, ig):
    """Hiding is POST /{comment-id} with hide=true."""
    rsps.post(
        f"{GRAPH}/17850000000000022",
        json={"success": True},
        match=[matchers.urlencoded_params_matcher({"hide": "true", "access_token": TOKEN})],
    )
    ig.hide("17850000000000022")


def test_unhide_sends_hide_false(rsps, ig):
    """Un-hiding (enforce mode) is POST /{comment-id} with hide=false."""
    rsps.post(
        f"{GRAPH}/17850000000000022",
        json={"success": True},
        match=[matchers.urlencoded_params_matcher({"hide": "false", "access_token": TOKEN})],
    )
    ig.unhide("17850000000000022")


def test_reply_to_a_comment_posts_to_its_replies_edge(rsps, ig):
    """A reply to a comment goes to /{comment-id}/replies and returns the new id."""
    rsps.get(f"{GRAPH}/17850000000000021", json=load("error_nonexisting_field.json"), status=400)
    rsps.post(
        f"{GRAPH}/17850000000000021/replies",
        json={"id": "17850000000000077"},
        match=[
            matchers.urlencoded_params_matcher(
                {"message": "It is on the 13th. Sorry!", "access_token": TOKEN}
            )
        ],
    )
    assert ig.reply("17850000000000021", "It is on the 13th. Sorry!") == "17850000000000077"


def test_reply_to_a_media_seen_in_a_fetch_comments_on_the_media(rsps, ig):
    """A media id known from a scan is answered with POST /{media-id}/comments, no probe."""
    add_full_scan(rsps)
    ig.fetch(SINCE)
    rsps.post(f"{GRAPH}/{MEDIA_A}/comments", json={"id": "17850000000000078"})
    assert ig.reply(MEDIA_A, "Correction: the meeting is on the 13th.") == "17850000000000078"


def test_reply_to_a_missing_object_raises_not_found(rsps, ig):
    """A target that is gone (100/33) is reported, not answered on the wrong edge."""
    rsps.get(f"{GRAPH}/17850000000000022", json=load("error_does_not_exist.json"), status=400)
    with pytest.raises(NotFound):
        ig.reply("17850000000000022", "hello")


def test_delete_sends_delete(rsps, ig):
    """Deleting is DELETE /{comment-id}."""
    rsps.delete(f"{GRAPH}/17850000000000022", json={"success": True})
    ig.delete("17850000000000022")


def test_check_reads_the_account_and_one_media_page(rsps, ig):
    """check() asks debug_token about the Page token, reads the IG user and one media with
    comments, and names the account."""
    token = json.loads((Path(__file__).parent.parent / "fixtures/facebook/debug_token_page.json").read_text())
    token["data"]["scopes"] += ["instagram_basic", "instagram_manage_comments"]
    rsps.get(f"{GRAPH}/debug_token", json=token)
    add_user(rsps)
    rsps.get(
        f"{GRAPH}/{IG}/media",
        json=load("media_page_1.json"),
        match=[matchers.query_param_matcher({"limit": "1"}, strict_match=False)],
    )
    lines = ig.check()
    assert lines[0].startswith("token type PAGE; expires never")
    assert any("@cityhall" in line for line in lines) and ig.api_calls == 3


def test_base_url_override_points_at_a_sandbox(rsps):
    """``base_url`` replaces graph.facebook.com, e.g. for the demo sandbox."""
    conn = InstagramConnector(IG, TOKEN, base_url="http://127.0.0.1:8765")
    rsps.delete("http://127.0.0.1:8765/v24.0/17850000000000022", json={"success": True})
    conn.delete("17850000000000022")
