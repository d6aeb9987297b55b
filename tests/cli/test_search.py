"""`search` looks through every version: the word a correction removed is still found, with
the version it was in; FTS5 syntax works; bad queries are one clear line."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"


@pytest.fixture
def corrected(capsys, config, rsps):
    page = FakePage(
        rsps,
        [
            FakePost(
                POST,
                "Reminder: our community meeting is Thursday at 7pm in the library.",
                comments=[
                    FakeComment("1_1", "wait, the meeting is TONIGHT?!?"),
                    FakeComment("1_2", "Thanks!", author="Sam Neighbor"),
                ],
            )
        ],
    )
    run(capsys, "poll", "--once")
    page.post(POST).message = "Reminder: our community meeting is the Thirteenth at 7pm in the library."
    page.comment("1_2").message = "See you there!"
    page.remove_comment("1_1")
    code, _, err = run(capsys, "poll", "--once")
    assert code == 0, err
    return page


def _hits(capsys, *query: str) -> list[dict]:
    code, out, err = run(capsys, "search", *query, "--json")
    assert code == 0, err
    return json.loads(out)


def test_search_finds_the_word_the_correction_removed_in_the_first_version(capsys, corrected):
    """`search Thursday` finds the corrected post's version 1, marked as no longer current."""
    hits = _hits(capsys, "Thursday")
    assert [(h["type"], h["id"], h["version"], h["current"]) for h in hits] == [("post", POST, 1, False)]
    code, out, _ = run(capsys, "search", "Thursday")
    assert code == 0 and "v1 since changed" in out
    assert [(h["version"], h["current"]) for h in _hits(capsys, "Thirteenth")] == [(2, True)]


def test_search_finds_a_comments_earlier_text_and_a_deleted_comment(capsys, corrected):
    """A comment's edited-away words and a deleted comment's text are both found."""
    assert [(h["id"], h["version"], h["current"]) for h in _hits(capsys, "Thanks")] == [("1_2", 1, False)]
    (hit,) = _hits(capsys, "TONIGHT?!?")
    assert hit["id"] == "1_1" and hit["status"] == "deleted" and hit["current"] is True


@pytest.mark.parametrize(
    "query,ids",
    [
        ("tonig*", {"1_1"}),
        ("Thursday OR Thirteenth", {POST}),
        ("NEAR(meeting TONIGHT, 2)", {"1_1"}),
        ('"community meeting is the Thirteenth"', {POST}),
        ("Dana", {"1_1"}),  # the author's name
    ],
)
def test_fts_syntax_works(capsys, corrected, query, ids):
    """Prefix, OR, NEAR and quoted phrases are FTS5 syntax, not quoted away."""
    assert {h["id"] for h in _hits(capsys, query)} == ids


@pytest.mark.parametrize("query", ['"unclosed phrase', "NEAR(", "tonight AND", "*", "*night", "NEAR(a b, x)"])
def test_malformed_query_is_one_clear_line(capsys, corrected, query):
    """A malformed FTS query: exit 2, one line naming the query, no traceback."""
    code, out, err = run(capsys, "search", query)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cannot search for" in err and "unexpected" not in err


def test_empty_search_is_a_clear_error(capsys, corrected):
    """`search ""` says what to do instead of crashing."""
    code, _, err = run(capsys, "search", "")
    assert code == 2 and "search needs something to look for" in err


def test_a_shouted_comment_is_found_by_its_own_words(capsys, config, rsps):
    """A comment written in capitals holds FTS5's operator NOT: searching the comment as
    written must still find it (`search` and `export --query`), and `a NOT b` still excludes b."""
    FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The pool opens at 9.",
                comments=[
                    FakeComment("1_1", "WHY IS THE POOL NOT OPEN"),
                    FakeComment("1_2", "why is the pool closed today"),
                ],
            )
        ],
    )
    run(capsys, "poll", "--once")
    assert "1_1" in {h["id"] for h in _hits(capsys, "WHY IS THE POOL NOT OPEN")}
    assert {h["id"] for h in _hits(capsys, "pool NOT closed")} == {POST, "1_1"}
    code, out, err = run(capsys, "export", "--query", "WHY IS THE POOL NOT OPEN", "--format", "json")
    assert code == 0, err
    assert "1_1" in {r["id"] for r in json.loads(out)}


@pytest.fixture
def unspaced(capsys, config, rsps):
    """Chinese and Japanese are written without spaces, so the index holds a whole sentence as
    one word; emoji are not indexed at all."""
    page = FakePage(
        rsps,
        [
            FakePost(
                POST,
                "会议在星期四晚上七点。",
                comments=[
                    FakeComment("1_1", "今晚的会议取消了吗？", author="山田太郎"),
                    FakeComment("1_2", "会議は木曜日ですか"),
                    FakeComment("1_3", "the meeting is 🔥🔥"),
                    FakeComment("1_4", "meeting tonight"),
                ],
            )
        ],
    )
    run(capsys, "poll", "--once")
    page.post(POST).message = "会议在十三号晚上七点。"
    run(capsys, "poll", "--once")


@pytest.mark.parametrize(
    "query,hits",
    [
        ("星期四", {(POST, 1)}),  # a word inside the first version's sentence
        ("会议", {(POST, 1), (POST, 2), ("1_1", 1)}),
        ("木曜日", {("1_2", 1)}),
        ("太郎", {("1_1", 1)}),  # inside the author's name
        ("🔥", {("1_3", 1)}),
        ("meeting 🔥", {("1_3", 1)}),
        ("会议 取消", {("1_1", 1)}),
    ],
)
def test_words_the_index_cannot_split_are_found_as_written(capsys, unspaced, query, hits):
    """A Chinese or Japanese word inside a sentence, a part of a name, an emoji: found in
    every version, as `search` promises, and alone or beside indexed words."""
    assert {(h["id"], h["version"]) for h in _hits(capsys, query)} == hits


def test_export_query_finds_words_the_index_cannot_split(capsys, unspaced):
    """`export --query` matches as `search` does."""
    code, out, err = run(capsys, "export", "--query", "星期四", "--format", "json")
    assert code == 0, err
    assert {(r["id"], r["version"]) for r in json.loads(out)} == {(POST, 1), (POST, 2)}
    code, out, err = run(capsys, "export", "--query", "🔥", "--format", "json")
    assert {r["id"] for r in json.loads(out) if r["type"] == "comment"} == {"1_3"}


@pytest.mark.parametrize(
    "query,ids",
    [
        ("7:30pm", {POST}),
        ("UPDATE: meeting", {POST}),
        ("Re: the meeting", {"1_2"}),
        ("+1", {"1_1"}),
        ("C++", {"1_1"}),
        ("message: meeting", {POST, "1_2"}),  # a column filter is still FTS5 syntax
        ("meeting + at", {POST}),  # so is a lone + between words
    ],
)
def test_times_headings_and_plus_ones_are_plain_words(capsys, config, rsps, query, ids):
    """A colon or a plus inside what people write ("7:30pm", "UPDATE:", "Re:", "+1", "C++")
    is not FTS5 syntax: searching it finds the text instead of failing with "no such column"."""
    FakePage(
        rsps,
        [
            FakePost(
                POST,
                "UPDATE: meeting at 7:30pm, not 7:00",
                comments=[FakeComment("1_1", "+1 C++ rocks"), FakeComment("1_2", "Re: the meeting")],
            )
        ],
    )
    run(capsys, "poll", "--once")
    assert {h["id"] for h in _hits(capsys, query)} == ids
