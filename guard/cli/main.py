"""The ``comment-guard`` command: a thin click layer over the Python API in ``guard/``.

Every failure a user can cause ends here as one line on stderr and a non-zero exit code
(2 for bad configuration or arguments, 1 for everything else); a traceback only with --debug.
Commands live in one module per group; ``COMMAND_GROUPS`` is the registry: a new group is one
module with a ``COMMANDS`` list plus one entry here naming its commands and their one-line help.

A group's module is imported only when one of its commands runs (``LazyGroup``), and ``--help``
lists the commands from the registry: start-up pays for the command that runs, not for every
command's imports (the engine, the classifier, slack_sdk, the web server). The registry's help
lines are the commands' own: ``tests/cli/test_startup.py`` fails, printing the entry to paste,
when one differs from what the command's docstring says.
"""

from __future__ import annotations

import errno
import importlib
import sys
from typing import Any

import click

from guard import DEFAULT_CONFIG_PATH, __version__
from guard.cli.context import Context
from guard.cli.output import echo
from guard.errors import GuardError
from guard.runtime.logs import LEVELS, configure_logging_on_use

__all__ = ["cli", "main", "COMMAND_GROUPS", "LazyGroup"]

# module in guard/cli -> {command: its one-line help, as `--help` lists it}
COMMAND_GROUPS: dict[str, dict[str, str]] = {
    "setup": {
        "init": "Write a config file from the example and create the archive database.",
        "check": "Validate the config, the environment variables it names and (--live) the tokens.",
    },
    "accounts": {
        "accounts": "List account bindings (name → platform page); `rename` or `forget` one with no data.",
    },
    "auth": {"auth": "Sign an account in with the platform (tokens that refresh themselves)."},
    "polling": {
        "poll": "Poll accounts once: archive new posts, comments, versions and confirmed deletions, then "
        "send the alerts that are due (cron users get them without `deliver`; `--no-deliver` skips).",
        "status": "Per account: last poll, its outcome, and what the archive holds.",
    },
    "records": {
        "posts": "List archived posts, newest first.",
        "comments": "List archived comments, oldest first, including deleted and hidden ones.",
        "search": "Full-text search over every version of posts and comments (deleted ones included).",
        "thread": "A post with all its versions and its comment tree, deleted and hidden ones marked.",
        "history": "Every version of a post or comment, with word-level diffs, and its events.",
        "verify": "Prove the record: the event hash chain, every stored text against its SHA-256 and its "
        "event, every current row against its latest version and its events, findings and alerts.",
    },
    "evidence": {
        "export": "Export every version of every post and comment: who, when created, first seen, hidden "
        "and deleted (as recorded), the post's link, the text and its SHA-256.",
        "report": "An evidence report on one post: its versions with word diffs, the whole comment thread "
        "with every version and status change on a timeline, the findings and who acted, the SHA-256 of "
        "every text and the archive's chain head, with how to check them (`verify --head`).",
    },
    "findings": {
        "findings": "List findings (what needs a human), newest first.",
        "ack": "Acknowledge a finding: someone is on it (stops reminders and escalation).",
        "resolve": "Resolve a finding.",
        "mark-corrected": "Record that a post was corrected (when the edit itself doesn't show it).",
        "explain": "Why a comment is (or is not) protected.",
        "reply": "Reply publicly to a comment (or to a post) and record the reply.",
        "hide": "Hide a comment; protected comments are refused unless --override --reason is given "
        "(audited and alerted).",
        "unhide": "Unhide a comment; protected comments are refused unless --override --reason is given "
        "(audited and alerted).",
        "delete": "Delete a comment; protected comments are refused unless --override --reason is given "
        "(audited and alerted).",
    },
    "labels": {
        "label": "Record a staff decision that a comment is critical or not; it overrides the classifier.",
    },
    "alerts": {
        "alerts": "List the alert outbox (newest last) and the health of each channel.",
        "test-alert": "Send a sample alert through the real outbox and channel.",
        "deliver": "Deliver due alerts now (the daemon does this every 30 s).",
    },
    "service": {
        "run": "Run the daemon: poll every account on its schedule, apply the policies, deliver alerts.",
        "demo": "Watch comment-guard catch a deleted question, with no account and no network.",
    },
    "serve": {
        "serve": "Browse the archive in a web browser: findings, deleted and hidden comments, every version.",
    },
}


# click >= 8.4 raises this for an unknown command name, with suggestions; older click has none
_NO_SUCH_COMMAND: Any = getattr(click.exceptions, "NoSuchCommand", ())


class LazyGroup(click.Group):
    """click's lazy-loading group: knows each command's module and one-line help from
    ``groups`` and imports the module (registering all its ``COMMANDS``) when a command of it is
    resolved; the command listing in ``--help`` comes from ``groups`` and imports nothing."""

    def __init__(self, *args: Any, groups: dict[str, dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.modules = {name: module for module, helps in groups.items() for name in helps}
        self.short_helps = {name: text for helps in groups.values() for name, text in helps.items()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.modules) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.modules:
            for command in importlib.import_module(f"guard.cli.{self.modules[cmd_name]}").COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """click suggests a close name ("Did you mean 'status'?") from the commands loaded so
        far; suggest from every registered one."""
        try:
            return super().resolve_command(ctx, args)
        except _NO_SUCH_COMMAND as exc:
            raise _NO_SUCH_COMMAND(exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """``click.Group.format_commands`` with the registry's help lines, shortened to the
        terminal's width the way click shortens a command's own help."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:  # not loaded: a stand-in carrying the registry's help line
                command = click.Command(name, help=self.short_helps[name])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, groups=COMMAND_GROUPS, context_settings={"help_option_names": ["-h", "--help"]})
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
    configure_logging_on_use("debug" if debug else log_level or "error")
    ctx.obj = Context(config_path=config_path, debug=debug, log_level=log_level)


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
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # A full disk (under `> file`, most often): not a bug. The archive's own I/O errors
            # come from SQLite and are explained below.
            click.echo(f"error: cannot write: {exc.strerror}; free space and run the command again", err=True)
            sys.exit(1)
        from guard.archive.connection import explain_database_error

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
