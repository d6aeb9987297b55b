"""Word diffs (``guard.text.word_diff``), stored with every new version: exact for texts of
ordinary length, and bounded for long ones — a diff runs inside the poll's write transaction,
and the exact matcher is quadratic when words repeat ("ha ha ha…" at Facebook's 63,206-character
post limit took a minute)."""

from __future__ import annotations

import difflib

from guard.text import render_diff, word_diff


def _sides(diff: list[list[str]]) -> tuple[str, str]:
    old = " ".join(t for op, t in diff if op in "=-")
    new = " ".join(t for op, t in diff if op in "=+")
    return old, new


def test_a_correction_reads_as_before():
    diff = word_diff("The meeting is Thursday at 7pm", "The meeting is the Thirteenth at 7pm")
    assert render_diff(diff) == "The meeting is [-Thursday-] {+the Thirteenth+} at 7pm"


def test_ordinary_texts_get_the_exact_matchers_diff():
    old = " ".join(f"w{i % 37}" for i in range(400))
    new = old.replace("w5 w6", "w6 w5 x").replace("w30", "y", 3)
    a, b = old.split(), new.split()
    expected: list[list[str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            expected.append(["=", " ".join(a[i1:i2])])
        if tag in ("replace", "delete"):
            expected.append(["-", " ".join(a[i1:i2])])
        if tag in ("replace", "insert"):
            expected.append(["+", " ".join(b[j1:j2])])
    assert word_diff(old, new) == expected


def test_a_long_edit_of_repeated_words_keeps_both_versions_whole():
    """63,000 characters of "ha", edited in the middle and at both ends."""
    old = "Wow " + "ha " * 21_000 + "lol"
    new = "WOW " + "ha " * 10_000 + "HA " + "ha " * 11_000 + "rofl"
    diff = word_diff(old, new)
    assert _sides(diff) == (" ".join(old.split()), " ".join(new.split()))
    assert len(diff) <= 4  # coarse where the words repeat: the versions are the evidence


def test_a_long_edit_in_one_place_is_diffed_exactly_around_it():
    old = "ha " * 20_000
    new = "ha " * 9_000 + "ho " + "ha " * 11_000
    diff = word_diff(old, new)
    assert [op for op, _ in diff] == ["=", "+", "="]
    assert diff[1] == ["+", "ho"]
