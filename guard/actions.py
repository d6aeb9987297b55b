"""Guarded actions on the platform: reply, hide, unhide, delete.

Hiding or deleting a protected comment is refused unless staff override it with a reason; an
override is written to the event log and opens a finding (so it is alerted, not silent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils
import structlog

from connectors.base import Connector
from guard.alerts.outbox import enqueue
from guard.archive.events import append_events, make_event
from guard.clock import iso
from guard.config import Config
from connectors.registry import connect
from guard.engine import analyze_post
from guard.errors import ActionRefused, ConfigError, GuardError
from guard.text import sha256_text
from guard.archive.records import REPLY_EVENT
from policies.analysis import Analysis
from policies.evidence import build_evidence
from policies.records import CommentRecord
from policies.replies import suggest_reply

__all__ = ["Protection", "protection", "reply", "moderate", "MODERATION"]

log = structlog.get_logger("guard.actions")
MODERATION = ("hide", "unhide", "delete")


@dataclass(frozen=True)
class Protection:
    analysis: Analysis
    comment: CommentRecord

    @property
    def protected(self) -> bool:
        return self.analysis.protected(self.comment)

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.analysis.classifications[self.comment.id].reasons


def _locate(db: sqlite_utils.Database, object_id: str) -> tuple[str, str, str]:
    """(kind, account, post_id) of an archived post or comment."""
    row = db.execute("SELECT 'comment', account, post_id FROM comments WHERE id = ? UNION ALL "
                     "SELECT 'post', account, id FROM posts WHERE id = ?",
                     [object_id, object_id]).fetchone()
    if row is None:
        raise GuardError(f"no post or comment with id {object_id!r} in the archive; poll first "
                         "(`comment-guard poll --once`) or check the id with `comment-guard comments`")
    return row[0], row[1], row[2]


def protection(db: sqlite_utils.Database, config: Config, comment_id: str) -> Protection:
    kind, _, post_id = _locate(db, comment_id)
    if kind != "comment":
        raise GuardError(f"{comment_id!r} is a post, not a comment")
    analysis = analyze_post(db, config, post_id)
    if analysis is None:
        raise GuardError(f"the post of comment {comment_id!r} is missing from the archive")
    comment = next(c for c in analysis.thread.comments if c.id == comment_id)
    return Protection(analysis, comment)


def reply(db: sqlite_utils.Database, config: Config, target_id: str, text: str, *,
          now: datetime, connector: Connector | None = None) -> str:
    """Post a public reply (to a comment, or to the post when the comment is gone)."""
    if not text.strip():
        raise ConfigError("the reply text is empty; write the public reply in quotes")
    kind, account, post_id = _locate(db, target_id)
    connector = connector or connect(config.account(account).connector_settings())
    new_id = connector.reply(target_id, text)
    with db.atomic():
        append_events(db, [make_event(REPLY_EVENT, at=iso(now), account=account, object_id=new_id,
                                      post_id=post_id, target_id=target_id, target_type=kind,
                                      sha256=sha256_text(text), message=text)])
    log.info("reply_posted", account=account, target_id=target_id, reply_id=new_id)
    return new_id


def moderate(db: sqlite_utils.Database, config: Config, action: str, comment_id: str, *,
             now: datetime, override: bool = False, reason: str | None = None,
             connector: Connector | None = None) -> Protection:
    """hide / unhide / delete through the platform, refusing protected comments unless overridden."""
    if action not in MODERATION:
        raise ConfigError(f"unknown action {action!r}; use one of {', '.join(MODERATION)}")
    if override and not (reason and reason.strip()):
        raise ConfigError("--override needs --reason \"why\"; overrides are audited")
    prot = protection(db, config, comment_id)
    guarded = action in ("hide", "delete") and prot.protected
    if guarded and not override:
        raise ActionRefused(
            f"refused to {action} comment {comment_id}: it is protected ("
            + "; ".join(prot.reasons) + "). Reply publicly instead "
            f"(`comment-guard reply {comment_id} \"...\"`), or pass --override --reason \"...\"")
    account = prot.analysis.thread.post.account
    connector = connector or connect(config.account(account).connector_settings())
    getattr(connector, action)(comment_id)
    stamp = iso(now)
    with db.atomic():
        append_events(db, [make_event(
            f"comment_{action}_by_guard", at=stamp, account=account, object_id=comment_id,
            post_id=prot.comment.post_id, override=bool(guarded), reason=reason,
            protected=prot.protected, reasons=list(prot.reasons))])
        if guarded:
            _open_override(db, config, prot, action, reason or "", now)
    log.info("moderation_done", action=action, comment_id=comment_id, override=guarded)
    return prot


def _open_override(db: sqlite_utils.Database, config: Config, prot: Protection, action: str,
                   reason: str, now: datetime) -> None:
    c = prot.comment
    stamp = iso(now)
    n = db.execute("SELECT count(*) FROM findings WHERE kind = 'override' AND comment_id = ?",
                   [c.id]).fetchone()[0]
    evidence = build_evidence(prot.analysis, f"Staff used --override to {action} a protected comment",
                              comment=c, action=action, override_reason=reason)
    cur = db.execute(
        "INSERT INTO findings (account, kind, severity, state, dedupe_key, post_id, comment_id,"
        " opened_at, updated_at, evidence, suggested_reply, note)"
        " VALUES (?, 'override', 'warning', 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
        [prot.analysis.thread.post.account, f"override:{c.id}:{action}:{n + 1}", c.post_id, c.id,
         stamp, stamp, json.dumps(evidence, ensure_ascii=False),
         suggest_reply(c, prot.analysis.latest, gone=action == "delete"), reason])
    row = next(db.query("SELECT * FROM findings WHERE id = ?", [cur.lastrowid]))
    enqueue(db, row, "first", config.alerts, now=now)
