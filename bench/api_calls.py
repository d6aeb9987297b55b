"""API calls per poll against the local Graph sandbox (a real HTTP server counting requests).

For each page shape, prints the requests one poll made against the minimum number of pages
the Graph API needs to return that data (posts in pages of 100; comments ride along on the
first page of 100 and overflow in pages of 100). Target: ≤ 1.1 × the minimum.
    python bench/api_calls.py
"""

from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlite_utils  # noqa: E402
import structlog  # noqa: E402

from connectors.facebook import FacebookConnector  # noqa: E402
from guard.archive.schema import migrate  # noqa: E402
from guard.config import Account  # noqa: E402
from guard.demo.sandbox import Sandbox  # noqa: E402
from guard.runtime.pipeline import poll_account  # noqa: E402

PAGE = 100


def minimum_pages(posts: int, comments: int) -> int:
    post_pages = max(1, math.ceil(posts / PAGE))
    overflow = max(0, math.ceil(comments / PAGE) - 1)
    return post_pages + posts * overflow


def measure(posts: int, comments: int) -> tuple[int, int, int]:
    now = datetime.now(timezone.utc)
    with Sandbox(token="bench-token") as sandbox:
        for p in range(posts):
            pid = sandbox.add_post(f"post {p}", created_time=now - timedelta(hours=p + 1))
            for c in range(comments):
                sandbox.add_comment(pid, f"comment {c} on {p}")
        account = Account(
            name="bench", platform="facebook", page_id=sandbox.page_id, token_env="X", watch_days=14
        )
        db = sqlite_utils.Database(memory=True)
        migrate(db)
        connector = FacebookConnector(sandbox.page_id, "bench-token", base_url=sandbox.base_url)
        first = poll_account(db, account, connector).api_calls
        again = poll_account(db, account, connector).api_calls
    return first, again, minimum_pages(posts, comments)


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    print(f"{'page shape':<28}{'first':>7}{'re-poll':>9}{'minimum':>9}{'ratio':>8}")
    for posts, comments in ((50, 40), (250, 10), (20, 250)):
        first, again, minimum = measure(posts, comments)
        shape = f"{posts} posts x {comments} comments"
        print(f"{shape:<28}{first:>7}{again:>9}{minimum:>9}{first / minimum:>8.2f}")
    print("target: ratio <= 1.10")


if __name__ == "__main__":
    main()
