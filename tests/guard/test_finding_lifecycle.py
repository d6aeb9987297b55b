"""Findings through the odd sequences real pages produce: real polls of the fake Graph page,
the engine after each, and the daemon's sweep. Each test is a story of one comment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from connectors.facebook import FacebookConnector
from guard.actions import moderate
from guard.config import Config, parse_config
from guard.engine import run_engine, set_state
from guard.runtime.pipeline import run_poll
from tests.cli.conftest import account_toml, email_toml
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture

POST = f"{PAGE_ID}_1"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
V1 = "Reminder: our community meeting is Thursday at 7pm in the library."
V2 = "Reminder: our community meeting is the Thirteenth at 7pm in the library."
QUESTION = "wait, the meeting is TONIGHT?!?"
# Alerts go to an email channel that is never delivered to: the outbox rows are what counts.
CONFIG = parse_config('[guard]\ndatabase = "unused.db"\n' + account_toml() + email_toml(9))
ENFORCE = parse_config('[guard]\ndatabase = "unused.db"\nmode = "enforce"\n' + account_toml() + email_toml(9))


def fb_time(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S+0000")


class Story:
    """A post with the question under it, polled at minute 10, then corrected and polled at 20
    (unless ``corrected`` is off)."""

    def __init__(self, db, rsps, *, corrected: bool = True, config: Config = CONFIG) -> None:
        self.db = db
        self.config = config
        self.page = FakePage(
            rsps,
            [
                FakePost(
                    POST,
                    V1,
                    created_time=fb_time(0),
                    comments=[FakeComment("1_1", QUESTION, created_time=fb_time(5))],
                )
            ],
        )
        self.fb = FacebookConnector(PAGE_ID, "EAAB-test-token")
        self.poll(10)
        if corrected:
            self.page.post(POST).message = V2
            self.poll(20)

    def poll(self, minutes: float) -> None:
        at = T0 + timedelta(minutes=minutes)
        with time_machine.travel(at, tick=False):
            run_poll(self.config, self.db, self.config.accounts[0], connector=self.fb, now=at)

    def sweep(self, minutes: float) -> None:
        run_engine(self.db, self.config, now=T0 + timedelta(minutes=minutes))

    def hide(self, hidden: bool, minutes: float) -> None:
        self.page.comment("1_1").is_hidden = hidden
        self.poll(minutes)

    def findings(self, kind: str) -> list[tuple[str, str | None]]:
        """(state, note) of each finding of ``kind``, oldest first."""
        return [
            (r["state"], r["note"])
            for r in self.db.query("SELECT state, note FROM findings WHERE kind = ? ORDER BY id", [kind])
        ]

    def first_alerts(self) -> int:
        return self.db.execute("SELECT count(*) FROM outbox WHERE stage = 'first'").fetchone()[0]


@pytest.fixture
def story(db, rsps) -> Story:
    return Story(db, rsps)


def test_a_comment_hidden_again_after_it_was_visible_opens_a_new_finding(story):
    """hidden → visible (the finding resolves) → hidden again is a second hiding: alerted
    like the first, once, however many polls see it hidden."""
    story.hide(True, 30)
    story.hide(False, 40)
    story.hide(True, 50)
    story.poll(60)
    assert story.findings("hidden-critical") == [("resolved", "the comment is visible again"), ("open", None)]
    assert story.first_alerts() == 2


def test_a_hidden_finding_staff_resolved_stays_resolved_while_the_comment_stays_hidden(story):
    """Staff closed it on purpose: the same hiding never reopens; a later one does."""
    story.hide(True, 30)
    set_state(story.db, 1, "resolved", now=T0 + timedelta(minutes=35), note="we talked to Dana")
    story.poll(40)
    story.sweep(41)
    assert story.findings("hidden-critical") == [("resolved", "we talked to Dana")]
    story.hide(False, 50)
    story.hide(True, 60)
    assert [s for s, _ in story.findings("hidden-critical")] == ["resolved", "open"]


def test_an_unanswered_question_hidden_then_shown_again_is_unanswered_again(story):
    """unanswered is superseded while the question is hidden; visible again and still with
    no page reply, it is owed an answer again."""
    story.sweep(150)
    story.hide(True, 160)
    story.hide(False, 170)
    story.sweep(171)
    assert [s for s, _ in story.findings("unanswered")] == ["resolved", "open"]
    assert [s for s, _ in story.findings("hidden-critical")] == ["resolved"]


def test_a_deleted_question_the_platform_lists_again_is_no_longer_removed(story):
    """Graph said gone, then lists the comment again (a glitch): the removed-critical finding
    resolves instead of reminding and escalating about a comment anyone can read; deleted
    for real later, it opens again."""
    question = story.page.comment("1_1")
    story.page.remove_comment("1_1")
    story.poll(30)
    story.page.deleted.discard("1_1")
    story.page.post(POST).comments.append(question)
    story.poll(40)
    assert story.findings("removed-critical") == [("resolved", "superseded: the comment is back (present)")]
    story.page.remove_comment("1_1")
    story.poll(50)
    story.sweep(51)
    assert [s for s, _ in story.findings("removed-critical")] == ["resolved", "open"]
    assert story.first_alerts() == 2


def test_a_question_deleted_in_the_poll_that_sees_the_correction_is_a_critical_removal(db, rsps):
    """Staff fix the post and delete the question between two polls: the poll that sees both
    opens one critical removed-critical whose reply names the fix, not a warning about an
    uncorrected post."""
    story = Story(db, rsps, corrected=False)
    story.page.post(POST).message = V2
    story.page.remove_comment("1_1")
    story.poll(20)
    story.poll(30)
    (row,) = db.query("SELECT severity, suggested_reply FROM findings WHERE kind = 'removed-critical'")
    assert row["severity"] == "critical"
    assert "It said Thursday; it should say the Thirteenth." in row["suggested_reply"]
    assert story.first_alerts() == 1


def test_a_corrected_post_deleted_under_open_findings_leaves_post_removed_to_carry_them(story):
    """The question went unanswered past the deadline, then the post was deleted with it:
    post-removed opens, and unanswered and silent-correction (nothing left to reply on) are
    superseded instead of escalating hours later about a post that is gone."""
    story.sweep(150)
    story.page.posts = []
    story.page.deleted.add(POST)
    story.poll(160)
    story.sweep(60 * 8)
    assert story.findings("post-removed") == [("open", None)]
    superseded = ("resolved", "superseded: the post was deleted")
    assert story.findings("unanswered") == story.findings("silent-correction") == [superseded]
    escalated = story.db.execute("SELECT kind FROM findings WHERE escalated_at IS NOT NULL").fetchall()
    assert escalated == [("post-removed",)]


def test_a_corrected_post_deleted_before_any_deadline_is_a_removal_of_its_questions(story):
    """Fixed at minute 20 and deleted, question and all, ten minutes later: no finding was open
    yet, and the question under a deleted post is never seen deleted on its own, so without this
    the story the product exists for (fix it, make the question disappear) left no trace."""
    story.page.posts = []
    story.page.deleted.add(POST)
    story.poll(30)
    assert story.findings("post-removed") == [("open", None)]
    (evidence,) = story.db.execute("SELECT evidence FROM findings WHERE kind = 'post-removed'").fetchone()
    assert '"protected_comments": ["1_1"]' in evidence
    assert story.first_alerts() == 1


def test_an_uncorrected_post_deleted_opens_nothing(db, rsps):
    """A post deleted without a correction is ordinary page housekeeping."""
    story = Story(db, rsps, corrected=False)
    story.page.posts = []
    story.page.deleted.add(POST)
    story.poll(30)
    assert story.findings("post-removed") == []


def test_a_comment_staff_hid_with_override_stays_hidden_and_is_alerted_once(db, rsps):
    """`hide --override --reason` is staff's audited decision: its override finding is the
    alert. Enforce mode does not un-hide it, and no hidden-critical repeats it; hidden again
    by someone else after it was shown, it is an ordinary hiding once more."""
    story = Story(db, rsps, config=ENFORCE)
    moderate(
        db,
        ENFORCE,
        "hide",
        "1_1",
        now=T0 + timedelta(minutes=25),
        override_protection=True,
        reason="it quotes a phone number",
        connector=story.fb,
    )
    story.hide(True, 30)
    story.poll(40)
    kinds = "SELECT kind FROM findings ORDER BY id"
    assert db.execute(kinds).fetchall() == [("override",)]
    assert story.page.writes == [("POST", "1_1", {"is_hidden": ["true"]})]
    story.hide(False, 50)
    story.hide(True, 60)
    assert db.execute(kinds).fetchall() == [("override",), ("hidden-critical",)]
    assert story.page.writes[-1] == ("POST", "1_1", {"is_hidden": ["false"]})


def test_a_page_throttled_for_hours_is_failing_at_its_second_refused_poll(db, rsps):
    """Graph throttles the page (code 32) and the next poll comes hours later: two failed polls
    spanning far more than failing_after x poll_every open account-failing, not a third wait."""
    story = Story(db, rsps, corrected=False)
    throttled = fixture("facebook/error_page_throttled_32.json")
    story.page.fail("/posts", 400, throttled)
    story.poll(20)
    assert story.findings("account-failing") == []
    story.page.fail("/posts", 400, throttled)
    story.poll(20 + 8 * 60)
    assert [s for s, _ in story.findings("account-failing")] == ["open"]


def test_an_unanswered_question_its_author_edits_into_thanks_is_no_longer_owed_an_answer(story):
    """The author answers themself ("never mind, found it, thanks!"): the unanswered finding
    resolves instead of reminding and escalating about a comment that asks nothing now."""
    story.sweep(150)
    assert [s for s, _ in story.findings("unanswered")] == ["open"]
    story.page.comment("1_1").message = "Never mind, found it. Thanks!"
    story.poll(160)
    story.sweep(161)
    assert story.findings("unanswered") == [
        ("resolved", "no longer a question or complaint (edited, or labelled not critical)")
    ]
