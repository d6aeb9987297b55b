"""Behaviour of the comment classifier (policies/classify.py)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from policies.classify import Classification, ClassifyConfig, classify, explain

DATA = Path(__file__).resolve().parent.parent / "data" / "comments_labelled.csv"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "classify.py"


def _bench():
    """bench/classify.py as a module: the held-out split and the shared set's path live there."""
    if "bench_classify" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_classify", BENCH)
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_classify"] = module
        spec.loader.exec_module(module)
    return sys.modules["bench_classify"]


def _tags(c: Classification) -> list[str]:
    return [r.split(":")[0] for r in c.reasons]


def test_story_comment_tonight_is_critical() -> None:
    """The comment from the product story is critical, as a question and as confusion."""
    c = classify("wait, the meeting is TONIGHT?!?", changed_words=["thursday"])
    assert c.critical and c.excluded is None
    assert "question" in _tags(c) and "confusion" in _tags(c)


def test_tonight_alarm_is_critical_with_confusion_reason() -> None:
    """An all-caps alarm word with "?!" is critical and names the word and the punctuation."""
    c = classify("TONIGHT?!")
    assert c.critical
    assert "confusion: all caps 'TONIGHT'" in c.reasons
    assert "confusion: repeated punctuation '?!'" in c.reasons


@pytest.mark.parametrize(
    "text",
    [
        "wait, is it tomorrow",
        "When is the next session",
        "does this mean the pool is closed all week",
        "is this still on",
        "I thought it was next week",
        "can someone confirm the address",
        "do we need to bring our own chairs",
    ],
)
def test_question_without_question_mark_is_critical(text: str) -> None:
    """Questions are recognised from their wording, not only from a "?"."""
    c = classify(text)
    assert c.critical
    assert any(r.startswith("question: asks") for r in c.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "¿Entonces es el jueves o el 13?",
        "C'est jeudi ou le 13 ?",
        "会议是今天晚上吗？",
        "هل الاجتماع يوم الخميس؟",
        "Είναι την Πέμπτη;",
    ],
)
def test_questions_in_other_scripts_are_critical(text: str) -> None:
    """Spanish, French, full-width, Arabic and Greek question marks all count."""
    assert "question" in _tags(classify(text))


def test_semicolon_in_english_is_not_a_question() -> None:
    """A semicolon is the Greek question mark only in Greek text."""
    c = classify("We went last year; my dad used to work there")
    assert not c.critical


def test_question_mark_inside_a_link_is_not_a_question() -> None:
    """A "?" in a URL's query string does not make a comment a question."""
    c = classify("Photos from last year https://example.org/gallery?id=3")
    assert "question" not in _tags(c)


def test_negative_sentiment_is_a_complaint() -> None:
    """VADER-negative text is critical and reports the compound score."""
    c = classify("Terrible communication from the council again")
    assert c.critical
    assert any(r.startswith("complaint: negative sentiment (VADER compound -") for r in c.reasons)


def test_explicit_complaint_phrase_is_critical() -> None:
    """A complaint about deletion is critical even when VADER finds it neutral."""
    c = classify("You deleted my question instead of answering it")
    assert c.critical
    assert "complaint" in _tags(c)


@pytest.mark.parametrize(
    "text",
    ["Great, thanks for the heads up… NOT", "oh wonderful, another wrong date", "Thanks for nothing"],
)
def test_sarcasm_is_critical_as_complaint(text: str) -> None:
    """Sarcastic 'praise' is a complaint, despite its positive words."""
    c = classify(text)
    assert c.critical
    assert "complaint" in _tags(c)


def test_complaint_with_swear_word_is_still_critical() -> None:
    """Swearing is not abuse: a genuine complaint with a swear word stays protected."""
    c = classify("This is bullshit, you changed the date without telling anyone")
    assert c.critical and c.excluded is None


def test_mention_of_changed_word_is_a_reason() -> None:
    """Mentioning a word the correction changed is critical, case-insensitively."""
    c = classify("See you THURSDAY then", changed_words=["thursday"])
    assert c.critical
    assert "mentions changed word 'thursday'" in c.reasons


def test_changed_word_matches_whole_words_only() -> None:
    """A changed word inside a longer word is not a mention."""
    c = classify("Freedom to choose is nice", changed_words=["free"])
    assert not any(r.startswith("mentions changed word") for r in c.reasons)


def test_multi_word_changed_phrase_is_matched() -> None:
    """Changed phrases such as "main street" match across ordinary spacing."""
    c = classify("Great, I'll be at Main  Street at 6", changed_words=["main street"])
    assert "mentions changed word 'main  street'" in c.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Thanks! See you there",
        "Great event 😊",
        "Love this community!!!",
        "LOVE IT",
        "Can't wait to see everyone there!!!",
    ],
)
def test_praise_is_not_critical(text: str) -> None:
    """Thanks, praise and enthusiastic caps or '!!!' are not critical."""
    c = classify(text)
    assert not c.critical and c.excluded is None


def test_common_acronyms_are_not_alarm_caps() -> None:
    """Acronyms such as RSVP and FAQ are not read as shouting."""
    c = classify("RSVP via the FAQ page")
    assert "confusion" not in _tags(c)


def test_posted_while_wrong_alone_is_not_critical() -> None:
    """Being posted while the wrong text was live is a reason, never enough on its own."""
    c = classify("Thanks! See you there", posted_while_wrong=True)
    assert not c.critical
    assert "posted while the wrong version was live" in c.reasons


def test_posted_while_wrong_with_question_is_critical() -> None:
    """A question posted while the wrong text was live is critical and carries both reasons."""
    c = classify("what time do doors open", posted_while_wrong=True)
    assert c.critical
    assert c.reasons[-1] == "posted while the wrong version was live"


def test_spam_with_link_is_not_protected() -> None:
    """A link with promotional words is spam, even if it asks a question."""
    c = classify("Want to WIN a free iPhone? Click https://bit.ly/free-iph0ne")
    assert not c.critical
    assert c.excluded == "spam"


def test_spam_pattern_without_link_is_not_protected() -> None:
    """Two promotional patterns ("DM me for", "cheap followers") are spam without any link."""
    assert classify("DM me for cheap followers 💯").excluded == "spam"


def test_one_promotional_word_is_not_spam() -> None:
    """A single pattern is not spam evidence enough: complaints say "DM me" too."""
    c = classify("Still no reply to my email, DM me please")
    assert c.critical and c.excluded is None


def test_promotional_word_without_link_is_not_spam() -> None:
    """ "free" alone is an ordinary word: "So it's not free anymore?" is a question."""
    c = classify("So it's not free anymore?")
    assert c.critical and c.excluded is None


def test_links_only_comment_is_not_protected() -> None:
    """A comment that is only links and mentions is excluded as links-only."""
    c = classify("@carla https://example.com/flyer.jpg 👈")
    assert not c.critical
    assert c.excluded == "links-only"


def test_question_with_link_is_critical() -> None:
    """A link does not hide a real question next to it."""
    c = classify("Is this the same event as https://example.org/events/12 or a new one?")
    assert c.critical and c.excluded is None


@pytest.mark.parametrize("text", ["You're all idiots", "I'm going to kill you if you delete this"])
def test_abuse_is_not_protected(text: str) -> None:
    """Slurs and threats are excluded, even when they also ask or complain."""
    c = classify(text)
    assert not c.critical
    assert c.excluded == "abuse"


def test_abuse_words_are_configurable() -> None:
    """An organisation can add its own abuse words."""
    config = ClassifyConfig(abuse_words=("clown",))
    assert classify("This mayor is a clown, wrong date again", config=config).excluded == "abuse"
    assert classify("You're all idiots", config=config).excluded is None


def test_explain_lists_reasons_for_critical_comment() -> None:
    """explain() states the verdict on the first line and lists every reason."""
    c = classify("wait, is it Thursday", changed_words=["thursday"])
    text = explain(c)
    assert text.splitlines()[0].startswith("Critical")
    for reason in c.reasons:
        assert f"  - {reason}" in text


def test_explain_names_exclusion() -> None:
    """explain() says why an excluded comment is not protected."""
    assert explain(classify("https://example.org/a")).startswith("Not protected: links-only")


def test_labelled_set_meets_precision_and_recall_floor() -> None:
    """Over the hand-labelled comments, precision stays >= 0.95 and recall >= 0.95."""
    tp = fp = fn = 0
    with DATA.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 220
    for row in rows:
        predicted = classify(row["text"], changed_words=row["changed_words"].split()).critical
        actual = row["critical"] == "1"
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.95, f"precision {precision:.3f}"
    assert recall >= 0.95, f"recall {recall:.3f}"


def test_held_out_split_meets_precision_and_recall_floor() -> None:
    """On the ~30 % of labelled rows tuning never looked at, precision and recall stay >= 0.90.

    The split is a stable hash of the text (bench/classify.py), fixed before the issue-12
    tuning; the in-sample floor above stays at 0.95.
    """
    bench = _bench()
    rows = [r for r in bench.load_rows(DATA) if bench.held_out(r.text)]
    assert 80 <= len(rows) <= 140
    s = bench.score(rows)
    assert s.precision >= 0.90, f"precision {s.precision:.3f}"
    assert s.recall >= 0.90, f"recall {s.recall:.3f}"


def test_held_out_split_is_stable() -> None:
    """The split depends only on the text, so adding rows never moves existing ones."""
    bench = _bench()
    assert bench.held_out("What time does it start?") == bench.held_out(" What time does it start? ")
    share = sum(bench.held_out(f"comment {i}") for i in range(2000)) / 2000
    assert 0.25 <= share <= 0.35


def test_real_complaints_are_protected_and_rarely_excluded() -> None:
    """On the shared real set (when present): recall on complaints >= 0.90, exclusions < 1 %."""
    bench = _bench()
    if not bench.REAL.exists():
        pytest.skip(f"{bench.REAL} not present")
    s = bench.score_real(r for r in bench.load_real() if r.complaint)
    assert s.recall >= 0.90, f"recall {s.recall:.3f}"
    assert s.excluded_share < 0.01, f"excluded {s.excluded_share:.1%}"
