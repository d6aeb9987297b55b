"""Tables and status lines show archive times in `[guard] timezone`; JSON keeps UTC; no colour
codes when piped."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"


@pytest.fixture
def page(rsps):
    return FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The meeting is Thursday.",
                comments=[
                    FakeComment("1_1", "wait, TONIGHT?!?", created_time="2026-11-20T16:02:11+0000"),
                ],
            )
        ],
    )


@pytest.fixture
def chicago(config):
    config.write_text(config.read_text().replace("[guard]\n", '[guard]\ntimezone = "America/Chicago"\n'))
    return config


def test_comment_table_shows_local_time_and_json_keeps_utc(capsys, chicago, page):
    """16:02 UTC on 20 November is 10:02 in Chicago (CST); the JSON says 16:02:11+00:00."""
    assert run(capsys, "poll", "--once")[0] == 0
    code, out, _ = run(capsys, "comments")
    assert code == 0 and "2026-11-20 10:02:11 CST" in out and "16:02" not in out
    code, out, _ = run(capsys, "comments", "--json")
    assert json.loads(out)[0]["created_time"].startswith("2026-11-20T16:02:11")


def test_status_line_shows_the_last_poll_in_local_time(capsys, chicago, page):
    """`status` names the zone of the times it prints."""
    assert run(capsys, "poll", "--once")[0] == 0
    _, out, _ = run(capsys, "status")
    assert " CST (" in out or " CDT (" in out


def test_piped_tables_carry_no_colour_codes(capsys, config, page):
    """Colour is for terminals only: a deleted comment's status is plain text in a pipe."""
    assert run(capsys, "poll", "--once")[0] == 0
    page.remove_comment("1_1")
    assert run(capsys, "poll", "--once")[0] == 0
    _, out, _ = run(capsys, "comments", "--status", "deleted")
    assert "deleted" in out and "\x1b" not in out


def test_poll_shows_api_calls_on_a_terminal_and_nothing_when_piped(capsys, config, page, monkeypatch):
    """A long first poll counts its API calls on a terminal's stderr; piped stderr stays quiet."""
    code, _, err = run(capsys, "poll", "--once")
    assert code == 0 and "API calls" not in err
    monkeypatch.setattr("guard.cli.output.to_terminal", lambda stream=None: True)
    code, _, err = run(capsys, "poll", "--once")
    assert code == 0 and "polling main-page: 1 API calls" in err
