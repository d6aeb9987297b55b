"""Detection latency: a deleted critical comment, from the platform's notification to a finding
and its alert queued, with the webhook receiver vs polling alone at the default interval.

One daemon (in this process, its real scheduler, worker thread and uvicorn receiver) guards a
sandbox page of ``--posts`` posts with ``--comments`` comments each, ``poll_every = "5m"`` (the
default) and ``[webhooks] coalesce = "1s"`` (the default). For each sample a corrected post gets
a reader's question, the question is archived, then deleted in the sandbox:

- **webhook**: a signed ``feed`` ``remove`` event (the recorded restfb payload, pointed at the
  sandbox's ids) is POSTed to the receiver; the clock runs from the POST to the
  ``removed-critical`` finding and to its alert row in the outbox. This includes the coalescing
  delay, the targeted scan, the by-id check with its control read, the engine and the outbox.
- **polling**: the same deletion found by the account's next full poll. The poll is run for
  real (brought forward), and its duration is measured from that moment to the finding and the
  queued alert; a deletion happens at a uniformly random moment of the 5-minute interval, so
  the wait for the poll is drawn uniformly from [0, 5 m) plus APScheduler's jitter [0, 30 s)
  (seeded), and added.

Prints p50/p90 of both and their ratio. Nothing is asserted.
Usage:
    python bench/latency.py [--samples 15] [--posts 20] [--comments 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guard.clock import utcnow  # noqa: E402
from guard.config import load_config  # noqa: E402
from guard.demo.sandbox import Sandbox  # noqa: E402
from guard.demo.sinks import MailSink  # noqa: E402
from guard.demo.story import FIXED_TEXT, POST_TEXT, QUESTION  # noqa: E402
from guard.runtime.daemon import Daemon  # noqa: E402
from guard.runtime.logs import configure_logging  # noqa: E402
from guard.runtime.webhooks import CALLBACK_PATH, sign  # noqa: E402

TOKEN = "bench-latency-token"
SECRET = "bench-app-secret"
PAGE = "100200300"
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "webhooks" / "feed-comment-remove.json"
INTERVAL = 300.0  # poll_every default, seconds
JITTER = 30.0  # poll_jitter(5m)


def wait_row(db: Path, sql: str, params: list[str], timeout: float = 60.0) -> float:
    """Poll the archive (read-only, as another process would) until ``sql`` returns a row;
    returns the perf_counter time it was first seen."""
    deadline = time.perf_counter() + timeout
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        while time.perf_counter() < deadline:
            if conn.execute(sql, params).fetchone():
                return time.perf_counter()
            time.sleep(0.005)
    finally:
        conn.close()
    raise SystemExit(f"timed out waiting for: {sql} {params}")


def event(kind: str, post_id: str, comment_id: str | None = None) -> bytes:
    payload = json.loads(FIXTURE.read_bytes())
    payload["entry"][0]["id"] = PAGE
    value = {"item": "comment", "verb": kind, "post_id": post_id, "parent_id": post_id}
    if kind == "edited-post":
        value = {"item": "status", "verb": "edited", "post_id": post_id}
    if comment_id:
        value["comment_id"] = comment_id
    payload["entry"][0]["changes"][0]["value"] = value
    return json.dumps(payload).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--comments", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    configure_logging("error")
    rng = random.Random(args.seed)
    os.environ["BENCH_LATENCY_TOKEN"] = TOKEN
    os.environ["BENCH_LATENCY_SECRET"] = SECRET
    os.environ["BENCH_LATENCY_VERIFY"] = "bench-verify"
    with tempfile.TemporaryDirectory() as tmp, Sandbox(token=TOKEN, page_id=PAGE) as sb, MailSink() as mail:
        for p in range(args.posts):
            post = sb.add_post(f"Background post {p}: the garden club meets every week.")
            for c in range(args.comments):
                sb.add_comment(post, f"Lovely, see you there ({p}.{c})", author=f"Reader {c}")
        path = Path(tmp) / "latency.toml"
        path.write_text(
            f"""
[guard]
database = "latency.db"

[[accounts]]
name = "page"
platform = "facebook"
page_id = "{PAGE}"
token_env = "BENCH_LATENCY_TOKEN"
api_base_url = "{sb.base_url}"

[webhooks]
listen = "127.0.0.1:0"
app_secret_env = "BENCH_LATENCY_SECRET"
verify_token_env = "BENCH_LATENCY_VERIFY"

[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = {mail.port}
starttls = false
from = "guard@localhost"
to = ["comms@localhost"]
""",
            encoding="utf-8",
        )
        config = load_config(path)
        db = config.guard.database
        daemon = Daemon(config)
        thread = threading.Thread(target=lambda: daemon.run(install_signals=False), daemon=True)
        thread.start()
        while daemon.webhooks is None or not daemon.webhooks.port:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{daemon.webhooks.port}{CALLBACK_PATH}"
        session = requests.Session()

        def send(body: bytes) -> None:
            headers = {"X-Hub-Signature-256": sign(SECRET.encode(), body)}
            session.post(url, data=body, headers=headers, timeout=10).raise_for_status()

        wait_row(db, "SELECT 1 FROM polls WHERE finished IS NOT NULL", [])

        def prepared() -> tuple[str, str]:
            """A corrected post with an archived question on it (via webhooks, not polls)."""
            post = sb.add_post(POST_TEXT)
            question = sb.add_comment(post, QUESTION, author="Dana Reader")
            send(event("add", post, question))
            wait_row(db, "SELECT 1 FROM comments WHERE id = ?", [question])
            sb.edit_post(post, FIXED_TEXT)
            send(event("edited-post", post))
            wait_row(db, "SELECT 1 FROM posts WHERE id = ? AND version = 2", [post])
            return post, question

        finding_sql = "SELECT 1 FROM findings WHERE kind = 'removed-critical' AND comment_id = ?"
        queued_sql = (
            "SELECT 1 FROM outbox o JOIN findings f ON f.id = o.finding_id "
            "WHERE f.kind = 'removed-critical' AND f.comment_id = ?"
        )
        hook_finding: list[float] = []
        hook_queued: list[float] = []
        for _ in range(args.samples):
            post, question = prepared()
            sb.delete_comment(question)
            t0 = time.perf_counter()
            send(event("remove", post, question))
            hook_finding.append(wait_row(db, finding_sql, [question]) - t0)
            hook_queued.append(wait_row(db, queued_sql, [question]) - t0)

        poll_scan: list[float] = []
        poll_queued: list[float] = []
        for _ in range(args.samples):
            post, question = prepared()
            sb.delete_comment(question)
            t0 = time.perf_counter()
            daemon._scheduler.modify_job("poll:page", next_run_time=utcnow())  # the poll is due now
            wait_row(db, finding_sql, [question])
            poll_queued.append(wait_row(db, queued_sql, [question]) - t0)
            wait = rng.uniform(0, INTERVAL) + rng.uniform(0, JITTER)
            poll_scan.append(wait)
        daemon.stop()
        thread.join(15)

    polling = [w + q for w, q in zip(poll_scan, poll_queued)]

    def q(values: list[float], pct: int) -> float:
        return (
            statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if len(values) > 1 else values[0]
        )

    rows = [
        ("webhook  event -> finding", hook_finding, 3, ""),
        ("webhook  event -> alert queued", hook_queued, 3, "target p50 < 5 s"),
        ("polling  poll run -> alert queued", poll_queued, 3, "the poll itself, measured"),
        ("polling  deletion -> alert queued", polling, 1, "uniform wait for the next 5m poll + the poll"),
    ]
    print(f"page: {args.posts} posts x {args.comments} comments; {args.samples} samples each; poll_every 5m")
    for label, values, digits, note in rows:
        p50, p90 = statistics.median(values), q(values, 90)
        print(f"{label:<34} p50 {p50:7.{digits}f} s  p90 {p90:7.{digits}f} s  {note}")
    ratio = statistics.median(polling) / statistics.median(hook_queued)
    print(f"ratio polling / webhook (p50, alert queued): {ratio:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
