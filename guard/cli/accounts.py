"""``comment-guard accounts``: which page each account name is bound to, and fixing a binding.

An account is bound to its page by its first successful poll. ``rename`` and ``forget`` change
a binding only while the account holds no archived data.
"""

from __future__ import annotations

import click

from guard.archive import accounts as store
from guard.cli.context import Context, pass_ctx
from guard.cli.output import emit_json, emit_table
from guard.config import ACCOUNT_NAME, ACCOUNT_NAME_RULE
from guard.errors import UsageError

__all__ = ["COMMANDS"]


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@click.pass_context
def accounts(click_ctx: click.Context, ctx: Context, as_json: bool) -> None:
    """List account bindings (name → platform page); `rename` or `forget` one with no data."""
    if click_ctx.invoked_subcommand is not None:
        return
    rows = store.list_bindings(ctx.read_db)
    bound = {r["name"] for r in rows}
    configured = {a.name: a for a in ctx.config.accounts}
    for r in rows:
        acc = configured.get(r["name"])
        r["configured"] = acc is not None
        r["matches_config"] = acc is not None and (acc.platform, acc.page_id) == (r["platform"], r["page_id"])
    for name, acc in configured.items():
        if name not in bound:
            rows.append(
                {"name": name, "platform": acc.platform, "page_id": acc.page_id, "first_seen": None}
                | {"posts": 0, "comments": 0, "polls": None, "last_poll": None}
                | {"configured": True, "matches_config": None}
            )
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        r["binding"] = (
            "not bound yet (no successful poll)"
            if r["first_seen"] is None
            else "bound"
            if r["matches_config"]
            else "bound, NOT IN CONFIG"
            if not r["configured"]
            else "bound to another page than the config says"
        )
    emit_table(
        rows,
        ["name", "platform", "page_id", "binding", "first_seen", "posts", "comments"],
        empty="no accounts",
        tz=ctx.tz,
    )


@accounts.command()
@click.argument("old")
@click.argument("new")
@pass_ctx
def rename(ctx: Context, old: str, new: str) -> None:
    """Rename an account that holds no archived data."""
    if not ACCOUNT_NAME.fullmatch(new):  # the config could not name it: the page would be stuck
        raise UsageError(f"account name {new!r}: {ACCOUNT_NAME_RULE}")
    store.rename_account(ctx.db, old, new)
    click.echo(f"renamed account {old!r} to {new!r}; update `name` in the config to match")


@accounts.command()
@click.argument("name")
@pass_ctx
def forget(ctx: Context, name: str) -> None:
    """Forget an account's binding (it holds no archived data); the next good poll binds it."""
    store.forget_account(ctx.db, name)
    click.echo(f"forgot account {name!r}; its next successful poll binds it again")


COMMANDS = [accounts]
