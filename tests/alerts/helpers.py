"""Alert test data: the story's finding evidence and reply, and ``add_finding``.

The Slack and SMTP fakes live in ``tests/support/`` (``slack.py``, ``smtp.py``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import sqlite_utils

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)

STORY_EVIDENCE = {
    "platform": "facebook",
    "summary": "A question on a corrected post was deleted",
    "comment": {
        "id": "111_222",
        "message": "wait, the meeting is TONIGHT?!? <b>& why</b>",
        "author_name": "Pat Reader",
        "created_time": "2026-11-25T11:40:00+00:00",
        "status": "deleted",
    },
    "post": {
        "id": "111",
        "permalink_url": "https://www.facebook.com/111/posts/333?a=1&b=2",
        "message": "Town meeting on Thirteenth at 7pm",
        "versions": [
            {
                "version": 1,
                "message": "Town meeting on Thursday at 7pm",
                "seen_at": "2026-11-25T11:00:00+00:00",
            }
        ],
    },
    "correction": {"removed": ["Thursday"], "added": ["Thirteenth"], "summary": "Thursday → Thirteenth"},
    "reasons": ["question: ends with '?'", "mentions a corrected word"],
}
STORY_REPLY = "We made a mistake: the meeting is on the 13th, not Thursday. Sorry for the confusion!"


def add_finding(db: sqlite_utils.Database, n: int = 1, **overrides: Any) -> dict[str, Any]:
    """Insert a findings row the way the policy engine writes it; returns the row as a dict."""
    row: dict[str, Any] = {
        "account": "main-page",
        "kind": "removed-critical",
        "severity": "critical",
        "state": "open",
        "dedupe_key": f"removed-critical:111_222:{n}",
        "post_id": "111",
        "comment_id": "111_222",
        "opened_at": T0.isoformat(),
        "updated_at": T0.isoformat(),
        "evidence": json.dumps(STORY_EVIDENCE),
        "suggested_reply": STORY_REPLY,
    }
    row.update(overrides)
    row_id = db["findings"].insert(row).last_pk
    return dict(db["findings"].get(row_id))
