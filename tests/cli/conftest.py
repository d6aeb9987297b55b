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


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "cg.toml"
    path.write_text(f"""
[guard]
database = "archive.db"

[[accounts]]
name = "main-page"
platform = "facebook"
page_id = "{PAGE_ID}"
token_env = "FB_PAGE_TOKEN"
""")
    monkeypatch.setenv("COMMENT_GUARD_CONFIG", str(path))
    monkeypatch.setenv("FB_PAGE_TOKEN", "EAAB-very-secret")
    return path
