"""One writer at a time: overlapping `poll --once` runs and a `deliver`, started together
against the sandbox, never duplicate an event or a delivery, never lose a poll, never die of
"database is locked"; a one-shot writer beside the daemon is told the daemon does the job."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from tests.daemon.conftest import REPO, TOKEN, TOKEN_ENV, account_toml, query, wait_for, write_config


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENT_GUARD")}
    env[TOKEN_ENV] = TOKEN
    return env


def _start(config, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from guard.cli import main; main()", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=_env(),
    )


def _rounds(tmp_path, sandbox, mail, rounds: int) -> None:
    config = write_config(tmp_path, [account_toml("page", sandbox.base_url, every="1h")], smtp_port=mail.port)
    db = config.parent / "archive.db"
    post = sandbox.add_post("The meeting is Thursday.")
    sandbox.add_comment(post, "Looking forward to it")
    previous = None
    for i in range(rounds):
        question = sandbox.add_comment(post, f"wait, is the meeting TONIGHT? asking for room {i}?")
        if previous is not None:
            sandbox.delete_comment(previous)
        previous = question
        procs = [
            _start(config, "poll", "--once"),
            _start(config, "poll", "--once"),
            _start(config, "deliver"),
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, f"round {i}: {proc.args[-2:]}\n{out}\n{err}"
            assert "locked" not in err and "UNIQUE" not in err, err
    final = _start(config, "deliver")
    out, err = final.communicate(timeout=60)
    assert final.returncode == 0, out + err

    assert len(query(db, "SELECT id FROM polls WHERE error IS NULL")) == 2 * rounds  # no lost poll
    per_object = Counter(query(db, "SELECT object_id, kind FROM events WHERE object_id IS NOT NULL"))
    doubled = {k: n for k, n in per_object.items() if n > 1 and k[1] in {"comment_added", "comment_deleted"}}
    assert doubled == {}
    deleted = query(db, "SELECT count(*) FROM events WHERE kind = 'comment_deleted'")[0][0]
    assert deleted == rounds - 1
    ids = [msg["Message-ID"] for _, _, msg in mail.messages]
    assert ids and len(ids) == len(set(ids)), Counter(ids).most_common(3)  # no duplicate delivery
    unsent = query(db, "SELECT DISTINCT stage, status FROM outbox WHERE status != 'sent'")
    assert set(unsent) <= {("reminder", "pending"), ("escalation", "pending")}  # due later, not lost
    verify = _start(config, "verify")
    out, err = verify.communicate(timeout=60)
    assert verify.returncode == 0, out + err


def test_two_polls_and_a_deliver_started_together_two_rounds(tmp_path, sandbox, mail):
    """The quick version (2 rounds: one deletion) of the 20-round test below."""
    _rounds(tmp_path, sandbox, mail, 2)


@pytest.mark.slow
def test_two_polls_and_a_deliver_started_together_twenty_rounds(tmp_path, sandbox, mail):
    """Issue 10's acceptance test: 20 rounds of two `poll --once` and a `deliver` at once."""
    _rounds(tmp_path, sandbox, mail, 20)


def test_one_shot_writers_beside_the_daemon_are_told_the_daemon_does_it(tmp_path, sandbox, start_daemon):
    """`poll --once` and `deliver` while the daemon runs exit 1 naming the daemon's pid, and
    write nothing; a daemon started through a symlink to the same archive is refused too."""
    config = write_config(tmp_path, [account_toml("page", sandbox.base_url, every="1h")])
    daemon = start_daemon(config)
    wait_for(lambda: query(daemon.db, "SELECT 1 FROM polls"), what="the daemon's first poll", daemon=daemon)
    for args, job in ((("poll", "--once"), "polling"), (("deliver",), "delivering alerts for")):
        proc = _start(config, *args)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert err.startswith(f"error: the daemon is {job} this archive (pid {daemon.pid})"), err
    assert len(query(daemon.db, "SELECT id FROM polls")) == 1

    link_dir = tmp_path / "elsewhere"
    link_dir.mkdir()
    (link_dir / "archive.db").symlink_to(daemon.db)
    other = write_config(link_dir, [account_toml("page", sandbox.base_url, every="1h")])
    second = _start(other, "run")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert f"(pid {daemon.pid}); stop it first" in err
    assert daemon.stop()[0] == 0
