"""The schedule and the health check follow the monotonic clock: a wall-clock step neither
stalls polls nor hides a stall, and errors reach the journal at error priority."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from datetime import datetime, timedelta, timezone

import structlog
import time_machine
from apscheduler.schedulers.base import BaseScheduler

from guard.archive.connection import open_archive
from guard.archive.meta import HEARTBEAT_KEY, meta_set
from guard.clock import iso
from guard.config import load_config
from guard.runtime import liveness
from guard.runtime.daemon import Daemon
from guard.runtime.logs import configure_logging
from tests.cli.conftest import run
from tests.daemon.conftest import TOKEN, TOKEN_ENV, account_toml, polls, write_config


def test_polls_go_on_after_the_wall_clock_steps_back_an_hour(tmp_path, sandbox, monkeypatch):
    """Stepped back 1 h mid-run, the daemon keeps polling every second instead of waiting an hour."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = load_config(write_config(tmp_path, [account_toml("main", sandbox.base_url, every="1s")]))
    daemon = Daemon(config)
    db = tmp_path / "archive.db"
    with structlog.testing.capture_logs() as logs:
        thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
        thread.start()
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and len(polls(db, "main")) < 2:
                time.sleep(0.05)
            before = len(polls(db, "main"))
            with time_machine.travel(datetime.now(timezone.utc) - timedelta(hours=1), tick=True):
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and len(polls(db, "main")) < before + 3:
                    time.sleep(0.05)
                after = len(polls(db, "main"))
        finally:
            daemon.stop()
            thread.join(10)
    assert before >= 2 and after >= before + 3
    assert any(e["event"] == "clock_stepped" and e["seconds"] < -3500 for e in logs)


def _config(tmp_path, monkeypatch):
    path = write_config(tmp_path, [account_toml("main", "http://127.0.0.1:9", every="5m")])
    monkeypatch.setenv("COMMENT_GUARD_CONFIG", str(path))
    return tmp_path / "archive.db"


def _record(db_path, *, wall_beat: datetime, beat_age: float, due_in: float) -> None:
    db = open_archive(db_path)
    now = liveness.monotonic()
    with db.atomic():
        meta_set(db, HEARTBEAT_KEY, iso(wall_beat))
        meta_set(db, liveness.SCHEDULE_KEY, liveness.record(now - beat_age, {"main": now + due_in}))
    db.conn.close()


def test_status_after_the_clock_stepped_back_measures_the_beat_monotonically(capsys, tmp_path, monkeypatch):
    """A heartbeat written an hour "in the future" but 10 s ago by the monotonic clock is healthy."""
    db = _config(tmp_path, monkeypatch)
    _record(db, wall_beat=datetime.now(timezone.utc) + timedelta(hours=1), beat_age=10, due_in=60)
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert "heartbeat 10s ago" in out


def test_status_fails_when_a_poll_is_overdue_although_the_heartbeat_is_fresh(capsys, tmp_path, monkeypatch):
    """A daemon that beats but has not polled for 10 minutes past due is late: exit 1."""
    db = _config(tmp_path, monkeypatch)
    _record(db, wall_beat=datetime.now(timezone.utc), beat_age=5, due_in=-600)
    code, out, _ = run(capsys, "status", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["late_accounts"] == ["main"] and report["unhealthy"] is True


def test_status_does_not_trust_a_stale_beat_that_the_wall_clock_calls_recent(capsys, tmp_path, monkeypatch):
    """The wall clock says the beat is 30 s old, the monotonic clock says an hour: stale, exit 1."""
    db = _config(tmp_path, monkeypatch)
    _record(db, wall_beat=datetime.now(timezone.utc) - timedelta(seconds=30), beat_age=3600, due_in=60)
    code, out, _ = run(capsys, "status")
    assert code == 1 and "STALE" in out


def test_status_without_a_comparable_record_reads_a_future_beat_as_unhealthy(capsys, tmp_path, monkeypatch):
    """No monotonic record (another boot): a heartbeat an hour in the future is not "healthy"."""
    db = _config(tmp_path, monkeypatch)
    conn = open_archive(db)
    with conn.atomic():
        meta_set(conn, HEARTBEAT_KEY, iso(datetime.now(timezone.utc) + timedelta(hours=1)))
    conn.conn.close()
    code, out, _ = run(capsys, "status")
    assert code == 1 and "in the future" in out


def test_errors_carry_a_journald_priority_under_systemd(tmp_path, monkeypatch):
    """With JOURNAL_STREAM naming the log's stream, lines start with <3> (error) or <6> (info)."""
    log_file = (tmp_path / "journal").open("w+")
    st = os.fstat(log_file.fileno())
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    configure_logging("info", json=True, stream=log_file)
    structlog.get_logger("t").info("poll_done", account="main")
    structlog.get_logger("t").error("poll_failed", account="main")
    log_file.seek(0)
    lines = log_file.read().splitlines()
    assert lines[0].startswith('<6>{"account"') and lines[1].startswith('<3>{"account"')
    monkeypatch.delenv("JOURNAL_STREAM")
    plain = io.StringIO()
    configure_logging("info", json=True, stream=plain)
    structlog.get_logger("t").error("poll_failed")
    assert plain.getvalue().startswith("{")


def test_daemon_errors_go_to_stderr_and_the_rest_to_stdout(capsys):
    """The daemon logs to stdout; its error lines go to stderr, where `-p err` filters find them."""
    import sys

    configure_logging("info", json=True, stream=sys.stdout)
    structlog.get_logger("t").info("poll_done")
    structlog.get_logger("t").error("poll_failed")
    out, err = capsys.readouterr()
    assert "poll_done" in out and "poll_failed" not in out
    assert "poll_failed" in err and "poll_done" not in err


def test_status_fails_for_an_account_the_running_daemon_does_not_schedule(capsys, tmp_path, monkeypatch):
    """A page added to the config while the daemon runs is not polled until it restarts: the
    daemon's record has no poll for it, and status says so with exit 1 instead of "never polled"."""
    path = write_config(
        tmp_path,
        [
            account_toml("main", "http://127.0.0.1:9", every="5m"),
            account_toml("added", "http://127.0.0.1:9", page_id="100200399"),
        ],
    )
    monkeypatch.setenv("COMMENT_GUARD_CONFIG", str(path))
    _record(tmp_path / "archive.db", wall_beat=datetime.now(timezone.utc), beat_age=5, due_in=60)
    code, out, _ = run(capsys, "status", "--json")
    report = json.loads(out)
    assert code == 1 and report["unscheduled_accounts"] == ["added"]
    assert any("restart" in line for line in report["lines"] if line.startswith("added"))


def test_a_clock_step_leaves_the_digest_at_its_local_time(tmp_path, monkeypatch):
    """The wall clock was 5 h fast and NTP steps it back at 08:00: polls keep their monotonic
    pace (moved with the step), but the digest is due at 09:00 by the corrected clock, not at
    04:00 as a job moved with the step would be."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    path = write_config(tmp_path, [account_toml("main", "http://127.0.0.1:9", every="5m")], smtp_port=9)
    path.write_text(path.read_text() + '\n[alerts]\ndigest_at = "09:00"\n', encoding="utf-8")
    daemon = Daemon(load_config(path))
    daemon._db = open_archive(tmp_path / "archive.db")
    fast = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
    scheduler = daemon._scheduler
    with time_machine.travel(fast, tick=False):
        daemon._add_jobs()
        BaseScheduler.start(scheduler, paused=True)  # the jobs' run times, without the loop
    try:
        poll_due = scheduler.get_job("poll:main").next_run_time
        with time_machine.travel(fast - timedelta(hours=5), tick=False):
            scheduler._follow_clock_step(-5 * 3600.0)
        assert scheduler.get_job("poll:main").next_run_time == poll_due - timedelta(hours=5)
        assert scheduler.get_job("digest").next_run_time == datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
    finally:
        BaseScheduler.shutdown(scheduler, wait=False)
        daemon._db.conn.close()
