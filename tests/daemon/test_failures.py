"""One broken account, connector or bug never stops the scheduler, other accounts or alerts."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import structlog

from guard.alerts.outbox import enqueue_message
from guard.alerts.render import render_test
from guard.archive.connection import open_archive
from guard.config import load_config
from guard.runtime.daemon import Daemon
from tests.daemon.conftest import (
    TOKEN,
    TOKEN_ENV,
    account_toml,
    closed_port,
    polls,
    query,
    wait_for,
    write_config,
)
from tests.support.graph import Sandbox


def test_failing_accounts_do_not_stop_other_accounts_or_delivery(tmp_path, sandbox, mail, start_daemon):
    """An account whose API answers 500 forever and one whose port is closed keep failing
    their own polls, while the healthy account keeps polling and queued alerts go out."""
    with Sandbox(token=TOKEN, page_id="100200301") as broken:  # one page is one account
        broken.fail_next(100_000, status=500)
        config = write_config(
            tmp_path,
            [
                account_toml("good", sandbox.base_url),
                account_toml("broken", broken.base_url, page_id="100200301"),
                account_toml("dead", f"http://127.0.0.1:{closed_port()}/", page_id="100200302"),
            ],
            smtp_port=mail.port,
        )
        db = open_archive(tmp_path / "archive.db")
        with db.atomic():
            enqueue_message(
                db,
                render_test(datetime.now(timezone.utc)),
                stage="test",
                channels=["email"],
                key_prefix="seeded",
                now=datetime.now(timezone.utc),
            )
        db.conn.close()
        d = start_daemon(config)
        wait_for(
            lambda: all(len(polls(d.db, a)) >= 3 for a in ("good", "broken", "dead")),
            what="three polls of every account",
            daemon=d,
        )
        wait_for(lambda: mail.messages, what="the queued alert to be delivered", daemon=d)
        assert d.proc.poll() is None
        assert d.stop()[0] == 0
    assert all(error is None for _, _, error in polls(d.db, "good"))
    assert all(error for _, _, error in polls(d.db, "broken"))
    assert all("cannot reach" in error for _, _, error in polls(d.db, "dead"))
    assert query(d.db, "SELECT status FROM outbox WHERE finding_id IS NULL") == [("sent",)]
    # the two failing accounts are alerts of their own (account-failing), the good one is not
    failing = query(d.db, "SELECT account FROM findings WHERE kind = 'account-failing' ORDER BY account")
    assert failing == [("broken",), ("dead",)]


class ExplodingConnector:
    """A connector with a bug: every fetch raises something that is not a GuardError."""

    platform = "facebook"
    absences_before_confirm = 1
    api_calls = 0

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, since):
        self.calls += 1
        raise RuntimeError("bug in a connector")

    def close(self) -> None:
        pass


def test_job_that_raises_is_logged_and_retried_next_tick(tmp_path, sandbox, monkeypatch):
    """A connector raising what it should not is contained by the poll: a failed poll is
    recorded with the reason, the job runs again on its next tick, and the other account's
    polls and the heartbeat carry on."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = load_config(
        write_config(
            tmp_path,
            [account_toml("buggy", sandbox.base_url, page_id="999"), account_toml("good", sandbox.base_url)],
        )
    )
    buggy = ExplodingConnector()
    daemon = Daemon(config, connectors={"buggy": buggy})
    with structlog.testing.capture_logs() as logs:
        thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
        thread.start()
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not (
                buggy.calls >= 2 and len(polls(tmp_path / "archive.db", "good")) >= 2
            ):
                time.sleep(0.05)
        finally:
            daemon.stop()
            thread.join(10)
    assert buggy.calls >= 2
    failed = [e for e in logs if e["event"] == "connector_failed"]
    assert failed and failed[0]["account"] == "buggy" and failed[0]["error_type"] == "RuntimeError"
    recorded = polls(tmp_path / "archive.db", "buggy")
    assert len(recorded) >= 2 and all("RuntimeError: bug in a connector" in error for _, _, error in recorded)
    assert query(tmp_path / "archive.db", "SELECT 1 FROM meta WHERE key = 'daemon_heartbeat'")


def test_rate_limited_account_waits_for_retry_after(tmp_path, sandbox, start_daemon):
    """A throttled poll (Graph 80001, regain access in 5 min) moves that account's next poll
    about 300 s ahead and records it for status; the other account keeps its pace."""
    with Sandbox(token=TOKEN, page_id="100200301") as limited:
        limited.fail_next(1, code=80001)
        d = start_daemon(
            write_config(
                tmp_path,
                [
                    account_toml("good", sandbox.base_url),
                    account_toml("limited", limited.base_url, page_id="100200301"),
                ],
            )
        )
        wait_for(lambda: polls(d.db, "limited"), what="the throttled poll", daemon=d)

        def pushed_back() -> bool:
            row = query(d.db, "SELECT value FROM meta WHERE key = 'next_poll:limited'")
            return bool(row) and datetime.fromisoformat(row[0][0]).timestamp() > time.time() + 200

        wait_for(pushed_back, what="next_poll:limited ~300 s ahead", daemon=d)
        seen = len(polls(d.db, "good"))
        wait_for(lambda: len(polls(d.db, "good")) >= seen + 3, what="three more good polls", daemon=d)
        assert len(polls(d.db, "limited")) == 1
        assert d.stop()[0] == 0
    limited_events = [e for e in d.events() if e["event"] == "poll_rate_limited"]
    assert limited_events and limited_events[0]["retry_after"] == 300
