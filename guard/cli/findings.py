"""CLI for findings and guarded actions: findings, ack, resolve, mark-corrected, explain,
reply, hide, unhide, delete.

The engine and the guarded actions (and with them the classifier and structlog) are imported
in the commands that use them: listing findings only reads the archive (start-up).
"""

from __future__ import annotations

import shlex
from typing import Any

import click

from guard.archive import findings as store
from guard.archive import queries
from guard.archive.events import append_events, make_event
from guard.archive.records import MARK_EVENT
from guard.cli.context import Context, pass_ctx
from guard.cli.output import echo, emit_json, excerpt, limited, listing_options, one_line, row_limit
from guard.clock import iso, local_time, utcnow
from guard.errors import UsageError
from policies.rules import finding_kinds

__all__ = ["COMMANDS"]

STATES = ("open", "acknowledged", "resolved", "all")
# guard.actions.MODERATION, named here so that listing findings needs no engine (a test keeps
# the two equal)
MODERATION = ("hide", "unhide", "delete")


@click.command()
@click.option("--state", type=click.Choice(STATES), default="open", show_default=True)
@click.option("--kind", type=click.Choice(finding_kinds()), help="Only findings of this kind.")
@click.option("--json", "as_json", is_flag=True)
@listing_options
@pass_ctx
def findings(
    ctx: Context, state: str, kind: str | None, as_json: bool, limit: int | None, show_all: bool
) -> None:
    """List findings (what needs a human), newest first.

    Read-only: deadline findings (no reply in time, escalations) are opened by the daemon's
    sweep, or by `poll --once` for cron users."""
    n = row_limit(limit, show_all)
    rows = limited(store.list_findings(ctx.read_db, state=state, kind=kind, limit=n and n + 1), n)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        echo("no findings" if state == "all" else f"no {state} findings")
        return
    for r in rows:
        ev = r["evidence"]
        comment = ev.get("comment", {})
        opened = local_time(r["opened_at"], ctx.tz)
        echo(f"#{r['id']} {r['kind']} [{r['severity']}, {r['state']}] opened {opened}")
        echo(f"    {ev.get('summary', '')}")
        if comment:
            echo(
                f"    comment {comment.get('id')} by {one_line(comment.get('author_name')) or '?'} "
                f"({comment.get('status')}): {excerpt(comment.get('message'), 90)}"
            )
        if ev.get("correction", {}).get("summary"):
            echo(f"    corrected: {ev['correction']['summary']}")
        if r["suggested_reply"]:
            echo(f"    suggested reply: {r['suggested_reply']}")
            echo(
                f"    reply with: comment-guard reply {ev.get('reply_to', r['post_id'])} "
                f"{shlex.quote(r['suggested_reply'])}"
            )


@click.command()
@click.argument("finding_id", type=click.IntRange(min=1, max=2**63 - 1))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def ack(ctx: Context, finding_id: int, as_json: bool) -> None:
    """Acknowledge a finding: someone is on it (stops reminders and escalation)."""
    from guard.engine import set_state

    row = set_state(ctx.db, finding_id, "acknowledged", now=utcnow())
    _state_changed(row, as_json)


def _state_changed(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json({k: row.get(k) for k in ("id", "kind", "state", "updated_at", "resolved_at", "note")})
    else:
        echo(f"finding #{row['id']} {row['state']}")


@click.command()
@click.argument("finding_id", type=click.IntRange(min=1, max=2**63 - 1))
@click.option("--note", help="What was done, for the record.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def resolve(ctx: Context, finding_id: int, note: str | None, as_json: bool) -> None:
    """Resolve a finding."""
    from guard.engine import set_state

    row = set_state(ctx.db, finding_id, "resolved", now=utcnow(), note=note)
    _state_changed(row, as_json)


@click.command("mark-corrected")
@click.argument("post_id")
@click.option("--note", help='What was wrong and what is right, e.g. "Thursday → the 13th".')
@pass_ctx
def mark_corrected(ctx: Context, post_id: str, note: str | None) -> None:
    """Record that a post was corrected (when the edit itself doesn't show it)."""
    from guard.engine import run_engine

    db = ctx.db
    kind, account, _ = queries.locate(db, post_id)
    if kind != "post":
        raise UsageError(
            f"{post_id!r} is a comment; mark-corrected takes a post id (`comment-guard posts` lists them)"
        )
    now = utcnow()
    with db.atomic():
        append_events(
            db,
            [
                make_event(
                    MARK_EVENT, at=iso(now), account=account, object_id=post_id, post_id=post_id, note=note
                )
            ],
        )
    result = run_engine(db, ctx.config, now=now)
    echo(
        f"post {post_id} marked corrected"
        + (f"; {len(result.opened)} new finding(s)" if result.opened else "")
    )


_POLICY_SOURCES = {
    "default": "the default",
    "policy": "[policy] protect",
    "account": "this account's protect key",
}


@click.command()
@click.argument("comment_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def explain(ctx: Context, comment_id: str, as_json: bool) -> None:
    """Why a comment is (or is not) protected."""
    from guard import actions

    prot = actions.protection(ctx.read_db, ctx.config, comment_id)
    verdict = prot.analysis.classifications[comment_id]
    corrections = [c.summary or c.reason for c in prot.analysis.corrections]
    policy = f"protect = {prot.analysis.protect!r} ({_POLICY_SOURCES[prot.analysis.protect_source]})"
    label = next((r.removeprefix("label: ") for r in verdict.reasons if r.startswith("label: ")), None)
    if as_json:
        emit_json(
            {
                "comment_id": comment_id,
                "protected": verdict.critical,
                "excluded": verdict.excluded,
                "reasons": list(verdict.reasons),
                "corrections": corrections,
                "policy": {"protect": prot.analysis.protect, "source": prot.analysis.protect_source},
                "label": label,
            }
        )
        return
    echo(f"comment {comment_id}: {'PROTECTED' if verdict.critical else 'not protected'}")
    echo(f'    "{excerpt(prot.comment.message, 100)}"')
    echo(f"    policy: {policy}")
    for reason in verdict.reasons:
        echo(f"    - {reason}")
    if corrections:
        echo("    post corrected: " + "; ".join(corrections))


@click.command()
@click.argument("target_id")
@click.argument("text")
@pass_ctx
def reply(ctx: Context, target_id: str, text: str) -> None:
    """Reply publicly to a comment (or to a post) and record the reply."""
    from guard import actions

    new_id = actions.reply(ctx.db, ctx.config, target_id, text, now=utcnow())
    echo(f"replied to {target_id}: new comment {new_id}")


def _moderation(action: str) -> click.Command:
    @click.command(
        action,
        help=f"{action.capitalize()} a comment; protected comments are refused "
        "unless --override --reason is given (audited and alerted).",
    )
    @click.argument("comment_id")
    @click.option("--override", is_flag=True, help="Do it even though the comment is protected.")
    @click.option("--reason", help="Why (required with --override).")
    @pass_ctx
    def command(ctx: Context, comment_id: str, override: bool, reason: str | None) -> None:
        from guard import actions

        prot = actions.moderate(
            ctx.db, ctx.config, action, comment_id, now=utcnow(), override_protection=override, reason=reason
        )
        suffix = " (override recorded and alerted)" if override and prot.protected else ""
        if prot.deleted_permanently:
            suffix = " permanently: it was in the trash" + suffix
        echo(f"{action} {comment_id}: done{suffix}")

    return command


COMMANDS = [
    findings,
    ack,
    resolve,
    mark_corrected,
    explain,
    reply,
    *(_moderation(a) for a in MODERATION),
]
