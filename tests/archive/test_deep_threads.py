"""A reply chain deeper than Python's recursion limit (X conversations nest without end: two
people answering each other for hours), archived by a real poll of the fake X API, then read
back as a thread, an export and a report: each walks the tree with a loop, in thread order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors.x import XConnector
from guard.archive.export import RecordFilter, evidence, export_records
from guard.archive.queries import thread, walk_thread
from guard.config import parse_config
from guard.report import render_html
from guard.runtime.pipeline import poll_account
from tests.support.x import USER_ID, Clock, FakeX

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
DEPTH = 1500  # sys.getrecursionlimit() is 1000


def test_a_reply_chain_deeper_than_the_recursion_limit_reads_back_in_order(db, rsps):
    clock = Clock(T0)
    fake = FakeX(rsps, clock)
    post = fake.post("The meeting is Thursday.", T0)
    parent, chain = post, []
    for n in range(DEPTH):
        parent = fake.reply(parent, f"reply {n}", T0 + timedelta(seconds=n + 1))
        chain.append(parent)
    cfg = parse_config(
        f'[guard]\ndatabase = "unused.db"\n[[accounts]]\nname = "x-page"\nplatform = "x"\n'
        f'page_id = "{USER_ID}"\ntoken_env = "X_TOKEN"\n'
    )
    clock.now = T0 + timedelta(hours=2)
    result = poll_account(db, cfg.accounts[0], XConnector(USER_ID, "token", clock=clock), now=clock.now)
    assert result.complete

    walked = list(walk_thread(thread(db, post)["comments"]))
    assert [c["id"] for c, _ in walked] == chain
    assert [depth for _, depth in walked] == list(range(DEPTH))
    exported = [r["id"] for r in export_records(db, RecordFilter(post=post)) if r["type"] == "comment"]
    assert exported == chain
    html = render_html(evidence(db, post), tz=timezone.utc, tz_name="UTC", generated=clock.now)
    assert html.index("reply 0<") < html.index(f"reply {DEPTH - 1}<")
