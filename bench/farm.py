"""One daemon, many pages: does a single worker keep up?

Starts ``--pages`` sandbox pages of ``--comments`` comments each (over ``--posts`` posts), runs
the real daemon on them with ``poll_every = --every`` seconds for ``--seconds``, then reads the
archive's poll log: how many polls ran against how many were due, and the largest gap between two
polls of one page (the wait a change can sit unseen). Each page changes a little between polls
(a new comment every second), so the engine has work. Prints the daemon's peak RSS too.

The sandbox pages are served from a second process: in the daemon's own process their HTTP
servers took the GIL from it, and fetching 10,000 comments from them was ~90 % of each poll, so
the farm measured the fakes, not the daemon (``--same-process`` keeps that setup). ``--tree DIR``
runs the daemon of another checkout (an older commit) against the same farm.
Usage:
    python bench/farm.py [--pages 20] [--comments 10000] [--posts 20] [--every 5] [--seconds 180]
                         [--same-process] [--tree DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import datetime
from multiprocessing.connection import Connection, Pipe
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if "--tree" in sys.argv:  # that checkout's daemon (read before anything imports guard)
    sys.path.insert(0, sys.argv[sys.argv.index("--tree") + 1])

from guard.config import load_config  # noqa: E402
from guard.demo.sandbox import Sandbox  # noqa: E402
from guard.runtime.daemon import Daemon  # noqa: E402
from guard.runtime.logs import configure_logging  # noqa: E402

TOKEN = "farm-token-0123456789"
WORDS = "meeting library thursday tonight volunteers parking free coffee schedule question".split()


def serve(args: argparse.Namespace, conn: Connection) -> None:
    """Start the sandbox pages, send their (page id, base url), then add a comment to every
    page once a second until told to stop."""
    rng = random.Random(7)
    sandboxes = []
    for p in range(args.pages):
        box = Sandbox(page_id=f"9000{p}", token=TOKEN, log_limit=100).start()
        posts = [box.add_post(" ".join(rng.choices(WORDS, k=20))) for _ in range(args.posts)]
        for c in range(args.comments):
            box.add_comment(posts[c % len(posts)], " ".join(rng.choices(WORDS, k=rng.randint(4, 20))))
        sandboxes.append((box, posts))
    conn.send([(box.page_id, box.base_url) for box, _ in sandboxes])
    conn.recv()  # the daemon starts
    while not conn.poll(1.0):
        for box, posts in sandboxes:
            box.add_comment(rng.choice(posts), "is it " + rng.choice(WORDS) + "?")
    for box, _ in sandboxes:
        box.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--same-process", action="store_true", help="serve the pages from this process")
    parser.add_argument("--tree", help="run the daemon of this checkout")
    args = parser.parse_args()
    configure_logging("error")
    os.environ["COMMENT_GUARD_FARM_TOKEN"] = TOKEN
    ours, theirs = Pipe()
    if args.same_process:
        server = threading.Thread(target=serve, args=(args, theirs), daemon=True)
    else:
        server = multiprocessing.get_context("fork").Process(target=serve, args=(args, theirs))
    server.start()
    pages = ours.recv()
    with tempfile.TemporaryDirectory(prefix="comment-guard-farm-") as tmp:
        accounts = "".join(
            f"""
[[accounts]]
name = "page{p}"
platform = "facebook"
page_id = "{page_id}"
token_env = "COMMENT_GUARD_FARM_TOKEN"
api_base_url = "{base_url}"
poll_every = "{args.every}s"
"""
            for p, (page_id, base_url) in enumerate(pages)
        )
        cfg = Path(tmp) / "farm.toml"
        cfg.write_text(f'[guard]\ndatabase = "{Path(tmp) / "farm.db"}"\n{accounts}', encoding="utf-8")
        daemon = Daemon(load_config(cfg))
        ours.send("start")
        threading.Timer(args.seconds, daemon.stop).start()
        t0 = time.monotonic()
        daemon.run(install_signals=False)
        elapsed = time.monotonic() - t0
        ours.send("stop")
        server.join()
        import sqlite3

        conn = sqlite3.connect(str(Path(tmp) / "farm.db"))
        rows = conn.execute("SELECT account, started FROM polls ORDER BY account, id").fetchall()
        conn.close()
    by_account: dict[str, list[datetime]] = {}
    for account, started in rows:
        by_account.setdefault(account, []).append(datetime.fromisoformat(started))
    gaps = [
        (b - a).total_seconds()
        for times in by_account.values()
        for a, b in zip(times, times[1:], strict=False)
    ]
    due = int(args.pages * elapsed / args.every)
    where = "same process" if args.same_process else "pages served by a second process"
    print(
        f"{args.pages} pages x {args.comments:,} comments, poll_every {args.every} s, {elapsed:.0f} s"
        f" ({where}, daemon of {Path(sys.modules['guard'].__file__ or '').parents[1]}): "
        f"{len(rows)} of {due} polls ran; max gap {max(gaps, default=0):.1f} s "
        f"(median {sorted(gaps)[len(gaps) // 2] if gaps else 0:.1f} s); "
        f"daemon peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
