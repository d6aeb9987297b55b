"""Account bindings: bound only by a poll that succeeds, listed by `accounts`, fixable while
empty; one page under two names is a config error."""

from __future__ import annotations

import json

from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost, fixture

POST = f"{PAGE_ID}_1"


def _bindings(capsys) -> dict[str, dict]:
    code, out, err = run(capsys, "accounts", "--json")
    assert code == 0, err
    return {r["name"]: r for r in json.loads(out)}


def test_a_failed_poll_with_a_mistyped_page_id_does_not_bind_the_account(capsys, config, rsps):
    """A poll of a wrong page id that fails binds nothing; fixing the id and polling binds it."""
    page = FakePage(rsps, [FakePost(POST, "The meeting is Thursday.", comments=[FakeComment("1_1", "ok")])])
    config.write_text(config.read_text().replace(f'page_id = "{PAGE_ID}"', 'page_id = "99999"'))
    page.fail("99999", 400, fixture("facebook/error_not_found.json"))
    code, out, _ = run(capsys, "poll", "--once")
    assert code == 1 and "FAILED" in out
    assert _bindings(capsys)["main-page"]["first_seen"] is None  # listed from the config, not bound
    config.write_text(config.read_text().replace('page_id = "99999"', f'page_id = "{PAGE_ID}"'))
    code, out, err = run(capsys, "poll", "--once")
    assert code == 0, err
    bound = _bindings(capsys)["main-page"]
    assert bound["page_id"] == PAGE_ID and bound["matches_config"] is True and bound["posts"] == 1
    code, out, _ = run(capsys, "accounts")
    assert code == 0 and "main-page" in out and "bound" in out


def test_an_account_with_archived_data_cannot_be_renamed_or_forgotten(capsys, config, rsps):
    """rename/forget refuse an account holding posts: one line, exit 1, nothing changed."""
    FakePage(rsps, [FakePost(POST, "The meeting is Thursday.")])
    run(capsys, "poll", "--once")
    for args in (("rename", "main-page", "other"), ("forget", "main-page")):
        code, _, err = run(capsys, "accounts", *args)
        assert code == 1 and "archived records are never rewritten" in err and len(err.splitlines()) == 1
    assert _bindings(capsys)["main-page"]["posts"] == 1


def test_an_empty_binding_can_be_renamed_and_forgotten(capsys, config, rsps):
    """An account bound by a poll of an empty page can be renamed, then forgotten."""
    FakePage(rsps, [])
    code, _, err = run(capsys, "poll", "--once")
    assert code == 0, err
    code, out, _ = run(capsys, "accounts", "rename", "main-page", "old-page")
    assert code == 0 and "renamed" in out
    rows = _bindings(capsys)
    assert rows["old-page"]["configured"] is False and rows["main-page"]["first_seen"] is None
    code, out, _ = run(capsys, "accounts", "forget", "old-page")
    assert code == 0 and "old-page" not in _bindings(capsys)
    code, _, err = run(capsys, "accounts", "forget", "old-page")
    assert code == 1 and "no account named 'old-page'" in err


def test_the_same_page_under_two_account_names_is_a_config_error(capsys, config):
    """Two [[accounts]] on one page: exit 2 at `check`, naming both, instead of failing every poll."""
    config.write_text(
        config.read_text()
        + f"""
[[accounts]]
name = "second-name"
platform = "facebook"
page_id = "{PAGE_ID}"
token_env = "FB_PAGE_TOKEN"
"""
    )
    code, _, err = run(capsys, "check")
    assert code == 2 and "'main-page' and 'second-name' both watch facebook page" in err


def test_renaming_to_a_name_the_config_cannot_hold_is_refused(capsys, config, rsps):
    """`accounts rename main-page "bad name"` renamed the binding, then said to put a name in
    the config that the config refuses: the page was left bound to an account no config could
    name."""
    FakePage(rsps, [])
    run(capsys, "poll", "--once")
    for new in ("bad name", ""):
        code, _, err = run(capsys, "accounts", "rename", "main-page", new)
        assert code == 2 and "use letters, digits, '-', '_' or '.'" in err
    assert _bindings(capsys)["main-page"]["first_seen"] is not None  # still bound, unchanged
