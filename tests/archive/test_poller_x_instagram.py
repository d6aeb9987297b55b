"""Polls through the real X and Instagram connectors: "deleted" only when the platform says so.

Both platforms drop objects from lists for reasons other than deletion (X: protected authors,
recent search's seven-day window; Instagram: restricted users), so these tests drive the poller
through each connector against stateful fakes of the real APIs (``tests/support/x.py``,
``tests/support/graph.py``) and check which statuses and events the archive records.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from connectors.instagram import InstagramConnector
from connectors.x import XConnector
from guard.config import parse_config
from guard.errors import RateLimited
from guard.runtime.pipeline import PollResult, poll_account, run_poll
from tests.support.graph import IG_USER_ID, FakeIG, FakeIGComment, FakeMedia, ig_time
from tests.support.x import USER_ID, USERNAME, Clock, FakeX, Throttle

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
V1 = "Reminder: our community meeting is Thursday at 7pm in the library."
V2 = "Reminder: our community meeting is the Thirteenth at 7pm in the library."
QUESTION = "wait, the meeting is TONIGHT?!?"


def config(platform: str, account_id: str, mode: str = "observe"):
    return parse_config(f"""
[guard]
database = "unused.db"
mode = "{mode}"

[[accounts]]
name = "main"
platform = "{platform}"
page_id = "{account_id}"
token_env = "GUARD_TOKEN"
confirm_every = "6h"
""")


def status(db, comment_id: str) -> str:
    return db.execute("SELECT status FROM comments WHERE id = ?", [comment_id]).fetchone()[0]


def events(db, since_seq: int = 0) -> list[tuple[str, str]]:
    return [
        (r["kind"], r["object_id"])
        for r in db.query("SELECT kind, object_id FROM events WHERE seq > ? ORDER BY seq", [since_seq])
    ]


def last_seq(db) -> int:
    return db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]


# -- X ----------------------------------------------------------------------------------------


class XWorld:
    """One X account with a post and a reply under it, and a clock shared with the connector."""

    def __init__(self, db, rsps) -> None:
        self.db = db
        self.clock = Clock(T0)
        self.fake = FakeX(rsps, self.clock)
        self.post_id = self.fake.post(V1, T0)
        self.reply_id = self.fake.reply(self.post_id, f"@{USERNAME} {QUESTION}", T0 + timedelta(minutes=5))
        self.cfg = config("x", USER_ID)
        self.account = self.cfg.accounts[0]
        self.connector = XConnector(USER_ID, "oauth2-user-token", clock=self.clock)

    def poll(self, at: datetime) -> PollResult:
        self.clock.now = at
        return poll_account(self.db, self.account, self.connector, now=at)


@pytest.fixture
def xw(db, rsps) -> XWorld:
    return XWorld(db, rsps)


def test_x_authorization_error_on_lookup_is_unavailable_never_deleted(xw):
    """A reply whose author went protected leaves search; the lookup's Authorization Error
    makes it ``unknown`` with one ``comment_unavailable`` event, and it is asked again only
    every ``confirm_every`` (6 h), never called deleted."""
    xw.poll(T0 + timedelta(minutes=10))
    xw.fake.protect("2244994945")
    seq = last_seq(xw.db)
    xw.poll(T0 + timedelta(minutes=20))
    xw.poll(T0 + timedelta(minutes=30))
    assert status(xw.db, xw.reply_id) == "unknown"
    assert events(xw.db, seq) == [("comment_unavailable", xw.reply_id)]
    assert xw.fake.lookups_of(xw.reply_id) == 1
    xw.poll(T0 + timedelta(hours=6, minutes=30))
    assert xw.fake.lookups_of(xw.reply_id) == 2
    assert status(xw.db, xw.reply_id) == "unknown"
    assert events(xw.db, seq) == [("comment_unavailable", xw.reply_id)]


@pytest.mark.parametrize(
    "answer,expected_status,expected_events",
    [
        ("still there", "present", []),
        ("deleted", "deleted", ["comment_deleted"]),
        ("protected", "unknown", ["comment_unavailable"]),
        ("lookup fails", "unknown", ["comment_missing"]),
    ],
)
def test_x_reply_aged_out_of_search_is_deleted_only_on_resource_not_found(
    xw, answer, expected_status, expected_events
):
    """Eight days on, recent search no longer shows the reply: only a by-id
    ``resource-not-found`` (with the control post readable) makes it ``deleted``."""
    xw.poll(T0 + timedelta(hours=1))
    if answer == "deleted":
        xw.fake.delete(xw.reply_id)
    elif answer == "protected":
        xw.fake.protect("2244994945")
    elif answer == "lookup fails":
        xw.fake.fail(
            "/2/tweets",
            503,
            {
                "title": "Service Unavailable",
                "detail": "Service Unavailable",
                "type": "about:blank",
                "status": 503,
            },
        )
    seq = last_seq(xw.db)
    result = xw.poll(T0 + timedelta(days=8))
    assert not result.complete  # a conversation older than search is never complete
    assert xw.fake.lookups_of(xw.reply_id) == 1
    assert status(xw.db, xw.reply_id) == expected_status
    assert [kind for kind, _ in events(xw.db, seq)] == expected_events


def test_x_aged_out_replies_are_verified_by_id_only_every_confirm_every(xw):
    """The by-id check of a conversation older than search runs once per ``confirm_every``
    (6h); a deletion in between waits for the next check instead of being guessed."""
    day8 = T0 + timedelta(days=8)
    xw.poll(T0 + timedelta(hours=1))
    xw.poll(day8)
    assert xw.fake.lookups_of(xw.reply_id) == 1
    xw.poll(day8 + timedelta(hours=1))
    xw.poll(day8 + timedelta(hours=5, minutes=59))
    assert xw.fake.lookups_of(xw.reply_id) == 1  # not due yet
    xw.poll(day8 + timedelta(hours=6))
    assert xw.fake.lookups_of(xw.reply_id) == 2
    assert status(xw.db, xw.reply_id) == "present"
    xw.fake.delete(xw.reply_id)
    xw.poll(day8 + timedelta(hours=7))
    assert xw.fake.lookups_of(xw.reply_id) == 2 and status(xw.db, xw.reply_id) == "present"
    xw.poll(day8 + timedelta(hours=12))
    assert xw.fake.lookups_of(xw.reply_id) == 3 and status(xw.db, xw.reply_id) == "deleted"
    assert xw.fake.count("GET", "/2/tweets/search/recent") == 7  # search itself every poll


def test_x_recent_replies_missing_from_a_complete_search_are_looked_up_every_poll(xw):
    """Inside the seven-day window a complete search is the list: a missing reply is looked up
    at once, without waiting for ``confirm_every``."""
    xw.poll(T0 + timedelta(minutes=10))
    xw.fake.delete(xw.reply_id)
    xw.poll(T0 + timedelta(minutes=15))
    assert xw.fake.lookups_of(xw.reply_id) == 1 and status(xw.db, xw.reply_id) == "deleted"


def test_x_429_records_rate_limited_with_retry_after_until_the_reset(xw):
    """A 429 mid-scan ends the poll with RateLimited(retry_after = reset − now); nothing that
    was not read is counted missing."""
    xw.poll(T0 + timedelta(minutes=10))
    at = T0 + timedelta(minutes=20)
    throttle = Throttle(reset=at + timedelta(seconds=420))
    xw.fake.fail("/2/tweets/search/recent", 429, throttle.body, throttle.headers)
    seq = last_seq(xw.db)
    result = xw.poll(at)
    assert isinstance(result.error, RateLimited)
    assert result.error.retry_after == pytest.approx(420, abs=1)
    assert not result.complete
    assert events(xw.db, seq) == []
    assert xw.db.execute("SELECT missing_count FROM comments WHERE id = ?", [xw.reply_id]).fetchone()[0] == 0
    (row,) = xw.db.query("SELECT error, complete FROM polls ORDER BY id DESC LIMIT 1")
    assert "rate limited" in row["error"] and row["complete"] == 0


def test_x_429_on_the_timeline_is_rate_limited_and_nothing_goes_missing(xw):
    """A throttled timeline read is a failed poll, not an account whose posts all vanished."""
    xw.poll(T0 + timedelta(minutes=10))
    at = T0 + timedelta(minutes=20)
    throttle = Throttle(reset=at + timedelta(minutes=15))
    xw.fake.fail(f"/2/users/{USER_ID}/tweets", 429, throttle.body, throttle.headers)
    result = xw.poll(at)
    assert isinstance(result.error, RateLimited) and result.failed
    assert result.error.retry_after == pytest.approx(900, abs=1)
    assert {r["missing_count"] for r in xw.db.query("SELECT missing_count FROM posts")} == {0}


def test_x_edited_post_is_one_post_with_two_versions(xw):
    """An edit's new id extends the post's chain: one archive post (original id), two versions,
    the new id in previous_ids, and no missing or deleted post."""
    xw.poll(T0 + timedelta(minutes=10))
    new_id = xw.fake.edit(xw.post_id, V2, T0 + timedelta(minutes=15))
    answer = xw.fake.reply(
        new_id,
        f"@{USERNAME} thanks for fixing it",
        T0 + timedelta(minutes=16),
        author="783214",
        username="sam_neighbor",
    )
    seq = last_seq(xw.db)
    xw.poll(T0 + timedelta(minutes=20))
    xw.poll(T0 + timedelta(minutes=25))
    (post,) = xw.db.query("SELECT * FROM posts")
    assert post["id"] == xw.post_id and post["version"] == 2 and post["status"] == "present"
    assert json.loads(post["previous_ids"]) == [new_id]
    assert post["permalink_url"].endswith(new_id)
    assert [r["message"] for r in xw.db.query("SELECT message FROM post_versions ORDER BY version")] == [
        V1,
        V2,
    ]
    assert events(xw.db, seq) == [("post_edited", xw.post_id), ("comment_added", answer)]
    (reply,) = xw.db.query("SELECT post_id, parent_id FROM comments WHERE id = ?", [answer])
    assert reply == {"post_id": xw.post_id, "parent_id": None}


# -- Instagram --------------------------------------------------------------------------------

MEDIA = "17900000000000011"
ASKER = "17841400000000101"
COMMENT = "17850000000000021"


class IGWorld:
    """One Instagram media with the TONIGHT?!? comment, polled through the real connector."""

    def __init__(self, db, rsps, mode: str = "observe") -> None:
        self.db = db
        self.fake = FakeIG(
            rsps,
            [
                FakeMedia(
                    MEDIA,
                    V1,
                    timestamp=ig_time(T0),
                    comments=[
                        FakeIGComment(
                            COMMENT, QUESTION, user_id=ASKER, timestamp=ig_time(T0 + timedelta(minutes=5))
                        ),
                        FakeIGComment(
                            "17850000000000022",
                            "See you there!",
                            username="sam_neighbor",
                            user_id="17841400000000102",
                            timestamp=ig_time(T0 + timedelta(minutes=6)),
                        ),
                    ],
                )
            ],
        )
        self.cfg = config("instagram", IG_USER_ID, mode)
        self.account = self.cfg.accounts[0]
        self.connector = InstagramConnector(IG_USER_ID, "EAAB-test-token")

    def poll(self, minutes: int) -> PollResult:
        return poll_account(self.db, self.account, self.connector, now=T0 + timedelta(minutes=minutes))

    def run(self, minutes: int):
        return run_poll(
            self.cfg, self.db, self.account, connector=self.connector, now=T0 + timedelta(minutes=minutes)
        )

    def findings(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM findings ORDER BY id"))


@pytest.fixture
def ig(db, rsps) -> IGWorld:
    return IGWorld(db, rsps)


def test_ig_comment_absent_once_then_present_records_no_event(ig):
    """A comment left out of one scan (its author restricted, then not) records nothing and
    costs no by-id read."""
    ig.poll(10)
    seq = last_seq(ig.db)
    ig.fake.restrict(ASKER)
    assert ig.poll(20).complete
    ig.fake.unrestrict(ASKER)
    ig.poll(30)
    assert events(ig.db, seq) == []
    assert ig.fake.gets_of(COMMENT) == 0
    (row,) = ig.db.query("SELECT status, missing_count FROM comments WHERE id = ?", [COMMENT])
    assert row == {"status": "present", "missing_count": 0}


def test_ig_comment_absent_twice_with_100_33_and_readable_media_is_deleted(ig):
    """Second complete scan without it → GET comment (100/33) + GET media (ok) → ``deleted``."""
    ig.poll(10)
    ig.fake.remove_comment(COMMENT)
    seq = last_seq(ig.db)
    ig.poll(20)
    assert ig.fake.gets_of(COMMENT) == 0 and status(ig.db, COMMENT) == "present"
    ig.poll(30)
    assert ig.fake.gets_of(COMMENT) == 1 and ig.fake.gets_of(MEDIA) == 1
    assert status(ig.db, COMMENT) == "deleted"
    assert events(ig.db, seq) == [("comment_deleted", COMMENT)]


def test_ig_100_33_with_an_unreadable_media_is_not_deleted(ig):
    """If the control read of the media fails too, 100/33 proves nothing: ``unknown``, asked
    again next poll, and ``deleted`` once the control read succeeds."""
    ig.poll(10)
    ig.fake.remove_comment(COMMENT)
    ig.poll(20)
    seq = last_seq(ig.db)
    ig.fake.fail(
        MEDIA,
        400,
        {
            "error": {
                "message": f"Unsupported get request. Object with ID '{MEDIA}' does not exist, cannot be"
                " loaded due to missing permissions, or does not support this operation.",
                "type": "IGApiException",
                "code": 100,
                "error_subcode": 33,
                "fbtrace_id": "AZx1Yv2Wb3Uc4Td5Se6Rf7Q",
            }
        },
    )
    ig.poll(30)
    assert status(ig.db, COMMENT) == "unknown"
    ig.poll(40)
    assert status(ig.db, COMMENT) == "deleted"
    assert events(ig.db, seq) == [("comment_missing", COMMENT), ("comment_deleted", COMMENT)]


def test_ig_restricted_comment_missing_twice_but_readable_by_id_records_nothing(ig):
    """A restricted user's comment is absent from every list but still readable by id:
    ``present``, no status change and no event."""
    ig.poll(10)
    seq = last_seq(ig.db)
    ig.fake.restrict(ASKER)
    ig.poll(20)
    ig.poll(30)
    assert ig.fake.gets_of(COMMENT) == 1
    assert status(ig.db, COMMENT) == "present" and events(ig.db, seq) == []


@pytest.mark.parametrize("mode,expected_writes", [("enforce", 1), ("observe", 0)])
def test_ig_hidden_question_on_corrected_post_is_unhidden_once_in_enforce_mode_only(
    db, rsps, mode, expected_writes
):
    """Hidden TONIGHT?!? on a corrected caption → one hidden-critical; enforce sends exactly
    one ``hide=false`` even while reads still show it hidden; observe writes nothing."""
    ig = IGWorld(db, rsps, mode)
    ig.run(10)
    ig.fake.get_media(MEDIA).caption = V2
    ig.run(20)
    ig.fake.apply_writes = False  # read-after-write lag: it still reads as hidden
    ig.fake.comment(COMMENT).hidden = True
    opened = ig.run(30).findings_opened
    ig.run(35)
    (f,) = ig.findings()
    assert opened == [f["id"]]
    assert (f["kind"], f["severity"], f["comment_id"]) == ("hidden-critical", "critical", COMMENT)
    assert json.loads(f["evidence"])["comment"]["message"] == QUESTION
    writes = [w for w in ig.fake.writes if w[0] == "POST"]
    assert writes == [("POST", COMMENT, {"hide": ["false"]})] * expected_writes
    if mode == "enforce":
        ig.fake.comment(COMMENT).hidden = False  # the un-hide shows up in reads
        ig.run(40)
        assert ig.findings()[0]["state"] == "resolved"
        assert len([w for w in ig.fake.writes if w[0] == "POST"]) == 1
