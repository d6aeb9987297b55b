"""policies.alternation: the Locator finds exactly the match ``pattern.search`` finds."""

from __future__ import annotations

import csv
import random
import re
import re._constants as _c
import re._parser as _parser
from pathlib import Path
from typing import Any

import pytest

from policies import classify
from policies.alternation import Locator, NeedleIndex, needles, top_level_alternatives

LABELLED = Path(__file__).resolve().parents[1] / "data" / "comments_labelled.csv"


def _same(a: re.Match[str] | None, b: re.Match[str] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.span() == b.span() and a.groups() == b.groups() and a.groupdict() == b.groupdict()


def test_alternatives_are_cut_only_at_the_top_level():
    assert top_level_alternatives(r"a|(?:b|c)|[|]|\||[]|x]|[^]|y]|d") == [
        "a",
        "(?:b|c)",
        "[|]",
        r"\|",
        "[]|x]",
        "[^]|y]",
        "d",
    ]
    assert top_level_alternatives("no alternation") == ["no alternation"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Both groups match at 0: the pattern's own order decides, as in ``search``.
        (r"(?<!x)help!|\bhelp", "help!"),
        (r"\bhelp|(?<!x)help!", "help"),
        # The later group matches first in the text.
        (r"\bzebra|#help", "#help"),
    ],
)
def test_the_leftmost_start_and_the_patterns_own_order_decide(source, expected):
    pattern = re.compile(source)
    locator = Locator(pattern)
    assert len(locator.groups) == 2
    found = locator.search("#help! and a zebra")
    assert found is not None and found.group(0) == expected
    assert _same(found, pattern.search("#help! and a zebra"))


def test_lookbehinds_still_see_the_text_before_the_start():
    pattern = re.compile(r"(?<!not\s)\bworking\b|#fail")
    assert Locator(pattern).search("not working #fail").group(0) == "#fail"  # type: ignore[union-attr]


def test_the_classifiers_long_cue_patterns_are_split():
    """Without the split the complaint-word pattern is tried alternative by alternative at
    every position (0.25 ms a comment): its emoji and hashtags mix shapes."""
    locator = classify._LOWERED[id(classify._COMPLAINT_WORDS)]
    assert len(locator.groups) >= 2


_CATEGORY_SAMPLES = {
    _c.CATEGORY_WORD: "w",
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_DIGIT: "3",
    _c.CATEGORY_NOT_WORD: " ",
    _c.CATEGORY_NOT_SPACE: "x",
    _c.CATEGORY_NOT_DIGIT: "d",
}


def _sample(items: Any, rng: random.Random) -> str:
    """A random string the parsed pattern ``items`` matches (assertions aside: a lookaround or
    ``\\b`` may still reject it, which the tests want as well)."""
    out = []
    for op, av in items:
        if op is _c.LITERAL:
            out.append(chr(av))
        elif op is _c.NOT_LITERAL:
            out.append("x" if chr(av) != "x" else "y")
        elif op is _c.ANY:
            out.append(rng.choice("a .!"))
        elif op is _c.IN:
            op2, av2 = rng.choice([m for m in av if m[0] is not _c.NEGATE] or [(_c.LITERAL, ord("q"))])
            if op2 is _c.LITERAL:
                out.append(chr(av2))
            elif op2 is _c.RANGE:
                out.append(chr(rng.randint(*av2)))
            elif op2 is _c.CATEGORY:
                out.append(_CATEGORY_SAMPLES.get(av2, "w"))
            else:
                out.append("q")
        elif op is _c.BRANCH:
            out.append(_sample(rng.choice(av[1]), rng))
        elif op is _c.SUBPATTERN:
            out.append(_sample(av[3], rng))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            low, high, sub = av
            count = rng.randint(low, min(high, low + 2))
            out.extend(_sample(sub, rng) for _ in range(count))
        elif op is _c.ATOMIC_GROUP:
            out.append(_sample(av, rng))
        # AT, ASSERT, ASSERT_NOT: zero width
    return "".join(out)


def _texts_from(pattern: re.Pattern[str], rng: random.Random, n: int) -> list[str]:
    """Random texts made of strings the pattern's own alternatives produce (so they match,
    often several at once and at the same place), with punctuation, emoji and hashtags
    between them."""
    alternatives = [_parser.parse(a, pattern.flags) for a in top_level_alternatives(pattern.pattern)]
    glue = ["", " ", " ", ", ", "! ", "? ", " #", " :( ", " 😡 ", "\n", "... ", "the ", "not "]
    return [
        "".join(rng.choice(glue) + _sample(rng.choice(alternatives), rng) for _ in range(rng.randint(1, 4)))
        for _ in range(n)
    ]


def test_every_classifier_pattern_finds_what_search_finds():
    """Through the split, the needles checked one by one and the needles found by the index
    (the classifier's path): always the match ``search`` finds."""
    rng = random.Random(20261126)
    with LABELLED.open(encoding="utf-8") as f:
        labelled = [row["text"].lower() for row in csv.DictReader(f)]
    index = NeedleIndex(classify._LOWERED.values())
    checked = matched = filtered = 0
    for locator in classify._LOWERED.values():
        for text in labelled + _texts_from(locator.pattern, rng, 500):
            found = locator.pattern.search(text)
            assert _same(locator.search(text), found), (locator.pattern.pattern[:60], text)
            assert _same(locator.search(text, index.found(text)), found), (locator.pattern.pattern[:60], text)
            checked += 1
            matched += found is not None
            filtered += locator.needles is not None
    assert checked > 15_000 and matched > checked // 3  # the texts do exercise the patterns
    assert filtered > checked // 2  # and the needles


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # the most selective word of each alternative: "on" is in nearly every comment
        (r"\bon\s+hold\b|\bstill\s+waiting\b", {"hold", "waiting"}),
        # a few spellings are followed: a class of letters, an optional letter, a repeat's first
        (r"\ba[uú]n\s+no\b", {"aun", "aún"}),
        (r"\bno\s+wi-?fi\b", {"wifi", "wi-fi"}),
        (r"\bhmm+\b", {"hmm"}),
        # copies of a class need not be the same letter ("qqab" matches): only the first is sure
        (r"\bqq[ab]{2}", {"qqa", "qqb"}),
        # every branch of a group needs something: any of them will do; "wait" covers "waiting"
        (r"\b(?:wait|waiting|hold)\b", {"wait", "hold"}),
        # a lookahead that must match is in the text too; a negative one is not
        (r"\bde\s+m[aá]s\b(?=.*\bcobr)", {"cobr"}),
        (r"\bsupposed\s+to(?!\s+rain)", {"supposed"}),
        # short words count where they are rare: digits, punctuation, other scripts
        (r"\b[345]g\b|:-?\(|错了", {"3g", "4g", "5g", ":(", ":-(", "错了"}),
    ],
)
def test_needles_are_what_every_match_contains(source, expected):
    pattern = re.compile(source)
    assert set(needles(pattern) or ()) == expected
    rng = random.Random(3)
    for text in _texts_from(pattern, rng, 200):
        if m := pattern.search(text):
            assert any(n in m.group(0) or n in text for n in expected), text


@pytest.mark.parametrize(
    "source",
    [
        r"\bno\b|\bhold\b",  # an alternative that needs only a common word
        r"\b\w+\s\w+\b",  # no literal at all
        r"(?i:hold)|\bwaiting\b",  # case-insensitive letters are not contained as written
        r"(?:hold)?\s+",  # optional
    ],
)
def test_patterns_without_a_sure_selective_word_have_no_needles(source):
    assert needles(re.compile(source)) is None
    assert needles(re.compile("hold", re.IGNORECASE)) is None


def test_a_pattern_whose_needles_are_absent_is_not_searched():
    locator = Locator(re.compile(r"\bon\s+hold\b|\bstill\s+waiting\b"))
    index = NeedleIndex([locator])
    assert index.found("I am still waiting") == {"waiting"}
    assert index.found("the line is long") == frozenset()
    locator.pattern = re.compile("never used")  # type: ignore[misc]  # a search would find nothing
    assert locator.search("kept on hold", index.found("kept on hold")) is None
    assert locator.search("nothing to see", index.found("nothing to see")) is None


def test_the_index_answers_for_the_text_it_is_given_not_the_last_one():
    index = NeedleIndex([Locator(re.compile(r"\bhold\b|\bwaiting\b"))])
    first = "on hold"
    assert index.found(first) == {"hold"}
    assert index.found("".join(["wait", "ing"])) == {"waiting"}
    assert index.found(first) == {"hold"}
    assert index.found("") == frozenset()


def test_classifications_are_the_same_with_and_without_the_split(monkeypatch):
    with LABELLED.open(encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    split = [classify.classify(t) for t in texts]
    for locator in classify._LOWERED.values():
        monkeypatch.setattr(locator, "groups", ())
    assert [classify.classify(t) for t in texts] == split


def test_spam_patterns_that_only_work_alone_are_still_each_searched():
    """The spam patterns are searched as one alternation first (most comments match none);
    patterns that cannot be joined (a reference back to a group, global flags) are searched
    one by one as before, with the same evidence."""
    backref = classify.ClassifyConfig(spam_patterns=(r"\b(\w+) \1 \1\b", r"\bpromo code\b"))
    flags = classify.ClassifyConfig(spam_patterns=(r"(?s)\bmega.deal\b", r"\bpromo code\b"))
    assert classify._compiled(backref.spam_patterns)[0] is None
    assert classify._compiled(flags.spam_patterns)[0] is None
    assert classify._compiled(classify.ClassifyConfig().spam_patterns)[0] is not None
    assert classify.classify("win win win with promo code", config=backref).excluded == "spam"
    assert classify.classify("MEGA\nDEAL: promo code", config=flags).excluded == "spam"
    assert classify.classify("promo.code and a mega deal", config=flags).excluded is None
    assert classify.classify("win win with promo code", config=backref).excluded is None


def test_the_joined_spam_patterns_find_what_each_finds():
    config = classify.ClassifyConfig()
    joined, each = classify._compiled(config.spam_patterns)
    assert joined is not None
    rng = random.Random(7)
    for pattern in each:
        for text in _texts_from(pattern, rng, 50) + ["nothing promotional here"]:
            assert (joined.search(text) is not None) == any(p.search(text) for p in each), text


def test_alternatives_without_needles_are_searched_and_the_others_only_when_theirs_are_there():
    pattern = re.compile(r"\bno\b|\bon\s+hold\b|#fail")
    locator = Locator(pattern)
    assert locator.needles is None  # "no" is in nearly every comment: the pattern is searched
    assert sorted(map(sorted, filter(None, locator.group_needles))) == [["#fail"], ["hold"]]
    assert None in locator.group_needles
    index = NeedleIndex([locator])
    for text in ("no", "on hold, no", "kept on hold", "#fail", "nothing", "on  hold #fail no"):
        assert _same(locator.search(text, index.found(text)), pattern.search(text)), text
        assert _same(locator.search(text), pattern.search(text)), text
    # a group whose needles are absent is not searched at all
    everything = re.compile(".")
    locator.groups = tuple(
        everything if need else group for group, need in zip(locator.groups, locator.group_needles)
    )
    assert locator.search("say no more", index.found("say no more")).group(0) == "no"  # type: ignore[union-attr]
    assert locator.search("nothing here", index.found("nothing here")) is None
