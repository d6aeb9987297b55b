"""The ``comment-guard`` command: a thin click layer over the Python API in ``guard/``.

Every failure a user can cause ends here as one line on stderr and a non-zero exit code
(2 for bad configuration or arguments, 1 for everything else); a traceback only with --debug.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import sqlite_utils

from guard import __version__
from guard.archive import open_archive, verify_chain
from guard.clock import iso, parse_iso
from guard.config import DEFAULT_CONFIG_PATH, Config, load_config, read_secret
from guard.errors import ConfigError, GuardError
from guard.logs import LEVELS, configure_logging
from guard.output import emit_json, emit_table, excerpt
from guard import queries

__all__ = ["cli", "main", "Context", "pass_ctx"]


@dataclass
class Context:
    config_path: str
    debug: bool = False
    log_level: str | None = None  # as given on the command line (None: the command's default)
    _config: Config | None = field(default=None, repr=False)
    _db: sqlite_utils.Database | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = open_archive(self.config.guard.database)
        return self._db


pass_ctx = click.make_pass_decorator(Context)


class IsoDate(click.ParamType):
    """A date or ISO-8601 time; naive values are UTC (the archive's time zone)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_iso(str(value).strip().replace(" ", "T"))
        except ValueError:
            self.fail(f"{value!r} is not a date; use e.g. 2026-11-01 or 2026-11-01T18:00:00", param, ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="COMMENT_GUARD_CONFIG",
              default=DEFAULT_CONFIG_PATH, show_default=True, metavar="PATH",
              help="Config file (env COMMENT_GUARD_CONFIG).")
@click.option("--log-level", type=click.Choice(LEVELS), default=None,
              help="Default: error for one-shot commands (their result is printed), info for `run`.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="comment-guard")
@click.pass_context
def cli(ctx: click.Context, config_path: str, log_level: str | None, debug: bool) -> None:
    """Archive every version of your page's posts and comments, notice corrections, and
    nudge staff to answer critical comments publicly instead of deleting them."""
    configure_logging("debug" if debug else log_level or "error")
    ctx.obj = Context(config_path=config_path, debug=debug, log_level=log_level)


@cli.command()
@click.option("--path", "target", default=None, metavar="PATH",
              help="Where to write the config (default: --config).")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@pass_ctx
def init(ctx: Context, target: str | None, force: bool) -> None:
    """Write a config file from the example and create the archive database."""
    path = Path(target or ctx.config_path)
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    example = (Path(__file__).parent / "config.example.toml").read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    open_archive(config.guard.database)
    click.echo(f"wrote {path} and created {config.guard.database}")
    click.echo("next: edit the [[accounts]] section, export the token variables it names, "
               f"then run `comment-guard --config {path} check --live`")


@cli.command()
@click.option("--live", is_flag=True, help="Also call each platform to verify tokens and permissions.")
@pass_ctx
def check(ctx: Context, live: bool) -> None:
    """Validate the config, the environment variables it names and (--live) the tokens."""
    from guard.connect import make_connector

    config = ctx.config
    for account in config.accounts:
        account.token()
    alerts = config.alerts
    if alerts.slack:
        read_secret(alerts.slack.webhook_url_env, "alerts.slack.webhook_url_env")
    if alerts.email:
        for key in ("username_env", "password_env"):
            name = getattr(alerts.email, key)
            if name:
                read_secret(name, f"alerts.email.{key}")
    click.echo(f"config {config.path} is valid: {len(config.accounts)} account(s), "
               f"mode {config.guard.mode}, archive {config.guard.database}")
    if not live:
        return
    failed = False
    for account in config.accounts:
        try:
            for line in make_connector(account).check():
                click.echo(f"{account.name}: {line}")
        except GuardError as exc:
            failed = True
            click.echo(f"{account.name}: FAILED: {exc}", err=True)
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--once", is_flag=True, help="Poll once and exit (the daemon is `comment-guard run`).")
@click.option("--account", "account_name", metavar="NAME", help="Only this account.")
@pass_ctx
def poll(ctx: Context, once: bool, account_name: str | None) -> None:
    """Poll accounts once: archive new posts, comments, versions and confirmed deletions."""
    from guard.clock import utcnow
    from guard.connect import make_connector
    from guard.engine import run_engine
    from guard.pipeline import run_poll

    if not once:
        raise click.UsageError("poll needs --once; to poll on a schedule run `comment-guard run`")
    config = ctx.config
    accounts = [config.account(account_name)] if account_name else list(config.accounts)
    failed = False
    connectors = {a.name: make_connector(a) for a in accounts}
    for account in accounts:
        outcome = run_poll(config, ctx.db, account, connector=connectors[account.name])
        r = outcome.poll
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())) or "no changes"
        state = "complete" if r.complete else "FAILED" if r.failed else "INCOMPLETE"
        click.echo(f"{account.name}: poll {r.poll_id} {state}, {r.api_calls} API calls, "
                   f"{r.items} items; {counts}")
        for line in outcome.summary_lines():
            click.echo(f"{account.name}: {line}")
        if r.error is not None:
            failed = True
            click.echo(f"error: {account.name}: {r.error}", err=True)
    # Time-based rules (reply deadlines, escalation) for people who poll from cron.
    sweep = run_engine(ctx.db, config, now=utcnow(), connectors=connectors)
    if sweep.opened:
        click.echo(f"{len(sweep.opened)} finding(s) from reply deadlines: "
                   + ", ".join(f"#{i}" for i in sweep.opened))
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Per account: last poll, its outcome, and what the archive holds."""
    from guard.health import status_report

    report = status_report(ctx.config, ctx.db)
    if as_json:
        emit_json(report)
    else:
        for line in report["lines"]:
            click.echo(line)
    if report.get("unhealthy"):
        sys.exit(1)


@cli.command()
@click.option("--account", metavar="NAME")
@click.option("--status", type=click.Choice(["present", "deleted", "unknown"]))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def posts(ctx: Context, account: str | None, status: str | None, as_json: bool) -> None:
    """List archived posts."""
    rows = queries.list_posts(ctx.db, account=account, status=status)
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, ["id", "status", "version", "created_time", "comments",
                          "deleted_comments", "message"], empty="no posts archived yet")


@cli.command()
@click.option("--post", metavar="ID", help="Only comments on this post.")
@click.option("--status", type=click.Choice(queries.COMMENT_STATUSES))
@click.option("--since", type=IsoDate(), metavar="DATE",
              help="Created on or after this date or time (UTC unless an offset is given), "
                   "e.g. 2026-11-01 or 2026-11-01T18:00:00+02:00.")
@click.option("--author", metavar="NAME", help="Author name (case-insensitive).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def comments(ctx: Context, post: str | None, status: str | None, since: Any,
             author: str | None, as_json: bool) -> None:
    """List archived comments, including deleted and hidden ones."""
    since_iso = iso(since) if since else None
    rows = queries.list_comments(ctx.db, post=post, status=status, since=since_iso, author=author)
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, ["id", "status", "author", "created_time", "message"],
                   empty="no comments match")


@cli.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def search(ctx: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over posts and comments (deleted ones included)."""
    rows = queries.search(ctx.db, query, limit=limit)
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, ["type", "id", "status", "created_time", "message"],
                   empty=f"nothing matches {query!r}")


@cli.command()
@click.argument("post_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def thread(ctx: Context, post_id: str, as_json: bool) -> None:
    """A post with all its versions and its comment tree, deleted and hidden ones marked."""
    data = queries.thread(ctx.db, post_id)
    if as_json:
        emit_json(data)
        return
    click.echo(f"POST {data['id']} [{data['status']}] ({len(data['versions'])} versions)")
    for v in data["versions"]:
        click.echo(f"  v{v['version']} {v['seen_at']}: {excerpt(v['message'], 100)}")
    for c in data["comments"]:
        _print_comment(c, 1)


def _print_comment(c: dict[str, Any], depth: int) -> None:
    mark = "" if c["status"] == "present" else f" [{c['status'].upper()}]"
    edits = f" (edited, {len(c['versions'])} versions)" if len(c["versions"]) > 1 else ""
    page = " (page)" if c["from_page"] else ""
    click.echo(f"{'  ' * depth}- {c['author'] or '?'}{page}{mark}{edits}: "
               f"{excerpt(c['message'], 90)}  [{c['id']}]")
    for r in c["replies"]:
        _print_comment(r, depth + 1)


@cli.command()
@click.argument("object_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def history(ctx: Context, object_id: str, as_json: bool) -> None:
    """Every version of a post or comment, with word-level diffs, and its events."""
    data = queries.history(ctx.db, object_id)
    if as_json:
        emit_json(data)
        return
    cur = data["current"]
    click.echo(f"{data['type'].upper()} {object_id} [{cur['status']}]")
    for v in data["versions"]:
        click.echo(f"v{v['version']} seen {v['seen_at']} sha256 {v['sha256'][:12]}")
        click.echo(f"    {v['message']}")
        if v["diff_text"]:
            click.echo(f"    diff: {v['diff_text']}")
    for e in data["events"]:
        click.echo(f"event {e['seq']} {e['at']} {e['kind']}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-",
              help="File to write (default: stdout).")
@pass_ctx
def export(ctx: Context, fmt: str, output: str) -> None:
    """Export every version of every post and comment with its SHA-256."""
    rows = queries.export_rows(ctx.db)
    with click.open_file(output, "w", encoding="utf-8") as out:
        if fmt == "json":
            json.dump(rows, out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            fields = ["type", "id", "post_id", "parent_id", "author", "version", "seen_at",
                      "status", "sha256", "message"]
            writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


@cli.command()
@pass_ctx
def verify(ctx: Context) -> None:
    """Recompute the event hash chain; exit 1 naming the first altered row."""
    result = verify_chain(ctx.db)
    if result.ok:
        click.echo(f"ok: {result.checked} events, hash chain intact")
        return
    click.echo(f"TAMPERED: event {result.bad_seq}: {result.reason}", err=True)
    sys.exit(1)


def _register_optional() -> None:
    """Commands that live beside their subsystem (policies, alerts, daemon)."""
    import importlib

    for module in ("guard.cli_policy", "guard.cli_alerts", "guard.cli_daemon"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        for command in mod.COMMANDS:
            cli.add_command(command)


_register_optional()


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line per error, exit 2 for usage/config errors, 1 otherwise."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="comment-guard", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.ClickException as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if getattr(exc, "ctx", None) else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except GuardError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, full story with --debug
        if debug:
            raise
        click.echo(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the "
                   "traceback and please report it)", err=True)
        sys.exit(1)
