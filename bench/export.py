"""Export memory benchmark: peak RSS of `comment-guard export` against archive size.

Builds archives of N and 10×N comments through the real poll path (with 1 % edits, 0.5 %
hidden, 0.5 % deleted on a second poll), then runs, each in its own process:

- streamed: ``comment-guard export --format ndjson|csv|json -o FILE`` (the shipped command);
- materialised baseline: the same rows collected in a list and written with ``json.dump``, as
  the export did before issue 15.

Prints peak RSS (``wait4``'s ru_maxrss) per run and the growth from N to 10×N. Nothing is
asserted (machines differ). Usage:
    python bench/export.py [--posts 100] [--comments-per-post 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The measuring process imports nothing of comment-guard and builds archives in a child: on
# Linux a child's ru_maxrss includes what it inherited at fork, so a big parent would hide
# the export's own peak.

_MATERIALISED = """
import json, sys
from guard.archive.connection import open_archive_readonly
from guard.archive.export import export_records
rows = list(export_records(open_archive_readonly(sys.argv[1])))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(rows, out, indent=2, ensure_ascii=False)
"""


def build(workdir: Path, posts: int, per_post: int) -> Path:
    """Run in a child process (``--build``): two real polls into ``workdir/archive.db``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ingest import churn, make_snapshot, timed_poll  # bench/ingest.py

    db = workdir / "archive.db"
    snapshot = make_snapshot(posts, per_post)
    timed_poll(db, snapshot)
    timed_poll(db, churn(snapshot), minutes=10)
    (workdir / "cg.toml").write_text(
        '[guard]\ndatabase = "archive.db"\n\n[[accounts]]\nname = "bench"\nplatform = "facebook"\n'
        'page_id = "1"\ntoken_env = "BENCH_TOKEN"\n'
    )
    return db


def peak_rss(argv: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one child process."""
    env = {**os.environ, "BENCH_TOKEN": "x"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{argv} failed: {proc.stderr.read().decode() if proc.stderr else status}")
    return usage.ru_maxrss / 1024, elapsed


def main() -> None:
    if sys.argv[1:2] == ["--build"]:
        build(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--comments-per-post", type=int, default=100)
    args = parser.parse_args()
    cli = str(Path(sys.executable).parent / "comment-guard")
    results: dict[tuple[str, int], float] = {}
    sizes = (args.posts * args.comments_per_post, args.posts * args.comments_per_post * 10)
    with tempfile.TemporaryDirectory() as tmp:
        for scale, comments in zip((1, 10), sizes):
            work = Path(tmp) / f"x{scale}"
            work.mkdir()
            t0 = time.perf_counter()
            builder = [sys.executable, __file__, "--build", str(work), str(args.posts * scale)]
            subprocess.run([*builder, str(args.comments_per_post)], check=True, stderr=subprocess.DEVNULL)
            db = work / "archive.db"
            print(f"archive of {comments:,} comments built in {time.perf_counter() - t0:.1f} s")
            config = str(work / "cg.toml")
            for fmt in ("ndjson", "csv", "json"):
                out = work / f"out.{fmt}"
                rss, secs = peak_rss([cli, "--config", config, "export", "--format", fmt, "-o", str(out)])
                results[(fmt, comments)] = rss
                print(f"  streamed {fmt:6} {comments:>9,} comments: peak RSS {rss:6.1f} MiB, {secs:5.1f} s")
            rss, secs = peak_rss([sys.executable, "-c", _MATERIALISED, str(db), str(work / "m.json")])
            results[("materialised", comments)] = rss
            print(f"  materialised json {comments:>7,} comments: peak RSS {rss:6.1f} MiB, {secs:5.1f} s")
    small, large = sizes
    for name in ("ndjson", "csv", "json", "materialised"):
        a, b = results[(name, small)], results[(name, large)]
        print(f"{name:13} peak RSS ×{b / a:.2f} from {small:,} to {large:,} comments (+{b - a:.1f} MiB)")


if __name__ == "__main__":
    main()
