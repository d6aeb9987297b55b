"""Reading the archive: posts, comments, search, thread, history, export and verify.

Every command here only reads; the queries live in ``guard.archive.queries``.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from guard.archive import queries
from guard.archive.verify import verify_archive
from guard.cli.context import Context, IsoDate, pass_ctx
from guard.cli.output import (
    echo,
    emit_json,
    emit_table,
    excerpt,
    limited,
    listing_options,
    one_line,
    row_limit,
)
from guard.clock import local_time

__all__ = ["COMMANDS"]


@click.command()
@click.option("--account", metavar="NAME")
@click.option("--status", type=click.Choice(queries.POST_STATUSES))
@click.option("--json", "as_json", is_flag=True)
@listing_options
@pass_ctx
def posts(
    ctx: Context, account: str | None, status: str | None, as_json: bool, limit: int | None, show_all: bool
) -> None:
    """List archived posts, newest first."""
    n = row_limit(limit, show_all)
    rows = limited(queries.list_posts(ctx.read_db, account=account, status=status, limit=n and n + 1), n)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            ["id", "status", "version", "created_time", "comments", "deleted_comments", "message"],
            empty="no posts archived yet",
            tz=ctx.tz,
        )


@click.command()
@click.option("--post", metavar="ID", help="Only comments on this post.")
@click.option("--status", type=click.Choice(queries.COMMENT_STATUSES))
@click.option(
    "--since",
    type=IsoDate(),
    metavar="DATE",
    help="Created on or after this date or time (local time, [guard] timezone, unless an offset is given), "
    "e.g. 2026-11-01 or 2026-11-01T18:00:00+02:00.",
)
@click.option("--author", metavar="NAME", help="Author name (case-insensitive).")
@click.option("--json", "as_json", is_flag=True)
@listing_options
@pass_ctx
def comments(
    ctx: Context,
    post: str | None,
    status: str | None,
    since: Any,
    author: str | None,
    as_json: bool,
    limit: int | None,
    show_all: bool,
) -> None:
    """List archived comments, oldest first, including deleted and hidden ones."""
    n = row_limit(limit, show_all)
    rows = queries.list_comments(
        ctx.read_db, post=post, status=status, since=ctx.utc(since), author=author, limit=n and n + 1
    )
    rows = limited(rows, n)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows, ["id", "status", "author", "created_time", "message"], empty="no comments match", tz=ctx.tz
        )


@click.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def search(ctx: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over every version of posts and comments (deleted ones included).

    Each hit names the version whose text matched and whether it is still the current text.
    Plain words match as typed, accents and case aside; Chinese, Japanese or Thai words and
    emoji are looked for as written (case-sensitive). FTS5 syntax works too: `tonig*`,
    `tonight OR thursday`, `NEAR(meeting tonight)`, `"the meeting is"`."""
    rows = queries.search(ctx.read_db, query, limit=limit)
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            r["text"] = f"v{r['version']} " + ("current" if r["current"] else "since changed")
        emit_table(
            rows,
            ["type", "id", "text", "status", "created_time", "message"],
            empty=f"nothing matches {query!r}",
            tz=ctx.tz,
        )


@click.command()
@click.argument("post_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def thread(ctx: Context, post_id: str, as_json: bool) -> None:
    """A post with all its versions and its comment tree, deleted and hidden ones marked."""
    data = queries.thread(ctx.read_db, post_id)
    if as_json:
        emit_json(data)
        return
    echo(f"POST {data['id']} [{data['status']}] ({len(data['versions'])} versions)")
    for v in data["versions"]:
        echo(f"  v{v['version']} {local_time(v['seen_at'], ctx.tz)}: {excerpt(v['message'], 100)}")
    for c, depth in queries.walk_thread(data["comments"]):
        _print_comment(c, depth + 1)


def _print_comment(c: dict[str, Any], depth: int) -> None:
    mark = "" if c["status"] == "present" else f" [{c['status'].upper()}]"
    edits = f" (edited, {len(c['versions'])} versions)" if len(c["versions"]) > 1 else ""
    page = " (page)" if c["from_page"] else ""
    author = one_line(c["author"]) or "?"
    echo(f"{'  ' * depth}- {author}{page}{mark}{edits}: {excerpt(c['message'], 90)}  [{c['id']}]")


@click.command()
@click.argument("object_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def history(ctx: Context, object_id: str, as_json: bool) -> None:
    """Every version of a post or comment, with word-level diffs, and its events."""
    data = queries.history(ctx.read_db, object_id)
    if as_json:
        emit_json(data)
        return
    cur = data["current"]
    echo(f"{data['type'].upper()} {object_id} [{cur['status']}]")
    for v in data["versions"]:
        echo(
            f"v{v['version']} seen {local_time(v['seen_at'], ctx.tz, seconds=True)} sha256 {v['sha256'][:12]}"
        )
        echo("    " + v["message"].replace("\r", "\\r").replace("\n", "\n    "))
        if v["diff_text"]:
            echo(f"    diff: {v['diff_text']}")
    for e in data["events"]:
        echo(f"event {e['seq']} {local_time(e['at'], ctx.tz, seconds=True)} {e['kind']}")


def _chain_head(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A head is a SHA-256: anything else cannot be in any chain, and reporting it as missing
    would call an intact archive tampered."""
    if value is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        raise click.BadParameter(
            f"{value!r} is not a chain head: a head is the 64 hexadecimal characters `verify` "
            "prints after 'head:'",
            ctx,
            param,
        )
    return value


@click.command()
@click.option(
    "--head",
    "head",
    metavar="HASH",
    callback=_chain_head,
    help="A chain head recorded earlier (printed by verify, sent by the daily digest): prove it "
    "is still a prefix of today's chain.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def verify(ctx: Context, head: str | None, as_json: bool) -> None:
    """Prove the record: the event hash chain, every stored text against its SHA-256 and its
    event, every current row against its latest version and its events, findings and alerts.
    Exit 1 naming the first row that does not match."""
    # On a terminal, a line per 100,000 events hashed and posts or comments checked: a large
    # archive takes a while.
    progress = (lambda what, n: echo(f"verify: {n:,} {what}", err=True)) if sys.stderr.isatty() else None
    report = verify_archive(ctx.read_db, head=head, progress=progress)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "events": report.events,
                "head": report.head,
                "head_checked": report.head_checked,
                "head_seq": report.head_seq,
                "problems": [{"where": p.where, "reason": p.reason} for p in report.problems],
            }
        )
    elif report.ok:
        echo(
            f"ok: {report.events} events, hash chain intact; {report.versions} versions of "
            f"{report.objects} posts and comments, {report.findings} findings, {report.alerts} "
            f"alerts and {report.labels} labels match their hashes and events"
        )
        if report.head_checked:
            echo(f"ok: head {report.head_checked} is event {report.head_seq} of today's chain")
        echo(f"head: {report.head or '-'} ({report.events} events); keep it elsewhere for `verify --head`")
    else:
        first, *rest = report.problems
        echo(f"TAMPERED: {first}", err=True)
        for problem in rest:
            echo(f"also: {problem}", err=True)
    if not report.ok:
        sys.exit(1)


COMMANDS = [posts, comments, search, thread, history, verify]
