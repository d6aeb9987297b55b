"""`comment-guard demo`: the whole story offline, ending with the deleted comment kept."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from guard.cli import cli
from guard.demo.story import CONFIG_NAME, DATABASE_NAME, ORDINARY, QUESTION, SPAM

REPO = Path(__file__).resolve().parents[2]


def _run(workdir: Path):
    return CliRunner().invoke(
        cli, ["demo", "--speed", "0", "--workdir", str(workdir)], catch_exceptions=False
    )


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_demo_catches_the_deleted_question_and_keeps_it(tmp_path):
    """The demo exits 0, prints the finding, the alert and the preserved comment, and its
    archive holds one removed-critical finding and the question as deleted."""
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "removed-critical" in out
    assert QUESTION in out
    assert "A critical comment on a corrected post was deleted" in out  # Slack header
    assert "Subject: [comment-guard]" in out  # the email, as received
    config = tmp_path / CONFIG_NAME
    assert f"comment-guard --config {shlex.quote(str(config))} comments --status deleted" in out
    db = tmp_path / DATABASE_NAME
    assert _rows(db, "SELECT kind, severity, state FROM findings") == [
        ("removed-critical", "critical", "open")
    ]
    status = dict(_rows(db, "SELECT message, status FROM comments"))
    assert status == {QUESTION: "deleted", ORDINARY: "present", SPAM: "deleted"}
    finding_comment = _rows(db, "SELECT c.message FROM findings f JOIN comments c ON c.id = f.comment_id")
    assert finding_comment == [(QUESTION,)]  # the spam was deleted too, and raised nothing


def test_demo_delivers_through_the_real_alert_channels(tmp_path):
    """Both outbox rows for the first alert are sent; copies of what Slack and the mail
    server received are left in the work directory."""
    assert _run(tmp_path).exit_code == 0
    db = tmp_path / DATABASE_NAME
    assert sorted(_rows(db, "SELECT channel, status FROM outbox WHERE stage = 'first'")) == [
        ("email", "sent"),
        ("slack", "sent"),
    ]
    slack = json.loads((tmp_path / "alert-slack.json").read_text(encoding="utf-8"))
    assert slack["blocks"][0]["type"] == "header"
    assert QUESTION in (tmp_path / "alert-email.eml").read_text(encoding="utf-8")


def test_demo_can_rerun_in_the_same_workdir(tmp_path):
    """A second run replaces the first run's files instead of mixing two stories."""
    assert _run(tmp_path).exit_code == 0
    assert _run(tmp_path).exit_code == 0
    assert _rows(tmp_path / DATABASE_NAME, "SELECT count(*) FROM findings") == [(1,)]


def test_demo_works_with_an_empty_environment_and_its_command_works_after(tmp_path):
    """From a clean environment (no tokens, no config) the demo exits 0, and the archive
    command it prints shows the deleted question afterwards."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    base = [sys.executable, "-c", "from guard.cli import main; main()"]
    demo = subprocess.run(
        [*base, "demo", "--speed", "0", "--workdir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert demo.returncode == 0, demo.stderr
    assert demo.stderr == ""
    line = next(
        x.strip() for x in demo.stdout.splitlines() if x.strip().startswith("$ comment-guard --config")
    )
    args = shlex.split(line)[2:]  # drop "$ comment-guard"
    after = subprocess.run([*base, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert after.returncode == 0, after.stderr
    assert QUESTION in after.stdout and "deleted" in after.stdout


def test_demo_keep_leaves_a_stand_in_another_shell_can_poll(tmp_path):
    """`demo --keep`: while it waits, a `poll --once` from another process, with only the env
    file the demo wrote, polls the stand-in page for real (the config alone names a port that is
    gone once the demo exits, which left newcomers nothing to try `poll` or `run` on)."""
    seen: dict[str, object] = {}

    def hold(result, env_file: Path) -> None:
        assert env_file.stat().st_mode & 0o077 == 0  # a token, even a throwaway one
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = shlex.split(value)[0]
        seen["poll"] = subprocess.run(
            [sys.executable, "-c", "from guard.cli import main; main()", "--config", str(result.config_path)]
            + ["poll", "--once", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    from guard.demo.story import run_demo

    run_demo(workdir=tmp_path, speed=0, keep=hold)
    poll = seen["poll"]
    assert isinstance(poll, subprocess.CompletedProcess)
    assert poll.returncode == 0, poll.stderr
    (only,) = json.loads(poll.stdout)["polls"]
    assert only["state"] == "complete" and only["api_calls"] > 0


def test_demo_keep_waits_for_ctrl_c_and_exits_cleanly(tmp_path, monkeypatch):
    """The CLI's hold prints how to use the stand-in and returns on Ctrl-C with exit 0."""
    import guard.cli.service

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(guard.cli.service, "_wait_forever", interrupted)
    result = CliRunner().invoke(cli, ["demo", "--speed", "0", "--workdir", str(tmp_path), "--keep"])
    assert result.exit_code == 0, result.output
    assert "stay up until you press Ctrl-C" in result.output
    assert f". {tmp_path / 'demo.env'}" in result.output and "poll --once" in result.output
    assert "stopped; the archive stays in" in result.output
