"""SIGTERM/SIGINT: stop scheduling, let the running poll commit, exit 0 within 10 s."""

from __future__ import annotations

import signal
import socket
import threading

import pytest

from connectors.facebook import FacebookConnector
from guard.config import load_config
from guard.runtime.daemon import Daemon
from tests.daemon.conftest import (
    TOKEN,
    TOKEN_ENV,
    account_toml,
    polls,
    query,
    wait_for,
    write_config,
)
from tests.support.graph import Sandbox


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_0_quickly_with_no_half_written_poll(sig, tmp_path, sandbox, start_daemon):
    """Polls are in flight when the signal lands: the daemon exits 0 in under 10 s and every
    polls row it left is finished (a poll is one transaction)."""
    sandbox.max_page_size = 2  # many requests per poll, so a poll is likely running
    for n in range(30):
        post = sandbox.add_post(f"post {n}")
        for c in range(3):
            sandbox.add_comment(post, f"comment {c} on post {n}")
    with Sandbox(token=TOKEN, page_id="100200301") as second:  # one page is one account
        d = start_daemon(
            write_config(
                tmp_path,
                [
                    account_toml("a", sandbox.base_url),
                    account_toml("b", second.base_url, page_id="100200301"),
                ],
            )
        )
        wait_for(lambda: len(polls(d.db, "a")) >= 2, what="two polls", daemon=d)
        rc, took = d.stop(sig)
    assert rc == 0, d.stderr()
    assert took < 10
    rows = query(d.db, "SELECT id, finished FROM polls")
    assert rows and all(finished for _, finished in rows)
    assert "daemon_stopped" in [e["event"] for e in d.events()]


def test_stuck_poll_does_not_hold_shutdown_past_its_stop_timeout(tmp_path, start_daemon):
    """A poll hanging on a server that never answers is abandoned (nothing of it is written)
    and the daemon exits 0 once ``guard.stop_timeout`` has passed after SIGTERM (0.5 s here; the
    default 8 s and the 10 s cap are config tests)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        silent.settimeout(20)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        d = start_daemon(write_config(tmp_path, [account_toml("stuck", url)], stop_timeout="500ms"))
        conn, _ = silent.accept()  # the poll has connected; we never answer
        with conn:
            rc, took = d.stop()
    assert rc == 0
    assert 0.5 <= took < 10
    assert query(d.db, "SELECT count(*) FROM polls") == [(0,)]
    stops = [e for e in d.events() if e["event"] == "daemon_stop_timeout"]
    assert stops and stops[0]["waited_seconds"] == 0.5


class GatedConnector:
    """A real connector whose fetch waits for the test to open the gate."""

    def __init__(self, inner: FacebookConnector) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def fetch(self, since):
        self.entered.set()
        self.gate.wait(10)
        return self.inner.fetch(since)


def test_stop_lets_the_running_poll_commit_first(tmp_path, sandbox, monkeypatch):
    """stop() during a poll waits for that poll to be written, then returns clean."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    sandbox.add_post("a post")
    config = load_config(write_config(tmp_path, [account_toml("page", sandbox.base_url, every="1h")]))
    gated = GatedConnector(FacebookConnector("100200300", TOKEN, base_url=sandbox.base_url))
    daemon = Daemon(config, connectors={"page": gated})
    result: dict[str, bool] = {}
    thread = threading.Thread(target=lambda: result.update(clean=daemon.run(install_signals=False)))
    thread.start()
    try:
        assert gated.entered.wait(10)
        daemon.stop()
        thread.join(0.3)
        assert thread.is_alive(), "run() returned while a poll was still running"
    finally:
        gated.gate.set()
        thread.join(10)
    assert result == {"clean": True}
    rows = query(tmp_path / "archive.db", "SELECT account, finished FROM polls")
    assert len(rows) == 1 and rows[0][0] == "page" and rows[0][1]
