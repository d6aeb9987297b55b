"""`poll --once` with one broken account: the others are still polled, one line says why."""

from __future__ import annotations

import pytest

from connectors.facebook import FacebookConnector
from tests.cli.conftest import account_toml, run, write_config
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

BROKEN_PAGE = "100200399"


@pytest.fixture
def two_accounts(tmp_path, monkeypatch):
    return write_config(
        tmp_path / "cg.toml", monkeypatch, account_toml("broken-page", BROKEN_PAGE), account_toml()
    )


def test_poll_once_with_one_broken_account_polls_the_other_and_exits_1_with_one_line(
    capsys, rsps, monkeypatch, two_accounts
):
    """A connector bug in the first account: the second is polled, stderr has one line, exit 1."""
    FakePage(
        rsps, [FakePost(f"{PAGE_ID}_1", "Meeting Thursday", comments=[FakeComment("1_1", "TONIGHT?!?")])]
    )
    fetch = FacebookConnector.fetch

    def broken(self, since):
        if self.page_id == BROKEN_PAGE:
            raise KeyError("id")
        return fetch(self, since)

    monkeypatch.setattr(FacebookConnector, "fetch", broken)
    code, out, err = run(capsys, "poll", "--once")
    assert code == 1
    assert "main-page: poll 2 complete" in out and "broken-page: poll 1 FAILED" in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [
        "error: broken-page: reading facebook failed in fetch (KeyError: 'id'); "
        "nothing changed status, the next poll tries again"
    ]
    assert "Traceback" not in err and "unexpected" not in err and "EAAB-very-secret" not in out + err
    code, out, _ = run(capsys, "status")
    assert "never polled" not in out
