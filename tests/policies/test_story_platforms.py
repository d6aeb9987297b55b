"""The Thursday/TONIGHT story on every platform: real connector (HTTP mocked), archive, engine.

Each platform runs its own connector against a stateful fake of its API speaking the real
payload shapes (``tests/support/graph.py``, ``tests/support/x.py``).
The story is the same everywhere; only what the platform does differs: Facebook and Instagram
edit a post in place, X gives the edit a new id; Instagram needs two complete scans without the
comment before it asks whether it is gone.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from connectors.facebook import FacebookConnector
from connectors.instagram import InstagramConnector
from connectors.x import XConnector
from guard.config import parse_config
from guard.runtime.pipeline import PollOutcome, run_poll
from tests.support.graph import (
    IG_USER_ID,
    PAGE_ID,
    FakeComment,
    FakeIG,
    FakeIGComment,
    FakeMedia,
    FakePage,
    FakePost,
    ig_time,
)
from tests.support.x import USER_ID, USERNAME, Clock, FakeX

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
V1 = "Reminder: our community meeting is Thursday at 7pm in the library."
V2 = "Reminder: our community meeting is the Thirteenth at 7pm in the library."
QUESTION = "wait, the meeting is TONIGHT?!?"
SPAM = "WIN a free iPhone!!! http://spam.example/win"


def config(platform: str, account_id: str):
    return parse_config(f"""
[guard]
database = "unused.db"

[[accounts]]
name = "main"
platform = "{platform}"
page_id = "{account_id}"
token_env = "GUARD_TOKEN"
""")


class Facebook:
    """Facebook: one post edited in place; a deleted comment is gone after one absence."""

    platform, account_id, absences = "facebook", PAGE_ID, 1

    def __init__(self, rsps) -> None:
        stamp = "%Y-%m-%dT%H:%M:%S+0000"
        self.post_id = f"{PAGE_ID}_1"
        self.page = FakePage(
            rsps,
            [
                FakePost(
                    self.post_id,
                    V1,
                    created_time=T0.strftime(stamp),
                    comments=[
                        FakeComment(
                            "1_1", QUESTION, created_time=(T0 + timedelta(minutes=5)).strftime(stamp)
                        ),
                        FakeComment(
                            "1_2",
                            SPAM,
                            author="Promo Bot",
                            author_id="999",
                            created_time=(T0 + timedelta(minutes=6)).strftime(stamp),
                        ),
                    ],
                )
            ],
        )
        self.ids = {"question": "1_1", "spam": "1_2"}
        self.texts = {"question": QUESTION, "spam": SPAM}
        self.connector = FacebookConnector(PAGE_ID, "EAAB-test-token")

    def correct(self, at: datetime) -> None:
        self.page.post(self.post_id).message = V2

    def delete(self, which: str) -> None:
        self.page.remove_comment(self.ids[which])

    def tick(self, at: datetime) -> None:
        pass


class Instagram:
    """Instagram: a caption edited in place; absence must repeat before anyone asks."""

    platform, account_id, absences = "instagram", IG_USER_ID, 2

    def __init__(self, rsps) -> None:
        self.post_id = "17900000000000011"
        self.ig = FakeIG(
            rsps,
            [
                FakeMedia(
                    self.post_id,
                    V1,
                    timestamp=ig_time(T0),
                    comments=[
                        FakeIGComment(
                            "17850000000000021", QUESTION, timestamp=ig_time(T0 + timedelta(minutes=5))
                        ),
                        FakeIGComment(
                            "17850000000000022",
                            SPAM,
                            username="promo_bot_2026",
                            user_id="17841400000000999",
                            timestamp=ig_time(T0 + timedelta(minutes=6)),
                        ),
                    ],
                )
            ],
        )
        self.ids = {"question": "17850000000000021", "spam": "17850000000000022"}
        self.texts = {"question": QUESTION, "spam": SPAM}
        self.connector = InstagramConnector(IG_USER_ID, "EAAB-test-token")

    def correct(self, at: datetime) -> None:
        self.ig.get_media(self.post_id).caption = V2

    def delete(self, which: str) -> None:
        self.ig.remove_comment(self.ids[which])

    def tick(self, at: datetime) -> None:
        pass


class X:
    """X: the edit is a new post id in one edit chain; replies are found by recent search."""

    platform, account_id, absences = "x", USER_ID, 1

    def __init__(self, rsps) -> None:
        self.clock = Clock(T0)
        self.x = FakeX(rsps, self.clock)
        self.post_id = self.x.post(V1, T0)
        self.texts = {"question": f"@{USERNAME} {QUESTION}", "spam": f"@{USERNAME} {SPAM}"}
        self.ids = {
            "question": self.x.reply(self.post_id, self.texts["question"], T0 + timedelta(minutes=5)),
            "spam": self.x.reply(
                self.post_id,
                self.texts["spam"],
                T0 + timedelta(minutes=6),
                author="999",
                username="promo_bot_2026",
            ),
        }
        self.connector = XConnector(USER_ID, "oauth2-user-token", clock=self.clock)

    def correct(self, at: datetime) -> None:
        self.x.edit(self.post_id, V2, at)  # within X's 30-minute edit window

    def delete(self, which: str) -> None:
        self.x.delete(self.ids[which])

    def tick(self, at: datetime) -> None:
        self.clock.now = at


PLATFORMS = [Facebook, Instagram, X]


class Story:
    def __init__(self, db, world) -> None:
        self.db, self.world = db, world
        self.cfg = config(world.platform, world.account_id)

    def poll(self, minutes: int) -> PollOutcome:
        at = T0 + timedelta(minutes=minutes)
        self.world.tick(at)
        return run_poll(self.cfg, self.db, self.cfg.accounts[0], connector=self.world.connector, now=at)

    def findings(self) -> list[dict[str, Any]]:
        return [
            {**r, "evidence": json.loads(r["evidence"])}
            for r in self.db.query("SELECT * FROM findings ORDER BY id")
        ]

    def status(self, comment_id: str) -> str:
        return self.db.execute("SELECT status FROM comments WHERE id = ?", [comment_id]).fetchone()[0]


@pytest.fixture(params=PLATFORMS, ids=[p.platform for p in PLATFORMS])
def story(request, db, rsps) -> Story:
    return Story(db, request.param(rsps))


def test_deleted_question_on_corrected_post_opens_one_removed_critical_finding(story):
    """Post v1, TONIGHT?!? reply, post corrected, reply deleted → exactly one removed-critical."""
    w = story.world
    story.poll(10)
    w.correct(T0 + timedelta(minutes=15))
    story.poll(20)
    w.delete("question")
    for n in range(1, w.absences):  # Instagram: one absence proves nothing
        assert story.poll(20 + 10 * n).findings_opened == []
        assert story.status(w.ids["question"]) == "present"
    outcome = story.poll(20 + 10 * w.absences)
    (f,) = story.findings()
    assert outcome.findings_opened == [f["id"]]
    assert (f["kind"], f["severity"], f["post_id"]) == ("removed-critical", "critical", w.post_id)
    ev = f["evidence"]
    assert ev["platform"] == w.platform
    assert ev["comment"]["message"] == w.texts["question"]
    assert ev["comment"]["status"] == "deleted"
    assert [v["message"] for v in ev["post"]["versions"]] == [V1, V2]
    assert ["-", "Thursday"] in ev["diff"] and ["+", "the Thirteenth"] in ev["diff"]
    assert ev["correction"]["summary"] == "Thursday → the Thirteenth"
    assert "It said Thursday; it should say the Thirteenth" in f["suggested_reply"]
    story.poll(20 + 10 * w.absences + 10)
    assert len(story.findings()) == 1  # the same situation never opens twice


def test_corrected_post_is_one_archive_post_with_two_versions(story):
    """Whatever the platform does with ids on an edit, the archive holds one post, two versions."""
    story.poll(10)
    story.world.correct(T0 + timedelta(minutes=15))
    story.poll(20)
    posts = list(story.db.query("SELECT id, version, status FROM posts"))
    assert posts == [{"id": story.world.post_id, "version": 2, "status": "present"}]
    versions = [r["message"] for r in story.db.query("SELECT message FROM post_versions ORDER BY version")]
    assert versions == [V1, V2]


def test_deleted_spam_on_corrected_post_opens_no_finding(story):
    """Removing spam is ordinary moderation on every platform: confirmed deleted, no finding."""
    w = story.world
    story.poll(10)
    w.correct(T0 + timedelta(minutes=15))
    story.poll(20)
    w.delete("spam")
    for n in range(1, w.absences + 1):
        story.poll(20 + 10 * n)
    assert story.status(w.ids["spam"]) == "deleted"
    assert story.findings() == []
