"""Whole-pipeline benchmark: what a daemon's poll costs, archive alone and with the engine.

Prints one table, every row measured in the same run on the same rows (N comments over P posts),
min / median of ``--repeat`` runs, each run in a fresh process on a fresh archive:

- archive only (``poll_account``) and poll + engine (``run_poll``, what the daemon does), each
  for the first poll, a re-poll with no change and a re-poll with 1 % edited + 0.5 % hidden +
  0.5 % gone (the churn of bench/ingest.py);
- raw ``executemany`` of the same rows into the project schema (triggers and all);
- sqlite-utils ``insert_all`` into a plain table + ``enable_fts`` (what dogsheep tools do);
- peak RSS of each path's process (the snapshot itself included, and reported alone);
- with ``--memory``: the first poll's peak RSS (poll + engine) at 100k and 1M comments, of this
  tree and the ``--baseline`` tree, the posts made as the poll reads them (is it flat?);
- with ``--startup``: ``comment-guard --help`` and ``status`` (on a small archive) against
  ``sqlite-utils --help`` and ``python -c pass``, and the ``--baseline`` tree's, interleaved;
  ``--commands``: ``findings``, ``verify``, ``export`` on the archive;
- with ``--archive-size 1000000,5000000``: every read command and a no-change re-poll on big
  archives (bench/big_archive.py, cached under /tmp), this tree and ``--baseline``, and the ratio.

No thresholds are asserted (machines are noisy). Usage:
    python bench/pipeline.py [--posts 500] [--comments-per-post 200] [--repeat 3]
                             [--memory] [--startup] [--commands]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from big_archive import CONFIG  # noqa: E402  (the bench account's config, one copy)

BIN = Path(sys.executable).parent
# comment-guard from this tree (not whichever one is installed), so an older checkout's copy of
# this file measures that checkout: ``python /tmp/before/bench/pipeline.py --startup``


def cg_command(tree: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {str(tree)!r}); from guard.cli import main; main()",
    ]


CG = cg_command(ROOT)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mib()


# ---------------------------------------------------------------- child: one path, one archive


class LazyScans(Sequence):  # type: ignore[type-arg]
    """The benchmark's posts, each made again on every read and never all held (a poll reads
    them a few times): in ``--memory`` runs the peak RSS is what the poll itself keeps."""

    def __init__(self, posts: int, per_post: int) -> None:
        self.posts, self.per_post = posts, per_post

    def __len__(self) -> int:
        return self.posts

    def __getitem__(self, p):  # type: ignore[no-untyped-def]
        if isinstance(p, slice):
            return [self[i] for i in range(*p.indices(self.posts))]
        if not 0 <= p < self.posts:
            raise IndexError(p)
        from ingest import make_scan

        return make_scan(p, self.per_post, random.Random(7_000_003 + p))


def child(mode: str, posts: int, per_post: int, workdir: Path, lazy: bool = False) -> dict[str, float]:
    """Run one path on a fresh archive in this (fresh) process; returns seconds and MiB.
    ``lazy``: the posts are made as the poll reads them (``LazyScans``), first poll and
    no-change re-poll only."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    from ingest import ACCOUNT, NOW, Snapshot, SnapshotConnector, churn, make_snapshot, raw_baseline

    from guard.archive.connection import open_archive

    snapshot = Snapshot(LazyScans(posts, per_post), True) if lazy else make_snapshot(posts, per_post)  # type: ignore[arg-type]
    out: dict[str, float] = {"rss_snapshot": current_rss_mib()}
    if lazy:
        out["tree"] = str(Path(open_archive.__code__.co_filename).parents[2])  # type: ignore[assignment]
    if mode == "raw":
        out["first"] = raw_baseline(workdir / "raw.db", snapshot)
    elif mode == "sqlite-utils":
        out["first"] = sqlite_utils_baseline(workdir / "su.db", snapshot)
    else:
        from guard.config import load_config
        from guard.runtime.pipeline import poll_account, run_poll

        if mode == "engine":
            # A daemon's classifier is loaded once, by its first classification: VADER's lexicon
            # (12-22 ms) is read then. The first poll classifies nothing here, so without this the
            # churn re-poll would pay that once-per-process load as if every poll did.
            from policies.classify import classify

            classify("warm up")

        cfg_path = workdir / "bench.toml"
        cfg_path.write_text(CONFIG.format(db=(workdir / "ours.db").as_posix()), encoding="utf-8")
        config = load_config(cfg_path)
        account = config.account("bench") if mode == "engine" else ACCOUNT
        steps = [(snapshot, 0), (snapshot, 5)] + ([] if lazy else [(churn(snapshot), 10)])
        for step, (snap, minutes) in enumerate(steps):
            db = open_archive(workdir / "ours.db")
            t0 = time.perf_counter()
            if mode == "engine":
                run_poll(
                    config,
                    db,
                    account,
                    connector=SnapshotConnector(snap),
                    now=NOW + timedelta(minutes=minutes),
                )
            else:
                poll_account(db, account, SnapshotConnector(snap), now=NOW + timedelta(minutes=minutes))
            out[("first", "same", "churn")[step]] = time.perf_counter() - t0
            db.conn.close()
            if step == 0:
                out["rss_first"] = peak_rss_mib()
    out["rss_peak"] = peak_rss_mib()
    return out


def sqlite_utils_baseline(path: Path, snapshot) -> float:  # type: ignore[no-untyped-def]
    """The same comments into a plain table with sqlite-utils, then its FTS (no triggers)."""
    import sqlite_utils

    db = sqlite_utils.Database(path)
    t0 = time.perf_counter()
    rows = (
        {
            "id": c.id,
            "post_id": c.post_id,
            "parent_id": c.parent_id,
            "author_id": c.author_id,
            "author_name": c.author_name,
            "message": c.message,
            "created_time": c.created_time,
        }
        for scan in snapshot.posts
        for c in scan.comments
    )
    db["comments"].insert_all(rows, pk="id", batch_size=1000)
    db["comments"].enable_fts(["message", "author_name"], tokenize="unicode61")
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


# ---------------------------------------------------------------- parent: orchestration


def run_child(
    mode: str, posts: int, per_post: int, script: str = __file__, extra: tuple[str, ...] = ()
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, script, "--child", mode, "--posts", str(posts)]
            + ["--comments-per-post", str(per_post), "--workdir", tmp, *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            sys.exit(f"{mode} failed:\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(values: list[float], base: float | None = None) -> str:
    lo, med = min(values), statistics.median(values)
    text = f"{lo:6.2f} / {med:6.2f} s"
    if base:
        text += f" ({med / base:5.1%})"
    return text


def timed_cmd(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command. The RSS comes from GNU time where it
    exists: a forked child's ru_maxrss also counts the parent's pages it had before exec."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        timer = ["/usr/bin/time", "-f", "%M", "-o", out.name] if Path("/usr/bin/time").exists() else []
        t0 = time.perf_counter()
        proc = subprocess.Popen(timer + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - t0
        text = out.read().strip().splitlines()
        rss = int(text[-1]) / 1024 if timer and text and text[-1].isdigit() else usage.ru_maxrss / 1024
    return elapsed, rss


def table(args: argparse.Namespace) -> None:
    """The table for this tree and, with ``--baseline DIR`` (an older checkout holding this
    file), for that tree too: their runs interleaved, so both see the same machine load."""
    modes = ("archive", "engine", "raw", "sqlite-utils")
    trees = [("this tree", __file__, args.repeat)]
    if args.baseline:
        trees.insert(0, ("baseline " + args.baseline, str(Path(args.baseline) / "bench" / "pipeline.py"), 0))
        trees[0] = (trees[0][0], trees[0][1], args.baseline_repeat or args.repeat)
    results = {name: {m: [] for m in modes} for name, _, _ in trees}
    for i in range(max(n for _, _, n in trees)):
        for name, script, repeat in trees:
            if i < repeat:
                for mode in modes:
                    results[name][mode].append(run_child(mode, args.posts, args.comments_per_post, script))
    for name, _, repeat in trees:
        print(f"== {name}")
        print_table(args, results[name], repeat)


def print_table(args: argparse.Namespace, results: dict[str, list[dict[str, float]]], repeat: int) -> None:
    n = args.posts * args.comments_per_post

    def col(mode: str, key: str) -> list[float]:
        return [r[key] for r in results[mode]]

    print(f"{n:,} comments over {args.posts} posts; min / median of {repeat} (share of first poll)")
    print(f"{'path':44} {'first poll':>18} {'re-poll, no change':>26} {'re-poll, churn 2 %':>26}")
    for mode, label in (("archive", "archive only (poll_account)"), ("engine", "poll + engine (run_poll)")):
        first = statistics.median(col(mode, "first"))
        print(
            f"{label:44} {fmt(col(mode, 'first')):>18} {fmt(col(mode, 'same'), first):>26}"
            f" {fmt(col(mode, 'churn'), first):>26}"
        )
    print(f"{'sqlite-utils insert_all + FTS, plain table':44} {fmt(col('sqlite-utils', 'first')):>18}")
    print(f"{'raw executemany into the project schema':44} {fmt(col('raw', 'first')):>18}")
    raw = statistics.median(col("raw", "first"))
    eng = statistics.median(col("engine", "first"))
    arc = statistics.median(col("archive", "first"))
    print(f"rate vs raw executemany: archive only {raw / arc:.2f}x, poll + engine {raw / eng:.2f}x")
    print("peak RSS (MiB, median): snapshot built / after first poll / whole run")
    for mode in ("archive", "engine"):
        print(
            f"  {mode:10} {statistics.median(col(mode, 'rss_snapshot')):7.0f}"
            f" {statistics.median(col(mode, 'rss_first')):7.0f}"
            f" {statistics.median(col(mode, 'rss_peak')):7.0f}"
        )


def memory(args: argparse.Namespace) -> None:
    """A first poll (and a no-change re-poll) with the engine, at 100k and 1M comments, of
    this tree and the ``--baseline`` tree: the posts are made as the poll reads them, so the
    peak RSS is the poll's own (the interpreter and imports included)."""
    trees = [("this tree", str(ROOT))] + (
        [("baseline", str(Path(args.baseline).resolve()))] if args.baseline else []
    )
    print("first poll, poll + engine (run_poll): peak RSS vs comment count, posts made as read")
    for posts in (500, 5000):
        for name, tree in trees:
            r = run_child("engine", posts, 200, extra=("--lazy", "--tree", tree))
            print(
                f"  {name:10} {posts * 200:>9,} comments: peak RSS {r['rss_first']:6.0f} MiB"
                f" (before the poll {r['rss_snapshot']:.0f})   first poll {r['first']:.1f} s,"
                f" no-change re-poll {r['same']:.2f} s",
                flush=True,
            )


# A first poll of 20 posts x 10 comments into a tree's own archive, by that tree's own code (an
# older checkout may not open a newer schema): what `status` reads in --startup.
SMALL_ARCHIVE = """
import sys
sys.path[:0] = [{tree!r}, {tree!r} + "/bench"]
from ingest import NOW, SnapshotConnector, make_snapshot
from guard.archive.connection import open_archive
from guard.config import load_config
from guard.runtime.pipeline import poll_account
config = load_config({cfg!r})
db = open_archive(config.guard.database)
poll_account(db, config.account("bench"), SnapshotConnector(make_snapshot(20, 10)), now=NOW)
"""


def startup(args: argparse.Namespace) -> None:
    """``--help`` and ``status`` (on a small archive) of this tree and, with ``--baseline``, of
    that tree, beside ``sqlite-utils --help``; every round runs each command once, interleaved."""
    trees = [("", ROOT)] + ([("before: ", Path(args.baseline).resolve())] if args.baseline else [])
    # Bytecode cached, as after `pip install`: without it every run compiles the changed modules
    # (a fresh checkout: all of them), which is not what start-up costs.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "sqlite-utils --help": [str(BIN / "sqlite-utils"), "--help"],
        }
        for i, (label, tree) in enumerate(trees):
            cfg = Path(tmp) / f"bench{i}.toml"
            cfg.write_text(CONFIG.format(db=(Path(tmp) / f"s{i}.db").as_posix()), encoding="utf-8")
            code = SMALL_ARCHIVE.format(tree=str(tree), cfg=str(cfg))
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            cmds[f"{label}comment-guard --help"] = [*cg_command(tree), "--help"]
            cmds[f"{label}comment-guard status"] = [*cg_command(tree), "--config", str(cfg), "status"]
        for name, argv in cmds.items():  # warm the page cache and the bytecode; fail loudly
            done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
            if done.returncode not in (0, 1) or "error" in done.stderr:
                raise SystemExit(f"{name} failed: {done.stderr.strip()}")
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(args.startup_repeat):
            for name, argv in cmds.items():
                times[name].append(timed_cmd(argv, env)[0] * 1000)
        ref = statistics.median(times["sqlite-utils --help"])
        print(
            f"start-up, min / median of {args.startup_repeat}, interleaved"
            " (ms; median / sqlite-utils --help's):"
        )
        for name, values in times.items():
            med = statistics.median(values)
            print(f"  {name:32} {min(values):6.0f} / {med:6.0f}   {med / ref:5.2f}x")


def commands(args: argparse.Namespace) -> None:
    """Read commands on an archive of the benchmark's rows (one first poll + churn re-poll)."""
    from ingest import NOW, SnapshotConnector, churn, make_snapshot

    from guard.archive.connection import open_archive
    from guard.config import load_config
    from guard.runtime.pipeline import poll_account

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(CONFIG.format(db=(Path(tmp) / "c.db").as_posix()), encoding="utf-8")
        config = load_config(cfg)
        snap = make_snapshot(args.posts, args.comments_per_post)
        db = open_archive(Path(tmp) / "c.db")
        poll_account(db, config.account("bench"), SnapshotConnector(snap), now=NOW)
        poll_account(
            db, config.account("bench"), SnapshotConnector(churn(snap)), now=NOW + timedelta(minutes=5)
        )
        db.conn.close()
        del snap
        n = args.posts * args.comments_per_post
        print(f"read commands on an archive of {n:,} comments (wall s, peak RSS MiB):")
        cg = [*CG, "--config", str(cfg)]
        for name, extra in (
            ("status", ["status"]),
            ("findings", ["findings"]),
            ("verify", ["verify"]),
            ("export --format json", ["export", "--format", "json", "-o", str(Path(tmp) / "e.json")]),
            ("search thursday", ["search", "thursday"]),
        ):
            secs, rss = timed_cmd(cg + extra)
            print(f"  {name:24} {secs:7.2f} s {rss:7.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--comments-per-post", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="peak RSS of a first poll at 100k and 1M")
    parser.add_argument("--startup", action="store_true", help="start-up of --help and status")
    parser.add_argument("--startup-repeat", type=int, default=11, help="rounds of --startup")
    parser.add_argument("--commands", action="store_true", help="findings, verify, export, search")
    parser.add_argument("--only", action="store_true", help="skip the main table")
    parser.add_argument("--baseline", metavar="DIR", help="an older checkout to measure alongside")
    parser.add_argument("--baseline-repeat", type=int, default=0, help="its repeats (default --repeat)")
    parser.add_argument(
        "--archive-size",
        metavar="N,N",
        help="read commands and a no-change re-poll on big archives of these comment counts"
        " (bench/big_archive.py), e.g. 1000000,5000000",
    )
    parser.add_argument("--archive-skip", default="", metavar="NAME,NAME", help="commands to leave out")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--lazy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # measure that checkout's code
    args = parser.parse_args()
    if args.child:
        if args.tree:  # that checkout's packages, before bench/ingest.py puts this one first
            sys.path.insert(0, args.tree)
            import connectors  # noqa: F401
            import guard  # noqa: F401
            import policies  # noqa: F401
        print(
            json.dumps(child(args.child, args.posts, args.comments_per_post, Path(args.workdir), args.lazy))
        )
        return
    if not args.only:
        table(args)
    if args.startup:
        startup(args)
    if args.commands:
        commands(args)
    if args.memory:
        memory(args)
    if args.archive_size:
        from big_archive import read_commands

        read_commands(
            [int(n) for n in args.archive_size.split(",")],
            Path(args.baseline) if args.baseline else None,
            repeat=args.repeat,
            skip=tuple(s for s in args.archive_skip.split(",") if s),
        )


if __name__ == "__main__":
    main()
