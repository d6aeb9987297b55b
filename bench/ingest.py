"""Ingest benchmark: the real snapshot → archive path against raw sqlite3 in the same run.

1. First poll of N comments over P posts through ``poll_account`` (diff, versions, events with
   hash chain, FTS triggers) vs a raw ``executemany`` of the same rows into the same schema in
   one transaction. Target: our rate ≥ 0.5 × raw.
2. Re-poll of the same data with 1 % edited, 0.5 % hidden, 0.5 % missing (confirmed deleted).
   Target: < 10 % of the first poll's time.
(The same measurement through each platform's connector parsing is bench/ingest_platforms.py.)

Prints ratios only (no thresholds are asserted: machines are noisy). Usage:
    python bench/ingest.py [--posts 500] [--comments-per-post 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog  # noqa: E402

from connectors.base import Comment, Post, PostScan, Snapshot  # noqa: E402
from guard.archive.connection import open_archive
from guard.archive.events import GENESIS_HASH  # noqa: E402
from guard.config import Account  # noqa: E402
from guard.runtime.pipeline import poll_account  # noqa: E402
from tests.support.snapshot import SnapshotConnector  # noqa: E402  (the one snapshot double)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
ACCOUNT = Account(name="bench", platform="facebook", page_id="1", token_env="X", watch_days=14)


WORDS = (
    "meeting library thursday tonight volunteers parking free coffee schedule "
    "question thanks community event please update park city council"
).split()


def make_snapshot(posts: int, per_post: int, seed: int = 7) -> Snapshot:
    rng = random.Random(seed)
    return Snapshot(tuple(make_scan(p, per_post, rng) for p in range(posts)), True)


def make_scan(p: int, per_post: int, rng: random.Random) -> PostScan:
    """Post number ``p`` with ``per_post`` comments of random words drawn from ``rng``."""
    pid = f"1_{p}"
    created = (NOW - timedelta(hours=p)).isoformat()
    post = Post(pid, " ".join(rng.choices(WORDS, k=30)), created, created, f"https://x/{p}")
    comments = tuple(
        Comment(
            f"{p}_{c}",
            pid,
            f"{p}_{c - 1}" if c % 5 == 4 else None,
            " ".join(rng.choices(WORDS, k=rng.randint(4, 25))),
            created,
            f"u{rng.randint(1, 5000)}",
            f"User {rng.randint(1, 5000)}",
            False,
            False,
        )
        for c in range(per_post)
    )
    return PostScan(post, comments, True)


def churn(snapshot: Snapshot, seed: int = 11) -> Snapshot:
    rng = random.Random(seed)
    scans = []
    for scan in snapshot.posts:
        out = []
        for c in scan.comments:
            r = rng.random()
            if r < 0.005:
                continue  # missing
            if r < 0.010:
                c = replace(c, hidden=True)
            elif r < 0.020:
                c = replace(c, message=c.message + " (edited)")
            out.append(c)
        scans.append(replace(scan, comments=tuple(out)))
    return replace(snapshot, posts=tuple(scans))


def timed_poll(path: Path, snapshot: Snapshot, minutes: int = 0) -> float:
    db = open_archive(path)
    t0 = time.perf_counter()
    poll_account(db, ACCOUNT, SnapshotConnector(snapshot), now=NOW + timedelta(minutes=minutes))
    elapsed = time.perf_counter() - t0
    db.conn.close()
    return elapsed


def raw_baseline(path: Path, snapshot: Snapshot) -> float:
    """The same rows with plain executemany in one transaction, same schema and triggers."""
    open_archive(path).conn.close()
    conn = sqlite3.connect(str(path))
    stamp = NOW.isoformat()
    t0 = time.perf_counter()
    posts, pversions, comments, cversions, events = [], [], [], [], []
    prev = GENESIS_HASH
    for scan in snapshot.posts:
        p = scan.post
        sha = hashlib.sha256(p.message.encode()).hexdigest()
        posts.append((p.id, "bench", p.message, p.created_time, sha, stamp, stamp))
        pversions.append((p.id, 1, p.message, sha, stamp))
        for c in scan.comments:
            sha = hashlib.sha256(c.message.encode()).hexdigest()
            comments.append(
                (
                    c.id,
                    "bench",
                    c.post_id,
                    c.parent_id,
                    c.author_id,
                    c.author_name,
                    c.message,
                    c.created_time,
                    sha,
                    stamp,
                    stamp,
                )
            )
            cversions.append((c.id, 1, c.message, sha, stamp))
            data = json.dumps({"version": 1, "sha256": sha})
            prev = hashlib.sha256((prev + data).encode()).hexdigest()
            events.append((stamp, "bench", "comment_added", c.id, c.post_id, data, prev, prev))
    with conn:
        conn.execute("INSERT INTO accounts VALUES ('bench', 'facebook', '1', ?)", [stamp])
        conn.executemany(
            "INSERT INTO posts (id, account, message, created_time, sha256,"
            " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            posts,
        )
        conn.executemany(
            "INSERT INTO post_versions (post_id, version, message, sha256, seen_at) VALUES (?, ?, ?, ?, ?)",
            pversions,
        )
        conn.executemany(
            "INSERT INTO comments (id, account, post_id, parent_id, author_id,"
            " author_name, message, created_time, sha256, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            comments,
        )
        conn.executemany(
            "INSERT INTO comment_versions (comment_id, version, message, sha256,"
            " seen_at) VALUES (?, ?, ?, ?, ?)",
            cversions,
        )
        # the schema indexes new comments for search in bulk, once per poll: so does this
        conn.execute(
            "INSERT INTO comments_fts (rowid, message, author_name)"
            " SELECT rowid, message, author_name FROM comments"
        )
        conn.execute(
            "INSERT INTO comment_versions_fts (rowid, message) SELECT id, message FROM comment_versions"
        )
        conn.executemany(
            "INSERT INTO events (at, account, kind, object_id, post_id, data,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--comments-per-post", type=int, default=200)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    snapshot = make_snapshot(args.posts, args.comments_per_post)
    total = args.posts * args.comments_per_post
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_baseline(Path(tmp) / "raw.db", snapshot)
        first = timed_poll(Path(tmp) / "ours.db", snapshot)
        same = timed_poll(Path(tmp) / "ours.db", snapshot, minutes=5)
        second = timed_poll(Path(tmp) / "ours.db", churn(snapshot), minutes=10)
    print(f"comments: {total:,} over {args.posts} posts")
    print(f"raw executemany:     {raw:7.2f} s  ({total / raw:,.0f} comments/s)")
    print(f"snapshot → archive:  {first:7.2f} s  ({total / first:,.0f} comments/s)")
    print(f"  rate ratio ours/raw = {raw / first:.2f}   (target >= 0.50)")
    print(f"re-poll, no changes: {same:7.2f} s  = {same / first:.1%} of first poll")
    print(f"re-poll, 2% churn:   {second:7.2f} s  = {second / first:.1%} of first poll (target < 10%)")


if __name__ == "__main__":
    main()
