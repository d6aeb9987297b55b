"""CLI test helpers: run ``main`` in-process, and a config pointing at the fake Graph API."""

from __future__ import annotations

import pytest

from guard.cli import main
from tests.support.graph import PAGE_ID


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def account_toml(name: str = "main-page", page_id: str = PAGE_ID) -> str:
    """One Facebook ``[[accounts]]`` block reading the test token."""
    return f"""
[[accounts]]
name = "{name}"
platform = "facebook"
page_id = "{page_id}"
token_env = "FB_PAGE_TOKEN"
"""


def email_toml(port: int, sender: str = "guard@example.org") -> str:
    """An ``[alerts.email]`` block for the loopback SMTP sink on ``port``."""
    return f"""
[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = {port}
starttls = false
from = "{sender}"
to = ["comms@example.org"]
"""


def write_config(path, monkeypatch, *blocks: str):
    """Write a config with an archive next to it and the given blocks, and point the CLI at it."""
    path.write_text('\n[guard]\ndatabase = "archive.db"\n' + "".join(blocks or (account_toml(),)))
    monkeypatch.setenv("COMMENT_GUARD_CONFIG", str(path))
    monkeypatch.setenv("FB_PAGE_TOKEN", "EAAB-very-secret")
    return path


@pytest.fixture
def config(tmp_path, monkeypatch):
    return write_config(tmp_path / "cg.toml", monkeypatch)
