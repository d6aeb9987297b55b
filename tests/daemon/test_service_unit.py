"""deploy/comment-guard.service runs the real command, hardened as the README promises."""

from __future__ import annotations

import shlex
from pathlib import Path

from guard.cli import cli

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "comment-guard.service"


def _settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_unit_runs_the_daemon_command_with_the_documented_paths():
    """ExecStart is `comment-guard --config /etc/comment-guard/comment-guard.toml run`, and
    `run` is a real command of the CLI."""
    s = _settings()
    argv = shlex.split(s["ExecStart"][0])
    assert argv == [
        "/opt/comment-guard/venv/bin/comment-guard",
        "--config",
        "/etc/comment-guard/comment-guard.toml",
        "run",
    ]
    assert cli.get_command(cli.make_context("comment-guard", ["run"]), "run") is not None
    assert s["EnvironmentFile"] == ["/etc/comment-guard/env"]
    assert s["WorkingDirectory"] == ["/var/lib/comment-guard"]


def test_unit_is_hardened_and_stops_within_the_daemons_budget():
    """The sandboxing options are on, and systemd waits longer than the daemon's 10 s stop."""
    s = _settings()
    for key, value in {
        "ProtectSystem": "strict",
        "StateDirectory": "comment-guard",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "Restart": "on-failure",
        "KillSignal": "SIGTERM",
    }.items():
        assert s[key] == [value], key
    assert "User" in s or s.get("DynamicUser") == ["yes"]
    assert int(s["TimeoutStopSec"][0]) > 10
