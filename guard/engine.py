"""Decide what needs a human, and keep findings moving: open → acknowledged → resolved.

After each poll the engine looks only at the posts that poll touched; a periodic sweep (no
poll id) re-checks corrected posts and open findings for the time-based rules (reply SLAs,
escalation). Findings are keyed by situation (``dedupe_key``), so the same situation never
opens twice; one that happens again after its finding resolved (a comment shown, then hidden
again) is a new occurrence and opens once more (``FindingDraft.since``). A finding and its
alerts are written in one transaction (the outbox promise).

The engine never talks to a platform. In enforce mode it only *decides* which hidden comments
to un-hide (``EngineResult.to_unhide``); ``guard.actions.enforce`` does it, called by the
poll pipeline and the daemon.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from guard.alerts.outbox import cancel_for_finding, enqueue
from guard.archive import findings as store
from guard.archive.connection import Archive
from guard.archive.records import load_thread, load_threads
from guard.archive.verdicts import StoredVerdicts, save_verdicts
from guard.clock import iso, parse_iso
from guard.config import Config
from guard.errors import ActionRefused
from guard.states import FindingState, Mode
from policies.analysis import Analysis, analyze, reads_every_comment
from policies.records import FindingDraft, ManualMark, OpenFinding, PolicyConfig, PostRecord
from policies.rules import hidden_critical, resolution, run_rules

__all__ = ["EngineResult", "run_engine", "policy_config", "set_state", "analyze_post", "open_finding"]

log = structlog.get_logger("guard.engine")
SWEEP_DAYS = 30
_VERDICT_BATCH = 100  # posts whose stored verdicts one query reads


@dataclass
class EngineResult:
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    # (account, comment id): protected comments found hidden, to un-hide in enforce mode
    to_unhide: list[tuple[str, str]] = field(default_factory=list)
    # The analyses this run made, for the actions that follow it (protection marks)
    analyses: list[Analysis] = field(default_factory=list, repr=False)


def policy_config(config: Config) -> PolicyConfig:
    p = config.policy
    return PolicyConfig(
        reply_within_seconds=p.reply_within.total_seconds(),
        escalate_after_seconds=p.escalate_after.total_seconds(),
        markers=p.markers,
        abuse_words=p.abuse_words,
        protect=p.protect,
        protect_by_account=tuple((a.name, a.protect) for a in config.accounts if a.protect),
    )


def analyze_post(
    db: Archive, config: Config, post_id: str, verdicts: StoredVerdicts | None = None
) -> Analysis | None:
    """The post's analysis; stored verdicts are reused (``verdicts``: the store to add new ones
    to, saved by the caller; without it they are read but not kept)."""
    thread = load_thread(db, post_id)
    if thread is None:
        return None
    return analyze(thread, policy_config(config), verdicts or StoredVerdicts(db, post_id))


def run_engine(
    db: Archive,
    config: Config,
    *,
    now: datetime,
    poll_id: int | None = None,
    post_ids: Sequence[str] | None = None,
    whole_threads: bool = False,
) -> EngineResult:
    """The rules over the posts ``poll_id`` touched (``post_ids``: those posts, when the caller
    knows them: run_poll does, so it need not read back a 1M-comment poll's events), else the
    sweep's. A thread that is not corrected is loaded with only the comments the rules read on
    it (``policies.analysis.reads_every_comment``); ``whole_threads``: every comment, for a
    caller that reads the analyses beyond the rules (WordPress protection marks)."""
    result = EngineResult()
    pconfig = policy_config(config)

    def every_comment(post: PostRecord, marks: tuple[ManualMark, ...]) -> bool:
        return whole_threads or reads_every_comment(post, marks, pconfig)

    analyses: list[Analysis] = []
    drafts: list[FindingDraft] = []
    if poll_id is not None:
        if post_ids is None:
            post_ids = store.posts_touched_by_poll(db, poll_id)
    else:
        post_ids = store.posts_for_sweep(db, iso(now - timedelta(days=SWEEP_DAYS)), config.policy.markers)
    # One verdict store per batch of posts (one query reads a batch's stored verdicts)
    ids = list(post_ids)
    stores = [StoredVerdicts(db, ids[i : i + _VERDICT_BATCH]) for i in range(0, len(ids), _VERDICT_BATCH)]
    store_of = {pid: s for s in stores for pid in s.post_ids}
    for thread in load_threads(db, ids, every_comment=every_comment):
        a = analyze(thread, pconfig, store_of[thread.post.id])
        analyses.append(a)
        drafts.extend(run_rules(a, now))
    with db.atomic():
        for draft in drafts:
            fid = open_finding(db, config, draft, now)
            if fid is not None:
                result.opened.append(fid)
        # read after the drafts are stored: a finding opened just now may have resolved already
        open_now = store.open_findings_for_posts(db, [a.thread.post.id for a in analyses])
        for a in analyses:
            result.resolved.extend(_auto_resolve(db, a, open_now.pop(a.thread.post.id, []), now))
        result.escalated.extend(_escalate(db, config, now))
        save_verdicts(db, stores)  # the classifications this run made, for the next one
    result.analyses = analyses
    if config.guard.mode == Mode.ENFORCE:
        result.to_unhide = _to_unhide(db, analyses, drafts)
    if result.opened or result.resolved or result.escalated or result.to_unhide:
        log.info(
            "engine_done",
            opened=len(result.opened),
            resolved=len(result.resolved),
            escalated=len(result.escalated),
            to_unhide=len(result.to_unhide),
        )
    return result


def _reminder_after(config: Config) -> timedelta:
    return config.alerts.reminder_after or config.policy.reply_within


def open_finding(
    db: Archive,
    config: Config,
    draft: FindingDraft,
    now: datetime,
    *,
    note: str | None = None,
    remind: bool = True,
    account: str | None = None,
) -> int | None:
    """Store a new finding with its alerts (first, and a reminder unless ``remind`` is off);
    None when the situation already has one. Call inside the caller's transaction.
    ``account`` names the account of a draft about no post (account-failing)."""
    fid = store.insert_finding(db, draft, at=iso(now), note=note, account=account)
    if fid is None:
        return None
    row = store.require_finding(db, fid)
    enqueue(db, row, "first", config.alerts, now=now)
    if remind:
        enqueue(db, row, "reminder", config.alerts, now=now, not_before=now + _reminder_after(config))
    log.info(
        "finding_opened", finding_id=fid, kind=draft.kind, post_id=draft.post_id, comment_id=draft.comment_id
    )
    return fid


def set_state(
    db: Archive,
    fid: int,
    state: FindingState | str,
    *,
    now: datetime,
    note: str | None = None,
    actor: str = "staff",
) -> dict[str, Any]:
    """Move a finding along; acknowledging or resolving withdraws its pending follow-ups."""
    state = FindingState(state)
    row = store.require_finding(db, fid)
    if row["state"] == FindingState.RESOLVED:
        raise ActionRefused(f"finding #{fid} is already resolved")
    with db.atomic():
        store.set_finding_state(db, row, state, at=iso(now), note=note, actor=actor)
        cancel_for_finding(db, fid)
    return store.require_finding(db, fid)


def _auto_resolve(db: Archive, a: Analysis, open_findings: list[OpenFinding], now: datetime) -> list[int]:
    """Ask each open finding's rule whether its situation has resolved itself."""
    done = []
    for finding in open_findings:
        note = resolution(a, finding)
        if note:
            set_state(db, finding.id, FindingState.RESOLVED, now=now, note=note, actor="comment-guard")
            done.append(finding.id)
    return done


def _escalate(db: Archive, config: Config, now: datetime) -> list[int]:
    gap = config.policy.escalate_after - config.policy.reply_within
    out = []
    for f in store.escalation_due(db):
        evidence = f["evidence"]
        escalate_at = _json(evidence).get("escalate_at")
        at = parse_iso(escalate_at) if escalate_at else parse_iso(f["opened_at"]) + gap
        if now < at:
            continue
        store.mark_escalated(db, f, at=iso(now))
        enqueue(db, store.require_finding(db, f["id"]), "escalation", config.alerts, now=now)
        log.info("finding_escalated", finding_id=f["id"], kind=f["kind"])
        out.append(f["id"])
    return out


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text) if text else {}
    return value if isinstance(value, dict) else {}


def _to_unhide(db: Archive, analyses: list[Analysis], drafts: list[FindingDraft]) -> list[tuple[str, str]]:
    """Hidden protected comments to un-hide, once per hiding."""
    accounts = {a.thread.post.id: a.thread.post.account for a in analyses}
    out = []
    for d in drafts:
        if d.kind != hidden_critical.KIND or d.comment_id is None or d.post_id is None:
            continue
        if not store.already_enforced(db, d.comment_id):
            out.append((accounts[d.post_id], d.comment_id))
    return out
