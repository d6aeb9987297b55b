"""The Thursday/TONIGHT story end to end: real connector (HTTP mocked), archive, engine."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from connectors.facebook import FacebookConnector
from guard.config import parse_config
from guard.engine import run_engine
from guard.runtime.pipeline import run_poll
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
V1 = "Reminder: our community meeting is Thursday at 7pm in the library."
V2 = "Reminder: our community meeting is the Thirteenth at 7pm in the library."


def config(mode: str = "observe"):
    return parse_config(f"""
[guard]
database = "unused.db"
mode = "{mode}"

[[accounts]]
name = "main-page"
platform = "facebook"
page_id = "{PAGE_ID}"
token_env = "FB_PAGE_TOKEN"
""")


def fb_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


@pytest.fixture
def story(rsps):
    page = FakePage(
        rsps,
        [
            FakePost(
                POST,
                V1,
                created_time=fb_time(T0),
                comments=[
                    FakeComment(
                        "1_1",
                        "wait, the meeting is TONIGHT?!?",
                        created_time=fb_time(T0 + timedelta(minutes=5)),
                    ),
                    FakeComment(
                        "1_2",
                        "WIN a free iPhone!!! http://spam.example/win",
                        author="Promo Bot",
                        author_id="999",
                        created_time=fb_time(T0 + timedelta(minutes=6)),
                    ),
                ],
            )
        ],
    )
    return page


class Story:
    def __init__(self, db, page, mode="observe"):
        self.db, self.page, self.cfg = db, page, config(mode)
        self.fb = FacebookConnector(PAGE_ID, "EAAB-test-token")

    def poll(self, at: datetime):
        return run_poll(self.cfg, self.db, self.cfg.accounts[0], connector=self.fb, now=at)

    def findings(self, kind: str | None = None):
        rows = [
            {**r, "evidence": json.loads(r["evidence"])}
            for r in self.db.query("SELECT * FROM findings ORDER BY id")
        ]
        return [r for r in rows if kind is None or r["kind"] == kind]


def test_deleted_question_on_corrected_post_opens_one_removed_critical_finding(db, story):
    """Post v1, TONIGHT?!? comment, post v2, comment deleted → exactly one removed-critical."""
    s = Story(db, story)
    s.poll(T0 + timedelta(minutes=10))
    story.post(POST).message = V2
    s.poll(T0 + timedelta(minutes=20))
    story.remove_comment("1_1")
    outcome = s.poll(T0 + timedelta(minutes=30))
    (f,) = s.findings()
    assert outcome.findings_opened == [f["id"]]
    assert f["kind"] == "removed-critical" and f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["comment"]["message"] == "wait, the meeting is TONIGHT?!?"
    assert [v["message"] for v in ev["post"]["versions"]] == [V1, V2]
    assert ["-", "Thursday"] in ev["diff"] and ["+", "the Thirteenth"] in ev["diff"]
    assert ev["correction"]["summary"] == "Thursday → the Thirteenth"
    assert "It said Thursday; it should say the Thirteenth" in f["suggested_reply"]
    s.poll(T0 + timedelta(minutes=40))
    assert len(s.findings()) == 1  # the same situation never opens twice


def test_deleted_spam_on_corrected_post_opens_no_finding(db, story):
    """Removing spam is ordinary moderation: no finding."""
    s = Story(db, story)
    s.poll(T0 + timedelta(minutes=10))
    story.post(POST).message = V2
    s.poll(T0 + timedelta(minutes=20))
    story.remove_comment("1_2")
    s.poll(T0 + timedelta(minutes=30))
    assert s.findings() == []


@pytest.mark.parametrize("mode,expected_writes", [("enforce", 1), ("observe", 0)])
def test_hidden_question_is_unhidden_once_in_enforce_mode_only(db, story, mode, expected_writes):
    """enforce sends exactly one is_hidden=false and records it; observe writes nothing."""
    s = Story(db, story, mode)
    s.poll(T0 + timedelta(minutes=10))
    story.post(POST).message = V2
    s.poll(T0 + timedelta(minutes=20))
    story.comment("1_1").is_hidden = True
    s.poll(T0 + timedelta(minutes=30))
    s.poll(T0 + timedelta(minutes=35))  # still hidden on the platform: no second request
    assert [f["kind"] for f in s.findings()] == ["hidden-critical"]
    assert story.writes == [("POST", "1_1", {"is_hidden": ["false"]})] * expected_writes
    recorded = db.execute("SELECT count(*) FROM events WHERE kind = 'comment_unhidden_by_guard'").fetchone()[
        0
    ]
    assert recorded == expected_writes
    if mode == "enforce":
        story.comment("1_1").is_hidden = False
        s.poll(T0 + timedelta(minutes=40))
        assert s.findings()[0]["state"] == "resolved"


class TestUnansweredSla:
    """reply_within 2h, escalate_after 6h, measured from the question (post already corrected)."""

    @pytest.fixture
    def s(self, db, rsps):
        page = FakePage(rsps, [FakePost(POST, V1, created_time=fb_time(T0))])
        s = Story(db, page)
        with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
            s.poll(T0 + timedelta(minutes=1))
        page.post(POST).message = V2
        with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
            s.poll(T0 + timedelta(minutes=2))
        page.post(POST).comments.append(
            FakeComment(
                "1_1", "so is it this week or next week", created_time=fb_time(T0 + timedelta(minutes=3))
            )
        )
        s.page = page
        return s

    def at(self, s, minutes: int):
        """A poll at ``minutes``, then the daemon's time-based sweep."""
        moment = T0 + timedelta(minutes=minutes)
        with time_machine.travel(moment, tick=False):
            outcome = s.poll(datetime.now(timezone.utc))
            run_engine(s.db, s.cfg, now=datetime.now(timezone.utc))
            return outcome

    def page_reply(self, s, minutes: int):
        s.page.post(POST).comments.append(
            FakeComment(
                "1_9",
                "It's the 13th, sorry for the mix-up!",
                author="Riverside Community Center",
                author_id=PAGE_ID,
                parent="1_1",
                created_time=fb_time(T0 + timedelta(minutes=minutes)),
            )
        )

    def test_no_page_reply_for_two_hours_opens_unanswered(self, s):
        """At 2h after the question with no page reply, an unanswered finding opens."""
        self.at(s, 60)
        assert s.findings() == []
        self.at(s, 124)
        assert [f["kind"] for f in s.findings()] == ["unanswered", "silent-correction"]

    def test_page_reply_within_the_hour_prevents_the_finding(self, s):
        """A public page reply at 1h means nothing to report at 2h."""
        self.page_reply(s, 63)
        self.at(s, 64)
        self.at(s, 130)
        assert s.findings() == []

    def test_reply_after_the_finding_resolves_it(self, s):
        """The finding resolves itself once the page answers publicly."""
        self.at(s, 124)
        self.page_reply(s, 150)
        self.at(s, 151)
        (f,) = s.findings("unanswered")
        assert f["state"] == "resolved" and "answered publicly" in f["note"]

    def test_escalation_at_six_hours_fires_once(self, s):
        """Escalation marks the finding critical once, however many polls follow."""
        self.at(s, 124)
        self.at(s, 300)
        assert s.findings("unanswered")[0]["escalated_at"] is None
        self.at(s, 364)
        self.at(s, 400)
        (f,) = s.findings("unanswered")
        assert f["escalated_at"] == (T0 + timedelta(minutes=364)).isoformat()
        assert f["severity"] == "critical"
        n = s.db.execute(
            "SELECT count(*) FROM events WHERE kind = 'finding_escalated' AND object_id = '1_1'"
        ).fetchone()[0]
        assert n == 1
