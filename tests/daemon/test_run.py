"""The daemon end to end against the sandbox: archive, detect, alert, and report its state."""

from __future__ import annotations

from guard.demo.story import FIXED_TEXT, POST_TEXT, QUESTION
from tests.daemon.conftest import account_toml, polls, query, wait_for, write_config


def test_daemon_archives_detects_and_delivers_the_alert(tmp_path, sandbox, mail, start_daemon):
    """With poll_every = 250ms the daemon archives the thread, opens removed-critical once the
    question is deleted, and emails the alert without waiting for the 30 s delivery tick."""
    post = sandbox.add_post(POST_TEXT)
    question = sandbox.add_comment(post, QUESTION, author="Dana Reader")
    config = write_config(tmp_path, [account_toml("page", sandbox.base_url)], smtp_port=mail.port)
    d = start_daemon(config)
    db = d.db

    wait_for(
        lambda: query(db, "SELECT 1 FROM comments WHERE id = ?", [question]),
        what="the question to be archived",
        daemon=d,
    )
    sandbox.edit_post(post, FIXED_TEXT)
    wait_for(
        lambda: query(db, "SELECT 1 FROM posts WHERE id = ? AND version = 2", [post]),
        what="the corrected post version",
        daemon=d,
    )
    sandbox.delete_comment(question)
    findings = wait_for(
        lambda: query(db, "SELECT kind, comment_id FROM findings"), what="a finding", daemon=d
    )
    assert findings == [("removed-critical", question)]
    wait_for(
        lambda: query(db, "SELECT 1 FROM outbox WHERE stage = 'first' AND status = 'sent'"),
        what="the alert to be delivered",
        daemon=d,
    )

    rc, took = d.stop()
    assert (rc, took < 10) == (0, True), d.stderr()
    assert query(db, "SELECT message, status FROM comments WHERE id = ?", [question]) == [
        (QUESTION, "deleted")
    ]
    message = mail.messages[0][2]
    assert QUESTION in message.get_body(preferencelist=("plain",)).get_content()
    assert all(finished for _, finished, _ in polls(db, "page"))


def test_daemon_logs_poll_done_as_json_lines_at_info_by_default(tmp_path, sandbox, start_daemon):
    """Without --log-level the daemon logs at info, one JSON object per stdout line, with a
    poll_done per poll carrying the account, API calls and change counts."""
    sandbox.add_post(POST_TEXT)
    d = start_daemon(write_config(tmp_path, [account_toml("page", sandbox.base_url)]))
    wait_for(lambda: len(polls(d.db, "page")) >= 2, what="two polls", daemon=d)
    assert d.stop()[0] == 0
    events = d.events()  # raises if any stdout line is not JSON
    done = [e for e in events if e["event"] == "poll_done"]
    assert done and done[0]["level"] == "info"
    wanted = {"account", "api_calls", "new", "edited", "hidden", "deleted", "duration"}
    assert wanted <= set(done[0])
    assert [e["event"] for e in events][-1] == "daemon_stopped"


def test_daemon_writes_heartbeat_and_next_poll_for_status(tmp_path, sandbox, start_daemon):
    """`comment-guard status` reads the heartbeat and next_poll:<account> from meta."""
    d = start_daemon(write_config(tmp_path, [account_toml("page", sandbox.base_url, every="1h")]))
    wait_for(
        lambda: query(d.db, "SELECT 1 FROM meta WHERE key = 'daemon_heartbeat'"), what="a heartbeat", daemon=d
    )
    wait_for(lambda: polls(d.db, "page"), what="the first poll", daemon=d)
    (next_poll,) = wait_for(
        lambda: query(
            d.db,
            "SELECT value FROM meta WHERE key = 'next_poll:page' AND value > "
            "(SELECT started FROM polls ORDER BY id LIMIT 1)",
        ),
        what="next_poll after the poll",
        daemon=d,
    )[0]
    first = query(d.db, "SELECT started FROM polls ORDER BY id LIMIT 1")[0][0]
    assert next_poll > first  # about an hour later (with up to 30 s jitter)
    assert d.stop()[0] == 0
