"""The evidence report's HTML (``guard.report.render_html``), fed the evidence dict that
``guard.archive.export.evidence`` returns, for threads and texts the CLI story does not have."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from guard.report import render_html
from guard.text import sha256_text

GENERATED = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SEEN = "2026-11-20T16:02:11+00:00"


def _version(text: str) -> dict[str, Any]:
    return {"version": 1, "message": text, "sha256": sha256_text(text), "seen_at": SEEN, "hash_ok": True}


def _comment(comment_id: str, text: str, replies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": comment_id,
        "author": "Dana Reader",
        "created_time": SEEN,
        "status": "present",
        "from_page": False,
        "versions": [_version(text)],
        "replies": replies or [],
    }


def _evidence(comments: list[dict[str, Any]]) -> dict[str, Any]:
    post = {
        "id": "1002003_1",
        "account": "parks-page",
        "permalink_url": "https://x.com/parks/status/1",
        "status": "present",
        "created_time": SEEN,
        "first_seen": SEEN,
        "versions": [_version("The meeting is Thursday.")],
        "comments": comments,
    }
    return {"post": post, "events": [], "findings": [], "head": "ab" * 32, "events_total": 1}


def _render(data: dict[str, Any]) -> str:
    return render_html(data, tz=timezone.utc, tz_name="UTC", generated=GENERATED)


def test_a_reply_chain_deeper_than_pythons_recursion_limit_is_reported_whole():
    """X keeps every reply's parent, so a long back-and-forth is a chain hundreds deep; the
    report shows every comment of it (the archive's own tree walk goes to ~1,000 levels)."""
    depth = 900
    node = _comment(f"c{depth}", f"reply {depth}")
    for n in range(depth - 1, 0, -1):
        node = _comment(f"c{n}", f"reply {n}", [node])
    html = _render(_evidence([node]))
    assert all(f"id c{n}<" in html for n in range(1, depth + 1))
    assert html.index("reply 1<") < html.index("reply 2<") < html.index(f"reply {depth}<")
    assert "900 (0 deleted, 0 hidden)" in html


def test_markup_in_archived_texts_is_printed_as_words_never_as_tags():
    """Comments are written by strangers: tags, a style breakout and file:// URLs in a comment
    or an author name are shown as the characters archived, so neither a browser nor WeasyPrint
    (which fetches what img and url() name) loads anything from them."""
    hostile = '</style><img src="file:///etc/passwd"><a href="javascript:alert(1)">x</a>'
    comment = _comment("c1", hostile + ' <span style="background:url(file:///etc/shadow)">')
    comment["author"] = "<script>alert(2)</script>"
    html = _render(_evidence([comment]))
    body = html.split("</style>", 1)[1]
    for tag in ("<img", "<script", "<a ", "<span style"):
        assert tag not in body
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body
    assert html.count("</style>") == 1
