"""Staff labels and the protection policy through the command line, against the fake Graph API."""

from __future__ import annotations

import json

import pytest

from guard.archive.connection import open_archive
from guard.archive.events import verify_chain
from guard.archive.labels import labelled_comments
from guard.config import parse_config
from guard.errors import ConfigError
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
                "Leaf collection starts Monday on the east side.",
                comments=[
                    FakeComment("1_1", "Which streets count as the east side?"),
                    FakeComment("1_2", "Nice photo of the truck", author="Lee Park", author_id="5550002"),
                    FakeComment(
                        "1_3", "Win a free iPhone http://prize-now.example claim today", author="Promo"
                    ),
                ],
            )
        ],
    )


def _with_policy(config, text: str) -> None:
    config.write_text(config.read_text() + text)


def test_not_critical_label_unprotects_and_explain_says_who_and_when(capsys, config, page):
    """A 'not-critical' label overrides the classifier; explain names the person and the time."""
    run(capsys, "poll", "--once")
    code, out, err = run(
        capsys, "label", "1_1", "not-critical", "--by", "maria", "--note", "answered by phone"
    )
    assert code == 0, err
    assert "comment 1_1 labelled not-critical by maria: not protected" in out
    code, out, _ = run(capsys, "explain", "1_1")
    assert "not protected" in out and "labelled not-critical by maria at " in out
    assert "(answered by phone)" in out and "policy: protect = 'critical' (the default)" in out
    code, _, _ = run(capsys, "hide", "1_1")
    assert code == 0 and page.writes == [("POST", "1_1", {"is_hidden": ["true"]})]


def test_label_survives_a_re_poll_and_is_in_the_hash_chain(capsys, config, page):
    """A critical label still applies after another poll, and its event keeps the chain valid."""
    run(capsys, "poll", "--once")
    run(capsys, "label", "1_2", "critical", "--by", "maria")
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "explain", "1_2", "--json")
    verdict = json.loads(out)
    assert verdict["protected"] is True and verdict["label"].startswith("labelled critical by maria at ")
    code, out, _ = run(capsys, "history", "1_2", "--json")
    assert "comment_labelled" in [e["kind"] for e in json.loads(out)["events"]]
    db = open_archive(config.parent / "archive.db")
    assert verify_chain(db).ok
    assert [(c.comment_id, c.label, c.text) for c in labelled_comments(db)] == [
        ("1_2", "critical", "Nice photo of the truck")
    ]


def test_critical_label_on_a_deleted_comment_opens_a_finding(capsys, config, page):
    """Labelling a deleted ordinary comment critical makes its removal a finding at once."""
    run(capsys, "poll", "--once")
    page.remove_comment("1_2")
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "label", "1_2", "critical", "--by", "maria")
    assert code == 0 and "PROTECTED; 1 new finding(s)" in out


def test_not_critical_label_closes_the_comments_open_findings_as_the_slack_button_does(capsys, config, page):
    """Left open, the finding would keep reminding and escalating about a comment staff decided
    needs nothing; the post's other findings stay as they are."""
    run(capsys, "poll", "--once")
    page.remove_comment("1_1")
    page.remove_comment("1_2")
    run(capsys, "poll", "--once")
    run(capsys, "label", "1_2", "critical", "--by", "maria")
    code, out, _ = run(capsys, "findings", "--json")
    open_ = {f["comment_id"]: f["id"] for f in json.loads(out)}
    assert set(open_) == {"1_1", "1_2"}
    code, out, err = run(capsys, "label", "1_1", "not-critical", "--by", "maria")
    assert code == 0, err
    assert out.strip() == f"comment 1_1 labelled not-critical by maria: not protected; closed #{open_['1_1']}"
    code, out, _ = run(capsys, "findings", "--json")
    assert [f["comment_id"] for f in json.loads(out)] == ["1_2"]
    code, out, _ = run(capsys, "findings", "--state", "resolved", "--json")
    (closed,) = json.loads(out)
    assert closed["comment_id"] == "1_1" and "not critical, said maria" in json.dumps(closed)


def test_label_of_unknown_comment_is_one_clear_line(capsys, config, page):
    """An id that is not in the archive is a usage error, not a traceback."""
    run(capsys, "poll", "--once")
    code, _, err = run(capsys, "label", "9_9", "critical", "--by", "maria")
    assert code == 2 and err.startswith("error: no comment '9_9' in the archive") and "Traceback" not in err


def test_label_of_the_pages_own_comment_is_refused(capsys, config, page):
    """The page's own comments are never protected, so labelling one is a usage error."""
    page.post(POST).comments.append(FakeComment("1_9", "Thanks all!", author="Riverside", author_id=PAGE_ID))
    run(capsys, "poll", "--once")
    code, _, err = run(capsys, "label", "1_9", "critical", "--by", "maria")
    assert code == 2 and "written by the page" in err


def test_label_without_a_login_name_asks_for_by(capsys, config, page, monkeypatch):
    """When the system cannot say who is running it, --by is required."""
    run(capsys, "poll", "--once")

    def no_user() -> str:
        raise OSError("no login name")

    monkeypatch.setattr("guard.cli.labels.getpass.getuser", no_user)
    code, _, err = run(capsys, "label", "1_1", "critical")
    assert code == 2 and "--by NAME" in err


def test_protect_all_protects_an_ordinary_deleted_comment_but_not_spam(capsys, config, page):
    """[policy] protect = "all": deleting an ordinary comment opens a finding; spam stays hideable."""
    _with_policy(config, '\n[policy]\nprotect = "all"\n')
    run(capsys, "poll", "--once")
    page.remove_comment("1_2")
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "findings", "--json")
    assert [(f["kind"], f["comment_id"]) for f in json.loads(out)] == [("removed-critical", "1_2")]
    code, out, _ = run(capsys, "explain", "1_2")
    assert "policy: protect = 'all' ([policy] protect)" in out
    code, _, _ = run(capsys, "hide", "1_3")
    assert code == 0


def test_account_protect_key_overrides_the_policy(capsys, config, page):
    """`protect` on an [[accounts]] entry applies to that account and explain says so."""
    config.write_text(
        config.read_text().replace(
            'token_env = "FB_PAGE_TOKEN"', 'token_env = "FB_PAGE_TOKEN"\nprotect = "all"'
        )
    )
    run(capsys, "poll", "--once")
    code, out, _ = run(capsys, "explain", "1_2")
    assert "PROTECTED" in out and "this account's protect key" in out


def test_bad_protect_value_names_the_key():
    """An unknown protect value is one config error naming the key and the choices."""
    base = '[guard]\n[[accounts]]\nname = "a"\nplatform = "facebook"\npage_id = "1"\ntoken_env = "T"\n'
    with pytest.raises(ConfigError, match=r"policy.protect = 'everything' is not one of: critical, all"):
        parse_config(base + '[policy]\nprotect = "everything"\n')
    with pytest.raises(ConfigError, match=r"accounts\[0\].protect = 'none' is not one of"):
        parse_config(base.replace('token_env = "T"', 'token_env = "T"\nprotect = "none"'))
    assert parse_config(base).policy.protect == "critical"
