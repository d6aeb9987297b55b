"""Helpers for daemon tests: a sandbox page, an SMTP sink, a config writer, a daemon subprocess,
and polling the archive with a deadline (never a fixed sleep)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.graph import Sandbox
from tests.support.http import free_port
from tests.support.smtp import SmtpSink

REPO = Path(__file__).resolve().parents[2]
TOKEN = "tok-DAEMON-TEST-7f3a9c2e51"
TOKEN_ENV = "CG_TEST_PAGE_TOKEN"
T = TypeVar("T")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(token=TOKEN) as sb:
        yield sb


@pytest.fixture
def mail() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


closed_port = free_port  # a local port nothing listens on: connecting is refused at once


def account_toml(
    name: str, base_url: str, *, every: str = "250ms", token_env: str = TOKEN_ENV, page_id: str = "100200300"
) -> str:
    return f"""
[[accounts]]
name = "{name}"
platform = "facebook"
page_id = "{page_id}"
token_env = "{token_env}"
poll_every = "{every}"
api_base_url = "{base_url}"
"""


def write_config(
    tmp_path: Path, accounts: list[str], *, smtp_port: int | None = None, stop_timeout: str | None = None
) -> Path:
    text = '[guard]\ndatabase = "archive.db"\n'
    if stop_timeout is not None:
        text += f'stop_timeout = "{stop_timeout}"\n'
    text += "".join(accounts)
    if smtp_port is not None:
        text += f"""
[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
starttls = false
from = "guard@localhost"
to = ["comms@localhost"]
"""
    path = tmp_path / "comment-guard.toml"
    path.write_text(text, encoding="utf-8")
    return path


class DaemonProcess:
    """``comment-guard --config CONFIG run`` in a subprocess; output goes to files."""

    def __init__(
        self, config: Path, *, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.config = config
        self.db = config.parent / "archive.db"
        self.out = config.parent / f"daemon-{time.monotonic_ns()}.out"
        self.err = self.out.with_suffix(".err")
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENT_GUARD")}
        env.update({TOKEN_ENV: TOKEN, **(extra_env or {})})
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from guard.cli import main; main()",
                    *args,
                    "--config",
                    str(config),
                    "run",
                ],
                stdout=out,
                stderr=err,
                env=env,
                cwd=REPO,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send ``sig``; return (exit code, seconds it took to exit)."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        return rc, time.monotonic() - start

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout().splitlines() if line.strip()]


@pytest.fixture
def start_daemon() -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, **kwargs: Any) -> DaemonProcess:
        daemon = DaemonProcess(config, **kwargs)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def query(db: Path, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the archive the way another process would (empty until the daemon created it)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float = 20.0,
    what: str = "condition",
    daemon: DaemonProcess | None = None,
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail with the daemon's logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if daemon is not None and daemon.proc.poll() is not None:
            break
        time.sleep(0.05)
    logs = f"\nstdout:\n{daemon.stdout()[-3000:]}\nstderr:\n{daemon.stderr()[-3000:]}" if daemon else ""
    raise AssertionError(f"timed out waiting for {what}{logs}")


def polls(db: Path, account: str) -> list[tuple[Any, ...]]:
    return query(db, "SELECT id, finished, error FROM polls WHERE account = ? ORDER BY id", [account])
