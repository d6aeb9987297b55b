"""Soak: 1,000 poll cycles against the sandbox in one process. Does memory stay flat?

The daemon polls the same accounts for months in one process, so anything a poll leaves
behind (connections, sessions, caches, log buffers, cursors) shows up here as RSS growth.
Each cycle does what the daemon does between two ticks: the page changes a little (new
comments, an edit, a hide/unhide, deletions, now and then a corrected post and a retired
one), then one real ``run_poll`` through the Facebook connector, archive and policy engine,
reusing one connector like the daemon; every 30 cycles queued alerts are delivered to a
loopback mail sink, like the delivery job, and every 50 staff resolve the open findings.

The page is kept at a steady size (posts rotate out, deletions match additions) so a
growing RSS means a leak, not more data. Prints RSS at cycle 100 and at the end with the
growth ratio (target < 10 %), and the mean cycle time. Exit 1 if the target is missed.
Usage:
    python bench/soak.py [--cycles 1000] [--posts 30] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.registry import connect  # noqa: E402
from guard.alerts.outbox import deliver_pending  # noqa: E402
from guard.archive.connection import open_archive  # noqa: E402
from guard.clock import utcnow  # noqa: E402
from guard.config import load_config  # noqa: E402
from guard.demo.sandbox import Sandbox  # noqa: E402
from guard.demo.sinks import MailSink  # noqa: E402
from guard.engine import set_state  # noqa: E402
from guard.runtime.logs import configure_logging  # noqa: E402
from guard.runtime.pipeline import run_poll  # noqa: E402

TOKEN = "soak-token-0123456789"
REPORT_AT = 100
TARGET_GROWTH = 0.10
WORDS = ("meeting", "library", "parking", "tickets", "Thursday", "volunteers", "snacks")
QUESTIONS = ("wait, is it TONIGHT?!?", "which room is it in?", "is parking free?", "did the time change??")


def rss_mib() -> float:
    """Current resident set size; falls back to the peak (ru_maxrss) off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Page:
    """The sandbox page plus what the bench needs to know to change it."""

    def __init__(
        self, sandbox: Sandbox, rng: random.Random, posts: int, noun: str, correct_every: int
    ) -> None:
        self.sb, self.rng, self.noun, self.correct_every = sandbox, rng, noun, correct_every
        self.posts: list[str] = []
        self.comments: dict[str, list[str]] = {}
        self.hidden: set[str] = set()
        for n in range(posts):
            self.new_post(n)
            for _ in range(3):
                self.comment()

    def new_post(self, n: int) -> None:
        post = self.sb.add_post(
            f"Post {n}: the {self.rng.choice(WORDS)} {self.noun} is Thursday at {self.rng.randint(1, 9)}pm."
        )
        self.posts.append(post)
        self.comments[post] = []

    def comment(self) -> None:
        post = self.rng.choice(self.posts[-10:])  # people comment on recent posts
        text = (
            self.rng.choice(QUESTIONS)
            if self.rng.random() < 0.15
            else f"thanks, see you at the {self.rng.choice(WORDS)} {self.rng.randint(0, 99)}"
        )
        self.comments[post].append(
            self.sb.add_comment(post, text, author=f"Reader {self.rng.randint(1, 50)}")
        )

    def churn(self, cycle: int) -> None:
        for _ in range(2):
            self.comment()
        live = [(p, c) for p, cs in self.comments.items() for c in cs]
        for post, cid in self.rng.sample(live, min(2, len(live))):
            self.sb.delete_comment(cid)
            self.comments[post].remove(cid)
            self.hidden.discard(cid)
        post, cid = self.rng.choice([(p, c) for p, cs in self.comments.items() for c in cs])
        self.sb.edit_comment(cid, f"(edited at cycle {cycle}) {self.rng.choice(WORDS)}")
        self.sb.hide_comment(cid, cid not in self.hidden)
        self.hidden ^= {cid}
        if self.correct_every and cycle % self.correct_every == 0:  # a correction
            post = self.rng.choice(self.posts[-5:])
            self.sb.edit_post(
                post,
                f"Correction: the {self.rng.choice(WORDS)} {self.noun} is the Thirteenth (cycle {cycle}).",
            )
        if cycle % 10 == 0:  # keep the page a steady size: one in, one out
            old = self.posts.pop(0)
            self.sb.delete_post(old)
            self.hidden -= set(self.comments.pop(old))
            self.new_post(cycle)

    def live_comments(self) -> int:
        return sum(len(cs) for cs in self.comments.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--correct-every",
        type=int,
        default=50,
        metavar="N",
        help="correct a recent post every N cycles (0: never)",
    )
    parser.add_argument(
        "--noun",
        default="session",
        help="word in every post; a correction marker such as 'update' makes "
        "the engine re-check every post on every poll",
    )
    args = parser.parse_args(argv)
    configure_logging("error")  # the bench measures polling, not log formatting
    os.environ["COMMENT_GUARD_SOAK_TOKEN"] = TOKEN
    times: list[float] = []
    api_calls = 0
    rss_at: dict[int, float] = {}
    mails = 0
    # The harness must not grow either, or it hides the code under test: keep the sandbox's
    # request log short (it keeps 10,000 requests by default).
    with (
        tempfile.TemporaryDirectory(prefix="comment-guard-soak-") as tmp,
        Sandbox(token=TOKEN, log_limit=100) as sandbox,
        MailSink() as mail,
    ):
        config_path = Path(tmp) / "soak.toml"
        config_path.write_text(
            f"""\
[guard]
database = "soak.db"
[[accounts]]
name = "soak"
platform = "facebook"
page_id = "{sandbox.page_id}"
token_env = "COMMENT_GUARD_SOAK_TOKEN"
api_base_url = "{sandbox.base_url}"
[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = {mail.port}
starttls = false
from = "soak@localhost"
to = ["comms@localhost"]
""",
            encoding="utf-8",
        )
        config = load_config(config_path)
        account = config.account("soak")
        db = open_archive(config.guard.database)
        connector = connect(account.connector_settings())  # one per account for the process, as the daemon
        page = Page(sandbox, random.Random(args.seed), args.posts, args.noun, args.correct_every)
        for cycle in range(1, args.cycles + 1):
            page.churn(cycle)
            start = time.perf_counter()
            outcome = run_poll(config, db, account, connector=connector)
            if cycle % 30 == 0:
                deliver_pending(db, config.alerts, now=utcnow())
                mails += len(mail.take())
            if cycle % 50 == 0:  # staff work through their findings now and then
                for (fid,) in db.execute("SELECT id FROM findings WHERE state = 'open'").fetchall():
                    set_state(db, fid, "resolved", now=utcnow(), note="soak", actor="staff")
            times.append(time.perf_counter() - start)
            api_calls += outcome.poll.api_calls
            if outcome.poll.error is not None:
                print(f"cycle {cycle}: poll error: {outcome.poll.error}", file=sys.stderr)
                return 1
            if cycle in (REPORT_AT, args.cycles):
                gc.collect()
                rss_at[cycle] = rss_mib()
        stats = db.execute(
            "SELECT (SELECT count(*) FROM comments), (SELECT count(*) FROM comments WHERE "
            "status = 'deleted'), (SELECT count(*) FROM events), (SELECT count(*) FROM "
            "findings), (SELECT count(*) FROM outbox WHERE status = 'sent')"
        ).fetchone()
        kinds = ", ".join(
            f"{k} {n}"
            for k, n in db.execute("SELECT kind, count(*) FROM findings GROUP BY kind ORDER BY kind")
        )
        db_mib = Path(config.guard.database).stat().st_size / 2**20
        db.conn.close()
    first, last = rss_at[min(REPORT_AT, args.cycles)], rss_at[args.cycles]
    growth = (last - first) / first
    ms = [t * 1000 for t in times]
    print(
        f"soak: {args.cycles} poll cycles, {args.posts} live posts, "
        f"{page.live_comments()} live comments at the end"
    )
    print(f"RSS at cycle {min(REPORT_AT, args.cycles):>5}: {first:7.1f} MiB")
    print(
        f"RSS at cycle {args.cycles:>5}: {last:7.1f} MiB   growth {growth:+.1%} "
        f"(target < {TARGET_GROWTH:.0%})"
    )
    print(
        f"cycle time: mean {statistics.fmean(ms):.1f} ms, median {statistics.median(ms):.1f} "
        f"ms, p95 {sorted(ms)[int(len(ms) * 0.95) - 1]:.1f} ms; "
        f"{api_calls / args.cycles:.1f} API calls per cycle"
    )
    print(
        f"archive: {stats[0]} comments ({stats[1]} deleted), {stats[2]} events, "
        f"{stats[3]} findings, {stats[4]} alerts sent ({mails} received), {db_mib:.1f} MiB"
    )
    print(f"findings by kind: {kinds or 'none'}")
    ok = growth < TARGET_GROWTH
    print("result: " + ("OK" if ok else "FAIL: memory grew more than the target"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
