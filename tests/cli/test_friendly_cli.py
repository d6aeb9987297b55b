"""The CLI for people and scripts: --limit/--all and --json on listings, complete piped output,
every missing variable in one `check`, JSON from ack/resolve/check."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"
LONG = "wait, the meeting is TONIGHT?!? " + "and I have a lot more to say about it " * 8


@pytest.fixture
def page(rsps):
    comments = [FakeComment(f"1_{i}", LONG if i == 0 else f"comment {i}") for i in range(5)]
    return FakePage(rsps, [FakePost(POST, "The meeting is Thursday.", comments=comments)])


@pytest.mark.parametrize(
    "command", [["posts"], ["comments"], ["findings", "--state", "all"], ["alerts"], ["search", "comment"]]
)
def test_every_listing_accepts_json_and_limit(capsys, config, page, command):
    """Each listing takes --json and --limit; --limit 1 returns at most one row."""
    assert run(capsys, "poll", "--once")[0] == 0
    code, out, err = run(capsys, *command, "--json", "--limit", "1")
    assert code == 0, err
    data = json.loads(out)
    rows = data["outbox"] if isinstance(data, dict) else data
    assert len(rows) <= 1


def test_comments_limit_and_all(capsys, config, page):
    """--limit N cuts the listing; --all (and piping, the default) shows every row."""
    run(capsys, "poll", "--once")
    assert len(json.loads(run(capsys, "comments", "--json", "--limit", "2")[1])) == 2
    assert len(json.loads(run(capsys, "comments", "--json", "--all")[1])) == 5
    assert len(json.loads(run(capsys, "comments", "--json")[1])) == 5  # piped: everything


def test_piped_table_keeps_the_whole_comment(capsys, config, page, monkeypatch):
    """A table written to a pipe is not cut to a terminal's width."""
    monkeypatch.setenv("COLUMNS", "80")
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "comments")
    assert code == 0 and " ".join(LONG.split()) in out


def test_check_reports_every_missing_variable_in_one_run(capsys, config, monkeypatch):
    """Two accounts and a Slack webhook without their variables: one run names all three."""
    config.write_text(
        config.read_text() + '\n[[accounts]]\nname = "library"\nplatform = "facebook"\npage_id = "999"\n'
        'token_env = "LIBRARY_TOKEN"\n\n[alerts.slack]\nwebhook_url_env = "SLACK_HOOK"\n'
    )
    monkeypatch.delenv("FB_PAGE_TOKEN")
    code, out, err = run(capsys, "check")
    assert code == 2
    assert "FB_PAGE_TOKEN" in err and "LIBRARY_TOKEN" in err and "SLACK_HOOK" in err
    assert len(err.strip().splitlines()) == 3 and "Traceback" not in err
    code, out, _ = run(capsys, "check", "--json")
    data = json.loads(out)
    assert code == 2 and data["ok"] is False and len(data["missing"]) == 3


@pytest.mark.parametrize("command", [("check",), ("poll", "--once")])
def test_missing_variable_hint_is_a_command_to_copy(capsys, config, monkeypatch, command):
    """The hint for a variable whose name says TOKEN or PASSWORD survives the secret scrubbing
    whole: `export FB_PAGE_TOKEN=...` came out as `export FB_PAGE_TOKEN=[redacted]`, its closing
    quote eaten."""
    config.write_text(
        config.read_text() + '\n[alerts.email]\nsmtp_host = "127.0.0.1"\nfrom = "g@example.org"\n'
        'to = ["c@example.org"]\nusername_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n'
    )
    monkeypatch.delenv("FB_PAGE_TOKEN")
    code, _, err = run(capsys, *command)
    assert code == 2 and "[redacted]" not in err
    assert "`export FB_PAGE_TOKEN='...'`" in err.splitlines()[0]
    if command == ("check",):
        assert "`export SMTP_PASSWORD='...'`" in err


def test_ack_and_resolve_print_json(capsys, config, page):
    """ack/resolve --json print the finding's new state for scripts."""
    run(capsys, "poll", "--once")
    page.post(POST).message = "The meeting is the Thirteenth."
    run(capsys, "poll", "--once")
    page.remove_comment("1_0")
    run(capsys, "poll", "--once")
    fid = json.loads(run(capsys, "findings", "--json")[1])[0]["id"]
    code, out, _ = run(capsys, "ack", str(fid), "--json")
    assert code == 0 and json.loads(out)["state"] == "acknowledged"
    code, out, _ = run(capsys, "resolve", str(fid), "--note", "answered", "--json")
    assert json.loads(out)["state"] == "resolved" and json.loads(out)["note"] == "answered"


def test_unknown_choice_is_refused_listing_the_valid_values(capsys, config):
    """`findings --kind removed_critical` (a typo) is refused and the valid kinds listed."""
    code, _, err = run(capsys, "findings", "--kind", "removed_critical")
    assert code == 2 and "'removed-critical'" in err and err.count("\n") == 1


def test_poll_json_reports_each_accounts_poll(capsys, config, page):
    """poll --once --json prints one JSON object (and nothing else) on stdout."""
    code, out, err = run(capsys, "poll", "--once", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    assert data["polls"][0]["account"] == "main-page" and data["polls"][0]["items"] == 6
