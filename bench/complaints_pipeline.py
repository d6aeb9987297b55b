"""Real complaints through the whole pipeline: are they protected when staff delete them?

`bench/classify.py` scores the classifier alone. This bench checks what a user sees: real
complaints (`../shared/data/complaints_dev.csv`, rows with complaint = 1; read at run time, never
copied into the project) are posted as comments under a page post on the sandbox Graph API
(`guard.demo.sandbox`, the HTTP stand-in `make demo` uses); the post is then corrected
(Thursday → the 13th) and staff delete every comment. Each step is a real poll: Facebook
connector over HTTP → archive → engine. The figure is the share of deleted complaints that
opened a `removed-critical` finding, for the same tune / report split as bench/classify.py
(the report part is the one tuning never looked at).

Run from the repo root: `python bench/complaints_pipeline.py [--limit N]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from classify import REAL, held_out, load_real  # noqa: E402

from guard.archive.connection import open_archive  # noqa: E402
from guard.archive.findings import list_findings  # noqa: E402
from guard.config import parse_config  # noqa: E402
from guard.demo.sandbox import Sandbox  # noqa: E402
from guard.runtime.pipeline import run_poll  # noqa: E402

TOKEN_ENV = "COMMENT_GUARD_BENCH_TOKEN"
WRONG = "Reminder: our community meeting is Thursday at 7pm in the library."
FIXED = "Reminder: our community meeting is the 13th at 7pm in the library."


def run(texts: list[str], workdir: Path) -> set[int]:
    """Post `texts` as comments, correct the post, delete them all; return the protected indexes."""
    with Sandbox(token="bench-token") as sandbox:
        os.environ[TOKEN_ENV] = "bench-token"
        config = parse_config(f"""
[guard]
database = "{workdir / "bench.db"}"
mode = "observe"

[[accounts]]
name = "bench"
platform = "facebook"
page_id = "{sandbox.page_id}"
token_env = "{TOKEN_ENV}"
api_base_url = "{sandbox.base_url}"
""")
        db = open_archive(config.guard.database)
        account = config.accounts[0]

        def poll() -> None:
            outcome = run_poll(config, db, account)
            if outcome.poll.error is not None:
                raise SystemExit(f"poll failed: {outcome.poll.error}")

        post = sandbox.add_post(WRONG)
        ids = [sandbox.add_comment(post, text, author=f"Reader {i}") for i, text in enumerate(texts)]
        poll()
        sandbox.edit_post(post, FIXED)
        poll()
        for cid in ids:
            sandbox.delete_comment(cid)
        poll()
        found = {f["comment_id"] for f in list_findings(db, state="all", kind="removed-critical")}
        db.conn.close()
    return {i for i, cid in enumerate(ids) if cid in found}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL, help="shared real set (CSV)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N complaints (0: all)")
    args = parser.parse_args(argv)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    if not args.real.exists():
        print(f"{args.real} not found: this bench needs the shared real set", file=sys.stderr)
        return 2
    rows = [r for r in load_real(args.real) if r.complaint]
    if args.limit:
        rows = rows[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        protected = run([r.text for r in rows], Path(tmp))
    parts: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for i, r in enumerate(rows):
        part = "report" if held_out(r.text) else "tune"
        parts[part] += 1
        hits[part] += i in protected
    total = sum(parts.values())
    print("real complaints deleted after a correction -> removed-critical findings (whole pipeline)")
    print(f"  {'':10} {'deleted':>8} {'findings':>9} {'share':>7}")
    for part in ("tune", "report"):
        n = parts[part]
        print(f"  {part:10} {n:8} {hits[part]:9} {hits[part] / n if n else 0:7.3f}")
    print(f"  {'all':10} {total:8} {len(protected):9} {len(protected) / total if total else 0:7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
