"""Permanent deletion on WordPress: only a comment already in the trash, only with
``delete --override --reason`` (audited), and never a comment restored meanwhile.
Shapes: DELETE /wp/v2/comments/<id>?force=true answers {"deleted": true, "previous": {...}}
(https://developer.wordpress.org/reference/classes/wp_rest_comments_controller/delete_item/)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from responses import matchers

from connectors.wordpress import WordPressConnector
from guard import actions
from guard.archive.connection import open_archive
from guard.config import parse_config
from guard.errors import ConnectorError
from guard.runtime.pipeline import poll_account
from tests.conftest import NOW
from tests.support.graph import fixture

SITE = "https://blog.example.org"
API = SITE + "/wp-json/wp/v2/"
HELD = "blog.example.org/comments/10"
CONFIG = """
[guard]
database = "archive.db"

[[accounts]]
name = "blog"
platform = "wordpress"
site_url = "https://blog.example.org"
username = "editor"
password_env = "WP_APP_PASSWORD"
"""


def wp(name: str) -> Any:
    return copy.deepcopy(fixture(f"wordpress/{name}.json"))


def make() -> WordPressConnector:
    return WordPressConnector(SITE, "editor", "abcd EFGH 1234 ijkl MNOP 6789")


def status(rsps, value: str) -> None:
    rsps.get(API + "comments/10", json={"id": 10, "status": value})


def test_purge_deletes_a_trashed_comment_with_force(rsps):
    """The status is read first; then DELETE with force=true, and WordPress's confirmation checked."""
    status(rsps, "trash")
    held = wp("comments_every_status")[2]
    rsps.delete(
        API + "comments/10",
        json={"deleted": True, "previous": {**held, "status": "trash"}},
        match=[matchers.query_param_matcher({"force": "true"})],
    )
    make().purge(HELD)


def test_purge_refuses_a_comment_that_is_not_in_the_trash(rsps):
    """A held (or restored) comment is never deleted permanently: one clear line, no DELETE."""
    status(rsps, "hold")
    with pytest.raises(ConnectorError, match="not in WordPress's trash"):
        make().purge(HELD)
    assert [c.request.method for c in rsps.calls] == ["GET"]


def _archive_with_trashed_question(rsps, tmp_path, text: str | None = None):
    config = parse_config(CONFIG, tmp_path / "cg.toml")
    db = open_archive(tmp_path / "archive.db")
    rsps.get(API + "users/me", json={"id": 2})
    posts = wp("posts_context_edit")
    posts[0]["modified_gmt"] = posts[0]["date_gmt"]
    rsps.get(API + "posts", json=posts, headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    question = [{**wp("comments_every_status")[2], "status": "trash"}]
    if text is not None:
        question[0]["content"] = {"raw": text, "rendered": f"<p>{text}</p>\n"}
    rsps.get(API + "comments", json=question, headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    wpc = make()
    poll_account(db, config.accounts[0], wpc, now=NOW)
    return config, db, wpc


def test_delete_override_of_a_trashed_comment_deletes_it_permanently_and_audits_it(rsps, tmp_path):
    """delete --override --reason on a trashed comment purges it; the event says permanently and why."""
    config, db, wpc = _archive_with_trashed_question(rsps, tmp_path)
    status(rsps, "trash")
    status(rsps, "trash")
    rsps.delete(API + "comments/10", json={"deleted": True, "previous": {"id": 10}})
    prot = actions.moderate(
        db,
        config,
        "delete",
        HELD,
        now=NOW,
        override_protection=True,
        reason="GDPR erasure request",
        connector=wpc,
    )
    assert prot.deleted_permanently
    (event,) = db.query("SELECT data FROM events WHERE kind = 'comment_delete_by_guard'")
    data = json.loads(event["data"])
    assert data["permanently"] is True and data["reason"] == "GDPR erasure request"
    assert "force=true" in rsps.calls[-1].request.url


def test_delete_without_override_of_a_trashed_comment_never_forces(rsps, tmp_path):
    """Without --override the usual trash call is made, and WordPress's 'already trashed' is explained."""
    config, db, wpc = _archive_with_trashed_question(rsps, tmp_path, "Thanks, see you there.")
    rsps.delete(
        API + "comments/10",
        json={
            "code": "rest_already_trashed",
            "message": "The comment has already been trashed.",
            "data": {"status": 410},
        },
        status=410,
    )
    with pytest.raises(ConnectorError, match="--override --reason"):
        actions.moderate(db, config, "delete", HELD, now=NOW, connector=wpc)
    assert "force" not in rsps.calls[-1].request.url
