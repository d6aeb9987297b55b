"""The ``comment-guard`` command: a thin click layer over the Python API in ``guard/``.

Every failure a user can cause ends here as one line on stderr and a non-zero exit code
(2 for bad configuration or arguments, 1 for everything else); a traceback only with --debug.
Commands live in one module per group; ``COMMAND_GROUPS`` is the registry: a new group is one
module with a ``COMMANDS`` list plus one line here.
"""

from __future__ import annotations

import sys

import click

from guard import __version__
from guard.archive.connection import explain_database_error
from guard.cli import (
    accounts,
    alerts,
    auth,
    evidence,
    findings,
    labels,
    polling,
    records,
    serve,
    service,
    setup,
)
from guard.cli.context import Context
from guard.cli.output import echo
from guard.config import DEFAULT_CONFIG_PATH
from guard.errors import GuardError
from guard.runtime.logs import LEVELS, configure_logging

__all__ = ["cli", "main", "COMMAND_GROUPS"]

COMMAND_GROUPS = (setup, accounts, auth, polling, records, evidence, findings, labels, alerts, service, serve)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="COMMENT_GUARD_CONFIG",
    default=DEFAULT_CONFIG_PATH,
    show_default=True,
    metavar="PATH",
    help="Config file (env COMMENT_GUARD_CONFIG).",
)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS),
    default=None,
    help="Default: error for one-shot commands (their result is printed), info for `run`.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="comment-guard")
@click.pass_context
def cli(ctx: click.Context, config_path: str, log_level: str | None, debug: bool) -> None:
    """Archive every version of your page's posts and comments, notice corrections, and
    nudge staff to answer critical comments publicly instead of deleting them."""
    configure_logging("debug" if debug else log_level or "error")
    ctx.obj = Context(config_path=config_path, debug=debug, log_level=log_level)


for _group in COMMAND_GROUPS:
    for _command in _group.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line per error, exit 2 for usage/config errors, 1 otherwise."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="comment-guard", standalone_mode=False)
    except click.exceptions.Abort:
        echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.ClickException as exc:
        command = getattr(exc, "ctx", None)  # UsageError and BadParameter carry their command
        hint = f" (see `{command.command_path} --help`)" if command is not None else ""
        echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except GuardError as exc:
        if debug:
            raise
        echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, full story with --debug
        if debug:
            raise
        archive_trouble = explain_database_error(exc)  # the archive file itself: not a bug
        if archive_trouble is not None:
            click.echo(f"error: {archive_trouble}", err=True)
            sys.exit(1)
        echo(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the "
            "traceback and please report it)",
            err=True,
        )
        sys.exit(1)
