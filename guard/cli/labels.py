"""CLI for staff labels: `label COMMENT_ID critical|not-critical` overrides the classifier.

The label is a human decision kept in the archive (a row and a chained event), so it survives
re-polls, shows in `explain`, and lets `bench/classify.py --archive DB` measure the classifier
on the organisation's own comments.
"""

from __future__ import annotations

import getpass

import click

from guard import actions
from guard.archive.findings import open_findings_for_posts
from guard.archive.labels import add_label
from guard.cli.context import Context, pass_ctx
from guard.clock import iso, utcnow
from guard.engine import open_finding, set_state
from guard.errors import UsageError
from guard.states import FindingState
from policies.records import LABELS
from policies.rules import hidden_critical, removed_critical, run_rules, unanswered

__all__ = ["COMMANDS"]

# The findings that exist because a comment is protected.
_COMMENT_KINDS = frozenset({removed_critical.KIND, hidden_critical.KIND, unanswered.KIND})


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no USER/LOGNAME in the environment
        raise UsageError("cannot tell who you are from the system; say it with --by NAME") from None


@click.command()
@click.argument("comment_id")
@click.argument("label", type=click.Choice(LABELS))
@click.option("--note", help="Why, for the record (e.g. 'off-topic joke, not a complaint').")
@click.option("--by", "by", metavar="NAME", help="Who decides (default: your login name).")
@pass_ctx
def label(ctx: Context, comment_id: str, label: str, note: str | None, by: str | None) -> None:
    """Record a staff decision that a comment is critical or not; it overrides the classifier.

    The label applies to the comment's current text: if the author edits it later, the
    classifier decides again until someone labels the new text."""
    now = utcnow()
    saved = add_label(
        ctx.db, comment_id, label, by=by if by is not None else _os_user(), at=iso(now), note=note
    )
    prot = actions.protection(ctx.db, ctx.config, comment_id)
    # The rules see the label at once: a comment labelled critical that is already deleted or
    # hidden opens its finding now, not at the next poll that happens to touch its post.
    with ctx.db.atomic():
        opened = [
            fid
            for draft in run_rules(prot.analysis, now)
            if (fid := open_finding(ctx.db, ctx.config, draft, now)) is not None
        ]
    # Not critical after all: its open findings close, as the Slack button's do; left open they
    # would keep reminding and escalating about a comment staff decided needs nothing.
    closed = (
        []
        if prot.protected
        else [
            set_state(ctx.db, f.id, FindingState.RESOLVED, now=now, note=f"not critical, said {saved.by}")[
                "id"
            ]
            for f in open_findings_for_posts(ctx.db, [prot.analysis.thread.post.id]).get(
                prot.analysis.thread.post.id, []
            )
            if f.comment_id == comment_id and f.kind in _COMMENT_KINDS
        ]
    )
    click.echo(
        f"comment {comment_id} labelled {saved.label} by {saved.by}: "
        + ("PROTECTED" if prot.protected else "not protected")
        + (f"; {len(opened)} new finding(s)" if opened else "")
        + (f"; closed {', '.join(f'#{fid}' for fid in closed)}" if closed else "")
    )


COMMANDS = [label]
