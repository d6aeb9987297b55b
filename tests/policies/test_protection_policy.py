"""What protects a comment besides the classifier: the `protect` policy and staff labels.

Hand-built threads, no archive: `analyze` alone decides. Every comment is written for these
tests.
"""

from __future__ import annotations

from guard.states import CommentStatus
from guard.text import sha256_text
from policies.analysis import analyze
from policies.classify import explain
from policies.records import CommentRecord, PolicyConfig, PostRecord, StaffLabel, Thread, Version
from policies.rules import removed_critical
from tests.conftest import NOW

ORDINARY = "See everyone at the library on Saturday."
SPAM = "Get 5k real followers now at http://boost-fans.example promo code FANS"
ABUSE = "You are all a bunch of morons."
QUESTION = "Does the library open at nine on Saturday?"


def post(account: str = "city-hall") -> PostRecord:
    return PostRecord(
        id="p1",
        account=account,
        platform="facebook",
        message="Library hours change next week.",
        status="present",
        created_time="2026-11-20T10:00:00+00:00",
        permalink_url=None,
        versions=(Version(1, "Library hours change next week.", "2026-11-20T10:00:00+00:00"),),
    )


def comment(cid: str, message: str, *, status: str = "present", from_page: bool = False) -> CommentRecord:
    return CommentRecord(
        id=cid,
        post_id="p1",
        parent_id=None,
        author_name="Ana Vecina",
        author_id="77",
        message=message,
        created_time="2026-11-20T11:00:00+00:00",
        status=status,
        from_page=from_page,
        status_changed_at="2026-11-20T12:00:00+00:00",
    )


DEFAULT = PolicyConfig()


def verdicts(
    *comments: CommentRecord, config: PolicyConfig = DEFAULT, account: str = "city-hall", **thread_kw
):
    a = analyze(Thread(post=post(account), comments=comments, **thread_kw), config)
    return a, a.classifications


def test_default_policy_leaves_an_ordinary_comment_unprotected():
    """protect = "critical" (the default) protects only what the classifier finds critical."""
    a, v = verdicts(comment("c1", ORDINARY))
    assert not v["c1"].critical and (a.protect, a.protect_source) == ("critical", "default")


def test_protect_all_protects_an_ordinary_deleted_comment_and_opens_a_finding():
    """protect = "all" protects a plain comment; deleting it opens removed-critical."""
    a, v = verdicts(comment("c1", ORDINARY, status=CommentStatus.DELETED), config=PolicyConfig(protect="all"))
    assert v["c1"].critical and v["c1"].reasons[0].startswith('policy: protect = "all" ([policy])')
    assert (a.protect, a.protect_source) == ("all", "policy")
    assert [d.comment_id for d in removed_critical.evaluate(a, NOW)] == ["c1"]


def test_protect_all_still_ignores_spam_abuse_and_the_pages_own_comments():
    """Exclusions hold under protect = "all": spam, abuse and the page's comments stay unprotected."""
    _, v = verdicts(
        comment("spam", SPAM),
        comment("abuse", ABUSE),
        comment("page", "Thanks for coming, everyone!", from_page=True),
        config=PolicyConfig(protect="all"),
    )
    assert {k: (c.critical, c.excluded) for k, c in v.items()} == {
        "spam": (False, "spam"),
        "abuse": (False, "abuse"),
        "page": (False, "page"),
    }


def test_account_override_beats_the_organisation_policy():
    """A per-account `protect` applies to that account's threads only, and says where it came from."""
    config = PolicyConfig(protect="critical", protect_by_account=(("city-hall", "all"),))
    a, v = verdicts(comment("c1", ORDINARY), config=config)
    assert v["c1"].critical and (a.protect, a.protect_source) == ("all", "account")
    assert "(account city-hall)" in v["c1"].reasons[0]
    b, w = verdicts(comment("c1", ORDINARY), config=config, account="shop")
    assert not w["c1"].critical and b.protect == "critical"


def test_not_critical_label_overrides_the_classifier_and_explains_who_and_when():
    """A staff 'not-critical' label unprotects a question and says who decided, when and why."""
    label = StaffLabel("c1", "not-critical", "maria", "2026-11-20T13:00:00+00:00", "asked and answered")
    _, v = verdicts(comment("c1", QUESTION), labels=(label,))
    assert not v["c1"].critical
    assert v["c1"].reasons[0] == (
        "label: labelled not-critical by maria at 2026-11-20T13:00:00+00:00 (asked and answered)"
    )
    assert any(r.startswith("question:") for r in v["c1"].reasons)  # what the classifier said stays
    assert "their decision overrides the classifier" in explain(v["c1"])


def test_critical_label_protects_even_an_excluded_comment():
    """Staff may protect a comment the classifier excluded (their call, on the record)."""
    label = StaffLabel("c1", "critical", "maria", "2026-11-20T13:00:00+00:00")
    _, v = verdicts(comment("c1", ABUSE), labels=(label,))
    assert v["c1"].critical and v["c1"].excluded is None


def test_label_beats_protect_all():
    """A human 'not-critical' decision wins over protect = "all"."""
    label = StaffLabel("c1", "not-critical", "maria", "2026-11-20T13:00:00+00:00")
    _, v = verdicts(comment("c1", ORDINARY), config=PolicyConfig(protect="all"), labels=(label,))
    assert not v["c1"].critical


def test_label_lapses_when_the_comment_was_edited_since():
    """A label is about the words labelled: after an edit the classifier decides again."""
    label = StaffLabel(
        "c1", "not-critical", "maria", "2026-11-20T13:00:00+00:00", sha256=sha256_text(ORDINARY)
    )
    _, v = verdicts(comment("c1", QUESTION), labels=(label,))
    assert v["c1"].critical
    assert v["c1"].reasons[-1].startswith("label: an earlier version was labelled not-critical by maria")
    _, w = verdicts(comment("c1", ORDINARY), labels=(label,))
    assert w["c1"].reasons[0].startswith("label: labelled not-critical")


def test_copies_on_other_posts_count_as_spam_evidence_only_with_other_evidence():
    """The same text on other posts is one piece of spam evidence: with a link it is spam, alone not."""
    linked = comment("c1", "Everyone should read this before Saturday http://my-blog.example/post")
    plain = comment("c2", "I never got a reply about my broken water meter.")
    copies = {"copies_elsewhere": 3}
    _, v = verdicts(
        CommentRecord(**{**linked.__dict__, **copies}), CommentRecord(**{**plain.__dict__, **copies})
    )
    assert v["c1"].excluded == "spam" and "the same text on 3 other posts" in v["c1"].reasons[0]
    assert v["c2"].critical and v["c2"].excluded is None
