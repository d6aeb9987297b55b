"""Ingest benchmark per platform: each real connector parsing recorded-shape payloads.

``bench/ingest.py`` measures the snapshot → archive path. This runs the same first-poll /
re-poll measurement through the Facebook, Instagram and X connectors: the same generated
posts and comments (``ingest.make_snapshot``) are loaded into the stateful API fakes the tests
use (``tests/support/graph.py``, ``tests/support/x.py``), served
with ``responses`` callbacks, fetched and parsed by the connector and written by
``poll_account``. The re-poll applies ``ingest.churn`` (1 % edited, 0.5 % hidden, 0.5 % deleted)
to the fake platform; X has no hidden state in reads, so its hides change nothing.

Per platform it prints the connector path (HTTP mock + parse + poll) against the snapshot-only
path for the very snapshot the connector produced, and re-poll times as a share of the first
poll. "fake server" is the time the fakes spent building and encoding payloads: it is part of
the fetch figure but not connector work. Prints ratios only; asserts nothing. Usage:
    python bench/ingest_platforms.py [--posts 100] [--comments-per-post 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest  # noqa: E402  (bench/ingest.py)
import responses  # noqa: E402
import structlog  # noqa: E402

from connectors.base import Snapshot  # noqa: E402
from connectors.facebook import FacebookConnector  # noqa: E402
from connectors.instagram import InstagramConnector  # noqa: E402
from connectors.x import XConnector  # noqa: E402
from guard.archive.connection import open_archive  # noqa: E402
from guard.config import Account  # noqa: E402
from guard.runtime.pipeline import poll_account  # noqa: E402
from tests.support.graph import (  # noqa: E402
    IG_USER_ID,
    PAGE_ID,
    FakeComment,
    FakeIG,
    FakeIGComment,
    FakeMedia,
    FakePage,
    FakePost,
    ig_time,
)
from tests.support.x import USER_ID, Clock, FakeX  # noqa: E402

NOW = ingest.NOW


def _timed_get(cls: type) -> type:
    """The fake, with the time spent inside its GET callback added up in ``serve_seconds``."""

    class Timed(cls):  # type: ignore[misc, valid-type]
        serve_seconds = 0.0

        def _get(self, request):
            t0 = time.perf_counter()
            try:
                return super()._get(request)
            finally:
                self.serve_seconds += time.perf_counter() - t0

    Timed.__name__ = f"Timed{cls.__name__}"
    return Timed


class World:
    """One platform's fake API loaded with the generated data, and its connector."""

    platform: str
    account_id: str
    fake: Any
    connector: Any

    def __init__(self, rsps: responses.RequestsMock, snapshot: Snapshot) -> None:
        self.ids: dict[str, str] = {}  # generated comment id -> platform comment id
        self.build(rsps, snapshot)

    def build(self, rsps: responses.RequestsMock, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def apply(self, action: str, cid: str, message: str) -> None:
        raise NotImplementedError


def _fb_time(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FacebookWorld(World):
    platform, account_id = "facebook", PAGE_ID

    def build(self, rsps, snapshot):
        posts = []
        for scan in snapshot.posts:
            p = scan.post
            pid = f"{PAGE_ID}_{p.id.split('_')[1]}"
            comments = []
            for c in scan.comments:
                self.ids[c.id] = c.id
                comments.append(
                    FakeComment(
                        c.id,
                        c.message,
                        author=c.author_name or "",
                        author_id=c.author_id or "",
                        parent=c.parent_id,
                        created_time=_fb_time(c.created_time),
                    )
                )
            posts.append(
                FakePost(
                    pid,
                    p.message,
                    created_time=_fb_time(p.created_time),
                    updated_time=_fb_time(p.created_time),
                    comments=comments,
                )
            )
        self.fake = _timed_get(FakePage)(rsps, posts)
        self.connector = FacebookConnector(PAGE_ID, "bench-token")

    def apply(self, action, cid, message):
        if action == "delete":
            self.fake.remove_comment(cid)
        elif action == "hide":
            self.fake.comment(cid).is_hidden = True
        else:
            self.fake.comment(cid).message = message


class InstagramWorld(World):
    platform, account_id = "instagram", IG_USER_ID

    def build(self, rsps, snapshot):
        media = []
        for p, scan in enumerate(snapshot.posts):
            created = datetime.fromisoformat(scan.post.created_time)
            top: dict[str, FakeIGComment] = {}
            comments = []
            for n, c in enumerate(scan.comments):
                cid = f"178500{p:05d}{n:05d}"
                self.ids[c.id] = cid
                fc = FakeIGComment(
                    cid,
                    c.message,
                    username=f"user{c.author_id}",
                    user_id=f"1784140{(c.author_id or 'u0')[1:]:0>10}",
                    timestamp=ig_time(created),
                )
                parent = top.get(c.parent_id or "")
                if parent is not None:
                    parent.replies.append(fc)  # Instagram nests one level of replies
                else:
                    top[c.id] = fc
                    comments.append(fc)
            media.append(
                FakeMedia(
                    f"179000{p:011d}",
                    scan.post.message,
                    timestamp=ig_time(created),
                    permalink=f"https://www.instagram.com/p/bench{p}/",
                    comments=comments,
                )
            )
        self.fake = _timed_get(FakeIG)(rsps, media)
        self.connector = InstagramConnector(IG_USER_ID, "bench-token")

    def apply(self, action, cid, message):
        pid = self.ids[cid]
        if action == "delete":
            self.fake.remove_comment(pid)
        elif action == "hide":
            self.fake.comment(pid).hidden = True
        else:
            self.fake.comment(pid).text = message


class XWorld(World):
    platform, account_id = "x", USER_ID

    def build(self, rsps, snapshot):
        clock = Clock(NOW)
        self.fake = _timed_get(FakeX)(rsps, clock)
        for scan in snapshot.posts:
            created = datetime.fromisoformat(scan.post.created_time)
            root = self.fake.post(scan.post.message, created)
            for c in scan.comments:
                to = self.ids.get(c.parent_id or "", root)
                self.ids[c.id] = self.fake.reply(
                    to,
                    c.message,
                    created,
                    author=str(10_000 + int(c.author_id[1:])),
                    username=f"user{c.author_id}",
                )
        self.connector = XConnector(USER_ID, "bench-token", clock=clock)

    def apply(self, action, cid, message):
        tid = self.ids[cid]
        if action == "delete":
            self.fake.delete(tid)
        elif action == "edit":
            live = self.fake.tweets[tid].chain[-1]
            self.fake.edit(live, message, self.fake.tweets[live].created_at)
        # "hide": X reads do not report hidden replies, so nothing changes in a read


def churn_actions(snapshot: Snapshot) -> list[tuple[str, str, str]]:
    """``ingest.churn`` as actions on the platform: (edit|hide|delete, comment id, new text)."""
    after = {c.id: c for s in ingest.churn(snapshot).posts for c in s.comments}
    actions = []
    for scan in snapshot.posts:
        for c in scan.comments:
            new = after.get(c.id)
            if new is None:
                actions.append(("delete", c.id, ""))
            elif new.hidden:
                actions.append(("hide", c.id, ""))
            elif new.message != c.message:
                actions.append(("edit", c.id, new.message))
    return actions


def account_for(world: World) -> Account:
    return Account(
        name="bench", platform=world.platform, page_id=world.account_id, token_env="X", watch_days=14
    )


def measure(
    make: Callable[[responses.RequestsMock, Snapshot], World], snapshot: Snapshot, tmp: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        world = make(rsps, snapshot)
        account = account_for(world)
        fetched: list[tuple[float, Snapshot]] = []
        real_fetch = world.connector.fetch

        def fetch(since: datetime) -> Snapshot:
            t0 = time.perf_counter()
            snap = real_fetch(since)
            fetched.append((time.perf_counter() - t0, snap))
            return snap

        world.connector.fetch = fetch
        db = open_archive(tmp / f"{world.platform}.db")

        def poll(minutes: int) -> tuple[float, Any]:
            serve0 = world.fake.serve_seconds
            t0 = time.perf_counter()
            at = NOW + timedelta(minutes=minutes)
            result = poll_account(db, account, world.connector, now=at)
            elapsed = time.perf_counter() - t0
            out.setdefault("serve", []).append(world.fake.serve_seconds - serve0)
            out.setdefault("fetches", []).append(fetched[-1][0])
            return elapsed, result

        out["first"], first = poll(0)
        out["fetch"], snap = fetched[-1]
        out["calls"] = first.api_calls
        out["items"] = first.items
        out["comments"] = sum(len(s.comments) for s in snap.posts)
        out["posts"] = len(snap.posts)
        out["complete"] = first.complete and first.error is None
        out["same"], _ = poll(5)
        for action, cid, message in churn_actions(snapshot):
            world.apply(action, cid, message)
        out["churn"], churned = poll(10)
        out["churn_calls"] = churned.api_calls
        churn_snapshot = fetched[-1][1]
        if world.connector.absences_before_confirm > 1:
            out["confirm"], confirmed = poll(15)  # Instagram: the second absence confirms
            out["confirm_calls"] = confirmed.api_calls
        db.conn.close()
    # The snapshot-only path on the very snapshots the connector produced.
    base = tmp / f"{world.platform}-snapshot.db"
    out["snap_first"] = ingest.timed_poll(base, snap)
    out["snap_same"] = ingest.timed_poll(base, snap, minutes=5)
    out["snap_churn"] = ingest.timed_poll(base, churn_snapshot, minutes=10)
    return out


def report(platform: str, r: dict[str, Any]) -> None:
    print(
        f"{platform}: {r['comments']:,} comments over {r['posts']} posts, "
        f"{r['calls']} requests (complete: {r['complete']})"
    )
    print(
        f"  first poll via connector {r['first']:7.3f} s  (fetch+parse {r['fetch']:.3f} s, "
        f"of which fake server {r['serve'][0]:.3f} s)"
    )
    print(
        f"  snapshot-only first poll {r['snap_first']:7.3f} s  -> connector path = "
        f"{r['first'] / r['snap_first']:.2f}x snapshot path "
        f"({(r['first'] - r['serve'][0]) / r['snap_first']:.2f}x without the fake server)"
    )
    print(
        f"  re-poll, no changes      {r['same']:7.3f} s  = {r['same'] / r['first']:.1%} of first"
        f" poll (snapshot path: {r['snap_same'] / r['snap_first']:.1%}); fetch+parse "
        f"{r['fetches'][1]:.3f} s, archive {r['same'] - r['fetches'][1]:.3f} s"
    )
    print(
        f"  re-poll, 2% churn        {r['churn']:7.3f} s  = {r['churn'] / r['first']:.1%} of "
        f"first poll (snapshot path: {r['snap_churn'] / r['snap_first']:.1%}); fetch+parse "
        f"{r['fetches'][2]:.3f} s, archive+confirm {r['churn'] - r['fetches'][2]:.3f} s, "
        f"{r['churn_calls']} requests"
    )
    if "confirm" in r:
        print(
            f"  confirming poll          {r['confirm']:7.3f} s  = {r['confirm'] / r['first']:.1%}"
            f" of first poll, {r['confirm_calls']} requests (second absence → 100/33 checks)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--comments-per-post", type=int, default=100)
    parser.add_argument(
        "--platform",
        choices=("facebook", "instagram", "x"),
        action="append",
        help="run only this platform (repeatable); default: all three",
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    snapshot = ingest.make_snapshot(args.posts, args.comments_per_post)
    worlds = {"facebook": FacebookWorld, "instagram": InstagramWorld, "x": XWorld}
    print("target (bench/ingest.py): re-poll with 2% churn < 10% of the first poll")
    with tempfile.TemporaryDirectory() as tmp:
        for platform in args.platform or list(worlds):
            report(platform, measure(worlds[platform], snapshot, Path(tmp)))


if __name__ == "__main__":
    main()
