"""Run the policies over what changed, and keep findings moving: open → acknowledged → resolved.

After each poll the engine looks only at the posts that poll touched; a periodic sweep (no
poll id) re-checks corrected posts and open findings for the time-based rules (reply SLAs,
escalation). Findings are keyed by situation (``dedupe_key``), so the same situation never
opens twice. A finding and its alerts are written in one transaction (the outbox promise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

import sqlite_utils
import structlog

from connectors.base import Connector
from guard.alerts.outbox import cancel_for_finding, enqueue
from guard.archive.events import append_events, make_event
from guard.clock import iso, parse_iso
from guard.config import Config
from guard.errors import ConnectorError, GuardError
from guard.archive.records import MARK_EVENT, load_thread
from policies.analysis import Analysis, analyze
from policies.records import FindingDraft, PolicyConfig
from policies.rules import run_rules

__all__ = ["EngineResult", "run_engine", "policy_config", "set_state", "analyze_post",
           "ENFORCED_EVENT"]

log = structlog.get_logger("guard.engine")
ENFORCED_EVENT = "comment_unhidden_by_guard"
SWEEP_DAYS = 30


@dataclass
class EngineResult:
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    enforced: list[str] = field(default_factory=list)


def policy_config(config: Config) -> PolicyConfig:
    p = config.policy
    return PolicyConfig(reply_within_seconds=p.reply_within.total_seconds(),
                        escalate_after_seconds=p.escalate_after.total_seconds(),
                        markers=p.markers, abuse_words=p.abuse_words)


def analyze_post(db: sqlite_utils.Database, config: Config, post_id: str) -> Analysis | None:
    thread = load_thread(db, post_id)
    return analyze(thread, policy_config(config)) if thread else None


def run_engine(db: sqlite_utils.Database, config: Config, *, now: datetime,
               poll_id: int | None = None,
               connectors: Mapping[str, Connector] | None = None) -> EngineResult:
    result = EngineResult()
    analyses: list[Analysis] = []
    drafts: list[FindingDraft] = []
    for post_id in _posts_to_check(db, config, now, poll_id):
        a = analyze_post(db, config, post_id)
        if a is None:
            continue
        analyses.append(a)
        drafts.extend(run_rules(a, now))
    enforced = _enforce(db, config, drafts, connectors or {}, now)
    with db.atomic():
        for account, comment_id in enforced:
            append_events(db, [make_event(ENFORCED_EVENT, at=iso(now), account=account,
                                          object_id=comment_id, post_id=_post_of(db, comment_id),
                                          mode="enforce")])
            result.enforced.append(comment_id)
        for draft in drafts:
            fid = _open(db, config, draft, now)
            if fid is not None:
                result.opened.append(fid)
        for a in analyses:
            result.resolved.extend(_auto_resolve(db, config, a, now))
        result.escalated.extend(_escalate(db, config, now))
    if result.opened or result.resolved or result.escalated or result.enforced:
        log.info("engine_done", opened=len(result.opened), resolved=len(result.resolved),
                 escalated=len(result.escalated), enforced=len(result.enforced))
    return result


def _posts_to_check(db: sqlite_utils.Database, config: Config, now: datetime,
                    poll_id: int | None) -> list[str]:
    """After a poll: the posts it touched. A sweep (no poll id): every post a time-based rule
    may still fire on — corrected recently (edited, marked, or carrying a marker), or with
    findings still open."""
    if poll_id is not None:
        return [r[0] for r in db.execute(
            "SELECT DISTINCT post_id FROM events WHERE poll_id = ? AND post_id IS NOT NULL"
            " ORDER BY post_id", [poll_id])]
    since = iso(now - timedelta(days=SWEEP_DAYS))
    ids = {r[0] for r in db.execute(
        "SELECT id FROM posts WHERE last_seen >= ? AND status != 'deleted' AND (version > 1 OR"
        " id IN (SELECT post_id FROM events WHERE kind = ?))"
        " UNION SELECT post_id FROM findings WHERE state != 'resolved' AND post_id IS NOT NULL",
        [since, MARK_EVENT])}
    if config.policy.markers:
        likes = " OR ".join("message LIKE ?" for _ in config.policy.markers)
        ids.update(r[0] for r in db.execute(
            f"SELECT id FROM posts WHERE last_seen >= ? AND version = 1 AND status != 'deleted'"
            f" AND ({likes})", [since, *(f"%{m}%" for m in config.policy.markers)]))
    return sorted(ids)


def _finding_row(db: sqlite_utils.Database, fid: int) -> dict[str, Any]:
    return next(db.query("SELECT * FROM findings WHERE id = ?", [fid]))


def _alerts(db: sqlite_utils.Database, config: Config, row: dict[str, Any], stage: str,
            now: datetime, not_before: datetime | None = None) -> None:
    enqueue(db, row, stage, config.alerts, now=now, not_before=not_before)


def _reminder_after(config: Config) -> timedelta:
    return config.alerts.reminder_after or config.policy.reply_within


def _open(db: sqlite_utils.Database, config: Config, draft: FindingDraft,
          now: datetime) -> int | None:
    if db.execute("SELECT 1 FROM findings WHERE dedupe_key = ?", [draft.dedupe_key]).fetchone():
        return None
    account = db.execute("SELECT account FROM posts WHERE id = ?", [draft.post_id]).fetchone()[0]
    stamp = iso(now)
    cur = db.execute(
        "INSERT INTO findings (account, kind, severity, state, dedupe_key, post_id, comment_id,"
        " opened_at, updated_at, evidence, suggested_reply) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)",
        [account, draft.kind, draft.severity, draft.dedupe_key, draft.post_id, draft.comment_id,
         stamp, stamp, json.dumps(draft.evidence, ensure_ascii=False), draft.suggested_reply])
    fid = int(cur.lastrowid)
    append_events(db, [make_event("finding_opened", at=stamp, account=account,
                                  object_id=draft.comment_id or draft.post_id,
                                  post_id=draft.post_id, finding_id=fid, finding_kind=draft.kind)])
    row = _finding_row(db, fid)
    _alerts(db, config, row, "first", now)
    _alerts(db, config, row, "reminder", now, not_before=now + _reminder_after(config))
    log.info("finding_opened", finding_id=fid, kind=draft.kind, post_id=draft.post_id,
             comment_id=draft.comment_id)
    return fid


def set_state(db: sqlite_utils.Database, fid: int, state: str, *, now: datetime,
              note: str | None = None, actor: str = "staff") -> dict[str, Any]:
    """Move a finding along; acknowledging or resolving withdraws its pending follow-ups."""
    rows = list(db.query("SELECT * FROM findings WHERE id = ?", [fid]))
    if not rows:
        raise GuardError(f"no finding #{fid}; `comment-guard findings` lists them")
    row = rows[0]
    if row["state"] == "resolved":
        raise GuardError(f"finding #{fid} is already resolved")
    stamp = iso(now)
    with db.atomic():
        db.execute("UPDATE findings SET state = ?, updated_at = ?, resolved_at = ?,"
                   " note = COALESCE(?, note) WHERE id = ?",
                   [state, stamp, stamp if state == "resolved" else None, note, fid])
        cancel_for_finding(db, fid)
        append_events(db, [make_event(f"finding_{state}", at=stamp, account=row["account"],
                                      object_id=row["comment_id"] or row["post_id"],
                                      post_id=row["post_id"], finding_id=fid, by=actor,
                                      note=note)])
    return _finding_row(db, fid)


def _auto_resolve(db: sqlite_utils.Database, config: Config, a: Analysis,
                  now: datetime) -> list[int]:
    comments = {c.id: c for c in a.thread.comments}
    done = []
    for f in db.query("SELECT id, kind, comment_id, dedupe_key FROM findings WHERE post_id = ? AND state !="
                      " 'resolved' AND kind IN ('unanswered', 'hidden-critical', 'silent-correction')",
                      [a.thread.post.id]):
        note = _resolution(a, f, comments)
        if note:
            set_state(db, f["id"], "resolved", now=now, note=note, actor="comment-guard")
            done.append(f["id"])
    return done


def _resolution(a: Analysis, f: dict[str, Any], comments: dict[str, Any]) -> str | None:
    c = comments.get(f["comment_id"] or "")
    if f["kind"] == "unanswered" and c is not None:
        replied = a.page_reply_to(c)
        if replied:
            return f"answered publicly by the page at {replied}"
        if c.status != "present":
            return f"superseded: the comment is now {c.status}"
    if f["kind"] == "hidden-critical" and c is not None and c.status != "hidden":
        return "the comment is visible again" if c.status == "present" else (
            f"superseded: the comment is now {c.status}")
    if f["kind"] == "silent-correction":
        version = int(f["dedupe_key"].rsplit(":", 1)[1])
        for corr in a.corrections:
            ack = a.acknowledged(corr) if corr.version == version else None
            if ack:
                return f"the correction was acknowledged publicly at {ack}"
    return None


def _escalate(db: sqlite_utils.Database, config: Config, now: datetime) -> list[int]:
    gap = config.policy.escalate_after - config.policy.reply_within
    out = []
    for f in list(db.query("SELECT * FROM findings WHERE state = 'open' AND escalated_at IS NULL")):
        evidence = json.loads(f["evidence"])
        at = (parse_iso(evidence["escalate_at"]) if evidence.get("escalate_at")
              else parse_iso(f["opened_at"]) + gap)
        if now < at:
            continue
        stamp = iso(now)
        db.execute("UPDATE findings SET escalated_at = ?, severity = 'critical', updated_at = ?"
                   " WHERE id = ?", [stamp, stamp, f["id"]])
        append_events(db, [make_event("finding_escalated", at=stamp, account=f["account"],
                                      object_id=f["comment_id"] or f["post_id"],
                                      post_id=f["post_id"], finding_id=f["id"])])
        _alerts(db, config, _finding_row(db, f["id"]), "escalation", now)
        log.info("finding_escalated", finding_id=f["id"], kind=f["kind"])
        out.append(f["id"])
    return out


def _enforce(db: sqlite_utils.Database, config: Config, drafts: list[FindingDraft],
             connectors: Mapping[str, Connector], now: datetime) -> list[tuple[str, str]]:
    """In enforce mode, un-hide protected comments through the platform, once per hiding."""
    if config.guard.mode != "enforce":
        return []
    done = []
    for d in drafts:
        if d.kind != "hidden-critical" or d.comment_id is None:
            continue
        account = db.execute("SELECT account FROM comments WHERE id = ?", [d.comment_id]).fetchone()[0]
        connector = connectors.get(account)
        if connector is None or _already_enforced(db, d.comment_id):
            continue
        try:
            connector.unhide(d.comment_id)
        except ConnectorError as exc:
            log.warning("enforce_failed", comment_id=d.comment_id, error=str(exc))
            continue
        log.info("comment_unhidden_by_guard", comment_id=d.comment_id, account=account)
        done.append((account, d.comment_id))
    return done


def _already_enforced(db: sqlite_utils.Database, comment_id: str) -> bool:
    row = db.execute(
        "SELECT max(CASE WHEN kind = 'comment_hidden' THEN seq END),"
        " max(CASE WHEN kind = ? THEN seq END) FROM events WHERE object_id = ?",
        [ENFORCED_EVENT, comment_id]).fetchone()
    hidden, enforced = row
    return enforced is not None and (hidden is None or enforced > hidden)


def _post_of(db: sqlite_utils.Database, comment_id: str) -> str | None:
    row = db.execute("SELECT post_id FROM comments WHERE id = ?", [comment_id]).fetchone()
    return row[0] if row else None
