"""Each rule on hand-built policy records: what it opens, and when it resolves itself.

No archive, no engine: a rule is a pure function of a thread, so these tests build the
thread the rule sees and call ``evaluate`` / ``resolve`` directly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from guard.states import Severity
from policies.analysis import Analysis, analyze
from policies.records import CommentRecord, OpenFinding, PolicyConfig, PostRecord, Thread, Version
from policies.rules import (
    RULES,
    comment_label,
    finding_kinds,
    headline,
    hidden_critical,
    override,
    post_removed,
    removed_critical,
    resolution,
    rule_for,
    run_rules,
    silent_correction,
    unanswered,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
POST_ID = "page_1"
WRONG = "Our community meeting is Thursday at 7pm in the library."
RIGHT = "Our community meeting is the Thirteenth at 7pm in the library."


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def post(*, corrected: bool = True, status: str = "present", marker: str = "") -> PostRecord:
    versions = [Version(1, WRONG, at(0))]
    if corrected:
        versions.append(Version(2, RIGHT + marker, at(30)))
    return PostRecord(
        id=POST_ID,
        account="main",
        platform="facebook",
        message=versions[-1].message,
        status=status,
        created_time=at(0),
        permalink_url=None,
        versions=tuple(versions),
    )


def comment(
    cid: str,
    message: str,
    *,
    status: str = "present",
    minutes: float = 10,
    from_page: bool = False,
    parent_id: str | None = None,
    author: str = "Dana Reyes",
) -> CommentRecord:
    return CommentRecord(
        id=cid,
        post_id=POST_ID,
        parent_id=parent_id,
        author_name=author,
        author_id=None,
        message=message,
        created_time=at(minutes),
        status=status,
        from_page=from_page,
        status_changed_at=at(40),
    )


QUESTION = "wait, the meeting is TONIGHT?!?"


def analysis(
    *comments: CommentRecord, p: PostRecord | None = None, open_kinds: frozenset[str] = frozenset()
) -> Analysis:
    thread = Thread(post=p or post(), comments=comments, open_kinds=open_kinds)
    return analyze(thread, PolicyConfig(reply_within_seconds=7200, escalate_after_seconds=21600))


def finding_for(rule_kind: str, a: Analysis, now: datetime) -> OpenFinding:
    rule = rule_for(rule_kind)
    assert rule is not None
    draft = rule.evaluate(a, now)[0]
    return OpenFinding(
        id=1, kind=draft.kind, dedupe_key=draft.dedupe_key, post_id=draft.post_id, comment_id=draft.comment_id
    )


def test_every_rule_module_is_registered_once_with_its_own_kind():
    """The registry is the one list of kinds; each kind has a headline of its own."""
    kinds = finding_kinds()
    assert len(kinds) == len(set(kinds)) == len(RULES)
    assert {
        "removed-critical",
        "hidden-critical",
        "unanswered",
        "silent-correction",
        "post-removed",
        "override",
        "account-failing",
        "token-expiring",
    } == set(kinds)
    assert len({headline(k) for k in kinds}) == len(kinds)
    assert headline("something-new") == "New finding: something-new"
    assert comment_label("removed-critical") == "deleted" and comment_label("post-removed") is None


def test_removed_critical_opens_for_a_deleted_question_on_a_corrected_post():
    a = analysis(comment("c1", QUESTION, status="deleted"), comment("c2", "Lovely!", status="deleted"))
    drafts = removed_critical.evaluate(a, T0)
    assert [(d.kind, d.comment_id, d.severity) for d in drafts] == [
        ("removed-critical", "c1", Severity.CRITICAL)
    ]
    assert "Thursday" in drafts[0].suggested_reply or "Thirteenth" in drafts[0].suggested_reply
    assert removed_critical.resolve(a, finding_for("removed-critical", a, T0)) is None


def test_removed_critical_on_an_uncorrected_post_is_a_warning():
    a = analysis(comment("c1", QUESTION, status="deleted"), p=post(corrected=False))
    assert [d.severity for d in removed_critical.evaluate(a, T0)] == [Severity.WARNING]


def test_hidden_critical_resolves_when_the_comment_is_visible_again():
    hidden = comment("c1", QUESTION, status="hidden")
    a = analysis(hidden)
    finding = finding_for("hidden-critical", a, T0)
    assert hidden_critical.resolve(a, finding) is None
    again = analysis(replace(hidden, status="present"))
    assert hidden_critical.resolve(again, finding) == "the comment is visible again"
    gone = analysis(replace(hidden, status="deleted"))
    assert resolution(gone, finding) == "superseded: the comment is now deleted"


def test_unanswered_waits_for_the_deadline_then_resolves_on_a_page_reply():
    q = comment("c1", QUESTION, minutes=10)
    a = analysis(q)
    assert unanswered.evaluate(a, T0 + timedelta(hours=2)) == []  # 2 h after the fix at 30 min
    drafts = unanswered.evaluate(a, T0 + timedelta(hours=2, minutes=31))
    assert [d.comment_id for d in drafts] == ["c1"]
    assert drafts[0].evidence["escalate_at"] == at(30 + 360)
    finding = finding_for("unanswered", a, T0 + timedelta(hours=3))
    answered = analysis(
        q,
        comment(
            "r1", "It's the 13th, sorry!", minutes=200, from_page=True, parent_id="c1", author="Riverside"
        ),
    )
    assert unanswered.resolve(answered, finding) == f"answered publicly by the page at {at(200)}"


def test_silent_correction_opens_after_the_deadline_and_resolves_on_a_marker():
    a = analysis()
    assert silent_correction.evaluate(a, T0 + timedelta(hours=1)) == []
    drafts = silent_correction.evaluate(a, T0 + timedelta(hours=3))
    assert [d.dedupe_key for d in drafts] == [f"silent-correction:{POST_ID}:2"]
    finding = finding_for("silent-correction", a, T0 + timedelta(hours=3))
    marked = analysis(p=post(marker=" UPDATE: date corrected."))
    assert marked.corrected
    assert silent_correction.resolve(marked, finding).startswith("the correction was acknowledged")


def test_post_removed_needs_a_deleted_corrected_post_with_open_findings():
    """The one rule that had no test: it fires only when all three hold."""
    deleted = post(status="deleted")
    assert post_removed.evaluate(analysis(p=deleted), T0) == []  # nothing open
    assert post_removed.evaluate(analysis(p=post(), open_kinds=frozenset({"unanswered"})), T0) == []
    assert (
        post_removed.evaluate(
            analysis(p=post(corrected=False, status="deleted"), open_kinds=frozenset({"unanswered"})), T0
        )
        == []
    )
    assert (
        post_removed.evaluate(analysis(p=deleted, open_kinds=frozenset({"post-removed"})), T0) == []
    )  # only itself
    drafts = post_removed.evaluate(analysis(p=deleted, open_kinds=frozenset({"unanswered"})), T0)
    assert [(d.kind, d.post_id, d.severity) for d in drafts] == [("post-removed", POST_ID, Severity.CRITICAL)]
    assert drafts[0].evidence["open_findings"] == ["unanswered"]


def test_override_is_never_opened_by_a_poll_and_each_override_is_its_own_finding():
    q = comment("c1", QUESTION)
    a = analysis(q)
    assert override.evaluate(a, T0) == []
    first = override.draft(a, q, "delete", "threatening", 1)
    second = override.draft(a, q, "delete", "threatening", 2)
    assert first.dedupe_key != second.dedupe_key
    assert first.evidence["override_reason"] == "threatening"


def test_run_rules_collects_every_rule_and_spam_is_never_protected():
    a = analysis(
        comment("c1", QUESTION, status="deleted"),
        comment("c2", "DM me for crypto giveaway https://spam.example/x", status="deleted"),
    )
    kinds = {(d.kind, d.comment_id) for d in run_rules(a, T0 + timedelta(hours=3))}
    assert ("removed-critical", "c1") in kinds
    assert ("silent-correction", None) in kinds
    assert all(cid != "c2" for _, cid in kinds)


def test_a_comment_missing_but_not_confirmed_gone_resolves_nothing():
    """``unknown`` (absent from a list, the by-id check failed) is no news about the comment:
    its hidden-critical and unanswered findings stay open, or they would close on a Graph
    hiccup and never open again when the comment is listed once more."""
    hidden = comment("c1", QUESTION, status="hidden")
    finding = finding_for("hidden-critical", analysis(hidden), T0)
    assert hidden_critical.resolve(analysis(replace(hidden, status="unknown")), finding) is None
    q = comment("c1", QUESTION)
    finding = finding_for("unanswered", analysis(q), T0 + timedelta(hours=3))
    assert unanswered.resolve(analysis(replace(q, status="unknown")), finding) is None
    assert unanswered.resolve(analysis(replace(q, status="hidden")), finding) == (
        "superseded: the comment is now hidden"
    )


def test_a_page_answer_that_is_no_longer_public_answers_nothing():
    """The page's reply (or its note after the fix) deleted or hidden since: nobody sees an
    answer, so unanswered and silent-correction open as if it was never written, and a reply
    sent through `comment-guard reply` and removed later counts no more than one by hand."""
    q = comment("c1", QUESTION, minutes=10)
    later = T0 + timedelta(hours=3)
    for status in ("deleted", "hidden"):
        reply = comment(
            "r1",
            "It's the 13th!",
            minutes=60,
            from_page=True,
            parent_id="c1",
            author="Riverside",
            status=status,
        )
        a = analysis(q, reply)
        assert [d.comment_id for d in unanswered.evaluate(a, later)] == ["c1"]
        assert [d.kind for d in silent_correction.evaluate(a, later)] == ["silent-correction"]
        finding = finding_for("unanswered", a, later)
        assert unanswered.resolve(a, finding) is None
        sent = Thread(
            post=post(), comments=(q, replace(reply, parent_id="c1")), replies_posted=(("c1", at(60), "r1"),)
        )
        assert unanswered.evaluate(analyze(sent, PolicyConfig()), later) != []
    kept = comment("r1", "It's the 13th!", minutes=60, from_page=True, parent_id="c1", author="Riverside")
    assert unanswered.evaluate(analysis(q, kept), later) == []
    posted_only = Thread(post=post(), comments=(q,), replies_posted=(("c1", at(60), "r1"),))
    assert unanswered.evaluate(analyze(posted_only, PolicyConfig()), later) == []  # not polled yet


def test_the_suggested_reply_names_the_change_since_the_version_the_commenter_read():
    """Thursday → the Thirteenth → the Fourteenth: who asked under "Thursday" is told about
    Thursday, not about the Thirteenth they never saw; under "the Thirteenth", about that.
    A post put back to the words the commenter read claims no mistake it would not have."""
    third = "Our community meeting is the Fourteenth at 7pm in the library."
    twice = replace(
        post(),
        message=third,
        versions=(*post().versions, Version(3, third, at(60))),
    )
    early = comment("c1", QUESTION, status="deleted", minutes=10)
    middle = comment("c2", "so the 13th? are you sure?", status="deleted", minutes=45)
    late = comment("c3", "which day is it now??", minutes=70)
    a = analysis(early, middle, late, p=twice)
    replies = {d.comment_id: d.suggested_reply for d in removed_critical.evaluate(a, T0)}
    assert "It said Thursday; it should say the Fourteenth." in replies["c1"]
    assert "It said Thirteenth; it should say Fourteenth." in replies["c2"]
    (draft,) = unanswered.evaluate(a, T0 + timedelta(hours=4))
    assert "It said Thirteenth; it should say Fourteenth." in draft.suggested_reply
    reverted = replace(post(), message=WRONG, versions=(*post().versions, Version(3, WRONG, at(60))))
    (draft,) = removed_critical.evaluate(analysis(early, p=reverted), T0)
    assert "should say" not in draft.suggested_reply and "[add the answer here]" in draft.suggested_reply


class _CountedComments(tuple):
    """A thread's comments that count how often a rule walks through all of them."""

    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


def test_the_rules_walk_a_thread_of_many_questions_a_fixed_number_of_times():
    """Thousands of questions under one comment: each rule asks about every one of them (is it
    answered, has its finding resolved); walking the whole thread for each made a sweep
    quadratic in the thread (seconds a minute at 3,000 replies)."""
    questions = [comment(f"q{i}", f"is it tonight or not? {i}", parent_id="q0") for i in range(1, 301)]
    reply = comment("r1", "Yes: 13th!", minutes=20, from_page=True, parent_id="q0", author="Riverside")
    thread = Thread(
        post=post(),
        comments=_CountedComments([comment("q0", QUESTION), *questions, reply]),
        replies_posted=(("q5", at(20), "r9"),),
    )
    a = analyze(thread, PolicyConfig())
    later = T0 + timedelta(hours=4)
    drafts = run_rules(a, later)
    for d in drafts:
        resolution(a, OpenFinding(1, d.kind, d.dedupe_key, d.post_id, d.comment_id))
    assert len(drafts) == 1  # silent-correction only: every question is answered in its thread
    assert _CountedComments.walks < 10


def test_a_page_comment_before_the_fix_acknowledges_it_only_by_naming_the_change():
    """Thursday → the Thirteenth: the page's "See you all in the library" while the wrong
    version was live shares only "the" with the change (a word both versions have), so it
    owns up to nothing; "It's the Thirteenth!" before the edit does, punctuation and all."""
    later = T0 + timedelta(hours=3)
    chatter = comment("p1", "See you all in the library", minutes=20, from_page=True, author="Riverside")
    assert [d.kind for d in silent_correction.evaluate(analysis(chatter), later)] == ["silent-correction"]
    owned = comment("p1", "Sorry, it's the Thirteenth!", minutes=20, from_page=True, author="Riverside")
    assert silent_correction.evaluate(analysis(owned), later) == []


def test_a_page_comment_answers_someone_by_name_only_when_it_says_the_name():
    """Ed asks; the page later writes "We updated the time, see you tomorrow" to everyone.
    The name must be a word of it: "ed" in "updated" (or Tom in "tomorrow") is no answer."""
    later = T0 + timedelta(hours=4)
    for author in ("Ed Jones", "Tom Reyes"):
        q = comment("c1", QUESTION, author=author)
        note = comment(
            "p1", "We updated the time, see you tomorrow", minutes=60, from_page=True, author="Riverside"
        )
        assert [d.comment_id for d in unanswered.evaluate(analysis(q, note), later)] == ["c1"]
        named = replace(note, message=f"{author.split()[0]}: it's the 13th, sorry!")
        assert unanswered.evaluate(analysis(q, named), later) == []
