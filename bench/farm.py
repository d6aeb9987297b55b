"""One daemon, many pages: does a single worker keep up?

Starts ``--pages`` sandbox pages of ``--comments`` comments each (over ``--posts`` posts), runs
the real daemon on them with ``poll_every = --every`` seconds for ``--seconds``, then reads the
archive's poll log: how many polls ran against how many were due, and the largest gap between two
polls of one page (the wait a change can sit unseen). Each page changes a little between polls
(a new comment and an edit every second), so the engine has work. Prints peak RSS too.
Usage:
    python bench/farm.py [--pages 20] [--comments 10000] [--posts 20] [--every 5] [--seconds 180]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guard.config import load_config  # noqa: E402
from guard.demo.sandbox import Sandbox  # noqa: E402
from guard.runtime.daemon import Daemon  # noqa: E402
from guard.runtime.logs import configure_logging  # noqa: E402

TOKEN = "farm-token-0123456789"
WORDS = "meeting library thursday tonight volunteers parking free coffee schedule question".split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=180)
    args = parser.parse_args()
    configure_logging("error")
    os.environ["COMMENT_GUARD_FARM_TOKEN"] = TOKEN
    rng = random.Random(7)
    sandboxes = []
    for p in range(args.pages):
        box = Sandbox(page_id=f"9000{p}", token=TOKEN, log_limit=100).start()
        posts = [box.add_post(" ".join(rng.choices(WORDS, k=20))) for _ in range(args.posts)]
        for c in range(args.comments):
            box.add_comment(posts[c % len(posts)], " ".join(rng.choices(WORDS, k=rng.randint(4, 20))))
        sandboxes.append((box, posts))
    with tempfile.TemporaryDirectory(prefix="comment-guard-farm-") as tmp:
        accounts = "".join(
            f"""
[[accounts]]
name = "page{p}"
platform = "facebook"
page_id = "{box.page_id}"
token_env = "COMMENT_GUARD_FARM_TOKEN"
api_base_url = "{box.base_url}"
poll_every = "{args.every}s"
"""
            for p, (box, _) in enumerate(sandboxes)
        )
        cfg = Path(tmp) / "farm.toml"
        cfg.write_text(f'[guard]\ndatabase = "{Path(tmp) / "farm.db"}"\n{accounts}', encoding="utf-8")
        daemon = Daemon(load_config(cfg))
        stop = threading.Event()

        def churn() -> None:  # a little change on every page, once a second
            while not stop.wait(1.0):
                for box, posts in sandboxes:
                    box.add_comment(rng.choice(posts), "is it " + rng.choice(WORDS) + "?")

        threading.Thread(target=churn, daemon=True).start()
        threading.Timer(args.seconds, daemon.stop).start()
        t0 = time.monotonic()
        daemon.run(install_signals=False)
        stop.set()
        elapsed = time.monotonic() - t0
        import sqlite3

        conn = sqlite3.connect(str(Path(tmp) / "farm.db"))
        rows = conn.execute("SELECT account, started FROM polls ORDER BY account, id").fetchall()
        conn.close()
    for box, _ in sandboxes:
        box.stop()
    by_account: dict[str, list[datetime]] = {}
    for account, started in rows:
        by_account.setdefault(account, []).append(datetime.fromisoformat(started))
    gaps = [
        (b - a).total_seconds()
        for times in by_account.values()
        for a, b in zip(times, times[1:], strict=False)
    ]
    due = int(args.pages * elapsed / args.every)
    print(
        f"{args.pages} pages x {args.comments:,} comments, poll_every {args.every} s, {elapsed:.0f} s: "
        f"{len(rows)} of {due} polls ran; max gap {max(gaps, default=0):.1f} s "
        f"(median {sorted(gaps)[len(gaps) // 2] if gaps else 0:.1f} s); "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
