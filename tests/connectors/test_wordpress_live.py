"""The Thursday/TONIGHT story against a real WordPress (Debian's packages, served on loopback by
tests/wordpress/site.sh): the connector, the archive, the rules and the must-use plugin."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.wordpress import WordPressConnector
from guard.archive.connection import open_archive
from guard.config import Config, parse_config
from guard.errors import ConnectorError
from guard.runtime.pipeline import run_poll

pytestmark = pytest.mark.wordpress

ROOT = Path(__file__).resolve().parents[2]
SITE_SCRIPT = ROOT / "tests" / "wordpress" / "site.sh"
PLUGIN = ROOT / "deploy" / "wordpress" / "comment-guard.php"
NEEDED = ("/usr/share/wordpress/wp-load.php", "/usr/sbin/mariadbd", "/usr/bin/php")


@pytest.fixture(scope="module")
def site() -> Iterator[dict[str, str]]:
    missing = [p for p in NEEDED if not Path(p).exists()]
    if missing:
        pytest.skip(
            "needs a real WordPress: apt-get install wordpress mariadb-server php-cli php-mysql "
            f"(missing {', '.join(missing)}); .ci/run installs them"
        )
    where = Path(tempfile.mkdtemp(prefix="cg-wordpress-")) / "site"
    out = subprocess.run(["bash", str(SITE_SCRIPT), "start", str(where)], capture_output=True, text=True)
    try:
        assert out.returncode == 0, out.stderr
        yield dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    finally:
        subprocess.run(["bash", str(SITE_SCRIPT), "stop", str(where)], capture_output=True)
        shutil.rmtree(where.parent, ignore_errors=True)


class Staff:
    """A WordPress user acting through the REST API, as wp-admin does on their behalf."""

    def __init__(self, site: dict[str, str], login: str) -> None:
        self.api = site["WP_URL"] + "/wp-json/wp/v2/"
        self.session = requests.Session()
        self.session.auth = (login, site[f"WP_{login.upper()}_PASSWORD"])
        self.session.headers["Accept"] = "application/json"

    def call(self, method: str, route: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.api + route, timeout=30, **kw)

    def ok(self, method: str, route: str, **kw: Any) -> dict[str, Any]:
        r = self.call(method, route, **kw)
        assert r.status_code < 300, r.text
        return r.json()


def config(site: dict[str, str], tmp: Path, mode: str = "observe") -> Config:
    return parse_config(
        f"""
[guard]
database = "{tmp / "archive.db"}"
mode = "{mode}"

[[accounts]]
name = "blog"
platform = "wordpress"
site_url = "{site["WP_URL"]}"
username = "editor"
password_env = "WP_TEST_APP_PASSWORD"
"""
    )


def poll(cfg: Config, db: Any, wp: WordPressConnector) -> None:
    outcome = run_poll(cfg, db, cfg.accounts[0], connector=wp, now=datetime.now(timezone.utc))
    assert outcome.poll.error is None, outcome.poll.error


def events(db: Any, object_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = db.query(
        "SELECT kind, data FROM events WHERE object_id = ? AND kind LIKE 'comment%' ORDER BY seq", [object_id]
    )
    return [(r["kind"], json.loads(r["data"] or "{}")) for r in rows]


def test_the_story_on_a_real_wordpress(site, tmp_path, monkeypatch):
    """Post, question, correction, hold then trash, permanent deletion; then the plugin refuses the same
    trash, lets an override through with who and why, and enforce mode re-approves a hold."""
    monkeypatch.setenv("WP_TEST_APP_PASSWORD", site["WP_EDITOR_PASSWORD"])
    editor, moderator, reader = (Staff(site, u) for u in ("editor", "moderator", "subscriber"))
    cfg = config(site, tmp_path)
    db = open_archive(cfg.guard.database)
    wp = WordPressConnector(site["WP_URL"], "editor", site["WP_EDITOR_PASSWORD"])
    assert any("moderate_comments" in line for line in wp.check())

    post = editor.ok(
        "POST",
        "posts",
        json={"title": "Town meeting", "content": "The meeting is Thursday.", "status": "publish"},
    )
    question = reader.ok(
        "POST", "comments", json={"post": post["id"], "content": "wait, the meeting is TONIGHT?!?"}
    )
    poll(cfg, db, wp)
    editor.ok("POST", f"posts/{post['id']}", json={"content": "The meeting is on the 13th."})
    poll(cfg, db, wp)
    pid, qid = wp.post_id(post["id"]), wp.comment_id(question["id"])
    versions = [
        r["message"]
        for r in db.query("SELECT message FROM post_versions WHERE post_id = ? ORDER BY version", [pid])
    ]
    assert versions == [
        "Town meeting\n\nThe meeting is Thursday.",
        "Town meeting\n\nThe meeting is on the 13th.",
    ]

    moderator.ok("POST", f"comments/{question['id']}", json={"status": "hold"})  # held first
    poll(cfg, db, wp)
    kinds = events(db, qid)
    assert kinds[-1][0] == "comment_hidden" and kinds[-1][1]["platform_status"] == "hold"
    moderator.ok("DELETE", f"comments/{question['id']}")  # then to the trash: still hidden, moved
    poll(cfg, db, wp)
    kinds = events(db, qid)
    assert kinds[-1][0] == "comment_moderated" and kinds[-1][1]["platform_status"] == "trash"
    assert kinds[-1][1]["previous_platform_status"] == "hold"
    assert "recoverable" in kinds[-1][1]["note"]
    moderator.ok("DELETE", f"comments/{question['id']}", params={"force": "true"})
    poll(cfg, db, wp)
    assert events(db, qid)[-1][0] == "comment_deleted"
    finding = next(
        db.query("SELECT * FROM findings WHERE kind = 'removed-critical' AND comment_id = ?", [qid])
    )
    assert finding["suggested_reply"]

    # The must-use plugin: the next question is marked protected after the poll that sees it.
    shutil.copy(PLUGIN, Path(site["WP_MU_PLUGINS"]) / "comment-guard.php")
    assert any("plugin is active" in line for line in wp.check())
    second = reader.ok(
        "POST", "comments", json={"post": post["id"], "content": "So is it tonight or the 13th??"}
    )
    poll(cfg, db, wp)
    poll(cfg, db, wp)  # the second poll reads the mark back
    meta = editor.ok("GET", f"comments/{second['id']}", params={"context": "edit"})["meta"]
    assert meta["comment_guard_protected"] is True
    refused = moderator.call("DELETE", f"comments/{second['id']}")
    assert refused.status_code == 403 and refused.json()["code"] == "comment_guard_protected"
    assert "Reply publicly" in refused.json()["message"]
    with pytest.raises(ConnectorError, match="Reply publicly"):
        wp.delete(wp.comment_id(second["id"]))
    moderator.ok(
        "DELETE", f"comments/{second['id']}", params={"comment_guard_override_reason": "posted twice"}
    )
    poll(cfg, db, wp)
    hidden = events(db, wp.comment_id(second["id"]))[-1]
    assert (
        hidden[0] == "comment_hidden"
        and "moderator" in hidden[1]["note"]
        and "posted twice" in hidden[1]["note"]
    )

    # Enforce mode: a protected comment put on hold is approved again.
    third = reader.ok(
        "POST",
        "comments",
        json={"post": post["id"], "content": "Why did you change the date?? Nobody told us"},
    )
    enforce_cfg = config(site, tmp_path, mode="enforce")
    poll(enforce_cfg, db, wp)
    moderator.ok("POST", f"comments/{third['id']}", json={"status": "hold"})
    poll(enforce_cfg, db, wp)
    assert editor.ok("GET", f"comments/{third['id']}", params={"context": "edit"})["status"] == "approved"
    wp.close()
