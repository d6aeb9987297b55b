"""The command line, end to end through ``main``: output, JSON contracts and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from guard.archive.verify import _GUARD_TRIGGERS
from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture

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
                    FakeComment(
                        "1_1", "wait, the meeting is TONIGHT?!?", created_time="2026-11-20T16:02:11+0000"
                    ),
                    FakeComment(
                        "1_2", "Thanks!", author="Sam Neighbor", created_time="2026-11-20T17:00:00+0000"
                    ),
                ],
            )
        ],
    )


def test_poll_then_comments_json_has_the_documented_contract(capsys, config, page):
    """`comments --json` lists objects with the documented keys, deleted ones included."""
    code, out, _ = run(capsys, "poll", "--once")
    assert code == 0 and "poll 1 complete, 1 API calls, 3 items" in out
    page.remove_comment("1_1")
    code, out, err = run(capsys, "poll", "--once")
    assert code == 0, err
    code, out, _ = run(capsys, "comments", "--json")
    rows = json.loads(out)
    keys = {
        "id",
        "post_id",
        "parent_id",
        "author",
        "message",
        "status",
        "created_time",
        "first_seen",
        "last_seen",
    }
    assert code == 0 and all(keys <= set(r) for r in rows)
    assert {r["id"]: r["status"] for r in rows} == {"1_1": "deleted", "1_2": "present"}
    code, out, _ = run(capsys, "comments", "--status", "deleted", "--author", "dana reader", "--json")
    assert [r["message"] for r in json.loads(out)] == ["wait, the meeting is TONIGHT?!?"]
    code, out, _ = run(capsys, "comments", "--since", "2026-11-20T16:30:00", "--json")
    assert [r["id"] for r in json.loads(out)] == ["1_2"]


@pytest.mark.parametrize("name", ["élodie müller", "ÉLODIE MÜLLER", "E\u0301lodie Mu\u0308ller", "łukasz"])
def test_comments_author_is_case_insensitive_beyond_ascii(capsys, config, rsps, name):
    """`--author` ignores case in every alphabet (SQLite's NOCASE folds A-Z only) and how the
    accents were typed (composed or not), and matches the whole name only."""
    FakePage(
        rsps,
        [
            FakePost(
                POST,
                "Hours",
                comments=[
                    FakeComment("1_1", "merci", author="Élodie Müller"),
                    FakeComment("1_2", "danke", author="Élodie Müller-Schmidt"),
                    FakeComment("1_3", "dzięki", author="Łukasz"),
                ],
            )
        ],
    )
    run(capsys, "poll", "--once")
    code, out, err = run(capsys, "comments", "--author", name, "--json")
    assert code == 0, err
    assert [r["id"] for r in json.loads(out)] == (["1_3"] if name == "łukasz" else ["1_1"])


def test_search_thread_history_show_deleted_text(capsys, config, page):
    """search, thread and history find and mark a deleted comment."""
    run(capsys, "poll", "--once")
    page.post(POST).message = "The meeting is the Thirteenth."
    page.remove_comment("1_1")
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "search", "TONIGHT?!?")
    assert code == 0 and "1_1" in out and "deleted" in out
    code, out, _ = run(capsys, "thread", POST)
    assert "[DELETED]" in out and "v2" in out
    code, out, _ = run(capsys, "history", POST)
    assert "diff: The meeting is [-Thursday.-] {+the Thirteenth.+}" in out


def test_export_json_and_csv_carry_sha256_of_each_text(capsys, config, page):
    """Every exported text comes with its SHA-256."""
    import hashlib

    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "export", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3
    assert all(r["sha256"] == hashlib.sha256(r["message"].encode()).hexdigest() for r in rows)
    code, out, _ = run(capsys, "export", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 3


def test_verify_ok_then_tampered_exit_1_naming_the_row(capsys, config, page):
    """verify exits 0 on a clean archive and 1 with the first bad row after tampering."""
    run(capsys, "poll", "--once")
    assert run(capsys, "verify")[0] == 0
    conn = sqlite3.connect(config.parent / "archive.db")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET kind = 'comment_edited' WHERE seq = 3")
    conn.execute(_GUARD_TRIGGERS["events_no_update"])  # tracks covered: only the chain tells
    conn.commit()
    code, _, err = run(capsys, "verify")
    assert code == 1
    assert err.splitlines()[0] == "TAMPERED: event 3: its content does not match its hash"


def test_expired_token_is_one_clear_line_and_exit_1(capsys, config, page):
    """An expired token: one error line telling what to do, no traceback, no token."""
    page.fail("/posts", 400, fixture("facebook/error_expired_token.json"))
    code, out, err = run(capsys, "poll", "--once")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "access token was rejected" in lines[0]
    assert "EAAB-very-secret" not in out + err and "Traceback" not in err
    assert "poll 1 FAILED" in out
    code, out, _ = run(capsys, "status")  # a rejected token is a failing account: status says so
    assert code == 1 and "failed: the access token was rejected" in out and "main-page: FAILING" in out


@pytest.mark.parametrize(
    "args,needle",
    [
        (("comments", "--status", "gone"), "Invalid value for '--status'"),
        (("comments", "--since", "last tuesday"), "Invalid value for '--since'"),
        (("poll",), "poll needs --once"),
        (("nonsense",), "No such command 'nonsense'"),
        (("history", "no-such-id"), "no archive at"),  # read commands never create the archive
    ],
)
def test_bad_command_line_input_is_one_line_and_non_zero(capsys, config, args, needle):
    """Bad arguments and unknown ids: one line on stderr, non-zero exit, no traceback."""
    code, _, err = run(capsys, *args)
    assert code != 0 and needle in err and len(err.strip().splitlines()) == 1


def test_bad_config_is_exit_2_with_the_key(capsys, config):
    """A wrong config key exits 2 naming the key and line."""
    config.write_text(config.read_text() + 'poll_every = "5 minutes"\n')
    code, _, err = run(capsys, "posts")
    assert code == 2 and "accounts[0].poll_every" in err and len(err.strip().splitlines()) == 1


def test_missing_token_variable_is_exit_2_without_secret(capsys, config, monkeypatch):
    """Polling without the token variable says which variable to export."""
    monkeypatch.delenv("FB_PAGE_TOKEN")
    code, _, err = run(capsys, "poll", "--once")
    assert code == 2 and "FB_PAGE_TOKEN" in err and "export" in err


def test_missing_config_file_says_how_to_create_one(capsys, tmp_path, monkeypatch):
    """No config: point at `init` and --config."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "posts")
    assert code == 2 and "comment-guard init" in err


def test_init_writes_config_and_database_and_refuses_to_overwrite(capsys, tmp_path):
    """init creates a working config and archive, and won't clobber an existing file."""
    target = tmp_path / "new.toml"
    code, out, _ = run(capsys, "--config", str(target), "init")
    assert code == 0 and target.exists() and (tmp_path / "comment-guard.db").exists()
    code, _, err = run(capsys, "--config", str(target), "init")
    assert code == 2 and "--force" in err


def test_check_live_reports_the_page(capsys, config, page):
    """check --live reads the page with the token."""
    code, out, _ = run(capsys, "check", "--live")
    assert code == 0 and "Riverside Community Center" in out


def test_since_accepts_a_time_with_an_offset(capsys, config, page):
    """--since takes ISO-8601 with an offset and compares in UTC."""
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "comments", "--since", "2026-11-20T18:30:00+02:00", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == ["1_2"]


def test_poll_once_runs_the_reply_deadline_sweep(capsys, config, rsps):
    """Cron users get `unanswered` from `poll --once` once the reply deadline has passed."""
    from datetime import datetime, timedelta, timezone

    import time_machine

    t0 = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
    page = FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The meeting is Thursday.",
                comments=[
                    FakeComment(
                        "1_1",
                        "so is it this week or next week",
                        created_time=(t0 + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    )
                ],
            )
        ],
    )
    with time_machine.travel(t0 + timedelta(minutes=2), tick=False):
        run(capsys, "poll", "--once")
    page.post(POST).message = "The meeting is the Thirteenth."
    with time_machine.travel(t0 + timedelta(minutes=3), tick=False):
        run(capsys, "poll", "--once")
    with time_machine.travel(t0 + timedelta(hours=2, minutes=10), tick=False):
        code, out, _ = run(capsys, "poll", "--once")
    assert code == 0 and "finding(s) from reply deadlines" in out
    code, out, _ = run(capsys, "findings", "--kind", "unanswered", "--json")
    assert [f["comment_id"] for f in json.loads(out)] == ["1_1"]
