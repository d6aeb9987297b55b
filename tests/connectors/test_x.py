"""X connector against recorded X API v2 payload shapes (HTTP mocked with responses)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import responses
import time_machine
from responses import matchers
from structlog.testing import capture_logs

from connectors.base import GoneTarget
from connectors.x import TWEET_FIELDS, XConnector
from guard.errors import AuthExpired, NotFound, PermissionMissing, RateLimited, Transient

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x"
API = "https://api.x.com/2"
TOKEN = "oauth2-user-token-not-real"
USER = "1234567890"
NOW = datetime(2024, 5, 10, 12, 0, tzinfo=timezone.utc)
SINCE = NOW - timedelta(days=14)
# Ids are real-shaped snowflakes whose embedded times match the fixtures' created_at.
P1_ORIGINAL, P1_EDITED = "1788494113797050368", "1788496630379450368"
P2, P3 = "1788267621381050368", "1785610110366650368"
R1, R2, R3, R4 = ("1788495372088250368", "1788499146961850368", "1788509213291450368", "1788524312785850368")
R5, R6 = "1788282720875450368", "1788479014302650368"
FIELDS = ",".join(TWEET_FIELDS)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def exact(**params: str) -> list[Any]:
    return [matchers.query_param_matcher(params)]


def some(**params: str) -> list[Any]:
    return [matchers.query_param_matcher(params, strict_match=False)]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def x() -> XConnector:
    return XConnector(USER, TOKEN)


def timeline(token: str | None = None) -> list[Any]:
    params = {
        "start_time": "2024-04-26T12:00:00Z",
        "tweet.fields": FIELDS,
        "exclude": "retweets,replies",
        "max_results": "100",
    }
    return exact(**params, **({"pagination_token": token} if token else {}))


def search(conversation: str, token: str | None = None) -> list[Any]:
    params = {
        "query": f"conversation_id:{conversation}",
        "tweet.fields": FIELDS,
        "expansions": "author_id",
        "user.fields": "username,name",
        "max_results": "100",
    }
    return exact(**params, **({"next_token": token} if token else {}))


def add_full_scan(rsps: responses.RequestsMock) -> None:
    """Two timeline pages (3 posts) and their conversations, p1's over two search pages."""
    rsps.get(f"{API}/users/{USER}/tweets", json=load("users_tweets_page_1.json"), match=timeline())
    rsps.get(f"{API}/tweets/search/recent", json=load("search_p1_page_1.json"), match=search(P1_ORIGINAL))
    rsps.get(
        f"{API}/tweets/search/recent",
        json=load("search_p1_page_2.json"),
        match=search(P1_ORIGINAL, "b26v89c19zqg8o3fpzbkk2aqpeazrv8chaqrx2bj8sjst"),
    )
    rsps.get(f"{API}/tweets/search/recent", json=load("search_p2.json"), match=search(P2))
    rsps.get(
        f"{API}/users/{USER}/tweets",
        json=load("users_tweets_page_2.json"),
        match=timeline("7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"),
    )
    rsps.get(f"{API}/tweets/search/recent", json=load("search_p3.json"), match=search(P3))


def scans_by_id(snapshot: Any) -> dict[str, Any]:
    return {scan.post.id: scan for scan in snapshot.posts}


def rate_limit_headers(reset: datetime) -> dict[str, str]:
    return {
        "x-rate-limit-limit": "450",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(reset.timestamp())),
    }


# -- fetch ------------------------------------------------------------------------------------


def test_fetch_follows_timeline_and_search_cursors(rsps, x):
    """Every timeline page and every search page of every conversation is read."""
    add_full_scan(rsps)
    snap = x.fetch(SINCE)
    assert snap.error is None and snap.posts_complete
    assert [s.post.id for s in snap.posts] == [P1_ORIGINAL, P2, P3]
    assert {c.id for c in scans_by_id(snap)[P1_ORIGINAL].comments} == {R1, R2, R3, R4}
    assert snap.api_calls == 6


def test_requests_send_the_token_as_bearer(rsps, x):
    """The OAuth 2.0 token goes in the Authorization header, as X expects."""
    add_full_scan(rsps)
    x.fetch(SINCE)
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_edited_post_is_one_post_with_a_stable_id_and_the_new_text(rsps, x):
    """An edit chain is one Post: the original id, later ids in previous_ids, the latest text."""
    add_full_scan(rsps)
    post = scans_by_id(x.fetch(SINCE))[P1_ORIGINAL].post
    assert post.id == P1_ORIGINAL and post.previous_ids == (P1_EDITED,)
    assert post.message == "Correction: the town meeting is on the 13th, not Thursday."
    assert post.created_time == "2024-05-09T09:00:00+00:00"  # the original's time (snowflake)
    assert post.updated_time == "2024-05-09T09:10:00+00:00"  # the edit's created_at
    assert post.permalink_url == f"https://x.com/i/web/status/{P1_EDITED}"


def test_replies_to_any_version_of_the_post_are_top_level(rsps, x):
    """replied_to the original or the edited version gives no parent; a nested reply keeps one."""
    add_full_scan(rsps)
    comments = {c.id: c for c in scans_by_id(x.fetch(SINCE))[P1_ORIGINAL].comments}
    assert comments[R1].parent_id is None and comments[R2].parent_id is None
    assert comments[R3].parent_id == R1
    assert all(c.post_id == P1_ORIGINAL for c in comments.values())


def test_hidden_is_unreported_and_account_replies_are_page_replies(rsps, x):
    """X reads carry no hidden state (None); replies by the account are from_page."""
    add_full_scan(rsps)
    comments = {c.id: c for c in scans_by_id(x.fetch(SINCE))[P1_ORIGINAL].comments}
    assert {c.hidden for c in comments.values()} == {None}
    assert comments[R3].from_page is True and comments[R1].from_page is False
    assert comments[R1].author_name == "reader_one" and comments[R1].author_id == "2244994945"
    assert comments[R1].created_time == "2024-05-09T09:05:00+00:00"


def test_edited_reply_keeps_its_original_id_and_shows_the_new_text(rsps, x):
    """A reply edited after a poll is the same comment (original id) with the latest text."""
    page = load("search_p2.json")
    edited = "1788290000000000000"
    page["data"][0].update(
        id=edited, text="@cityhall how late? (edited)", edit_history_tweet_ids=[R5, edited]
    )
    rsps.get(f"{API}/users/{USER}/tweets", json=load("users_tweets_page_2.json"))
    rsps.get(f"{API}/tweets/search/recent", json=page)
    comments = x.fetch(SINCE).posts[0].comments
    assert [(c.id, c.message) for c in comments] == [(R5, "@cityhall how late? (edited)")]


def test_unknown_account_is_not_found(rsps, x):
    """A timeline answered with only a resource-not-found error is an error, not zero posts."""
    body = {
        "errors": [
            {
                "value": USER,
                "detail": f"Could not find user with id: [{USER}].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "id",
                "resource_id": USER,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
    rsps.get(f"{API}/users/{USER}/tweets", json=body)
    snap = x.fetch(SINCE)
    assert isinstance(snap.error, NotFound) and not snap.posts_complete


def test_post_older_than_recent_search_is_never_complete(rsps, x):
    """A conversation older than 7 days can lose replies from search, so its scan is open."""
    add_full_scan(rsps)
    scans = scans_by_id(x.fetch(SINCE))
    assert scans[P3].complete is False
    assert scans[P3].incomplete_reason == "older than X recent search (7 days)"
    assert [c.id for c in scans[P3].comments] == [R6]  # new replies are still read
    assert scans[P1_ORIGINAL].complete and scans[P2].complete


def test_reads_count_every_post_returned(rsps, x):
    """``reads`` counts the post resources X bills: timeline items plus search results."""
    add_full_scan(rsps)
    x.fetch(SINCE)
    assert x.reads == 2 + 3 + 1 + 1 + 1 + 1


def test_429_is_rate_limited_until_the_reset_header(rsps, x):
    """429 mid-scan: RateLimited with retry_after = reset - now; what was read is kept."""
    rsps.get(f"{API}/users/{USER}/tweets", json=load("users_tweets_page_1.json"), match=timeline())
    rsps.get(
        f"{API}/tweets/search/recent",
        json=load("error_429.json"),
        status=429,
        headers=rate_limit_headers(NOW + timedelta(seconds=420)),
    )
    snap = x.fetch(SINCE)
    assert isinstance(snap.error, RateLimited) and snap.error.retry_after == 420
    assert not snap.posts_complete
    scans = scans_by_id(snap)
    assert scans[P1_ORIGINAL].complete is False and scans[P1_ORIGINAL].post.previous_ids
    assert scans[P2].complete is False
    assert scans[P2].incomplete_reason == "scan stopped by an earlier error"


def test_429_with_a_reset_in_the_past_still_waits_a_second(rsps, x):
    """A reset time already passed (clock skew) gives the minimum retry_after of 1 s."""
    rsps.get(
        f"{API}/users/{USER}/tweets",
        json=load("error_429.json"),
        status=429,
        headers=rate_limit_headers(NOW - timedelta(seconds=30)),
    )
    snap = x.fetch(SINCE)
    assert isinstance(snap.error, RateLimited) and snap.error.retry_after == 1.0


def test_depleted_credits_back_off_for_an_hour(rsps, x):
    """HTTP 402 credits-depleted is not healed by the rate window: RateLimited for an hour."""
    body = {
        "title": "Payment Required",
        "detail": "credits depleted",
        "type": "https://api.x.com/2/problems/credits-depleted",
    }
    rsps.get(f"{API}/users/{USER}/tweets", json=body, status=402)
    snap = x.fetch(SINCE)
    assert isinstance(snap.error, RateLimited) and snap.error.retry_after == 3600
    assert "credits" in str(snap.error)


def test_usage_cap_429_ignores_the_short_reset_header(rsps, x):
    """A 429 usage-capped answer is a billing cap, not the 15-minute window."""
    body = {
        "account_id": "1",
        "product_name": "standard-basic",
        "title": "UsageCapExceeded",
        "period": "Monthly",
        "scope": "Product",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped",
    }
    rsps.get(
        f"{API}/users/{USER}/tweets",
        json=body,
        status=429,
        headers=rate_limit_headers(NOW + timedelta(seconds=60)),
    )
    snap = x.fetch(SINCE)
    assert isinstance(snap.error, RateLimited) and snap.error.retry_after == 3600


def test_401_is_auth_expired(rsps, x):
    """An expired or revoked token is AuthExpired, and nothing was read."""
    rsps.get(f"{API}/users/{USER}/tweets", json=load("error_401.json"), status=401)
    snap = x.fetch(SINCE)
    assert isinstance(snap.error, AuthExpired) and snap.posts == () and not snap.posts_complete


def test_server_errors_and_timeouts_are_transient(rsps, x):
    """503 and a connect timeout are Transient: retry next poll."""
    rsps.get(f"{API}/users/{USER}/tweets", json=load("error_503.json"), status=503)
    assert isinstance(x.fetch(SINCE).error, Transient)
    rsps.get(f"{API}/users/{USER}/tweets", body=requests.exceptions.ConnectTimeout())
    assert isinstance(x.fetch(SINCE).error, Transient)


def test_token_is_never_logged(rsps, x, caplog):
    """Neither our structlog events nor tweepy's debug logging ever contain the token."""
    caplog.set_level(logging.DEBUG)
    rsps.get(f"{API}/tweets", json=load("error_503.json"), status=503)
    add_full_scan(rsps)
    with capture_logs() as events:
        x.fetch(SINCE)
        x.confirm_gone([GoneTarget(R1, P1_EDITED)])
    assert events and TOKEN not in repr(events)
    assert TOKEN not in caplog.text


# -- read budget ------------------------------------------------------------------------------


def test_read_budget_reached_refuses_reads_until_next_month(rsps):
    """At the monthly budget no request is made; retry_after points at the 1st, 00:00 UTC."""
    x = XConnector(USER, TOKEN, monthly_read_budget=500)
    x.read_budget.set_spent(500)
    snap = x.fetch(SINCE)
    assert isinstance(snap.error, RateLimited) and snap.api_calls == 0
    june = datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert snap.error.retry_after == (june - NOW).total_seconds()


def test_read_budget_starts_over_in_a_new_month(rsps, frozen):
    """The spend belongs to one calendar month; on the 1st reads are allowed again."""
    x = XConnector(USER, TOKEN, monthly_read_budget=500)
    x.read_budget.set_spent(500)
    frozen.move_to(datetime(2024, 6, 1, 0, 5, tzinfo=timezone.utc))
    assert x.read_budget.spent == 0


def test_reads_add_to_the_months_spend(rsps):
    """Reads made after read_budget.set_spent are added to the month's spend."""
    x = XConnector(USER, TOKEN, monthly_read_budget=10_000)
    x.read_budget.set_spent(120)
    add_full_scan(rsps)
    x.fetch(SINCE)
    assert x.read_budget.spent == 120 + 9


# -- confirm_gone -----------------------------------------------------------------------------


def add_lookup(rsps: responses.RequestsMock, ids: list[str], body: Any, status: int = 200) -> None:
    rsps.get(
        f"{API}/tweets",
        json=body,
        status=status,
        match=exact(ids=",".join(sorted(ids)), **{"tweet.fields": FIELDS}),
    )


def test_not_found_with_a_readable_control_is_deleted(rsps, x):
    """resource-not-found plus the control post present in the same lookup is "deleted"."""
    add_lookup(rsps, [R1, P1_EDITED], load("lookup_mixed.json"))
    assert x.confirm_gone([GoneTarget(R1, P1_EDITED)]) == {R1: "deleted"}
    assert len(rsps.calls) == 1  # the control rides in the same call


def test_the_archive_post_id_works_as_control_after_an_edit(rsps, x):
    """The poller's control is Post.id (the original version), which X still resolves."""
    body = load("lookup_mixed.json")
    body["data"][0]["id"] = P1_ORIGINAL
    add_lookup(rsps, [R1, P1_ORIGINAL], body)
    assert x.confirm_gone([GoneTarget(R1, P1_ORIGINAL)]) == {R1: "deleted"}


def test_authorization_error_is_unavailable_never_deleted(rsps, x):
    """not-authorized-for-resource (protected/suspended) is a visibility change, not a deletion."""
    add_lookup(rsps, [R4, P1_EDITED], load("lookup_mixed.json"))
    assert x.confirm_gone([GoneTarget(R4, P1_EDITED)]) == {R4: "unavailable"}


def test_a_reply_still_returned_is_present(rsps, x):
    """A reply that only fell out of search but resolves by id is "present"."""
    add_lookup(rsps, [R2, P1_EDITED], load("lookup_mixed.json"))
    assert x.confirm_gone([GoneTarget(R2, P1_EDITED)]) == {R2: "present"}


def test_not_found_with_a_failing_control_is_unknown(rsps, x):
    """If the control lookup fails too, the not-found proves nothing: "unknown"."""
    body = load("lookup_mixed.json")
    body["data"] = []
    body["errors"].append(dict(body["errors"][0], value=P1_EDITED, resource_id=P1_EDITED))
    add_lookup(rsps, [R1, P1_EDITED], body)
    assert x.confirm_gone([GoneTarget(R1, P1_EDITED)]) == {R1: "unknown"}


def test_failed_lookup_leaves_every_target_unknown(rsps, x):
    """A 503 on the lookup is a failed read: every target stays "unknown"."""
    add_lookup(rsps, [R1, R4, P1_EDITED], load("error_503.json"), status=503)
    assert x.confirm_gone([GoneTarget(R1, P1_EDITED), GoneTarget(R4, P1_EDITED)]) == {
        R1: "unknown",
        R4: "unknown",
    }


def test_rate_limit_during_confirm_is_raised(rsps, x):
    """Throttling stops the confirmation run instead of answering "unknown" forever."""
    rsps.get(
        f"{API}/tweets",
        json=load("error_429.json"),
        status=429,
        headers=rate_limit_headers(NOW + timedelta(minutes=5)),
    )
    with pytest.raises(RateLimited):
        x.confirm_gone([GoneTarget(R1, P1_EDITED)])


def test_lookups_carry_at_most_100_ids(rsps, x):
    """150 targets (and their shared control) are split into calls of at most 100 ids."""
    targets = [GoneTarget(str(10**18 + i), P1_EDITED) for i in range(150)]
    rsps.get(f"{API}/tweets", json={"data": [{"id": P1_EDITED, "text": "x"}]})
    rsps.get(f"{API}/tweets", json={"data": [{"id": P1_EDITED, "text": "x"}]})
    result = x.confirm_gone(targets)
    assert len(rsps.calls) == 2 and set(result.values()) == {"unknown"}
    for call in rsps.calls:
        ids = call.request.params["ids"].split(",")
        assert len(ids) <= 100 and P1_EDITED in ids


def test_account_as_control_is_checked_by_reading_the_account(rsps, x):
    """A deleted post's control is the account: not-found + readable account is "deleted"."""
    gone = {"errors": [dict(load("lookup_mixed.json")["errors"][0], value=P2, resource_id=P2)]}
    add_lookup(rsps, [P2], gone)
    rsps.get(f"{API}/users/{USER}", json=load("user.json"))
    assert x.confirm_gone([GoneTarget(P2, USER)]) == {P2: "deleted"}


# -- actions and check ------------------------------------------------------------------------


def test_reply_creates_a_reply_and_returns_its_id(rsps, x):
    """reply() posts /2/tweets with reply.in_reply_to_tweet_id and returns the new id."""
    rsps.post(
        f"{API}/tweets",
        json=load("create_tweet.json"),
        match=[
            matchers.json_params_matcher(
                {"text": "It is on the 13th. Sorry!", "reply": {"in_reply_to_tweet_id": R2}}
            )
        ],
    )
    assert x.reply(R2, "It is on the 13th. Sorry!") == load("create_tweet.json")["data"]["id"]


def test_reply_to_an_edited_post_targets_its_latest_version(rsps, x):
    """The archive's stable (original) id is translated to the live version for actions."""
    add_full_scan(rsps)
    x.fetch(SINCE)
    rsps.post(
        f"{API}/tweets",
        json=load("create_tweet.json"),
        match=[
            matchers.json_params_matcher(
                {"text": "Correction: 13th.", "reply": {"in_reply_to_tweet_id": P1_EDITED}}
            )
        ],
    )
    x.reply(P1_ORIGINAL, "Correction: 13th.")


def test_hide_and_unhide_put_the_hidden_flag(rsps, x):
    """hide() sends {"hidden": true} and unhide() {"hidden": false} to /tweets/:id/hidden."""
    rsps.put(
        f"{API}/tweets/{R1}/hidden",
        json=load("hide_reply.json"),
        match=[matchers.json_params_matcher({"hidden": True})],
    )
    rsps.put(
        f"{API}/tweets/{R1}/hidden",
        json=load("unhide_reply.json"),
        match=[matchers.json_params_matcher({"hidden": False})],
    )
    x.hide(R1)
    x.unhide(R1)


def test_403_names_the_missing_scopes(rsps, x):
    """A 403 on hide is PermissionMissing naming tweet.moderate.write."""
    rsps.put(f"{API}/tweets/{R1}/hidden", json=load("error_403.json"), status=403)
    with pytest.raises(PermissionMissing, match="tweet.moderate.write"):
        x.hide(R1)


def test_delete_of_someone_elses_reply_is_refused_before_any_write(rsps, x):
    """X lets an account delete only its own posts: another author's reply is refused."""
    add_full_scan(rsps)
    x.fetch(SINCE)
    with pytest.raises(PermissionMissing, match="hide it instead"):
        x.delete(R1)
    assert all(call.request.method == "GET" for call in rsps.calls)


def test_delete_of_the_accounts_own_reply_looks_up_the_author_then_deletes(rsps, x):
    """Without a prior scan the author is read by id; the account's own reply is deleted."""
    body = {"data": [{"id": R3, "text": "sorry", "author_id": USER, "edit_history_tweet_ids": [R3]}]}
    add_lookup(rsps, [R3], body)
    rsps.delete(f"{API}/tweets/{R3}", json=load("delete_tweet.json"))
    x.delete(R3)


def test_check_reads_the_account_and_one_timeline_page(rsps, x):
    """check() reads the user and its timeline and names the account."""
    rsps.get(f"{API}/users/{USER}", json=load("user.json"), match=some(**{"user.fields": "username,name"}))
    rsps.get(f"{API}/users/{USER}/tweets", json=load("users_tweets_page_2.json"), match=some(max_results="5"))
    lines = x.check()
    assert "@cityhall" in lines[0] and x.api_calls == 2


def test_base_url_override_points_at_a_sandbox(rsps):
    """``base_url`` replaces api.x.com, e.g. for a local sandbox."""
    x = XConnector(USER, TOKEN, base_url="http://127.0.0.1:8766/")
    rsps.put(f"http://127.0.0.1:8766/2/tweets/{R1}/hidden", json=load("hide_reply.json"))
    x.hide(R1)


def test_a_post_read_twice_in_one_utc_day_is_billed_once(rsps, frozen):
    """X bills a post once per UTC day: a second full scan the same day adds nothing, the
    first scan of the next day bills every post again."""
    x = XConnector(USER, TOKEN, monthly_read_budget=10_000)
    x.read_budget.set_spent(0)
    add_full_scan(rsps)
    x.fetch(SINCE)
    once = x.read_budget.spent
    add_full_scan(rsps)
    x.fetch(SINCE)
    assert once == 9 and x.read_budget.spent == once
    frozen.move_to(NOW + timedelta(days=1))
    add_full_scan(rsps)
    x.fetch(SINCE)
    assert x.read_budget.spent == 2 * once
