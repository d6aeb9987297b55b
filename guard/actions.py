"""Guarded actions on the platform: reply, hide, unhide, delete, and enforce-mode un-hiding.

This is the one module of ``guard/`` that calls a platform to *change* something. Hiding or
deleting a protected comment is refused unless staff override it with a reason; an override
is written to the event log and opens a finding (so it is alerted, not silent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from connectors.base import Connector, ProtectionMarks, TrashBin
from connectors.registry import connect
from guard.archive import findings as store
from guard.archive import queries
from guard.archive.connection import Archive
from guard.archive.events import append_events, make_event
from guard.archive.records import REPLY_EVENT
from guard.clock import iso
from guard.config import Config
from guard.engine import analyze_post, open_finding
from guard.errors import ActionRefused, ArchiveError, ConnectorError, UsageError
from guard.text import sha256_text
from policies.analysis import Analysis
from policies.records import CommentRecord
from policies.rules import override

__all__ = ["Protection", "protection", "reply", "moderate", "enforce", "mark_protection", "MODERATION"]

log = structlog.get_logger("guard.actions")
MODERATION = ("hide", "unhide", "delete")


@dataclass(frozen=True)
class Protection:
    analysis: Analysis
    comment: CommentRecord
    deleted_permanently: bool = False  # delete --override of a comment already in the trash

    @property
    def protected(self) -> bool:
        return self.analysis.protected(self.comment)

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.analysis.classifications[self.comment.id].reasons


def protection(db: Archive, config: Config, comment_id: str) -> Protection:
    kind, _, post_id = queries.locate(db, comment_id)
    if kind != "comment":
        raise UsageError(f"{comment_id!r} is a post, not a comment")
    analysis = analyze_post(db, config, post_id)
    comment = analysis.comment(comment_id) if analysis is not None else None
    if analysis is None or comment is None:
        raise ArchiveError(f"the post of comment {comment_id!r} is missing from the archive")
    return Protection(analysis, comment)


def reply(
    db: Archive,
    config: Config,
    target_id: str,
    text: str,
    *,
    now: datetime,
    connector: Connector | None = None,
) -> str:
    """Post a public reply (to a comment, or to the post when the comment is gone)."""
    if not text.strip():
        raise UsageError("the reply text is empty; write the public reply in quotes")
    kind, account, post_id = queries.locate(db, target_id)
    connector = connector or connect(config.account(account).connector_settings())
    new_id = connector.reply(target_id, text)
    with db.atomic():
        append_events(
            db,
            [
                make_event(
                    REPLY_EVENT,
                    at=iso(now),
                    account=account,
                    object_id=new_id,
                    post_id=post_id,
                    target_id=target_id,
                    target_type=kind,
                    sha256=sha256_text(text),
                    message=text,
                )
            ],
        )
    log.info("reply_posted", account=account, target_id=target_id, reply_id=new_id)
    return new_id


def moderate(
    db: Archive,
    config: Config,
    action: str,
    comment_id: str,
    *,
    now: datetime,
    override_protection: bool = False,
    reason: str | None = None,
    connector: Connector | None = None,
) -> Protection:
    """hide / unhide / delete through the platform, refusing protected comments unless overridden."""
    if action not in MODERATION:
        raise UsageError(f"unknown action {action!r}; use one of {', '.join(MODERATION)}")
    if override_protection and not (reason and reason.strip()):
        raise UsageError('--override needs --reason "why"; overrides are audited')
    prot = protection(db, config, comment_id)
    guarded = action in ("hide", "delete") and prot.protected
    if guarded and not override_protection:
        raise ActionRefused(
            f"refused to {action} comment {comment_id}: it is protected ("
            + "; ".join(prot.reasons)
            + "). Reply publicly instead "
            f'(`comment-guard reply {comment_id} "..."`), or pass --override --reason "..."'
        )
    account = prot.analysis.thread.post.account
    connector = connector or connect(config.account(account).connector_settings())
    # A comment already in the platform's trash (WordPress) is deleted permanently, but only
    # when staff said so explicitly: --override --reason, audited like any override.
    purge = (
        action == "delete"
        and override_protection
        and isinstance(connector, TrashBin)
        and connector.in_trash(comment_id)
    )
    if purge and isinstance(connector, TrashBin):
        connector.purge(comment_id)
        prot = replace(prot, deleted_permanently=True)
    else:
        {"hide": connector.hide, "unhide": connector.unhide, "delete": connector.delete}[action](comment_id)
    with db.atomic():
        append_events(
            db,
            [
                make_event(
                    f"comment_{action}_by_guard",
                    at=iso(now),
                    account=account,
                    object_id=comment_id,
                    post_id=prot.comment.post_id,
                    override=bool(guarded),
                    reason=reason,
                    protected=prot.protected,
                    reasons=list(prot.reasons),
                    **({"permanently": True} if prot.deleted_permanently else {}),
                )
            ],
        )
        if guarded:
            nth = store.count_overrides(db, comment_id) + 1
            draft = override.draft(prot.analysis, prot.comment, action, reason or "", nth)
            open_finding(db, config, draft, now, note=reason, remind=False)
    log.info("moderation_done", action=action, comment_id=comment_id, override=guarded)
    return prot


def enforce(
    db: Archive, to_unhide: list[tuple[str, str]], connectors: Mapping[str, Connector], *, now: datetime
) -> list[str]:
    """Enforce mode: un-hide the protected comments the engine found hidden, once per hiding.

    A comment whose account has no connector here (the sweep of a one-account ``poll --once``)
    waits for the next run that has one; a platform error is logged and retried next time.
    """
    done = []
    for account, comment_id in to_unhide:
        connector = connectors.get(account)
        if connector is None or store.already_enforced(db, comment_id):
            continue
        try:
            connector.unhide(comment_id)
        except ConnectorError as exc:
            log.warning("enforce_failed", comment_id=comment_id, error=str(exc))
            continue
        with db.atomic():
            store.record_enforced(db, account, comment_id, at=iso(now))
        log.info("comment_unhidden_by_guard", comment_id=comment_id, account=account)
        done.append(comment_id)
    return done


def mark_protection(analyses: list[Analysis], marks: ProtectionMarks) -> int:
    """Where the platform can refuse a deletion itself (WordPress with the must-use plugin),
    mark the comments of these analysed posts (the engine's, for the posts a poll touched)
    protected or not, as the classifier and staff labels decide. A platform error is logged
    and retried after the next poll that touches the post."""
    wanted = {c.id: a.protected(c) for a in analyses for c in a.thread.comments}
    try:
        changed = marks.sync_protection(wanted)
    except ConnectorError as exc:
        log.warning("protection_marks_failed", error=str(exc))
        return 0
    if changed:
        log.info("protection_marked", changed=changed)
    return changed
