"""Stored classifier verdicts (``policies.analysis.VerdictCache``): derived data, not record.

A verdict is a pure function of its inputs (``policies.analysis.classify_inputs``: the text,
the correction's changed words, the classifier's config and code), so one stored under the same
inputs is the verdict ``classify`` would return now; a comment whose inputs changed (an edit, a
correction, a config change, an upgrade) is classified again and its row replaced. Staff labels
and the protection policy are applied on top at each analysis, never stored here. Deleting
every row is always safe: it only costs re-classification.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

import sqlite_utils

from policies.verdict import Classification

__all__ = ["StoredVerdicts", "save_verdicts"]


# json.dumps(..., ensure_ascii=False) without making an encoder per verdict (same output)
_JSON = json.JSONEncoder(ensure_ascii=False)


class StoredVerdicts:
    """The stored verdicts of some posts' comments (``post_ids``: one id or several), read on
    first use in one query; new ones are kept in ``pending`` until ``save`` writes them (inside
    the caller's transaction). The engine shares one store among a batch of posts: a poll
    touches hundreds, and a query per post cost more than reading the rows."""

    def __init__(self, db: sqlite_utils.Database, post_ids: str | Sequence[str]) -> None:
        self.db = db
        self.post_ids = [post_ids] if isinstance(post_ids, str) else list(post_ids)
        self._rows: dict[str, tuple[str, Classification]] | None = None
        self.pending: list[tuple[str, str, str, int, str, str | None]] = []

    def _load(self) -> dict[str, tuple[str, Classification]]:
        if self._rows is None:
            try:
                rows = self.db.execute(
                    "SELECT comment_id, inputs, critical, reasons, excluded FROM verdicts"
                    " WHERE post_id IN (SELECT value FROM json_each(?))",
                    [json.dumps(self.post_ids)],
                ).fetchall()
            except sqlite3.OperationalError:  # an older archive opened read-only: no table yet
                rows = []
            self._rows = {
                cid: (inputs, Classification(bool(critical), tuple(json.loads(reasons)), excluded))
                for cid, inputs, critical, reasons, excluded in rows
            }
        return self._rows

    def get(self, comment_id: str, inputs: str) -> Classification | None:
        hit = self._load().get(comment_id)
        return hit[1] if hit is not None and hit[0] == inputs else None

    def put(self, comment_id: str, post_id: str, inputs: str, verdict: Classification) -> None:
        self._load()[comment_id] = (inputs, verdict)
        self.pending.append(
            (
                comment_id,
                post_id,
                inputs,
                int(verdict.critical),
                _JSON.encode(list(verdict.reasons)),
                verdict.excluded,
            )
        )

    def save(self) -> None:
        save_verdicts(self.db, [self])


_SAVE = (
    "INSERT INTO verdicts (comment_id, post_id, inputs, critical, reasons, excluded)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(comment_id) DO UPDATE SET"
    " post_id = excluded.post_id, inputs = excluded.inputs, critical = excluded.critical,"
    " reasons = excluded.reasons, excluded = excluded.excluded"
)


def save_verdicts(db: sqlite_utils.Database, stores: Iterable[StoredVerdicts]) -> None:
    """Write the new verdicts of all ``stores`` in one statement (inside the caller's transaction)."""
    rows = []
    for store in stores:
        rows.extend(store.pending)
        store.pending = []
    if rows:
        db.conn.executemany(_SAVE, rows)
