"""A full disk never multiplies alerts: the mail server accepts an alert, the archive cannot
record it, and the alert is still delivered exactly once; the rest of the outbox goes out after
the disk recovers.

A real process with a real file-size limit (RLIMIT_FSIZE: the deliverer lowers its own soft
limit right after the first send, as if the disk filled at that moment; the test lifts it with
``prlimit --pid``, as freeing space would). SQLite then fails with "database or disk is full".
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from guard.alerts.outbox import enqueue_message
from guard.alerts.render import render_test
from guard.archive.connection import open_archive
from guard.archive.verify import verify_archive
from guard.clock import utcnow
from tests.daemon.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux prlimit")

DELIVERER = r"""
import json, resource, sys
from guard.alerts.channels import default_senders
from guard.alerts.outbox import deliver_pending
from guard.archive.connection import open_archive
from guard.clock import utcnow
from guard.config import load_config
from guard.runtime.logs import configure_logging

configure_logging("info", json=True, stream=sys.stderr)
config = load_config(sys.argv[1])
db = open_archive(config.guard.database)
real = default_senders(config.alerts)["email"]
filled = []

def send(item):
    real(item)
    if not filled:  # the disk fills right after the server accepted the first alert
        filled.append(True)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

print("ready", flush=True)
for _ in sys.stdin:
    r = deliver_pending(db, config.alerts, now=utcnow(), senders={"email": send})
    print(json.dumps({"sent": r.sent, "unrecorded": r.unrecorded, "stopped": r.stopped}), flush=True)
"""


def test_full_disk_delivers_each_alert_once_and_the_rest_after_recovery(tmp_path, smtp):
    """At most one delivery per alert through a full disk; the rest are sent after recovery."""
    mail = smtp.start()
    config = tmp_path / "cg.toml"
    config.write_text(f"""
[guard]
database = "archive.db"

[[accounts]]
name = "page"
platform = "facebook"
page_id = "100200300"
token_env = "CG_UNUSED_TOKEN"

[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = {mail.port}
starttls = false
from = "guard@localhost"
to = ["comms@localhost"]
""")
    db = open_archive(tmp_path / "archive.db")
    now = utcnow()
    with db.atomic():
        for i in range(3):
            enqueue_message(
                db, render_test(now), stage="test", channels=["email"], key_prefix=f"t{i}", now=now
            )
    db.conn.close()

    proc = subprocess.Popen(
        [sys.executable, "-c", DELIVERER, str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        ready = proc.stdout.readline().strip()
        assert ready == "ready", proc.stderr.read() if proc.poll() is not None else ready

        def tick() -> dict:
            proc.stdin.write("tick\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        first = tick()  # sent, then the "sent" mark cannot be written: the pass stops
        assert first["sent"] == [] and first["unrecorded"] == [1] and "disk" in first["stopped"]
        for _ in range(3):  # still full: nothing is re-sent, nothing else is attempted
            again = tick()
            assert again["sent"] == [] and again["unrecorded"] == [1]
        assert len(mail.messages) == 1

        subprocess.run(["prlimit", "--pid", str(proc.pid), "--fsize=unlimited"], check=True)
        recovered = tick()
        assert recovered["stopped"] is None and recovered["sent"] == [2, 3]
        assert tick()["sent"] == []
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    ids = [msg["Message-ID"] for _, _, msg in mail.messages]
    assert len(ids) == 3 and len(set(ids)) == 3, Counter(ids)  # each alert exactly once
    errors = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]
    assert any(e["event"] == "alert_outcome_not_recorded" and e["level"] == "error" for e in errors)

    db = open_archive(tmp_path / "archive.db")
    assert [r[0] for r in db.execute("SELECT status FROM outbox ORDER BY id")] == ["sent"] * 3
    assert verify_archive(db).ok
