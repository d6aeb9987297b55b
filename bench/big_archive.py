"""A big, realistic archive for the read-command benchmarks (1 million, 5 million comments).

Polling five million comments through the poller takes the better part of an hour; this writes
what those polls would have written, in minutes, and keeps the file under ``/tmp`` so every run
reuses it. What is in it:

- one account (``bench``, the account of bench/pipeline.py); under it, years of older posts,
  200 comments each (every fifth a reply), each post read by one poll ("first poll") and
  re-read by a second one a day later that saw 1 % of the comments edited (a second version with
  its word diff), 0.5 % hidden and 0.5 % deleted, and 2 % of the posts corrected ("UPDATE: ...");
- on top, the 100,000 comments of bench/pipeline.py's snapshot polled for real (``run_poll``:
  the poller and the engine), so a no-change re-poll of that snapshot is a real one;
- findings about a tenth of the hidden and deleted comments (``insert_finding``), a quarter of
  them acknowledged and half resolved (``set_finding_state``), each with its events;
- where the tree's schema has them, the comment counts per account and status that its polls
  keep (counted once, after the bulk rows).

Rows are written with the columns and values the poller writes (``guard.archive.poller``):
the same events with the same data, chained by ``append_events``, the polls with their event
counts, the search indexes filled per poll as ``write_poll`` does. Secondary indexes are dropped
for the bulk load and re-created from their own SQL (``sqlite_master``), which gives the same
indexes. ``comment-guard verify`` says the result is intact (checked by hand: 1,024,778 events at
1M, 5,133,324 at 5M; the bench times verify, it does not assert).

The archive is built by the tree given with ``--tree`` (default this one) at that tree's schema,
so an older checkout can read it; a newer tree migrates its own copy. Usage:
    python bench/big_archive.py --comments 1000000 [--tree DIR] [--cache /tmp/comment-guard-big]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("COMMENT_GUARD_BIG_CACHE", "/tmp/comment-guard-big"))
PER_POST = 200
POSTS_PER_POLL = 500
# Before bench/ingest.py's snapshot (its posts span NOW - 499 h .. NOW): the bulk posts end here.
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
BULK_END = NOW - timedelta(hours=600)
CONFIG = """[guard]
database = "{db}"
[[accounts]]
name = "bench"
platform = "facebook"
page_id = "1"
token_env = "COMMENT_GUARD_BENCH_TOKEN"
watch_days = 14
"""

# Zipf-like vocabulary: a few very common words ("meeting" is in most comments), a long tail.
_COMMON = (
    "meeting library thursday tonight volunteers parking free coffee schedule question thanks "
    "community event please update park city council"
).split()
_TAIL = [
    f"{a}{b}"
    for a in ("bor", "cal", "dem", "fin", "gar", "hol", "lim", "mor", "pen", "ral")
    for b in ("ant", "ber", "cot", "den", "ell", "fur", "gin", "ham", "ist", "jon")
]
_WORDS = _COMMON + _TAIL
_WEIGHTS = [1.0 / (i + 1) ** 0.9 for i in range(len(_WORDS))]
_CUM = list(accumulate(_WEIGHTS))
_ACCOUNT = "bench"


def archive_path(comments: int, schema: int, cache: Path = CACHE) -> Path:
    return cache / f"big-{comments}-s{schema}.db"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build(path: Path, comments: int, tree: Path, seed: int = 5) -> dict[str, float]:
    """Write the archive to ``path`` (replaced); returns seconds per phase."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    from guard.archive.connection import open_archive
    from guard.archive.events import append_events, make_event
    from guard.archive.findings import insert_finding, set_finding_state
    from guard.states import FindingState
    from guard.text import word_diff
    from policies.records import FindingDraft

    rng = random.Random(seed)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    db = open_archive(tmp)
    db.execute("PRAGMA journal_mode = DELETE")
    for pragma in ("synchronous = OFF", "cache_size = -1000000", "locking_mode = EXCLUSIVE"):
        db.execute(f"PRAGMA {pragma}")
    indexes = [
        (name, sql)
        for name, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('comments', 'comment_versions', 'events', 'posts', 'post_versions')"
        )
    ]
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    db.execute(
        "INSERT INTO accounts (name, platform, page_id, first_seen) VALUES (?, 'facebook', '1', ?)",
        [_ACCOUNT, _iso(BULK_END - timedelta(days=5 * 365))],
    )
    bulk = max(0, comments - 100_000)  # the snapshot on top brings 100,000
    n_posts = bulk // PER_POST
    first_post = NOW - timedelta(hours=600) - timedelta(hours=n_posts)
    findings_todo: list[tuple[FindingDraft, str]] = []
    for start in range(0, n_posts, POSTS_PER_POLL):
        chunk = range(start, min(n_posts, start + POSTS_PER_POLL))
        _bulk_polls(db, rng, chunk, first_post, findings_todo, append_events, make_event, word_diff)
        db.conn.commit()
    times["bulk"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    for _name, sql in indexes:
        db.execute(sql)
    if "comment_counts" in db.table_names():  # kept by the poll (schema 14), not by raw inserts
        db.execute("DELETE FROM comment_counts")
        db.execute(
            "INSERT INTO comment_counts (account, status, n)"
            " SELECT account, status, count(*) FROM comments GROUP BY status, account"
        )
    db.conn.commit()
    times["indexes"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    for i, (draft, at) in enumerate(findings_todo):
        with db.atomic():
            fid = insert_finding(db, draft, at=at)
            if fid is None:
                continue
            later = _iso(datetime.fromisoformat(at) + timedelta(hours=3))
            row = dict(db.query("SELECT * FROM findings WHERE id = ?", [fid]).__next__())
            if i % 4 == 1:
                set_finding_state(db, row, FindingState.ACKNOWLEDGED, at=later, note=None, actor="cli")
            elif i % 2 == 0:
                set_finding_state(db, row, FindingState.RESOLVED, at=later, note="answered", actor="cli")
    times["findings"] = time.perf_counter() - t2
    db.execute("PRAGMA locking_mode = NORMAL")
    db.execute("PRAGMA journal_mode = WAL")
    db.conn.close()
    t3 = time.perf_counter()
    _snapshot_on_top(tmp, tree)
    times["snapshot"] = time.perf_counter() - t3
    tmp.rename(path)
    return times


def _text(rng: random.Random, k: int) -> str:
    return " ".join(rng.choices(_WORDS, cum_weights=_CUM, k=k))


def _bulk_polls(db, rng, chunk, first_post, findings_todo, append_events, make_event, word_diff):  # type: ignore[no-untyped-def]
    """Two polls of these posts: the first sees them all new, the second a day later sees the
    churn. Rows are written in their final state (what both polls leave), each change with the
    event the poller writes for it."""
    from guard.states import Severity
    from policies.records import FindingDraft

    newest = first_post + timedelta(hours=chunk[-1])
    t_a = _iso(newest + timedelta(hours=2))
    t_b = _iso(newest + timedelta(hours=26))
    posts, post_versions, rows, versions = [], [], [], []
    added: list[dict] = []
    churn: list[dict] = []
    for p in chunk:
        pid = f"1_{1_000_000 + p}"
        created_dt = first_post + timedelta(hours=p)
        created = _iso(created_dt)
        text = _text(rng, 30)
        sha = _sha(text)
        edited_post = rng.random() < 0.02
        post = {
            "id": pid,
            "account": _ACCOUNT,
            "message": text,
            "created_time": created,
            "updated_time": created,
            "permalink_url": f"https://facebook.com/{pid}",
            "author_id": None,
            "author_name": None,
            "status": "present",
            "version": 1,
            "sha256": sha,
            "previous_ids": "[]",
            "first_seen": t_a,
            "last_seen": t_b,
            "missing_count": 0,
            "status_changed_at": t_a,
            "comments_complete_at": t_b,
        }
        post_versions.append((pid, 1, text, sha, t_a, created, None))
        added.append(
            make_event(
                "post_added", at=t_a, account=_ACCOUNT, object_id=pid, post_id=pid, version=1, sha256=sha
            )
        )
        if edited_post:
            new = "UPDATE: " + text.replace("thursday", "friday")
            new_sha = _sha(new)
            diff = word_diff(text, new)
            post_versions.append((pid, 2, new, new_sha, t_b, t_b, json.dumps(diff)))
            post.update(message=new, sha256=new_sha, version=2, updated_time=t_b)
            churn.append(
                make_event(
                    "post_edited",
                    at=t_b,
                    account=_ACCOUNT,
                    object_id=pid,
                    post_id=pid,
                    version=2,
                    sha256=new_sha,
                    previous_sha256=sha,
                    diff=diff,
                )
            )
        posts.append(post)
        for c in range(PER_POST):
            cid = f"{1_000_000 + p}_{c}"
            parent = f"{1_000_000 + p}_{c - 1}" if c % 5 == 4 else None
            msg = _text(rng, rng.randint(4, 25))
            csha = _sha(msg)
            c_created = _iso(created_dt + timedelta(seconds=rng.randint(60, 86_400)))
            from_page = rng.random() < 0.01
            author = ("page", "The Page") if from_page else (f"u{(n := rng.randint(1, 50_000))}", f"User {n}")
            row = [
                cid,
                _ACCOUNT,
                pid,
                parent,
                author[0],
                author[1],
                msg,
                c_created,
                0,
                int(from_page),
                "present",
                1,
                csha,
                t_a,
                t_a,
                0,
                t_a,
                None,
            ]
            versions.append((cid, 1, msg, csha, t_a, None))
            added.append(
                make_event(
                    "comment_added",
                    at=t_a,
                    account=_ACCOUNT,
                    object_id=cid,
                    post_id=pid,
                    version=1,
                    sha256=csha,
                    parent_id=parent,
                    from_page=from_page,
                    hidden=False,
                )
            )
            r = rng.random()
            if r < 0.01:  # edited
                new = msg + " " + _text(rng, 3)
                nsha = _sha(new)
                diff = word_diff(msg, new)
                versions.append((cid, 2, new, nsha, t_b, json.dumps(diff)))
                row[6], row[11], row[12], row[14] = new, 2, nsha, t_b
                churn.append(
                    make_event(
                        "comment_edited",
                        at=t_b,
                        account=_ACCOUNT,
                        object_id=cid,
                        post_id=pid,
                        version=2,
                        sha256=nsha,
                        previous_sha256=csha,
                        diff=diff,
                    )
                )
            elif r < 0.015:  # hidden by the page
                row[8], row[10], row[14], row[16] = 1, "hidden", t_b, t_b
                churn.append(
                    make_event("comment_hidden", at=t_b, account=_ACCOUNT, object_id=cid, post_id=pid)
                )
            elif r < 0.02:  # deleted (absent, confirmed gone by id)
                row[10], row[15], row[16] = "deleted", 1, t_b
                churn.append(
                    make_event(
                        "comment_deleted",
                        at=t_b,
                        account=_ACCOUNT,
                        object_id=cid,
                        post_id=pid,
                        version=1,
                        sha256=csha,
                        previous_status="present",
                    )
                )
            if row[10] != "present" and rng.random() < 0.1:
                kind = "removed-critical" if row[10] == "deleted" else "hidden-critical"
                summary = (
                    "A critical comment was removed"
                    if kind == "removed-critical"
                    else "A critical comment was hidden"
                )
                evidence = {
                    "platform": "facebook",
                    "summary": summary,
                    "post": {
                        "id": pid,
                        "permalink_url": post["permalink_url"],
                        "message": post["message"],
                        "status": "present",
                        "versions": [{"version": 1, "message": text, "seen_at": t_a}],
                    },
                    "reply_to": pid if row[10] == "deleted" else cid,
                    "comment": {
                        "id": cid,
                        "message": row[6],
                        "author_name": row[5],
                        "created_time": c_created,
                        "status": row[10],
                        "parent_id": parent,
                    },
                    "reasons": ["question: asks when", "about the post: meeting"],
                }
                findings_todo.append(
                    (
                        FindingDraft(
                            kind=kind,
                            severity=Severity.WARNING,
                            dedupe_key=f"{kind}:{cid}",
                            post_id=pid,
                            comment_id=cid,
                            evidence=evidence,
                            suggested_reply=f"Hi {row[5]}, the meeting is on Thursday at 7pm.",
                        ),
                        _iso(datetime.fromisoformat(t_b) + timedelta(minutes=1)),
                    )
                )
            rows.append(tuple(row))
    db.conn.executemany(
        "INSERT INTO posts (id, account, message, created_time, updated_time, permalink_url, author_id,"
        " author_name, status, version, sha256, previous_ids, first_seen, last_seen, missing_count,"
        " status_changed_at, comments_complete_at) VALUES (:id, :account, :message, :created_time,"
        " :updated_time, :permalink_url, :author_id, :author_name, :status, :version, :sha256, :previous_ids,"
        " :first_seen, :last_seen, :missing_count, :status_changed_at, :comments_complete_at)",
        posts,
    )
    db.conn.executemany(
        "INSERT INTO post_versions (post_id, version, message, sha256, seen_at, updated_time, diff)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        post_versions,
    )
    last = db.execute("SELECT coalesce(max(rowid), 0) FROM comments").fetchone()[0]
    db.conn.executemany(
        "INSERT INTO comments (id, account, post_id, parent_id, author_id, author_name, message,"
        " created_time, hidden, from_page, status, version, sha256, first_seen, last_seen, missing_count,"
        " status_changed_at, platform_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute(
        "INSERT INTO comments_fts (rowid, message, author_name)"
        " SELECT rowid, message, author_name FROM comments WHERE rowid > ?",
        [last],
    )
    last = db.execute("SELECT coalesce(max(rowid), 0) FROM comment_versions").fetchone()[0]
    db.conn.executemany(
        "INSERT INTO comment_versions (comment_id, version, message, sha256, seen_at, diff)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        versions,
    )
    db.execute(
        "INSERT INTO comment_versions_fts (rowid, message)"
        " SELECT id, message FROM comment_versions WHERE id > ?",
        [last],
    )
    for at, events in ((t_a, added), (t_b, churn)):
        counts: dict[str, int] = {}
        for e in events:
            counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        cur = db.execute(
            "INSERT INTO polls (account, started, finished, api_calls, items, complete, error, counts)"
            " VALUES (?, ?, ?, ?, ?, 1, NULL, ?)",
            [
                _ACCOUNT,
                at,
                at,
                2 * len(chunk),
                len(chunk) * (PER_POST + 1),
                json.dumps(counts, sort_keys=True),
            ],
        )
        for e in events:
            e["poll_id"] = cur.lastrowid
        append_events(db, events)


def _snapshot_on_top(path: Path, tree: Path) -> None:
    """bench/pipeline.py's 100,000-comment snapshot, polled for real with the engine."""
    sys.path.insert(0, str(tree / "bench"))
    from ingest import SnapshotConnector, make_snapshot

    from guard.archive.connection import open_archive
    from guard.config import load_config
    from guard.runtime.pipeline import run_poll

    cfg = path.parent / f"{path.name}.toml"
    cfg.write_text(CONFIG.format(db=path.as_posix()), encoding="utf-8")
    config = load_config(cfg)
    db = open_archive(path)
    run_poll(
        config, db, config.account("bench"), connector=SnapshotConnector(make_snapshot(500, 200)), now=NOW
    )
    db.conn.close()
    cfg.unlink()


def schema_of_tree(tree: Path) -> int:
    """The schema version the tree's code writes (read from its source, without importing)."""
    import subprocess

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(tree)!r});"
            " from guard.archive.schema import SCHEMA_VERSION; print(SCHEMA_VERSION)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def ensure(comments: int, tree: Path | None = None, cache: Path = CACHE) -> Path:
    """The cached archive of ``comments`` comments written by ``tree``'s code, built if missing
    (in a child process, so it imports that tree)."""
    import subprocess

    tree = (tree or ROOT).resolve()
    path = archive_path(comments, schema_of_tree(tree), cache)
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    print(f"building {path} ({comments:,} comments, code of {tree}) ...", file=sys.stderr, flush=True)
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--comments",
            str(comments),
            "--tree",
            str(tree),
            "--cache",
            str(cache),
            "--child",
        ],
        check=True,
    )
    return path


# ---------------------------------------------------------------- the read commands, 1M vs 5M

# (name, arguments): every listing with a limit, as on a terminal, so each answer is the same
# size at every archive size; --since reaches into the snapshot's last two days only.
COMMANDS: list[tuple[str, list[str]]] = [
    ("status", ["status"]),
    ("findings (all open)", ["findings"]),
    ("findings --limit 50", ["findings", "--limit", "50"]),
    ("search meeting --limit 50", ["search", "meeting", "--limit", "50"]),
    (
        "comments --since (2 days) --limit 100",
        ["comments", "--since", "2026-11-19T12:00:00+00:00", "--limit", "100"],
    ),
    ("comments --author --limit 100", ["comments", "--author", "User 1234", "--limit", "100"]),
    ("posts --limit 50", ["posts", "--limit", "50"]),
    ("thread (200 comments)", ["thread", "1_3"]),
    ("history (a comment)", ["history", "3_7"]),
    ("export --format json", ["export", "--format", "json", "-o", "{out}"]),
    ("verify", ["verify"]),
]
SLOW = ("export --format json", "verify")  # measured once: minutes each at 5M
BEFORE_VERIFY_MAX = 1_000_000  # the baseline's verify loads every event: ~13 GB at 5M
REPOLLS = [("re-poll, no change (poll_account)", "archive"), ("re-poll, no change (run_poll)", "engine")]


def working_copy(cache: Path, tag: str) -> Path:
    """A copy of the cached archive for one tree (its code may migrate it; a re-poll adds to
    it), made once and reused by later runs."""
    import shutil

    copy = cache.with_name(f"{cache.stem}-{tag}.db")
    if not copy.exists():
        print(f"copying {cache.name} for {tag} ...", file=sys.stderr, flush=True)
        shutil.copyfile(cache, copy.with_suffix(".copying"))
        copy.with_suffix(".copying").rename(copy)
    return copy


def repoll_child(db_path: Path, mode: str) -> dict[str, float]:
    """One no-change re-poll of bench/pipeline.py's snapshot (already archived) in this process."""
    import resource

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    sys.path.insert(1, str(ROOT / "bench"))
    from ingest import SnapshotConnector, make_snapshot

    from guard.archive.connection import open_archive
    from guard.config import load_config
    from guard.runtime.pipeline import poll_account, run_poll

    cfg = db_path.with_suffix(".toml")
    cfg.write_text(CONFIG.format(db=db_path.as_posix()), encoding="utf-8")
    config = load_config(cfg)
    account = config.account("bench")
    snapshot = make_snapshot(500, 200)
    db = open_archive(db_path)
    now = NOW + timedelta(minutes=5)
    t0 = time.perf_counter()
    if mode == "engine":
        run_poll(config, db, account, connector=SnapshotConnector(snapshot), now=now)
    else:
        poll_account(db, account, SnapshotConnector(snapshot), now=now)
    elapsed = time.perf_counter() - t0
    db.conn.close()
    return {"seconds": elapsed, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def read_commands(
    sizes: list[int], baseline: Path | None, repeat: int = 1, skip: tuple[str, ...] = ()
) -> None:
    """Time and peak RSS of every read command and of a no-change re-poll on the big archives,
    this tree and ``baseline`` interleaved, with the ratio of the largest size to the smallest."""
    sys.path.insert(0, str(ROOT / "bench"))
    from pipeline import cg_command, timed_cmd

    trees = ([("before", baseline.resolve())] if baseline else []) + [("after", ROOT)]
    builder = baseline.resolve() if baseline else ROOT
    work = {(tag, n): working_copy(ensure(n, builder), tag) for n in sizes for tag, _ in trees}
    configs = {}
    for (tag, n), path in work.items():
        cfg = path.with_suffix(".toml")
        cfg.write_text(CONFIG.format(db=path.as_posix()), encoding="utf-8")
        configs[tag, n] = cfg
        tree = dict(trees)[tag]
        timed_cmd([*cg_command(tree), "--config", str(cfg), "status"])  # migrates, warms the cache
    events = {n: _event_count(work[trees[-1][0], n]) for n in sizes}
    results: dict[tuple[str, str, int], tuple[float, float]] = {}
    for name, argv in COMMANDS + [(label, ["--repoll", mode]) for label, mode in REPOLLS]:
        if any(name.startswith(s) for s in skip):
            continue
        for n in sizes:
            for tag, tree in trees:
                if name == "verify" and tag == "before" and n > BEFORE_VERIFY_MAX:
                    print(
                        f"  verify before {n:,}: skipped (it holds every event: 2.7 GB at 1M)",
                        file=sys.stderr,
                    )
                    continue
                best: tuple[float, float] | None = None
                for _ in range(1 if name in SLOW else repeat):
                    out = work[tag, n].with_name(f"export-{tag}-{n}.json")
                    if argv[0] == "--repoll":
                        proc = subprocess_json(
                            [
                                sys.executable,
                                __file__,
                                "--repoll",
                                str(work[tag, n]),
                                "--mode",
                                argv[1],
                                "--tree",
                                str(tree),
                                "--child",
                            ]
                        )
                        got = (proc["seconds"], proc["rss"])
                    else:
                        args = [a.replace("{out}", str(out)) for a in argv]
                        got = timed_cmd([*cg_command(tree), "--config", str(configs[tag, n]), *args])
                    out.unlink(missing_ok=True)
                    best = got if best is None or got[0] < best[0] else best
                assert best is not None
                results[name, tag, n] = best
                print(
                    f"  {name:40} {tag:6} {n:>9,}: {best[0]:8.2f} s {best[1]:7.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
    lo, hi = min(sizes), max(sizes)
    print(
        f"read commands and a no-change re-poll, {lo:,} vs {hi:,} comments"
        f" (best of {repeat}, export and verify once; s, peak RSS MiB)"
    )
    head = f"{'command':40}"
    for tag, _ in trees:
        head += f" | {tag + ' ' + _short(lo):>16} {tag + ' ' + _short(hi):>16} {'ratio':>6}"
    print(head)
    for name, _ in COMMANDS + REPOLLS:
        if (name, trees[-1][0], lo) not in results:
            continue
        line = f"{name:40}"
        for tag, _ in trees:
            a, b = results.get((name, tag, lo)), results.get((name, tag, hi))
            line += f" | {_cell(a)} {_cell(b)} {b[0] / a[0] if a and b else float('nan'):5.2f}x"
        print(line)
    if ("verify", trees[-1][0], lo) in results:
        for tag, _ in trees:
            rates = ", ".join(
                f"{_short(n)} {events[n] / results['verify', tag, n][0]:,.0f}"
                for n in sizes
                if ("verify", tag, n) in results
            )
            print(f"verify events/s ({tag}): {rates}")


def _cell(result: tuple[float, float] | None) -> str:
    return "      -           " if result is None else f"{result[0]:7.2f} s {result[1]:5.0f} M"


def _short(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _event_count(path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT max(seq) FROM events").fetchone()[0])
    finally:
        conn.close()


def subprocess_json(argv: list[str]) -> dict[str, float]:
    import subprocess

    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose code writes it")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repoll", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="archive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repoll:
        sys.path.insert(0, str(args.tree.resolve()))
        print(json.dumps(repoll_child(args.repoll, args.mode)))
        return
    if not args.child:
        print(ensure(args.comments, args.tree, args.cache))
        return
    sys.path.insert(0, str(args.tree.resolve()))
    from guard.archive.schema import SCHEMA_VERSION

    path = archive_path(args.comments, SCHEMA_VERSION, args.cache)
    t0 = time.perf_counter()
    times = build(path, args.comments, args.tree.resolve())
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in times.items())
    print(f"built {path} in {time.perf_counter() - t0:.0f} s ({phases})", file=sys.stderr)


if __name__ == "__main__":
    main()
