"""The engine loads a thread that is not corrected with only the comments the rules read there
(``policies.analysis.reads_every_comment``): on such a post every rule must conclude exactly
what it concludes on the whole thread, or the engine would miss findings. Every comment here is
written for these tests."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from connectors.base import Comment, Post, PostScan, Snapshot
from guard.archive import findings as store
from guard.archive.connection import open_archive
from guard.archive.labels import add_label
from guard.archive.records import load_thread
from guard.config import parse_config
from guard.engine import policy_config, run_engine
from guard.runtime.pipeline import poll_account
from policies.analysis import analyze, reads_every_comment
from policies.records import LABELS, ManualMark, OpenFinding, PolicyConfig, PostRecord, Version
from policies.rules import resolution, run_rules
from tests.conftest import NOW
from tests.support.snapshot import SnapshotConnector

TEXTS = (
    "Is the pool open on Sunday morning?",
    "This is the third time the bus never came. Unacceptable.",
    "Lovely photos, thanks for sharing.",
    "See you all there!",
    "Why was the meeting moved again??",
    "Great work by the volunteers.",
)
PAGE_REPLIES = ("Thanks Ana, yes it opens at nine.", "We are looking into it, sorry for the wait.")


def _snapshot(rng: random.Random, posts: int = 6, per_post: int = 30) -> Snapshot:
    scans = []
    for p in range(posts):
        pid = f"1_{p}"
        created = (NOW - timedelta(hours=6 + p)).isoformat()
        post = Post(pid, f"Pool hours for week {p}: open from 9am.", created, created)
        comments = []
        for c in range(per_post):
            page = c % 7 == 6
            comments.append(
                Comment(
                    f"{p}_{c}",
                    pid,
                    f"{p}_{c - 1}" if page or c % 5 == 4 else None,
                    rng.choice(PAGE_REPLIES if page else TEXTS),
                    (NOW - timedelta(hours=5, minutes=-c)).isoformat(),
                    "page" if page else f"u{c}",
                    "City Pool" if page else rng.choice(("Ana Vecina", "Luis Ortega", "Mei Chen")),
                    False,
                    page,
                )
            )
        scans.append(PostScan(post, tuple(comments), True))
    return Snapshot(tuple(scans), True)


def _churn(rng: random.Random, snapshot: Snapshot, now: datetime) -> Snapshot:
    scans = []
    for n, scan in enumerate(snapshot.posts):
        kept = []
        for c in scan.comments:
            r = rng.random()
            if r < 0.15:
                continue  # gone: confirmed deleted
            if r < 0.3:
                c = replace(c, hidden=not c.hidden)
            elif r < 0.4:
                c = replace(c, message=rng.choice(TEXTS))
            kept.append(c)
        if rng.random() < 0.5:  # the page answers on the post: resolves removals before it
            cid = f"{scan.post.id}_page{now:%H%M}"
            at = (now + timedelta(minutes=n)).isoformat()
            kept.append(
                Comment(
                    cid, scan.post.id, None, rng.choice(PAGE_REPLIES), at, "page", "City Pool", False, True
                )
            )
        scans.append(replace(scan, comments=tuple(kept)))
    return replace(snapshot, posts=tuple(scans))


def _conclusions(a, open_findings: list[OpenFinding], now: datetime):
    return run_rules(a, now), [resolution(a, f) for f in open_findings]


def test_rules_conclude_the_same_on_the_loaded_subset_as_on_the_whole_thread(tmp_path):
    """Polls hide, delete, edit and answer comments; on every uncorrected post, at each step, the
    drafts and resolutions from the partial load equal those from the whole thread."""
    cfg = parse_config(f"""
[guard]
database = "{tmp_path / "a.db"}"
[[accounts]]
name = "pool"
platform = "facebook"
page_id = "1"
token_env = "X"
""")
    db = open_archive(tmp_path / "a.db")
    rng = random.Random(3)
    snapshot = _snapshot(rng)
    checked = resolved = labelled = 0
    pc = policy_config(cfg)

    def relevant(post: PostRecord, marks: tuple[ManualMark, ...]) -> bool:
        return reads_every_comment(post, marks, pc)

    for step in range(5):
        now = NOW + timedelta(hours=step * 3)
        poll = poll_account(db, cfg.accounts[0], SnapshotConnector(snapshot), now=now)
        # Staff labels too: the partial load carries those of the comments it loads.
        for cid in rng.sample([c.id for scan in snapshot.posts for c in scan.comments if not c.from_page], 8):
            add_label(db, cid, rng.choice(LABELS), by="maria", at=now.isoformat())
        assert poll.touched_posts == tuple(
            store.posts_touched_by_poll(db, poll.poll_id)
        )  # what run_poll passes
        for scan in snapshot.posts:
            whole = load_thread(db, scan.post.id)
            part = load_thread(db, scan.post.id, every_comment=relevant)
            assert whole is not None and part is not None
            assert not reads_every_comment(whole.post, whole.marks, pc)
            assert set(part.comments) <= set(whole.comments) and len(part.comments) < len(whole.comments)
            labelled += len(part.labels)
            open_findings = store.open_findings_for_posts(db, [scan.post.id]).get(scan.post.id, [])
            assert _conclusions(analyze(part, pc), open_findings, now) == _conclusions(
                analyze(whole, pc), open_findings, now
            )
            checked += len(open_findings)
            resolved += sum(1 for note in _conclusions(analyze(whole, pc), open_findings, now)[1] if note)
        run_engine(db, cfg, now=now, poll_id=poll.poll_id)  # opens and resolves findings
        snapshot = _churn(rng, snapshot, now)
    assert checked > 0 and resolved > 0  # findings were open, and some resolved themselves
    assert labelled > 0  # and some comments the rules read were labelled


def test_a_corrected_post_is_loaded_whole():
    """Once a post's words change, the rules read its ordinary comments: the loader is told so."""
    v1 = Version(1, "The meeting is on Thursday.", "2026-11-20T10:00:00+00:00")
    v2 = Version(2, "The meeting is on Friday.", "2026-11-20T12:00:00+00:00")
    post = PostRecord("p1", "pool", "facebook", v2.message, "present", v1.seen_at, None, (v1,))
    assert not reads_every_comment(post, (), PolicyConfig())
    assert reads_every_comment(replace(post, versions=(v1, v2)), (), PolicyConfig())
