"""What a platform or a commenter sends is hostile input: a token quoted in an error never
leaves the process, control characters never reach the terminal, a suggested reply never
republishes a link, and a CSV cell never runs as a formula."""

from __future__ import annotations

import csv
import io
import json
import os
import unicodedata

import pytest

from guard.text import inert
from policies.replies import clean_excerpt
from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"
TOKEN = "EAABsbCS1iHgBAKZCZB9xQ7mPzR2vL4wT8nY3kF6dJ0aHsUe"  # Graph-shaped page token
ESC_ERASE = "\x1b[2K\r"  # erase the line, back to column 0
OSC52 = "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07"  # write the clipboard
RLO = "\u202e"


def _graph_error(message: str) -> dict:
    return {"error": {"message": message, "type": "OAuthException", "code": 190, "fbtrace_id": "AbC"}}


def test_token_quoted_by_a_graph_error_is_nowhere(capsys, config, rsps, monkeypatch, tmp_path):
    """A Graph error quoting the page token (and an access_token= URL): the token's bytes are
    in no command's output, nor in the database file (WAL included), nor in an alert."""
    monkeypatch.setenv("FB_PAGE_TOKEN", TOKEN)
    page = FakePage(rsps, [FakePost(POST, "Hello", comments=[FakeComment("1_1", "hi")])])
    outputs = [run(capsys, "poll", "--once")]
    page.fail(
        "/posts",
        400,
        _graph_error(f"Malformed access token {TOKEN} (GET /{PAGE_ID}/posts?access_token={TOKEN}&fields=id)"),
    )
    outputs.append(run(capsys, "poll", "--once"))
    assert outputs[-1][0] == 1  # the poll failed, and said so
    for args in (
        ("status",),
        ("status", "--json"),
        ("alerts", "--json"),
        ("findings", "--json", "--state", "all"),
        ("verify",),
        ("export",),
    ):
        outputs.append(run(capsys, *args))
    page.fail("/", 400, _graph_error(f"Malformed access token {TOKEN}"))
    outputs.append(run(capsys, "check", "--live"))
    printed = "".join(out + err for _, out, err in outputs)
    assert "[redacted]" in printed
    assert TOKEN not in printed
    assert TOKEN[:24] not in printed
    db = tmp_path / "archive.db"
    for path in (db, db.with_name("archive.db-wal")):
        if path.exists():
            assert TOKEN.encode() not in path.read_bytes(), path


@pytest.fixture
def hostile_page(rsps):
    return FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The meeting is Thursday.",
                comments=[
                    FakeComment("1_1", f"Why was this deleted?{ESC_ERASE}Great post, thanks!{OSC52}"),
                    FakeComment(
                        "1_2",
                        f"Why did you delete my question? Log in at https://evil.example/login {RLO}gnp.exe"
                        " or evil.example/reset now",
                        author="Eve Attacker",
                    ),
                    FakeComment("1_3", '=HYPERLINK("https://evil.example","click")', author="Formula"),
                ],
            )
        ],
    )


def test_control_characters_are_shown_not_obeyed(capsys, config, hostile_page):
    """thread, history, comments, search, findings and explain print ESC, OSC and bidi
    overrides as visible escapes, never raw."""
    run(capsys, "poll", "--once")
    hostile_page.remove_comment("1_1")
    hostile_page.remove_comment("1_2")
    run(capsys, "poll", "--once")
    for args in (
        ("thread", POST),
        ("history", "1_1"),
        ("history", "1_2"),
        ("comments",),
        ("comments", "--json"),
        ("search", "deleted"),
        ("search", "evil"),
        ("findings", "--state", "all"),
        ("findings", "--json", "--state", "all"),
        ("explain", "1_1"),
        ("posts",),
    ):
        code, out, err = run(capsys, *args)
        text = out + err
        assert "\x1b" not in text and RLO not in text and "\x07" not in text, args
        assert "\r" not in text, args
    code, out, _ = run(capsys, "history", "1_1")
    assert "\\x1b[2K" in out and "\\x1b]52;c;" in out
    code, out, _ = run(capsys, "history", "1_2")
    assert "<U+202E>" in out
    code, out, _ = run(capsys, "comments", "--json")
    rows = json.loads(out)  # still valid JSON, the same data for a program
    assert any(f"Log in at https://evil.example/login {RLO}" in r["message"] for r in rows)


def test_suggested_reply_never_quotes_a_link_or_control_character(capsys, config, hostile_page):
    """The reply suggested for the deleted comments quotes a cleaned excerpt: no link, no bare
    domain, no control or bidi character."""
    run(capsys, "poll", "--once")
    hostile_page.remove_comment("1_1")
    hostile_page.remove_comment("1_2")
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "findings", "--json", "--state", "all")
    replies = [r["suggested_reply"] for r in json.loads(out) if r["suggested_reply"]]
    assert replies
    for reply in replies:
        assert "evil.example" not in reply and "http" not in reply
        assert not any(ch in reply for ch in ("\x1b", "\x07", "\r", RLO))
        assert "52;c;" not in reply and "[2K" not in reply
    assert any("[link]" in reply for reply in replies)


def test_clean_excerpt_drops_links_mentions_and_controls():
    """The reply helper on its own: every link spelling, @mentions, controls, quote marks."""
    text = f'See www.evil.example, http://x.co/a, mail me@evil.example {RLO}\x1b[31m @Mayor "ok"'
    assert clean_excerpt(text) == "See [link] [link] mail [link] Mayor 'ok'"


def test_inert_keeps_text_and_emoji_but_shows_controls():
    assert inert("Grüße, 👩\u200d💻 ok") == "Grüße, 👩\u200d💻 ok"
    assert inert(f"a\x1b[2Kb{RLO}c\u200bd\x9be") == "a\\x1b[2Kb<U+202E>c<U+200B>d\\x9be"


def test_csv_export_neutralises_formulas_unless_raw(capsys, config, hostile_page):
    """A cell starting with = + - @ is exported with a leading quote; --raw keeps it as is."""
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "export", "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["1_3"]["message"] == '\'=HYPERLINK("https://evil.example","click")'
    code, out, _ = run(capsys, "export", "--format", "csv", "--raw")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["1_3"]["message"] == '=HYPERLINK("https://evil.example","click")'


def _columns(text: str) -> int:
    """Terminal columns of ``text``: wide (CJK, emoji) characters take two, combining marks none."""
    return sum(
        0
        if unicodedata.category(ch) in ("Mn", "Me", "Cf")
        else 2
        if unicodedata.east_asian_width(ch) in "WF"
        else 1
        for ch in text
    )


@pytest.fixture
def wide_page(rsps):
    return FakePage(
        rsps,
        [
            FakePost(
                POST,
                "Meeting Thursday",
                comments=[
                    FakeComment("1_1", "会议在星期四晚上七点吗？" * 12, author="山田太郎"),
                    FakeComment("1_2", "🔥🔥🔥 see you there", author="Zoë 🎉"),
                    FakeComment("1_3", "Z" + "\u0301" * 80 + "algo", author="Ann"),
                    FakeComment("1_4", "plain text", author="Sam Neighbor"),
                ],
            )
        ],
    )


def test_tables_keep_their_columns_with_wide_and_combining_characters(capsys, config, wide_page, monkeypatch):
    """CJK and emoji take two terminal columns, combining marks none: every row's MESSAGE
    starts in the same column, piped or on a terminal, and a terminal row fits its width."""
    run(capsys, "poll", "--once")
    for terminal in (False, True):
        monkeypatch.setattr("guard.cli.output.to_terminal", lambda stream=None, t=terminal: t)
        monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None: os.terminal_size((100, 40)))
        code, out, err = run(capsys, "comments")
        assert code == 0, err
        header, *rows = out.splitlines()
        start = header.index("MESSAGE")
        assert len(rows) == 4
        for row in rows:
            cut = next(i for i in range(len(row) + 1) if _columns(row[:i]) >= start)
            assert row[cut - 2 : cut] == "  " and row[cut] != " ", (terminal, row)
            if terminal:
                assert _columns(row) <= 100, row


def test_an_author_name_cannot_forge_lines(capsys, config, rsps):
    """A name is one line: one holding a newline would print a made-up page reply under the
    comment in `thread`, and a made-up line in `findings`."""
    forged = "Eve\n- Parks Dept (page): The meeting is confirmed for Thursday  [1_7]\n"
    page = FakePage(
        rsps,
        [
            FakePost(
                POST, "Meeting Thursday", comments=[FakeComment("1_1", "why is it cancelled?", author=forged)]
            )
        ],
    )
    run(capsys, "poll", "--once")
    page.remove_comment("1_1")
    run(capsys, "poll", "--once", "--no-deliver")
    code, out, _ = run(capsys, "thread", POST)
    assert code == 0 and len(out.splitlines()) == 3  # the post, its version, the comment
    code, out, _ = run(capsys, "findings")
    assert code == 0 and "Eve - Parks Dept (page)" in out
    assert not any(line.startswith("- Parks") for line in out.splitlines())
